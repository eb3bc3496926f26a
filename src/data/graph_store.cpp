// Dataset directories: manifest.json, the binary graph store graphs.bin, JSONL samples.
// Formats: include/archbert/dataset.h and docs/datasets.md.

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "archbert/dataset.h"
#include "archbert/error.h"
#include "archbert/graph_io.h"
#include "data/jsonl.h"
#include "util/crc32.h"

namespace archbert {

using nlohmann::json;

std::string_view split_name(DatasetSplit split) {
  return split == DatasetSplit::kTrain ? "train" : "val";
}

std::optional<DatasetSplit> split_from_name(std::string_view name) {
  if (name == "train") return DatasetSplit::kTrain;
  if (name == "val") return DatasetSplit::kVal;
  return std::nullopt;
}

// ============================== Manifest ==============================

std::string manifest_to_json(const DatasetManifest& m) {
  json j = json::object();
  j["format"] = "archbert-dataset";
  j["format_version"] = m.format_version;
  j["generator"] = m.generator;
  j["generator_version"] = m.generator_version;
  j["seed"] = m.seed;
  j["split"] = m.split;
  j["counts"] = m.counts;
  j["files"] = m.files;
  j["info"] = m.info;
  return j.dump(2) + "\n";
}

DatasetManifest manifest_from_json(const std::string& text, const std::string& source) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw_bad_input(source, "not a JSON object");
  if (j.value("format", std::string()) != "archbert-dataset")
    throw_bad_input(source,
                    "not an archbert dataset manifest (\"format\" is not "
                    "\"archbert-dataset\")");
  DatasetManifest m;
  try {
    m.format_version = j.at("format_version").get<int>();
    if (m.format_version != kDatasetFormatVersion)
      throw_bad_input(source, "dataset format version " + std::to_string(m.format_version) +
                                  ", this archbert reads version " +
                                  std::to_string(kDatasetFormatVersion));
    m.generator = j.at("generator").get<std::string>();
    m.generator_version = j.value("generator_version", 0);
    m.seed = j.value("seed", uint64_t{0});
    m.split = j.value("split", std::string());
    if (j.contains("counts")) m.counts = j.at("counts").get<std::map<std::string, int64_t>>();
    if (j.contains("files")) m.files = j.at("files").get<std::map<std::string, std::string>>();
    if (j.contains("info")) m.info = j.at("info").get<std::map<std::string, std::string>>();
  } catch (const json::exception& e) {
    throw_bad_input(source, std::string("malformed manifest: ") + e.what());
  }
  return m;
}

void write_manifest(const std::string& dir, const DatasetManifest& manifest) {
  write_file_atomic((std::filesystem::path(dir) / "manifest.json").string(),
                    manifest_to_json(manifest));
}

DatasetManifest read_manifest(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    throw_bad_input(dir, std::filesystem::exists(dir, ec) ? "is not a dataset directory"
                                                          : "no such dataset directory");
  const std::string path = (std::filesystem::path(dir) / "manifest.json").string();
  if (!std::filesystem::exists(path, ec))
    throw_bad_input(path, "missing: not an archbert dataset directory");
  return manifest_from_json(read_file(path, int64_t(64) << 20), path);
}

GraphStore open_dataset_graphs(const std::string& dir) {
  const DatasetManifest m = read_manifest(dir);
  auto f = m.files.find("graphs");
  const std::string file = f == m.files.end() ? "graphs.bin" : f->second;
  if (file.find('/') != std::string::npos || file.find("..") != std::string::npos)
    throw_bad_input((std::filesystem::path(dir) / "manifest.json").string(),
                    "graph file name '" + file + "' must be a plain file name");
  GraphStore store = GraphStore::open((std::filesystem::path(dir) / file).string());
  auto c = m.counts.find("graphs");
  if (c != m.counts.end() && c->second != store.size())
    throw_bad_input(store.path(), "holds " + std::to_string(store.size()) +
                                      " graphs but the manifest says " + std::to_string(c->second));
  return store;
}

