// Hugging Face models: a folder with config.json (+ optional model.safetensors or a sharded
// model.safetensors.index.json), or a config.json path. Only the safetensors JSON headers are
// read — tensor names and shapes — never tensor data, and no model code is run.
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "archbert/error.h"
#include "archbert/graph_io.h"
#include "archbert/importer.h"
#include "import/huggingface_builders.h"

namespace archbert {
namespace {

namespace fs = std::filesystem;
using hf::TensorInfo;

// config.json files are small (ViT's, with 1000 labels, is ~70 KB); refuse anything huge.
constexpr int64_t kMaxConfigBytes = int64_t(64) << 20;
// A safetensors header lists names, dtypes, shapes and offsets: a few MB for the largest models.
constexpr uint64_t kMaxHeaderBytes = uint64_t(100) << 20;

bool is_graph_document(const nlohmann::json& j) {
  return j.is_object() && j.contains("nodes") && j.contains("edges");
}

bool looks_like_config(const nlohmann::json& j) {
  return j.is_object() && (j.contains("model_type") || j.contains("architectures")) &&
         !is_graph_document(j);
}

// Reads the JSON header of a safetensors file: an 8-byte little-endian length N, then N bytes of
// JSON {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}.
std::vector<TensorInfo> read_safetensors_header(const fs::path& path) {
  const std::string p = path.string();
  std::error_code ec;
  const uintmax_t size = fs::file_size(path, ec);
  if (ec) throw_bad_input(p, "cannot read safetensors file: " + ec.message());
  if (size < 8)
    throw_bad_input(p, "truncated safetensors file (" + std::to_string(size) +
                           " bytes; the header length alone takes 8)");
  std::ifstream in(path, std::ios::binary);
  unsigned char len[8];
  if (!in.read(reinterpret_cast<char*>(len), 8))
    throw_bad_input(p, "cannot read safetensors header");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len[i];
  if (n > kMaxHeaderBytes)
    throw_bad_input(p, "safetensors header length " + std::to_string(n) +
                           " is over the limit of 100 MB (corrupt file?)");
  if (n > size - 8)
    throw_bad_input(p, "truncated safetensors file: the header needs " + std::to_string(n) +
                           " bytes but only " + std::to_string(size - 8) + " follow");
  std::string text(static_cast<size_t>(n), '\0');
  if (n > 0 && !in.read(text.data(), static_cast<std::streamsize>(n)))
    throw_bad_input(p, "cannot read safetensors header");
  nlohmann::json header = nlohmann::json::parse(text, nullptr, false);
  if (header.is_discarded() || !header.is_object())
    throw_bad_input(p, "safetensors header is not a JSON object (corrupt file?)");
  const uint64_t data_bytes = size - 8 - n;
  std::vector<TensorInfo> out;
  for (const auto& [name, v] : header.items()) {
    if (name == "__metadata__") continue;
    auto bad = [&](const std::string& what) {
      throw_bad_input(p, "safetensors tensor '" + name + "': " + what);
    };
    if (!v.is_object() || !v.contains("shape") || !v["shape"].is_array()) bad("no \"shape\" list");
    TensorInfo t;
    t.name = name;
    for (const auto& d : v["shape"]) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0 || d.get<int64_t>() > (int64_t(1) << 40))
        bad("shape entry " + d.dump() + " is not a dimension");
      t.shape.push_back(d.get<int64_t>());
    }
    if (t.shape.size() > 8) bad("more than 8 dimensions");
    if (v.contains("data_offsets")) {
      const auto& o = v["data_offsets"];
      if (!o.is_array() || o.size() != 2 || !o[0].is_number_unsigned() ||
          !o[1].is_number_unsigned() || o[0].get<uint64_t>() > o[1].get<uint64_t>() ||
          o[1].get<uint64_t>() > data_bytes)
        bad("data_offsets " + o.dump() + " lie outside the data section of " +
            std::to_string(data_bytes) + " bytes");
    }
    out.push_back(std::move(t));
  }
  return out;
}

// Tensors of the checkpoint beside a config: model.safetensors, or every shard named by
// model.safetensors.index.json. Empty when the folder has neither.
std::vector<TensorInfo> read_checkpoint_tensors(const fs::path& dir) {
  const fs::path single = dir / "model.safetensors";
  if (fs::exists(single)) return read_safetensors_header(single);
  const fs::path index = dir / "model.safetensors.index.json";
  if (!fs::exists(index)) return {};
  const std::string ip = index.string();
  nlohmann::json j = nlohmann::json::parse(read_file(ip, kMaxConfigBytes), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("weight_map") ||
      !j["weight_map"].is_object())
    throw_bad_input(ip, "not a safetensors index (no \"weight_map\" object)");
  std::set<std::string> shards;
  for (const auto& [tensor, file] : j["weight_map"].items()) {
    if (!file.is_string())
      throw_bad_input(ip, "weight_map entry '" + tensor + "' is not a file name");
    const std::string f = file.get<std::string>();
    // Shards live beside the index: refuse paths that would leave the folder.
    if (f.empty() || f.find('/') != std::string::npos || f.find('\\') != std::string::npos ||
        f == "." || f == "..")
      throw_bad_input(ip, "shard name '" + f + "' is not a plain file name");
    shards.insert(f);
  }
  std::vector<TensorInfo> out;
  for (const std::string& f : shards) {
    const fs::path shard = dir / f;
    if (!fs::exists(shard))
      throw_bad_input(ip, "shard '" + f +
                              "' is missing (download every shard, or remove the "
                              "index to import from config.json alone)");
    std::vector<TensorInfo> part = read_safetensors_header(shard);
    out.insert(out.end(), std::make_move_iterator(part.begin()),
               std::make_move_iterator(part.end()));
  }
  return out;
}

