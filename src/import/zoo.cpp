// The built-in zoo: committed torchvision graphs (data/zoo/tv) and Hugging Face configs
// (data/zoo/hf). See docs/zoo.md.
#include "archbert/zoo.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "archbert/error.h"
#include "archbert/graph_io.h"

namespace archbert {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json read_index(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return json::object();
  json j = json::parse(read_file(path), nullptr, false);
  if (j.is_discarded()) throw Error(ErrorKind::kInternal, path + ": zoo index is not valid JSON");
  return j;
}

std::string hub_file_name(std::string id) {
  for (size_t p; (p = id.find('/')) != std::string::npos;) id.replace(p, 1, "--");
  return id;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::string data_dir() {
  if (const char* env = std::getenv("ARCHBERT_DATA"); env && *env) return env;
#ifdef ARCHBERT_DATA_DIR
  return ARCHBERT_DATA_DIR;
#else
  return "data";
#endif
}

bool is_zoo_name(const std::string& s) { return s.rfind("tv:", 0) == 0 || s.rfind("hf:", 0) == 0; }

std::vector<ZooEntry> zoo_list() {
  std::vector<ZooEntry> out;
  const std::string tv = data_dir() + "/zoo/tv";
  json manifest = read_index(tv + "/manifest.json");
  for (auto& [name, m] : manifest.items()) {
    std::string path = tv + "/" + name + ".json.gz";
    std::error_code ec;
    if (!fs::exists(path, ec)) continue;  // exported but not converted: not in the zoo
    ZooEntry e;
    e.name = "tv:" + name;
    e.family = m.value("family", "");
    e.task = m.value("task", "");
    e.path = path;
    e.params = m.value("params", int64_t(-1));
    out.push_back(std::move(e));
  }
  const std::string hf = data_dir() + "/zoo/hf";
  json index = read_index(hf + "/index.json");
  if (index.is_object() && index.contains("models")) index = index["models"];
  for (const json& m : index) {
    if (!m.is_object() || !m.contains("name")) continue;
    ZooEntry e;
    std::string id = m["name"].get<std::string>();
    e.name = "hf:" + id;
    e.family = m.value("family", "");
    e.task = m.value("task", "");
    e.path = hf + "/" + hub_file_name(id) + ".json";
    e.params = m.value("params", int64_t(-1));
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return out;
}

ArchGraph zoo_load(const std::string& name, const ImportOptions& options) {
  std::vector<ZooEntry> all = zoo_list();
  std::string wanted = name;
  if (wanted.rfind("hf:", 0) == 0) wanted = "hf:" + hub_file_name(wanted.substr(3));
  for (const ZooEntry& e : all) {
    if (e.name != name && ("hf:" + hub_file_name(e.name.substr(3))) != wanted) continue;
    if (e.name.rfind("tv:", 0) == 0) {
      ArchGraph g = graph_from_json(read_file(e.path), e.path, options.limits);
      g.name = e.name.substr(3);
      return g;
    }
    ArchGraph g = make_huggingface_importer()->import(e.path, options);
    g.name = e.name.substr(3);
    return g;
  }
  // Unknown: suggest the closest names of the same prefix.
  std::vector<std::pair<size_t, std::string>> near;
  for (const ZooEntry& e : all)
    if (e.name.compare(0, 3, name, 0, 3) == 0)
      near.push_back({edit_distance(name, e.name), e.name});
  std::sort(near.begin(), near.end());
  std::string hint;
  for (size_t i = 0;
       i < near.size() && i < 3 && near[i].first <= std::max<size_t>(3, name.size() / 3); ++i)
    hint += (hint.empty() ? "; did you mean " : ", ") + near[i].second;
  if (!hint.empty()) hint += "?";
  if (all.empty()) hint = "; the zoo is empty (is ARCHBERT_DATA set to the data folder?)";
  throw_bad_input(name, "unknown zoo model" + hint + " (see `archbert zoo list`)");
}

}  // namespace archbert