// ============================== Graph store ==============================

namespace {

constexpr char kMagic[8] = {'A', 'B', 'G', 'S', 'T', 'O', 'R', 'E'};
constexpr size_t kHeaderBytes = 48;
constexpr uint32_t kFlagNames = 1;

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_u64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

uint32_t get_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

void put_string(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s.data(), s.size());
}

// A string as (length of the prefix shared with `prev`, suffix): node names of a graph share
// long prefixes ("cells.3.step1.op0.sep_conv.dw1" then "...pw1").
void put_prefixed(std::string& out, std::string_view s, std::string_view prev) {
  size_t k = 0;
  const size_t n = std::min(s.size(), prev.size());
  while (k < n && s[k] == prev[k]) ++k;
  put_varint(out, k);
  put_string(out, s.substr(k));
}

// A node's parameters are stored as the difference from the numel of its shape (zigzag
// varint): 0 for a bias-free conv, C for a BN or a conv bias, o for a linear bias.
int64_t predicted_params(const Node& n) {
  if (!n.shape) return 0;
  const Shape4& s = *n.shape;
  return s[0] * s[1] * s[2] * s[3];
}
uint64_t zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t unzigzag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

// Node flag bits.
constexpr uint8_t kHasShape = 1, kHasKernel = 2, kKernelFromShape = 4;
constexpr uint8_t kSameClass = 8, kSameSource = 16;  // as the previous node: not stored

// Bounds-checked reader over one record.
class Cursor {
 public:
  Cursor(const char* p, const char* end, const std::string& source, int64_t record)
      : begin_(p), p_(p), end_(end), source_(source), record_(record) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw_bad_input(source_, "corrupt graph record " + std::to_string(record_) + " (" + what +
                                 " at byte " + std::to_string(p_ - begin_) + " of the record)");
  }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) fail("record ends inside a number");
      const uint8_t b = static_cast<uint8_t>(*p_++);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    fail("over-long number");
  }
  int64_t positive(const char* what) {
    const uint64_t v = varint();
    if (v == 0 || v > (uint64_t(1) << 40)) fail(std::string("bad ") + what);
    return static_cast<int64_t>(v);
  }
  uint8_t byte() {
    if (p_ >= end_) fail("record ends early");
    return static_cast<uint8_t>(*p_++);
  }
  void string(std::string& s) {
    const uint64_t n = varint();
    if (n > static_cast<uint64_t>(end_ - p_)) fail("string runs past the record");
    s.assign(p_, n);
    p_ += n;
  }
  void prefixed(std::string& s, const std::string& prev) {
    const uint64_t k = varint();
    if (k > prev.size()) fail("bad string prefix");
    const uint64_t n = varint();
    if (n > static_cast<uint64_t>(end_ - p_)) fail("string runs past the record");
    s.reserve(k + n);
    s.assign(prev, 0, k);
    s.append(p_, n);
    p_ += n;
  }
  size_t left() const { return static_cast<size_t>(end_ - p_); }
  bool done() const { return p_ == end_; }

 private:
  const char* begin_;
  const char* p_;
  const char* end_;
  const std::string& source_;
  int64_t record_;
};

