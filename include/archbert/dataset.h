#pragma once
// Dataset directories (SPEC §3, docs/datasets.md): a manifest, a compact binary graph store and
// JSONL sample files.
//
//   DIR/manifest.json   format version, generator, seed, split, counts, files
//   DIR/graphs.bin      every graph of the dataset (GraphStore format below)
//   DIR/*.jsonl         samples, one JSON object per line, referring to graphs by index

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "archbert/graph.h"

namespace archbert {

// Version of the dataset directory layout and manifest schema.
constexpr int kDatasetFormatVersion = 1;

enum class DatasetSplit : uint8_t { kTrain, kVal };
std::string_view split_name(DatasetSplit split);  // "train", "val"
std::optional<DatasetSplit> split_from_name(std::string_view name);

// ---------------------------------------------------------------------------------------------
// Manifest.

struct DatasetManifest {
  int format_version = kDatasetFormatVersion;
  std::string generator;  // "autonet", "autonet-qa", "zoo"
  int generator_version = 0;
  uint64_t seed = 0;
  std::string split;                         // "train" / "val" (empty when not split)
  std::map<std::string, int64_t> counts;     // "graphs", "samples", ...
  std::map<std::string, std::string> files;  // role -> file name relative to DIR ("graphs")
  std::map<std::string, std::string> info;   // free-form generator settings
};

std::string manifest_to_json(const DatasetManifest& manifest);  // pretty, keys sorted
// `source` names the file in errors.
DatasetManifest manifest_from_json(const std::string& text, const std::string& source);
// DIR/manifest.json, written atomically.
void write_manifest(const std::string& dir, const DatasetManifest& manifest);
// Reads DIR/manifest.json. Throws Error(kBadInput) naming the file when it is missing, not JSON,
// or of another format version; naming the directory when it is not a directory.
DatasetManifest read_manifest(const std::string& dir);

// ---------------------------------------------------------------------------------------------
// Graph store: graphs.bin.
//
// Little-endian. Header (48 bytes): magic "ABGSTORE", u32 version, u32 flags (bit 0: node names
// stored), u64 graph count, u64 offset of the index, u64 CRC-32 of every byte after the header,
// u64 file size. Then one record per graph (varints: name, format, params, bn_folded, nodes:
// op, shape, kernel, params, prefix-compressed name / class / source op; edges as
// (src delta, dst - src)), then the index: count + 1 u64 record offsets.

constexpr int kGraphStoreVersion = 1;

struct GraphStoreOptions {
  bool names = true;  // store node names and source ops (false: smaller; they load empty)
};

// Appends graphs one at a time; nothing is kept but the encoded bytes.
class GraphStoreWriter {
 public:
  explicit GraphStoreWriter(GraphStoreOptions options = {}) : options_(options) {}
  void add(const ArchGraph& graph);
  // Appends a record made by encode_graph_record with the same options (for parallel encoding).
  void add_record(std::string_view record);
  int64_t size() const { return static_cast<int64_t>(offsets_.size()); }
  // The whole file.
  std::string finish() const;
  // finish() written atomically to `path`.
  void write(const std::string& path) const;

 private:
  GraphStoreOptions options_;
  std::string records_;
  std::vector<uint64_t> offsets_;  // relative to the first record
};

// One graph's record bytes.
std::string encode_graph_record(const ArchGraph& graph, const GraphStoreOptions& options = {});

// A graph store read into memory. Opening checks the header, size, checksum and index; every
// problem throws Error(kBadInput) naming the file ("truncated", "checksum mismatch", "version 2,
// this archbert reads version 1", ...).
class GraphStore {
 public:
  static GraphStore open(const std::string& path);
  // From bytes already in memory; `source` names them in errors.
  static GraphStore from_bytes(std::string bytes, const std::string& source);

  int64_t size() const { return count_; }
  bool has_names() const { return names_; }
  const std::string& path() const { return path_; }
  // Graph `i`, validated. Throws Error(kBadInput) naming the file and record on corruption.
  ArchGraph get(int64_t i) const;
  // Every graph, in order.
  std::vector<ArchGraph> load_all() const;