// Sum of numel over the checkpoint's parameters (buffers excluded), refusing overflow.
int64_t checkpoint_params(const std::vector<TensorInfo>& tensors, const std::string& source) {
  int64_t total = 0;
  for (const TensorInfo& t : tensors) {
    if (hf::is_buffer_tensor(t.name)) continue;
    int64_t n = 1;
    for (int64_t d : t.shape)
      if (__builtin_mul_overflow(n, d, &n)) throw_bad_input(source, "parameter count overflows");
    if (__builtin_add_overflow(total, n, &total))
      throw_bad_input(source, "parameter count overflows");
  }
  return total;
}

std::string join(const std::vector<std::string>& items) {
  std::string s;
  for (const std::string& i : items) s += (s.empty() ? "" : ", ") + i;
  return s;
}

// Reads a Hugging Face model folder or config.json into a canonical graph.
class HuggingfaceImporter : public Importer {
 public:
  std::string format() const override { return "huggingface"; }

  bool accepts(const std::string& path, std::string_view head, bool is_dir) const override {
    std::error_code ec;
    if (is_dir) return fs::is_regular_file(fs::path(path) / "config.json", ec);
    const fs::path p(path);
    const bool named_config = p.filename() == "config.json";
    if (!named_config && p.extension() != ".json") return false;
    size_t i = head.find_first_not_of(" \t\r\n");
    if (i == std::string_view::npos || head[i] != '{') return named_config;
    // Judge by content: parse the whole (small) file when it may be a config.
    const uintmax_t size = fs::file_size(p, ec);
    if (ec || size > static_cast<uintmax_t>(kMaxConfigBytes)) return false;
    std::ifstream in(p, std::ios::binary);
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded()) return named_config;  // import() reports the syntax error
    return named_config ? !is_graph_document(j) : looks_like_config(j);
  }

  ArchGraph import(const std::string& path, const ImportOptions& options) const override {
    const fs::path p(path);
    std::error_code ec;
    const bool is_dir = fs::is_directory(p, ec);
    if (!is_dir && !fs::exists(p, ec)) throw_bad_input(path, "no such file or folder");
    const fs::path config_path = is_dir ? p / "config.json" : p;
    if (is_dir && !fs::exists(config_path)) throw_bad_input(path, "folder has no config.json");
    const std::string source = config_path.string();

    nlohmann::json j;
    try {
      j = nlohmann::json::parse(read_file(source, kMaxConfigBytes));
    } catch (const nlohmann::json::parse_error& e) {
      throw_bad_input(source, std::string("malformed JSON: ") + e.what());
    }
    if (is_graph_document(j))
      throw_bad_input(source, "an archbert graph document, not a Hugging Face config");
    hf::HfConfig config(std::move(j), source);

    // A checkpoint is looked for only beside a real config.json (not beside zoo configs).
    const bool model_folder = is_dir || p.filename() == "config.json";
    const fs::path dir = is_dir ? p : (p.has_parent_path() ? p.parent_path() : fs::path("."));
    std::vector<TensorInfo> tensors;
    if (model_folder) tensors = read_checkpoint_tensors(dir);
    const std::string name = graph_name(p, is_dir);

    if (hf::has_builder(config.model_type())) {
      ArchGraph g = hf::build_graph(config, name, options.limits);
      // The checkpoint is the ground truth for what is stored.
      if (!tensors.empty()) g.params = checkpoint_params(tensors, source);
      return g;
    }
    if (tensors.empty())
      throw_bad_input(source, "unknown model_type '" + config.model_type() +
                                  "' and no model.safetensors to infer the graph from; "
                                  "supported: " +
                                  join(hf::supported_model_types()));
    return hf::build_generic_graph(tensors, name, source, options.limits);
  }

 private:
  // The model's name: the folder's name (for a folder or its config.json), else the file stem.
  static std::string graph_name(const fs::path& p, bool is_dir) {
    fs::path folder;
    if (is_dir)
      folder = p;
    else if (p.filename() == "config.json")
      folder = p.has_parent_path() ? p.parent_path() : fs::path(".");
    else
      return p.stem().string();
    std::error_code ec;
    fs::path abs = fs::weakly_canonical(fs::absolute(folder, ec), ec);
    std::string n = (ec ? folder.lexically_normal() : abs).filename().string();
    return n.empty() ? std::string("model") : n;
  }
};

}  // namespace

std::unique_ptr<Importer> make_huggingface_importer() {
  return std::make_unique<HuggingfaceImporter>();
}

}  // namespace archbert