ArchGraph decode_record(const char* p, const char* end, bool names, const std::string& source,
                        int64_t record) {
  Cursor c(p, end, source, record);
  ArchGraph g;
  c.string(g.name);
  c.string(g.format);
  g.params = static_cast<int64_t>(c.varint());
  g.bn_folded = c.byte() != 0;
  const uint64_t n = c.varint();
  if (n > c.left() / 3) c.fail("node count " + std::to_string(n) + " larger than the record");
  g.nodes.resize(n);
  const int ops = op_count();
  for (uint64_t i = 0; i < n; ++i) {
    Node& nd = g.nodes[i];
    const uint64_t op = c.varint();
    if (op >= static_cast<uint64_t>(ops)) c.fail("unknown op " + std::to_string(op));
    nd.op = static_cast<Op>(op);
    const uint8_t flags = c.byte();
    if (flags & kHasShape) {
      Shape4 s;
      for (int64_t& d : s) d = c.positive("shape dimension");
      nd.shape = s;
    }
    if (flags & kHasKernel) {
      if (flags & kKernelFromShape) {
        if (!nd.shape) c.fail("kernel refers to a missing shape");
        nd.kernel = Kernel2{(*nd.shape)[2], (*nd.shape)[3]};
      } else {
        nd.kernel = Kernel2{c.positive("kernel size"), c.positive("kernel size")};
      }
    }
    nd.params = predicted_params(nd) + unzigzag(c.varint());
    if (nd.params < 0) c.fail("negative parameter count");
    static const std::string kEmpty;
    const Node* prev = i > 0 ? &g.nodes[i - 1] : nullptr;
    if (flags & kSameClass)
      nd.layer_class = prev ? prev->layer_class : kEmpty;
    else
      c.prefixed(nd.layer_class, prev ? prev->layer_class : kEmpty);
    if (names) {
      c.prefixed(nd.name, prev ? prev->name : kEmpty);
      if (flags & kSameSource)
        nd.source_op = prev ? prev->source_op : kEmpty;
      else
        c.prefixed(nd.source_op, prev ? prev->source_op : kEmpty);
    }
  }
  const uint64_t m = c.varint();
  if (m > c.left() / 2) c.fail("edge count " + std::to_string(m) + " larger than the record");
  g.edges.resize(m);
  uint64_t src = 0;
  for (uint64_t i = 0; i < m; ++i) {
    src += c.varint();
    const uint64_t delta = c.varint();
    if (src >= n || delta == 0 || delta >= n - src) c.fail("edge outside the graph");
    g.edges[i] = {static_cast<int32_t>(src), static_cast<int32_t>(src + delta)};
  }
  if (!c.done()) c.fail("trailing bytes");
  try {
    g.validate();
  } catch (const Error& e) {
    throw_bad_input(source, "graph record " + std::to_string(record) + " is invalid: " + e.what());
  }
  return g;
}

}  // namespace

std::string encode_graph_record(const ArchGraph& g, const GraphStoreOptions& options) {
  std::string out;
  out.reserve(32 + g.nodes.size() * (options.names ? 16 : 8) + g.edges.size() * 2);
  put_string(out, g.name);
  put_string(out, g.format);
  put_varint(out, static_cast<uint64_t>(g.params));
  out.push_back(g.bn_folded ? 1 : 0);
  put_varint(out, g.nodes.size());
  static const std::string kEmpty;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& nd = g.nodes[i];
    put_varint(out, static_cast<uint64_t>(nd.op));
    uint8_t flags = 0;
    if (nd.shape) flags |= kHasShape;
    if (nd.kernel) {
      flags |= kHasKernel;
      if (nd.shape && (*nd.kernel)[0] == (*nd.shape)[2] && (*nd.kernel)[1] == (*nd.shape)[3])
        flags |= kKernelFromShape;
    }
    const Node* prev = i > 0 ? &g.nodes[i - 1] : nullptr;
    const std::string& prev_class = prev ? prev->layer_class : kEmpty;
    const std::string& prev_source = prev ? prev->source_op : kEmpty;
    if (nd.layer_class == prev_class) flags |= kSameClass;
    if (options.names && nd.source_op == prev_source) flags |= kSameSource;
    out.push_back(static_cast<char>(flags));
    if (nd.shape)
      for (int64_t d : *nd.shape) put_varint(out, static_cast<uint64_t>(d));
    if (nd.kernel && !(flags & kKernelFromShape))
      for (int64_t d : *nd.kernel) put_varint(out, static_cast<uint64_t>(d));
    put_varint(out, zigzag(nd.params - predicted_params(nd)));
    if (!(flags & kSameClass)) put_prefixed(out, nd.layer_class, prev_class);
    if (options.names) {
      put_prefixed(out, nd.name, prev ? prev->name : kEmpty);
      if (!(flags & kSameSource)) put_prefixed(out, nd.source_op, prev_source);
    }
  }
  put_varint(out, g.edges.size());
  int64_t src = 0;
  for (const Edge& e : g.edges) {
    put_varint(out, static_cast<uint64_t>(e.src - src));
    put_varint(out, static_cast<uint64_t>(e.dst - e.src));
    src = e.src;
  }
  return out;
}

