#pragma once
// Reading model files of every supported format into canonical graphs.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "archbert/graph.h"

namespace archbert {

struct ImportOptions {
  GraphLimits limits = default_graph_limits();
  // TorchScript archives can run code when loaded; a server sets this to false.
  bool allow_torchscript = true;
};

// One source format. Implementations live in src/import/.
class Importer {
 public:
  virtual ~Importer() = default;
  // Short format name, e.g. "onnx".
  virtual std::string format() const = 0;
  // True when `path` looks like this format: `head` holds the file's first bytes (empty for a
  // directory). Judged by content first, extension second.
  virtual bool accepts(const std::string& path, std::string_view head, bool is_dir) const = 0;
  // Reads `path`. Throws Error(kBadInput) naming `path` when it cannot.
  virtual ArchGraph import(const std::string& path, const ImportOptions& options) const = 0;
};

std::unique_ptr<Importer> make_onnx_importer();
std::unique_ptr<Importer> make_torchscript_importer();
std::unique_ptr<Importer> make_huggingface_importer();
std::unique_ptr<Importer> make_json_importer();

// Loads a graph from a file or folder path, or a zoo name (`tv:resnet18`, `hf:bert-base-uncased`).
// The format is detected from the content. Throws Error(kBadInput) naming `source`.
ArchGraph load_graph(const std::string& source, const ImportOptions& options = {});

}  // namespace archbert
