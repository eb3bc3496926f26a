// HfConfig: the checked reader of a Hugging Face config.json (every failure names the file and
// the key).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "archbert/error.h"
#include "import/huggingface_builders.h"

namespace archbert::hf {

HfConfig::HfConfig(nlohmann::json json, std::string source)
    : json_(std::move(json)), source_(std::move(source)) {
  if (!json_.is_object()) fail("config is not a JSON object");
  auto it = json_.find("model_type");
  if (it == json_.end() || it->is_null()) fail("config has no \"model_type\"");
  if (!it->is_string() || it->get_ref<const std::string&>().empty())
    fail("\"model_type\" is not a non-empty string");
  model_type_ = it->get<std::string>();
}

void HfConfig::fail(const std::string& problem) const { throw_bad_input(source_, problem); }

std::string HfConfig::architecture() const {
  auto it = json_.find("architectures");
  if (it == json_.end() || it->is_null()) return "";
  if (!it->is_array()) fail("\"architectures\" is not a list");
  if (it->empty()) return "";
  if (!(*it)[0].is_string()) fail("\"architectures\"[0] is not a string");
  return (*it)[0].get<std::string>();
}

bool HfConfig::has(const char* key) const {
  auto it = json_.find(key);
  return it != json_.end() && !it->is_null();
}

namespace {

// Reads an integer value; nullopt when `v` is not an integer that fits int64.
std::optional<int64_t> as_int(const nlohmann::json& v) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  return std::nullopt;
}

}  // namespace

int64_t HfConfig::dim(const char* key, std::optional<int64_t> def, int64_t lo, int64_t hi) const {
  auto it = json_.find(key);
  if (it == json_.end() || it->is_null()) {
    if (!def) fail(std::string("config has no \"") + key + "\"");
    return *def;
  }
  std::optional<int64_t> v = as_int(*it);
  if (!v) fail(std::string("\"") + key + "\" is not an integer (" + it->dump() + ")");
  if (*v < lo || *v > hi)
    fail(std::string("\"") + key + "\" = " + std::to_string(*v) + " is out of range (" +
         std::to_string(lo) + ".." + std::to_string(hi) + ")");
  return *v;
}

int64_t HfConfig::dim_any(std::initializer_list<const char*> keys, std::optional<int64_t> def,
                          int64_t lo, int64_t hi) const {
  for (const char* k : keys)
    if (has(k)) return dim(k, def, lo, hi);
  return dim(*keys.begin(), def, lo, hi);
}

int64_t HfConfig::layers(const char* key, std::optional<int64_t> def) const {
  return dim(key, def, 1, kMaxLayers);
}

bool HfConfig::flag(const char* key, bool def) const {
  auto it = json_.find(key);
  if (it == json_.end() || it->is_null()) return def;
  if (!it->is_boolean()) fail(std::string("\"") + key + "\" is not true or false");
  return it->get<bool>();
}

double HfConfig::number(const char* key, double def) const {
  auto it = json_.find(key);
  if (it == json_.end() || it->is_null()) return def;
  if (!it->is_number()) fail(std::string("\"") + key + "\" is not a number");
  return it->get<double>();
}

std::string HfConfig::str(const char* key, const std::string& def) const {
  auto it = json_.find(key);
  if (it == json_.end() || it->is_null()) return def;
  if (!it->is_string()) fail(std::string("\"") + key + "\" is not a string");
  return it->get<std::string>();
}

std::vector<int64_t> HfConfig::dims(const char* key, const std::vector<int64_t>& def) const {
  auto it = json_.find(key);
  if (it == json_.end() || it->is_null()) return def;
  if (it->is_number()) return {dim(key)};  // a single size, e.g. "image_size": 224
  if (!it->is_array() || it->empty() || it->size() > 1000)
    fail(std::string("\"") + key + "\" is not a list of 1..1000 integers");
  std::vector<int64_t> out;
  for (const auto& v : *it) {
    std::optional<int64_t> x = as_int(v);
    if (!x || *x < 1 || *x > kMaxDim)
      fail(std::string("\"") + key + "\" has an entry out of range (1.." + std::to_string(kMaxDim) +
           "): " + v.dump());
    out.push_back(*x);
  }
  return out;
}

int64_t HfConfig::num_labels() const {
  auto it = json_.find("id2label");
  if (it != json_.end() && it->is_object() && !it->empty()) {
    if (static_cast<int64_t>(it->size()) > kMaxDim) fail("\"id2label\" has too many labels");
    return static_cast<int64_t>(it->size());
  }
  return dim("num_labels", 2);
}

}  // namespace archbert::hf