void GraphStoreWriter::add(const ArchGraph& graph) {
  add_record(encode_graph_record(graph, options_));
}

void GraphStoreWriter::add_record(std::string_view record) {
  offsets_.push_back(records_.size());
  records_.append(record.data(), record.size());
}

std::string GraphStoreWriter::finish() const {
  const uint64_t count = offsets_.size();
  const uint64_t index_offset = kHeaderBytes + records_.size();
  const uint64_t size = index_offset + (count + 1) * 8;
  std::string out;
  out.reserve(size);
  out.append(kMagic, sizeof(kMagic));
  put_u32(out, kGraphStoreVersion);
  put_u32(out, options_.names ? kFlagNames : 0);
  put_u64(out, count);
  put_u64(out, index_offset);
  put_u64(out, 0);  // checksum, filled below
  put_u64(out, size);
  out += records_;
  for (uint64_t o : offsets_) put_u64(out, kHeaderBytes + o);
  put_u64(out, index_offset);
  const uint32_t crc = crc32_of(out.data() + kHeaderBytes, out.size() - kHeaderBytes);
  std::string c;
  put_u64(c, crc);
  std::memcpy(out.data() + 32, c.data(), 8);
  return out;
}

void GraphStoreWriter::write(const std::string& path) const { write_file_atomic(path, finish()); }

GraphStore GraphStore::open(const std::string& path) { return from_bytes(read_file(path), path); }

GraphStore GraphStore::from_bytes(std::string bytes, const std::string& source) {
  GraphStore s;
  s.path_ = source;
  s.data_ = std::move(bytes);
  const std::string& d = s.data_;
  if (d.size() < sizeof(kMagic) || std::memcmp(d.data(), kMagic, sizeof(kMagic)) != 0)
    throw_bad_input(source, d.size() < sizeof(kMagic) && !d.empty() &&
                                    std::memcmp(d.data(), kMagic, d.size()) == 0
                                ? "truncated graph store (" + std::to_string(d.size()) + " bytes)"
                                : "not an archbert graph store (bad magic bytes)");
  if (d.size() < kHeaderBytes)
    throw_bad_input(source, "truncated graph store: " + std::to_string(d.size()) +
                                " bytes, shorter than its " + std::to_string(kHeaderBytes) +
                                "-byte header");
  const uint32_t version = get_u32(d.data() + 8);
  if (version != kGraphStoreVersion)
    throw_bad_input(source, "graph store version " + std::to_string(version) +
                                ", this archbert reads version " +
                                std::to_string(kGraphStoreVersion));
  const uint32_t flags = get_u32(d.data() + 12);
  const uint64_t count = get_u64(d.data() + 16);
  const uint64_t index_offset = get_u64(d.data() + 24);
  const uint64_t crc = get_u64(d.data() + 32);
  const uint64_t size = get_u64(d.data() + 40);
  if (size != d.size())
    throw_bad_input(source, size > d.size() ? "truncated graph store: " + std::to_string(d.size()) +
                                                  " of " + std::to_string(size) + " bytes"
                                            : "graph store has " + std::to_string(d.size() - size) +
                                                  " unexpected trailing bytes");
  if (crc32_of(d.data() + kHeaderBytes, d.size() - kHeaderBytes) != crc)
    throw_bad_input(source, "checksum mismatch: the graph store is corrupt");
  if (index_offset < kHeaderBytes || index_offset > size || (size - index_offset) % 8 != 0 ||
      (size - index_offset) / 8 != count + 1)
    throw_bad_input(source, "corrupt graph store index");
  uint64_t prev = kHeaderBytes;
  for (uint64_t i = 0; i <= count; ++i) {
    const uint64_t o = get_u64(d.data() + index_offset + 8 * i);
    if (o < prev || o > index_offset || (i == 0 && o != kHeaderBytes) ||
        (i == count && o != index_offset))
      throw_bad_input(source, "corrupt graph store index at entry " + std::to_string(i));
    prev = o;
  }
  s.count_ = static_cast<int64_t>(count);
  s.names_ = (flags & kFlagNames) != 0;
  s.index_offset_ = index_offset;
  return s;
}