 private:
  std::string path_;
  std::string data_;
  int64_t count_ = 0;
  bool names_ = false;
  uint64_t index_offset_ = 0;
};

void write_graph_store(const std::string& path, const std::vector<ArchGraph>& graphs,
                       const GraphStoreOptions& options = {});
std::vector<ArchGraph> read_graph_store(const std::string& path);

// The graph store of dataset directory `dir` (the file named by its manifest), checked against
// the manifest's graph count. Throws Error(kBadInput) naming the offending file.
GraphStore open_dataset_graphs(const std::string& dir);

// ---------------------------------------------------------------------------------------------
// Samples (JSONL). `graph` / `a` / `b` are indices into the dataset's graphs.bin.

// One fact a generated description states, in checkable form (fact_holds in descriptions.h).
// JSON: {"kind": ..., "class": ..., "value": ..., "unit": ..., "kernel": ..., "holds": ...}, the
// keys a kind does not use left out.
struct StatedFact {
  std::string kind;    // "has", "lacks", "count", "total", "params", "kernel"
  std::string cls;     // layer class ("Sep_conv2d") of has / lacks / count / kernel
  int64_t value = 0;   // count / total / params: the number stated
  int64_t unit = 0;    // params: the rounding unit of the stated number (1 = exact)
  std::string kernel;  // kernel: "7x1" (kH x kW)
  bool holds = false;  // the generator made this fact true
  std::string text;    // AutoNet: the fact stated alone, in the description's words (may be empty)
  bool operator==(const StatedFact& o) const {
    return kind == o.kind && cls == o.cls && value == o.value && unit == o.unit &&
           kernel == o.kernel && holds == o.holds;
  }
};

// Architectural reasoning: is `text` true of the graph?
struct ArSample {
  int64_t graph = 0;
  std::string text;
  int label = 0;                   // 1 = every stated fact is true, 0 = some fact is false
  std::vector<std::string> facts;  // kinds of the stated facts ("params", "count", "kernel", ...)
  std::vector<StatedFact> claims;  // the stated facts themselves (generated texts; may be empty)
};

// Architectural question answering: multi-label answers over the answer vocabulary.
struct QaSample {
  int64_t graph = 0;
  std::string question;
  std::string kind;  // "used", "unused", "function", "kernels", "classes"
  std::vector<std::string> answers;
};

// Architecture clone detection: are graphs a and b of the same family / base design?
struct AcdPair {
  int64_t a = 0;
  int64_t b = 0;
  int label = 0;
};

// Bi-modal clone detection: similar with respect to `text` (true of both, and a ~ b).
struct BacdQuartet {
  int64_t a = 0;
  int64_t b = 0;
  std::string text;
  int label = 0;
};

// One JSON object on one line, with a trailing '\n'.
std::string to_jsonl(const ArSample& s);
std::string to_jsonl(const QaSample& s);
std::string to_jsonl(const AcdPair& s);
std::string to_jsonl(const BacdQuartet& s);

// Whole files: one line per sample.
template <typename Sample>
std::string samples_to_jsonl(const std::vector<Sample>& samples) {
  std::string out;
  for (const Sample& s : samples) out += to_jsonl(s);
  return out;
}
// Writes samples_to_jsonl(samples) atomically (write_file_atomic).
void write_jsonl(const std::string& path, const std::string& content);

// Readers: Throw Error(kBadInput) naming the file and line on a malformed line.
std::vector<ArSample> read_ar_samples(const std::string& path);
// The stated facts' own sentences (StatedFact::text) as samples of their graphs, labelled by the
// facts' truth, in file order; a sentence stated in several descriptions of a graph counts once.
// Empty when no claim carries a sentence (texts_version 1, the Zoo).
std::vector<ArSample> single_fact_samples(const std::vector<ArSample>& samples);
std::vector<QaSample> read_qa_samples(const std::string& path);
std::vector<AcdPair> read_acd_pairs(const std::string& path);
std::vector<BacdQuartet> read_bacd_quartets(const std::string& path);

}  // namespace archbert
