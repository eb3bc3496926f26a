#pragma once
// The built-in zoo of real architectures: `tv:NAME` (torchvision, from committed canonical
// graphs) and `hf:NAME` (Hugging Face configs built by our builders).

#include <cstdint>
#include <string>
#include <vector>

#include "archbert/importer.h"

namespace archbert {

struct ZooEntry {
  std::string name;    // "tv:resnet18", "hf:bert-base-uncased"
  std::string family;  // e.g. "resnet", "bert"
  std::string
      task;  // "classification", "detection", "segmentation", "video", "optical_flow", "nlp", ...
  std::string path;     // file it is read from
  int64_t params = -1;  // ground-truth parameter count (PyTorch) when known, else -1
};

// Folder with committed data: $ARCHBERT_DATA if set, else the build-time default.
std::string data_dir();

// Every zoo entry, sorted by name.
std::vector<ZooEntry> zoo_list();

// True for names with a zoo prefix ("tv:", "hf:").
bool is_zoo_name(const std::string& source);

// Loads a zoo graph by name. Throws Error(kBadInput) for unknown names, listing near matches.
ArchGraph zoo_load(const std::string& name, const ImportOptions& options = {});

}  // namespace archbert