ArchGraph GraphStore::get(int64_t i) const {
  if (i < 0 || i >= count_)
    throw_bad_input(path_, "graph index " + std::to_string(i) + " out of range 0.." +
                               std::to_string(count_ - 1));
  const uint64_t a = get_u64(data_.data() + index_offset_ + 8 * i);
  const uint64_t b = get_u64(data_.data() + index_offset_ + 8 * (i + 1));
  return decode_record(data_.data() + a, data_.data() + b, names_, path_, i);
}

std::vector<ArchGraph> GraphStore::load_all() const {
  std::vector<ArchGraph> out;
  out.reserve(count_);
  for (int64_t i = 0; i < count_; ++i) out.push_back(get(i));
  return out;
}

void write_graph_store(const std::string& path, const std::vector<ArchGraph>& graphs,
                       const GraphStoreOptions& options) {
  GraphStoreWriter w(options);
  for (const ArchGraph& g : graphs) w.add(g);
  w.write(path);
}

std::vector<ArchGraph> read_graph_store(const std::string& path) {
  return GraphStore::open(path).load_all();
}

// ============================== JSONL samples ==============================

namespace {

std::string line_of(const json& j) { return j.dump() + "\n"; }

int label_of(const json& j, const std::string& where) {
  const int l = j.at("label").get<int>();
  if (l != 0 && l != 1) throw_bad_input(where, "label must be 0 or 1");
  return l;
}

int64_t index_of(const json& j, const char* key, const std::string& where) {
  const int64_t v = j.at(key).get<int64_t>();
  if (v < 0) throw_bad_input(where, std::string("negative graph index in '") + key + "'");
  return v;
}

json claim_json(const StatedFact& f) {
  json j = json::object();
  j["kind"] = f.kind;
  if (!f.cls.empty()) j["class"] = f.cls;
  // Every numeric kind (AutoNet's count / total / params, the Zoo's depth / attention / ...).
  if (f.kind != "has" && f.kind != "lacks" && f.kind != "kernel") j["value"] = f.value;
  if (f.unit != 0) j["unit"] = f.unit;
  if (!f.kernel.empty()) j["kernel"] = f.kernel;
  j["holds"] = f.holds;
  if (!f.text.empty()) j["text"] = f.text;
  return j;
}

StatedFact claim_of(const json& j) {
  StatedFact f;
  f.kind = j.at("kind").get<std::string>();
  f.cls = j.value("class", std::string());
  f.value = j.value("value", int64_t{0});
  f.unit = j.value("unit", int64_t{0});
  f.kernel = j.value("kernel", std::string());
  f.holds = j.at("holds").get<bool>();
  f.text = j.value("text", std::string());
  return f;
}

}  // namespace

std::string to_jsonl(const ArSample& s) {
  json j = {{"graph", s.graph}, {"text", s.text}, {"label", s.label}, {"facts", s.facts}};
  if (!s.claims.empty()) {
    json claims = json::array();
    for (const StatedFact& f : s.claims) claims.push_back(claim_json(f));
    j["claims"] = std::move(claims);
  }
  return line_of(j);
}

