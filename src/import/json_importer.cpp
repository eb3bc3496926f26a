// The native graph JSON format (what `archbert graph --json` writes), optionally gzipped.
#include <filesystem>

#include "archbert/error.h"
#include "archbert/graph_io.h"
#include "archbert/importer.h"
#include "util/strings.h"

namespace archbert {
namespace {

// Reads archbert graph JSON: an object with "nodes" and "edges".
class JsonImporter : public Importer {
 public:
  std::string format() const override { return "json"; }

  bool accepts(const std::string& path, std::string_view head, bool is_dir) const override {
    if (is_dir) return false;
    if (ends_with(path, ".json.gz")) return true;
    size_t i = head.find_first_not_of(" \t\r\n");
    if (i == std::string_view::npos || head[i] != '{') return false;
    // Hugging Face configs are JSON too; graph documents name their nodes and edges.
    return head.find("\"nodes\"") != std::string_view::npos ||
           head.find("\"schema_version\"") != std::string_view::npos;
  }

  ArchGraph import(const std::string& path, const ImportOptions& options) const override {
    // A graph of a million nodes is ~100-200 MB of JSON; refuse anything far beyond that.
    std::string text = read_file(path, int64_t(1) << 30);
    ArchGraph g = graph_from_json(text, path, options.limits);
    if (g.name.empty()) g.name = std::filesystem::path(path).stem().string();
    return g;
  }
};

}  // namespace

std::unique_ptr<Importer> make_json_importer() { return std::make_unique<JsonImporter>(); }

}  // namespace archbert