std::string to_jsonl(const QaSample& s) {
  return line_of(
      {{"graph", s.graph}, {"question", s.question}, {"kind", s.kind}, {"answers", s.answers}});
}

std::string to_jsonl(const AcdPair& s) {
  return line_of({{"a", s.a}, {"b", s.b}, {"label", s.label}});
}

std::string to_jsonl(const BacdQuartet& s) {
  return line_of({{"a", s.a}, {"b", s.b}, {"text", s.text}, {"label", s.label}});
}

void write_jsonl(const std::string& path, const std::string& content) {
  write_file_atomic(path, content);
}

std::vector<ArSample> read_ar_samples(const std::string& path) {
  std::vector<ArSample> out;
  for_each_jsonl_object(path, [&](const json& j, const std::string& where) {
    ArSample s;
    s.graph = index_of(j, "graph", where);
    s.text = j.at("text").get<std::string>();
    s.label = label_of(j, where);
    if (j.contains("facts")) s.facts = j.at("facts").get<std::vector<std::string>>();
    if (j.contains("claims"))
      for (const json& c : j.at("claims")) s.claims.push_back(claim_of(c));
    out.push_back(std::move(s));
  });
  return out;
}

std::vector<ArSample> single_fact_samples(const std::vector<ArSample>& samples) {
  std::vector<ArSample> out;
  std::set<std::pair<int64_t, std::string>> seen;
  for (const ArSample& s : samples)
    for (const StatedFact& f : s.claims) {
      if (f.text.empty() || !seen.insert({s.graph, f.text}).second) continue;
      ArSample c;
      c.graph = s.graph;
      c.text = f.text;
      c.label = f.holds ? 1 : 0;
      c.facts = {f.kind};
      c.claims = {f};
      out.push_back(std::move(c));
    }
  return out;
}

std::vector<QaSample> read_qa_samples(const std::string& path) {
  std::vector<QaSample> out;
  for_each_jsonl_object(path, [&](const json& j, const std::string& where) {
    QaSample s;
    s.graph = index_of(j, "graph", where);
    s.question = j.at("question").get<std::string>();
    s.kind = j.at("kind").get<std::string>();
    s.answers = j.at("answers").get<std::vector<std::string>>();
    out.push_back(std::move(s));
  });
  return out;
}

std::vector<AcdPair> read_acd_pairs(const std::string& path) {
  std::vector<AcdPair> out;
  for_each_jsonl_object(path, [&](const json& j, const std::string& where) {
    out.push_back({index_of(j, "a", where), index_of(j, "b", where), label_of(j, where)});
  });
  return out;
}

std::vector<BacdQuartet> read_bacd_quartets(const std::string& path) {
  std::vector<BacdQuartet> out;
  for_each_jsonl_object(path, [&](const json& j, const std::string& where) {
    BacdQuartet s;
    s.a = index_of(j, "a", where);
    s.b = index_of(j, "b", where);
    s.text = j.at("text").get<std::string>();
    s.label = label_of(j, where);
    out.push_back(std::move(s));
  });
  return out;
}

void for_each_jsonl_object(const std::string& path,
                           const std::function<void(const json&, const std::string&)>& each) {
  const std::string text = read_file(path);
  size_t pos = 0;
  int64_t line = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    ++line;
    std::string_view s(text.data() + pos, nl - pos);
    pos = nl + 1;
    if (s.empty()) continue;
    const std::string where = path + ":" + std::to_string(line);
    json j = json::parse(s, nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw_bad_input(where, "not a JSON object");
    try {
      each(j, where);
    } catch (const json::exception& e) {
      throw_bad_input(where, std::string("malformed sample: ") + e.what());
    }
  }
}

}  // namespace archbert
