// ONNX importer (SPEC §2): reads a .onnx file with the ONNX protobuf schema into a canonical graph.
//
// Reading. The file is read once (memory-mapped, or read into memory). A wire-format pass copies
// the model without the bulk tensor payloads (raw_data and the typed data arrays of tensors larger
// than 64 bytes), so the weights are never copied or decoded — only their dims are used — and
// onnx::ModelProto then parses the small copy. Tensors stored as external data need nothing but
// their dims either; the external files are never opened.
//
// Import steps.
//  1. Register every value: initializers, graph inputs, node outputs. Subgraph bodies (If, Loop,
//     Scan, SequenceMap) are registered inline, before their control node; a body input aliases
//     the outer value it receives, and each control-node output is routed from the body outputs.
//  2. Classify graph inputs. Normally every input that is not an initializer is a real input. A
//     model exported without parameters (export_params=False) lists its weights as graph inputs:
//     then an input is a weight when it feeds a weight or statistic position (Conv W/B, BN
//     scale/bias/mean/var, ...), a real input when it feeds a data position, and an input seen
//     only as an operand of Add/Mul/MatMul/Concat/Gather is a weight when every such use combines
//     it with data from a real input (bias, embedding table, class token, matmul weight).
//  3. Propagate value kinds in node order: activation (depends on a real input through data
//     positions), constant (with the set of parameters it is computed from), or shape (output of
//     Shape/Size). Nodes without an activation output are constant folding or shape arithmetic:
//     they are not architecture and are not emitted.
//  4. Fuse decomposed patterns so that ONNX matches TorchScript (see fuse_* below).
//  5. Emit one node per remaining ONNX node (mapped by onnx_op_table.cpp, or elided), with edges
//     only for data positions (never for the shape inputs of Reshape/Expand/Slice/Resize/Pad...).
//
// Parameter count (SPEC §2). A parameter is an initializer (or a weight graph input, or a
// Constant node value) and is counted once — the first time it is consumed in a learned role:
//   - weight positions ('w' in the op table): Conv/ConvTranspose W and B, Gemm B and C, BN scale
//     and B (never running mean/var: 's'), LayerNorm/InstanceNorm/GroupNorm scale and B, PRelu
//     slope, RNN/LSTM/GRU W, R, B; a MatMul/Einsum constant operand; the constant bias of an Add
//     folded into a linear or conv; the scale and bias of a fused LayerNorm/RMSNorm pattern;
//   - learned operands ('l'): the constant operand of Add/Mul/Sum/Concat (biases, layer scales,
//     position embeddings, class tokens) and the table of a Gather (embeddings), but only when it
//     is a floating-point initializer (or weight input) — an inline Constant literal (GELU's 0.5
//     and sqrt(2), an epsilon, normalisation mean/std) is not learned, nor is a one-element tensor
//     with an exporter-generated name ("onnx::Mul_12");
//   - a constant computed from parameters (Transpose of a weight, weight_norm's g*v/|v|,
//     DequantizeLinear of int8 weights) counts the parameters it comes from; shape inputs ('c'),
//     statistics ('s') and Shape/Size outputs carry no parameters.
// PyTorch's exporter merges initializers with equal values (common with fresh BatchNorm
// weights) and re-creates each merged one with an Identity whose output carries the original
// parameter name: such an Identity output is a parameter of its own, so two BN layers that
// happen to hold the same values still count twice, while truly tied weights (one initializer
// consumed by two nodes) count once.
//
// bn_folded. PyTorch's default (eval) export fuses Conv+BatchNorm: the fused conv gets a new
// weight and a new bias, both named by the exporter ("onnx::Conv_193", or a bare number in old
// versions), whereas a convolution exported as written keeps its module parameter names
// ("layer1.0.conv1.weight", "conv.bias"). Rule: the graph is bn_folded when some convolution has
// a bias and both its weight and its bias come only from exporter-named tensors. A plain conv net
// without BN keeps its names and is not flagged; weight_norm convs get a computed weight but keep
// their named bias and are not flagged either. BN nodes elsewhere do not matter (DenseNet keeps
// the BNs that precede a conv). Other exporters: a conv whose weight or bias name mentions
// "batchnorm"/"batch_norm" (TensorFlow's fused-BN scopes) counts as folded when the graph has no
// BatchNormalization node.
//
// Subgraphs. Control-flow ops are elided and their bodies imported inline (both branches of an
// If, the body of a Loop once): the architecture is in the bodies; a loop is not unrolled.
#include <fcntl.h>
#include <google/protobuf/io/coded_stream.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "archbert/error.h"
#include "archbert/importer.h"
#include "import/onnx_op_table.h"
#include "onnx/onnx_pb.h"

namespace archbert {
namespace {

using onnx_import::find_onnx_op;
using onnx_import::onnx_input_role;
using onnx_import::OnnxAction;
using onnx_import::OnnxOpEntry;

// ============================== Wire-format pass ==============================

// Message types the stripping pass descends into (the ones that can contain tensors).
enum class Msg : uint8_t {
  kNone,
  kModel,
  kGraph,
  kNode,
  kAttribute,
  kTensor,
  kSparseTensor,
  kFunction,
  kTrainingInfo
};

// The submessage type of length-delimited field `field` of a `m` message (kNone: copy as is).
Msg child_message(Msg m, uint64_t field) {
  switch (m) {
    case Msg::kModel:
      return field == 7    ? Msg::kGraph
             : field == 20 ? Msg::kTrainingInfo
             : field == 25 ? Msg::kFunction
                           : Msg::kNone;
    case Msg::kGraph:
      return field == 1    ? Msg::kNode
             : field == 5  ? Msg::kTensor
             : field == 15 ? Msg::kSparseTensor
                           : Msg::kNone;
    case Msg::kNode:
      return field == 5 ? Msg::kAttribute : Msg::kNone;
    case Msg::kAttribute:
      if (field == 5 || field == 10) return Msg::kTensor;
      if (field == 6 || field == 11) return Msg::kGraph;
      if (field == 22 || field == 23) return Msg::kSparseTensor;
      return Msg::kNone;
    case Msg::kSparseTensor:
      return field == 1 || field == 2 ? Msg::kTensor : Msg::kNone;
    case Msg::kFunction:
      return field == 7 ? Msg::kNode : Msg::kNone;
    case Msg::kTrainingInfo:
      return field == 1 || field == 2 ? Msg::kGraph : Msg::kNone;
    default:
      return Msg::kNone;
  }
}

// TensorProto data fields: float_data 4, int32_data 5, string_data 6, int64_data 7, raw_data 9,
// double_data 10, uint64_data 11.
bool is_tensor_payload(uint64_t field) {
  return field == 4 || field == 5 || field == 6 || field == 7 || field == 9 || field == 10 ||
         field == 11;
}

// Payloads up to this size are kept: scalars and short vectors (Clip bounds, reduction axes) are
// read as values. Anything larger is a weight whose bytes archbert never needs.
constexpr uint64_t kKeepPayloadBytes = 64;

bool read_varint(const uint8_t*& p, const uint8_t* end, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p >= end) return false;
    const uint8_t b = *p++;
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Copies the serialized `m` message in [p, end) to `out`, dropping large tensor payloads and
// re-encoding the lengths of the messages that contained them. False on malformed bytes, with
// *err set to the offset (from `base`) of the field that could not be read, and why.
struct WireError {
  size_t offset = 0;      // where the bad field starts
  const char* what = "";  // why it is bad
};

bool strip_message(const uint8_t* base, const uint8_t* p, const uint8_t* end, Msg m,
                   std::string& out, WireError* err, int depth) {
  if (depth > 100) {  // hostile nesting
    *err = {static_cast<size_t>(p - base), "nesting too deep"};
    return false;
  }
  while (p < end) {
    const uint8_t* field_start = p;
    const char* why = "invalid field";
    auto fail = [&] {
      *err = {static_cast<size_t>(field_start - base), why};
      return false;
    };
    uint64_t tag = 0;
    if (!read_varint(p, end, tag)) return fail();
    const uint64_t field = tag >> 3;
    if (field == 0) return fail();
    why = "a field runs past the end of its message (truncated?)";
    switch (tag & 7) {
      case 0: {
        uint64_t v;
        if (!read_varint(p, end, v)) return fail();
        out.append(reinterpret_cast<const char*>(field_start), p - field_start);
        break;
      }
      case 1:
      case 5: {
        const ptrdiff_t n = (tag & 7) == 1 ? 8 : 4;
        if (end - p < n) return fail();
        p += n;
        out.append(reinterpret_cast<const char*>(field_start), p - field_start);
        break;
      }
      case 2: {
        uint64_t len = 0;
        if (!read_varint(p, end, len) || len > static_cast<uint64_t>(end - p)) return fail();
        const uint8_t* body = p;
        p += len;
        if (m == Msg::kTensor && is_tensor_payload(field) && len > kKeepPayloadBytes) break;
        const Msg child = child_message(m, field);
        if (child == Msg::kNone) {
          out.append(reinterpret_cast<const char*>(field_start), p - field_start);
          break;
        }
        std::string sub;
        if (!strip_message(base, body, p, child, sub, err, depth + 1)) return false;
        put_varint(out, tag);
        put_varint(out, sub.size());
        out += sub;
        break;
      }
      default:  // groups (wire types 3/4) and 6/7 do not occur in ONNX
        why = "invalid wire type";
        return fail();
    }
  }
  return true;
}

// True when `head` starts like a serialized ModelProto: ir_version (field 1, a small varint)
// first, then only ModelProto fields with their proper wire types, as far as the head reaches.
// JSON ('{'), zip archives ("PK", TorchScript) and pickles fail on the first byte.
bool looks_like_onnx(std::string_view head) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(head.data());
  const uint8_t* end = p + head.size();
  int fields = 0;
  while (p < end) {
    uint64_t tag = 0;
    if (!read_varint(p, end, tag)) break;
    const uint64_t field = tag >> 3, wire = tag & 7;
    int expected = -1;
    switch (field) {
      case 1:
      case 5:
        expected = 0;
        break;  // ir_version, model_version
      case 2:
      case 3:
      case 4:
      case 6:
      case 7:
      case 8:
      case 14:
      case 20:
      case 25:
        expected = 2;
        break;
      default:
        return false;
    }
    if (static_cast<int>(wire) != expected) return false;
    if (fields == 0 && field != 1) return false;
    if (wire == 0) {
      uint64_t v = 0;
      if (!read_varint(p, end, v)) break;
      if (field == 1 && (v == 0 || v > 100)) return false;
    } else {
      uint64_t len = 0;
      if (!read_varint(p, end, len)) break;
      ++fields;
      if (len > static_cast<uint64_t>(end - p)) break;  // runs past the head: fine
      p += len;
      continue;
    }
    ++fields;
  }
  return fields >= 2;
}

// The bytes of a whole file, read once: memory-mapped when possible, so that the pages holding
// skipped tensor payloads are never touched (nor read from disk); otherwise read into memory.
// (A mapping can fault if another process truncates the file while it is being read; archbert
// reads model files that are not being written.)
class FileBytes {
 public:
  explicit FileBytes(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw_bad_input(path, std::string("cannot open file: ") + std::strerror(errno));
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      throw_bad_input(path, "not a regular file");
    }
    size_ = static_cast<size_t>(st.st_size);
    if (size_ == 0) {
      ::close(fd);
      throw_bad_input(path, "file is empty (not a valid ONNX model)");
    }
    if (size_ > static_cast<size_t>(INT_MAX)) {
      ::close(fd);
      throw_bad_input(path, "file is " + std::to_string(size_) +
                                " bytes, over protobuf's 2 GB limit for one ONNX message (larger "
                                "models keep their weights in external data files)");
    }
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p != MAP_FAILED) {
      ::madvise(p, size_, MADV_RANDOM);  // only field headers are visited: no read-ahead
      map_ = static_cast<const uint8_t*>(p);
    } else {
      copy_.reset(new uint8_t[size_]);
      size_t got = 0;
      while (got < size_) {
        const ssize_t r = ::read(fd, copy_.get() + got, size_ - got);
        if (r <= 0) break;
        got += static_cast<size_t>(r);
      }
      if (got != size_) {
        ::close(fd);
        throw_bad_input(path, "read failed after " + std::to_string(got) + " bytes");
      }
    }
    ::close(fd);
  }
  ~FileBytes() {
    if (map_) ::munmap(const_cast<uint8_t*>(map_), size_);
  }
  FileBytes(const FileBytes&) = delete;
  FileBytes& operator=(const FileBytes&) = delete;
  const uint8_t* data() const { return map_ ? map_ : copy_.get(); }
  size_t size() const { return size_; }

 private:
  const uint8_t* map_ = nullptr;
  std::unique_ptr<uint8_t[]> copy_;
  size_t size_ = 0;
};

// Reads `path` once and parses it into `model` without its tensor payloads.
void read_model(const std::string& path, onnx::ModelProto& model) {
  std::string stripped;
  {
    FileBytes file(path);
    WireError err;
    if (!strip_message(file.data(), file.data(), file.data() + file.size(), Msg::kModel, stripped,
                       &err, 0))
      throw_bad_input(path, "not a valid ONNX model (protobuf parse failed after " +
                                std::to_string(err.offset) + " of " + std::to_string(file.size()) +
                                " bytes: " + err.what + ")");
  }
  google::protobuf::io::CodedInputStream cis(reinterpret_cast<const uint8_t*>(stripped.data()),
                                             static_cast<int>(stripped.size()));
  cis.SetTotalBytesLimit(INT_MAX);
  if (!model.ParseFromCodedStream(&cis) || !cis.ConsumedEntireMessage())
    throw_bad_input(path, "not a valid ONNX model (protobuf parse failed after " +
                              std::to_string(cis.CurrentPosition()) +
                              " bytes of the model structure)");
  if (!model.has_graph() || model.graph().node_size() == 0)
    throw_bad_input(path, "not a valid ONNX model (no graph nodes; ir_version " +
                              std::to_string(model.ir_version()) + ")");
}

// ============================== Small helpers ==============================

bool is_float_type(int32_t t) {
  using T = onnx::TensorProto;
  return t == T::FLOAT || t == T::FLOAT16 || t == T::DOUBLE || t == T::BFLOAT16;
}

// Names the PyTorch exporter gives to tensors that are not module parameters: "onnx::Conv_193",
// or a bare number in versions before 1.12.
bool is_generated_name(std::string_view s) {
  if (s.empty() || s.rfind("onnx::", 0) == 0) return true;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

// Elements of a tensor of `dims` (unknown or zero dims count as 1); saturates instead of
// overflowing on corrupt dims.
int64_t numel_of(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims)
    if (__builtin_mul_overflow(n, std::max<int64_t>(d, 1), &n)) return INT64_MAX;
  return n;
}

// Largest tensor archbert believes in (2^40 elements = 4 TB of float32, even as external data).
constexpr int64_t kMaxNumel = int64_t{1} << 40;

const onnx::AttributeProto* find_attr(const onnx::NodeProto& n, std::string_view name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

int64_t attr_int(const onnx::NodeProto& n, std::string_view name, int64_t dflt) {
  const auto* a = find_attr(n, name);
  return a ? a->i() : dflt;
}

std::vector<int64_t> attr_ints(const onnx::NodeProto& n, std::string_view name) {
  const auto* a = find_attr(n, name);
  if (!a) return {};
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

// The single value of a small tensor (numel 1), when its data is stored inline.
std::optional<double> tensor_scalar(const onnx::TensorProto& t) {
  using T = onnx::TensorProto;
  if (numel_of({t.dims().begin(), t.dims().end()}) != 1) return std::nullopt;
  if (t.data_location() == T::EXTERNAL) return std::nullopt;
  const std::string& raw = t.raw_data();
  auto from_raw = [&](auto zero) -> std::optional<double> {
    using V = decltype(zero);
    if (raw.size() < sizeof(V)) return std::nullopt;
    V v;
    std::memcpy(&v, raw.data(), sizeof(V));
    return static_cast<double>(v);
  };
  switch (t.data_type()) {
    case T::FLOAT:
      if (t.float_data_size() > 0) return t.float_data(0);
      return from_raw(0.0f);
    case T::DOUBLE:
      if (t.double_data_size() > 0) return t.double_data(0);
      return from_raw(0.0);
    case T::INT64:
      if (t.int64_data_size() > 0) return static_cast<double>(t.int64_data(0));
      return from_raw(int64_t{0});
    case T::INT32:
      if (t.int32_data_size() > 0) return t.int32_data(0);
      return from_raw(int32_t{0});
    case T::INT8:
      if (t.int32_data_size() > 0) return t.int32_data(0);
      return from_raw(int8_t{0});
    case T::UINT8:
      if (t.int32_data_size() > 0) return t.int32_data(0);
      return from_raw(uint8_t{0});
    case T::FLOAT16: {
      uint16_t h = 0;
      if (t.int32_data_size() > 0)
        h = static_cast<uint16_t>(t.int32_data(0));
      else if (raw.size() >= 2)
        std::memcpy(&h, raw.data(), 2);
      else
        return std::nullopt;
      const int e = (h >> 10) & 0x1f, f = h & 0x3ff;
      double v = e == 0 ? std::ldexp(f, -24) : e == 31 ? INFINITY : std::ldexp(f + 1024, e - 25);
      return (h & 0x8000) ? -v : v;
    }
    default:
      return std::nullopt;
  }
}

// The integers of a small INT64/INT32 tensor stored inline (axes, perms).
std::optional<std::vector<int64_t>> tensor_ints(const onnx::TensorProto& t) {
  using T = onnx::TensorProto;
  if (t.data_location() == T::EXTERNAL) return std::nullopt;
  const int64_t n = numel_of({t.dims().begin(), t.dims().end()});
  std::vector<int64_t> r;
  if (t.data_type() == T::INT64) {
    if (t.int64_data_size() == n)
      return std::vector<int64_t>(t.int64_data().begin(), t.int64_data().end());
    if (static_cast<int64_t>(t.raw_data().size()) != n * 8) return std::nullopt;
    r.resize(static_cast<size_t>(n));
    std::memcpy(r.data(), t.raw_data().data(), t.raw_data().size());
    return r;
  }
  if (t.data_type() == T::INT32) {
    if (t.int32_data_size() == n)
      return std::vector<int64_t>(t.int32_data().begin(), t.int32_data().end());
    if (static_cast<int64_t>(t.raw_data().size()) != n * 4) return std::nullopt;
    for (int64_t i = 0; i < n; ++i) {
      int32_t v;
      std::memcpy(&v, t.raw_data().data() + 4 * i, 4);
      r.push_back(v);
    }
    return r;
  }
  return std::nullopt;
}

// Dims of a graph input / value_info type; unknown dims are -1.
std::vector<int64_t> type_dims(const onnx::TypeProto& type) {
  std::vector<int64_t> dims;
  if (!type.has_tensor_type() || !type.tensor_type().has_shape()) return dims;
  for (const auto& d : type.tensor_type().shape().dim())
    dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
  return dims;
}

// ============================== The importer proper ==============================

enum class Kind : uint8_t { kUndefined, kActivation, kConstant, kShape };

// A tensor that may be a trainable parameter: an initializer, a weight graph input, the value
// of a Constant node, or an Identity copy made by PyTorch's initializer de-duplication.
struct Param {
  std::string_view name;
  std::vector<int64_t> dims;
  int64_t numel = 1;
  int32_t elem_type = 0;
  bool literal = false;  // a Constant node's value
  bool counted = false;
};

struct Value {
  std::string_view name;
  Kind kind = Kind::kUndefined;
  int32_t producer = -1;      // flat node index; -1 for initializers and graph inputs
  int32_t root_param = -1;    // this value is that parameter itself
  bool real_input = false;    // a real model input
  bool weight_input = false;  // a graph input holding a weight (export_params=False)
  bool initializer = false;
  bool dims_known = false;
  int32_t elem_type = 0;
  std::vector<int64_t> dims;
  std::vector<int32_t> origins;               // parameters a constant is computed from
  std::vector<int32_t> sources;               // control-op outputs: the body values flowing out
  const onnx::TensorProto* tensor = nullptr;  // initializer or Constant `value`
  const onnx::AttributeProto* const_attr = nullptr;  // Constant value_float(s)/value_int(s)
  int src = -1;                                      // builder node that produces it
};

// An ONNX node, flattened (subgraph bodies inline before their control node).
struct FlatNode {
  const onnx::NodeProto* proto = nullptr;
  const OnnxOpEntry* entry = nullptr;
  std::string_view op_type;
  bool default_domain = true;
  bool control = false;
  bool active = false;       // has an activation output: emitted
  int32_t absorbed_by = -1;  // fused into the pattern headed by that node; -2: elided alone
  bool head = false;         // head of a fused pattern
  Op fused_op = Op::kOther;
  std::string_view pattern;
  std::vector<int32_t> in, out;
  std::vector<std::pair<int32_t, char>> weights;  // extra weight values gathered by fusion
};

class OnnxReader {
 public:
  OnnxReader(std::string path, const onnx::ModelProto& model)
      : path_(std::move(path)), model_(model) {}

  ArchGraph run(const ImportOptions& options);

 private:
  // --- registration ---
  int32_t new_value(std::string_view name) {
    values_.emplace_back();
    values_.back().name = name;
    return static_cast<int32_t>(values_.size() - 1);
  }
  int32_t new_param(std::string_view name, std::vector<int64_t> dims, int32_t elem_type,
                    bool literal) {
    if (numel_of(dims) > kMaxNumel)
      throw_bad_input(path_,
                      "tensor '" + std::string(name) + "' has implausible dims (corrupt model?)");
    Param p;
    p.name = name;
    p.numel = numel_of(dims);
    p.dims = std::move(dims);
    p.elem_type = elem_type;
    p.literal = literal;
    params_.push_back(std::move(p));
    return static_cast<int32_t>(params_.size() - 1);
  }
  int32_t lookup(const std::string& name) {
    if (name.empty()) return -1;
    auto it = names_.find(name);
    if (it != names_.end()) return it->second;
    int32_t v = new_value(name);
    names_[name] = v;
    return v;
  }
  void register_graph(const onnx::GraphProto& g, bool main, const std::vector<int32_t>& aliases);
  void register_node(const onnx::NodeProto& n);

  // --- analysis ---
  void classify_inputs();
  void propagate();
  void count_uses();

  // --- fusion ---
  bool is(int32_t n, std::string_view op) const {
    return n >= 0 && nodes_[n].default_domain && nodes_[n].op_type == op;
  }
  bool free_node(int32_t n) const {
    return n >= 0 && nodes_[n].absorbed_by == -1 && !nodes_[n].head;
  }
  int32_t prod(int32_t v) const {
    if (v < 0) return -1;
    int32_t p = values_[v].producer;
    return p >= 0 && nodes_[p].active ? p : -1;
  }
  bool act(int32_t v) const { return v >= 0 && values_[v].kind == Kind::kActivation; }
  bool constant(int32_t v) const { return v >= 0 && values_[v].kind == Kind::kConstant; }
  int32_t in(int32_t n, int i) const {
    const auto& ins = nodes_[n].in;
    return i < static_cast<int>(ins.size()) ? ins[i] : -1;
  }
  int32_t out0(int32_t n) const { return nodes_[n].out.empty() ? -1 : nodes_[n].out[0]; }
  int32_t sole_consumer(int32_t v) const;
  // For a binary node with one constant and one activation operand: the activation operand.
  int32_t act_operand_with_const(int32_t n) const;
  int32_t const_operand(int32_t n) const;
  bool layout_op(int32_t n) const;
  void absorb(int32_t n, int32_t head) { nodes_[n].absorbed_by = head; }
  void make_head(int32_t n, Op op, std::string_view pattern) {
    nodes_[n].head = true;
    nodes_[n].fused_op = op;
    nodes_[n].pattern = pattern;
  }
  // Absorbs `parts` into `head`, which becomes one `op` node.
  void fuse_into(int32_t head, const std::vector<int32_t>& parts, Op op, std::string_view pattern) {
    for (int32_t p : parts) absorb(p, head);
    make_head(head, op, pattern);
  }
  // A norm's scale (Mul) or shift (Add): when the sole consumer of `head` is an `op_type` node
  // with a constant operand, that constant becomes a weight and the node the new head.
  void take_affine(const char* op_type, int32_t& head, std::vector<int32_t>& parts,
                   std::vector<std::pair<int32_t, char>>& weights) {
    const int32_t n = sole_consumer(out0(head));
    if (!is(n, op_type) || !free_node(n) || const_operand(n) < 0) return;
    weights.push_back({const_operand(n), 'w'});
    parts.push_back(head);
    head = n;
  }
  void fuse_layer_norm(int32_t d);
  void fuse_group_norm(int32_t n);
  void fuse_rms_norm(int32_t q);
  void fuse_gelu(int32_t core);
  void fuse_gated_activation(int32_t mul);
  void fuse_linear(int32_t n);
  void fuse_conv_bias(int32_t n);
  void fuse_attention(int32_t softmax);
  void fuse_relu_clip(int32_t clip);
  bool reaches_linear(int32_t v, std::vector<int32_t>& path) const;

  // --- emission ---
  Node make_node(int32_t n);
  int64_t take_params(int32_t v, char role, std::vector<int64_t>* main_dims,
                      std::string_view* main_name);
  std::optional<double> const_scalar(int32_t v) const;
  void clip_bounds(int32_t n, std::optional<double>* lo, std::optional<double>* hi,
                   bool* has_hi) const;
  std::optional<std::vector<int64_t>> const_ints(int32_t v) const;
  bool conv_bn_folded(int32_t n) const;

  std::string path_;
  const onnx::ModelProto& model_;
  std::vector<Value> values_;
  std::vector<Param> params_;
  std::vector<FlatNode> nodes_;
  std::unordered_map<std::string, int32_t> names_;
  std::vector<int32_t> main_inputs_;  // non-initializer inputs of the main graph
  int main_initializers_ = 0;
  std::vector<std::vector<int32_t>> consumers_;  // value -> distinct active consumer nodes
  std::vector<int32_t> output_uses_;             // value -> times it is a main graph output
  bool has_batchnorm_ = false;
  bool params_outside_constants_ = false;  // some parameter is an initializer or weight input
};

// ---------- registration ----------

void OnnxReader::register_graph(const onnx::GraphProto& g, bool main,
                                const std::vector<int32_t>& aliases) {
  // An initializer named and typed by `t` with shape `dims`: a constant that is its own
  // parameter. `dense` is the tensor whose values can be read (none for sparse initializers).
  auto add_initializer = [&](const onnx::TensorProto& t, const auto& dims,
                             const onnx::TensorProto* dense) {
    int32_t v = new_value(t.name());
    Value& val = values_[v];
    val.kind = Kind::kConstant;
    val.initializer = true;
    val.tensor = dense;
    val.dims.assign(dims.begin(), dims.end());
    val.dims_known = true;
    val.elem_type = t.data_type();
    val.root_param = new_param(t.name(), val.dims, val.elem_type, false);
    val.origins = {val.root_param};
    if (!t.name().empty()) names_[t.name()] = v;
    if (main) ++main_initializers_;
  };
  for (const auto& t : g.initializer()) add_initializer(t, t.dims(), &t);
  for (const auto& st : g.sparse_initializer()) add_initializer(st.values(), st.dims(), nullptr);
  for (int i = 0; i < g.input_size(); ++i) {
    const auto& inp = g.input(i);
    if (main) {
      auto it = names_.find(inp.name());
      if (it != names_.end() && values_[it->second].initializer) continue;  // IR < 4 listing
      int32_t v = new_value(inp.name());
      values_[v].dims = type_dims(inp.type());
      values_[v].elem_type = inp.type().tensor_type().elem_type();
      names_[inp.name()] = v;
      main_inputs_.push_back(v);
    } else {
      int32_t v = i < static_cast<int>(aliases.size()) ? aliases[i] : -1;
      if (v < 0) {  // loop counter, condition, or an input nothing feeds
        v = new_value(inp.name());
        values_[v].kind = Kind::kShape;
      }
      names_[inp.name()] = v;
    }
  }
  for (const auto& n : g.node()) register_node(n);
}

void OnnxReader::register_node(const onnx::NodeProto& n) {
  const bool dflt = n.domain().empty() || n.domain() == "ai.onnx";
  // Bodies first: they run "inside" the node and read only values defined before it.
  std::vector<std::vector<int32_t>> body_outputs;
  bool control = false;
  for (const auto& a : n.attribute()) {
    std::vector<const onnx::GraphProto*> bodies;
    if (a.has_g()) bodies.push_back(&a.g());
    for (const auto& g : a.graphs()) bodies.push_back(&g);
    for (const onnx::GraphProto* body : bodies) {
      control = true;
      std::vector<int32_t> aliases;
      const int nb = body->input_size();
      if (dflt && n.op_type() == "Loop") {
        // Body inputs: iteration number, condition, loop-carried values (= the Loop's inputs 2..).
        aliases = {-1, -1};
        for (int j = 2; j < nb; ++j)
          aliases.push_back(j < n.input_size() ? lookup(n.input(j)) : -1);
      } else if (dflt && n.op_type() == "If") {
        // no inputs
      } else {
        // Scan (opset 8 has a leading sequence_lens input), SequenceMap, and unknown ops: the
        // body inputs match the node's last inputs.
        const int offset = std::max(0, n.input_size() - nb);
        for (int j = 0; j < nb; ++j)
          aliases.push_back(offset + j < n.input_size() ? lookup(n.input(offset + j)) : -1);
      }
      register_graph(*body, false, aliases);
      std::vector<int32_t> outs;
      for (const auto& o : body->output()) outs.push_back(lookup(o.name()));
      body_outputs.push_back(std::move(outs));
    }
  }

  FlatNode fn;
  fn.proto = &n;
  fn.op_type = n.op_type();
  fn.default_domain = dflt;
  fn.entry = find_onnx_op(n.domain(), n.op_type());
  fn.control = control;
  for (const auto& name : n.input()) fn.in.push_back(lookup(name));
  const int32_t idx = static_cast<int32_t>(nodes_.size());
  for (int i = 0; i < n.output_size(); ++i) {
    int32_t v = new_value(n.output(i));
    values_[v].producer = idx;
    if (!n.output(i).empty()) names_[n.output(i)] = v;
    fn.out.push_back(v);
    if (control) {
      // If: output i comes from either branch's output i. Loop: body outputs are
      // (condition, carried..., scan outputs...) and the Loop outputs drop the condition.
      const int shift = dflt && n.op_type() == "Loop" ? 1 : 0;
      for (const auto& outs : body_outputs)
        if (i + shift < static_cast<int>(outs.size()) && outs[i + shift] >= 0)
          values_[v].sources.push_back(outs[i + shift]);
    }
  }
  if (dflt && n.op_type() == "Constant" && !fn.out.empty()) {
    Value& val = values_[fn.out[0]];
    for (const auto& a : n.attribute()) {
      if (a.has_t() && a.name() == "value") {
        val.tensor = &a.t();
        val.dims.assign(a.t().dims().begin(), a.t().dims().end());
        val.elem_type = a.t().data_type();
      } else if (a.name() == "sparse_value") {
        val.dims.assign(a.sparse_tensor().dims().begin(), a.sparse_tensor().dims().end());
        val.elem_type = a.sparse_tensor().values().data_type();
      } else if (a.name() == "value_float" || a.name() == "value_int") {
        val.const_attr = &a;
        val.elem_type =
            a.name() == "value_float" ? onnx::TensorProto::FLOAT : onnx::TensorProto::INT64;
      } else if (a.name() == "value_floats" || a.name() == "value_ints") {
        val.const_attr = &a;
        val.dims = {a.name() == "value_floats" ? a.floats_size() : a.ints_size()};
        val.elem_type =
            a.name() == "value_floats" ? onnx::TensorProto::FLOAT : onnx::TensorProto::INT64;
      }
    }
    val.dims_known = true;
    val.root_param = new_param(val.name, val.dims, val.elem_type, true);
  }
  if (dflt && n.op_type() == "BatchNormalization") has_batchnorm_ = true;
  nodes_.push_back(std::move(fn));
}

// ---------- analysis ----------

// Propagates value kinds in node order (see step 3 at the top of the file).
void OnnxReader::propagate() {
  for (Value& v : values_) {
    if (v.producer >= 0) {
      v.kind = Kind::kUndefined;
      if (v.root_param < 0 || !params_[v.root_param].literal) v.origins.clear();
    }
  }
  for (int32_t v : main_inputs_) {
    Value& val = values_[v];
    val.kind = val.real_input ? Kind::kActivation : Kind::kConstant;
    val.origins.clear();
    if (val.weight_input) val.origins = {val.root_param};
  }
  for (size_t ni = 0; ni < nodes_.size(); ++ni) {
    FlatNode& fn = nodes_[ni];
    fn.active = false;
    const std::string_view op = fn.default_domain ? fn.op_type : std::string_view();
    if (op == "Shape" || op == "Size") {
      for (int32_t o : fn.out) values_[o].kind = Kind::kShape;
      continue;
    }
    if (op == "Constant") {
      for (int32_t o : fn.out) {
        values_[o].kind = Kind::kConstant;
        if (values_[o].root_param >= 0) values_[o].origins = {values_[o].root_param};
      }
      continue;
    }
    if (fn.control) {
      for (int32_t o : fn.out) {
        Value& val = values_[o];
        bool any_act = false;
        for (int32_t s : val.sources) any_act |= act(s);
        val.kind = any_act ? Kind::kActivation : Kind::kConstant;
        if (!any_act)
          for (int32_t s : val.sources)
            val.origins.insert(val.origins.end(), values_[s].origins.begin(),
                               values_[s].origins.end());
        fn.active |= any_act;
      }
      continue;
    }
    bool active = false;
    for (size_t i = 0; i < fn.in.size(); ++i)
      if (onnx_input_role(fn.entry, static_cast<int>(i)) != 'c' && act(fn.in[i])) active = true;
    fn.active = active;
    if (active) {
      for (int32_t o : fn.out) values_[o].kind = Kind::kActivation;
      continue;
    }
    // A constant computation: its outputs derive from the parameters of its value inputs.
    std::vector<int32_t> origins;
    for (size_t i = 0; i < fn.in.size(); ++i) {
      const char role = onnx_input_role(fn.entry, static_cast<int>(i));
      if (fn.in[i] < 0 || role == 'c' || role == 's') continue;
      const auto& o = values_[fn.in[i]].origins;
      origins.insert(origins.end(), o.begin(), o.end());
    }
    std::sort(origins.begin(), origins.end());
    origins.erase(std::unique(origins.begin(), origins.end()), origins.end());
    const int32_t src = fn.in.empty() ? -1 : fn.in[0];
    for (int32_t o : fn.out) {
      Value& val = values_[o];
      val.kind = Kind::kConstant;
      val.origins = origins;
      if (src >= 0) val.elem_type = values_[src].elem_type;
    }
    if (fn.out.empty() || src < 0) continue;
    Value& out = values_[fn.out[0]];
    const Value& inv = values_[src];
    if (op == "Identity" || op == "Cast" || op == "DequantizeLinear") {
      out.dims = inv.dims;
      out.dims_known = inv.dims_known;
      if (op == "Cast")
        out.elem_type = static_cast<int32_t>(attr_int(*fn.proto, "to", inv.elem_type));
      if (op == "DequantizeLinear") out.elem_type = onnx::TensorProto::FLOAT;
      // PyTorch's initializer de-duplication: Identity(initializer) -> the merged parameter's
      // own name. That output is a parameter in its own right (see the file comment).
      if (op == "Identity" && inv.root_param >= 0 && !params_[inv.root_param].literal) {
        if (out.root_param < 0)
          out.root_param = new_param(out.name, inv.dims, inv.elem_type, false);
        out.origins = {out.root_param};
      }
    } else if (op == "Transpose" && inv.dims_known) {
      std::vector<int64_t> perm = attr_ints(*fn.proto, "perm");
      const size_t r = inv.dims.size();
      if (perm.empty())
        for (size_t k = 0; k < r; ++k) perm.push_back(static_cast<int64_t>(r - 1 - k));
      if (perm.size() == r) {
        out.dims.clear();
        for (int64_t k : perm)
          out.dims.push_back(k >= 0 && k < static_cast<int64_t>(r) ? inv.dims[k] : 1);
        out.dims_known = true;
      }
    }
  }
}

// Real inputs versus weights listed as graph inputs (export_params=False): step 2 above.
void OnnxReader::classify_inputs() {
  for (int32_t v : main_inputs_) values_[v].real_input = true;
  if (main_inputs_.size() <= 1 && main_initializers_ > 0) return;

  // Consumers of every value, over all nodes.
  std::vector<std::vector<std::pair<int32_t, int>>> uses(values_.size());
  for (size_t ni = 0; ni < nodes_.size(); ++ni)
    for (size_t i = 0; i < nodes_[ni].in.size(); ++i)
      if (nodes_[ni].in[i] >= 0)
        uses[nodes_[ni].in[i]].push_back({static_cast<int32_t>(ni), static_cast<int>(i)});
  auto transparent = [&](int32_t n, int pos) {
    const FlatNode& fn = nodes_[n];
    return pos == 0 && fn.entry && fn.entry->action == OnnxAction::kElide && !fn.control &&
           onnx_input_role(fn.entry, 0) == 'x' && !fn.out.empty();
  };
  // Final uses of an input, looking through layout ops (Transpose, Reshape, Identity, Cast...).
  struct Use {
    int32_t node;
    char role;
  };
  auto final_uses = [&](int32_t v0) {
    std::vector<Use> r;
    std::vector<int32_t> stack = {v0};
    int budget = 10000;
    while (!stack.empty() && --budget > 0) {
      int32_t v = stack.back();
      stack.pop_back();
      for (auto [n, pos] : uses[v]) {
        if (transparent(n, pos)) {
          stack.push_back(nodes_[n].out[0]);
          continue;
        }
        r.push_back({n, onnx_input_role(nodes_[n].entry, pos)});
      }
    }
    return r;
  };
  enum Class { kData, kWeight, kAmbiguous };
  std::vector<Class> cls(main_inputs_.size(), kAmbiguous);
  bool any_weight_use = false;
  for (size_t k = 0; k < main_inputs_.size(); ++k) {
    bool w = false, x = false;
    for (const Use& u : final_uses(main_inputs_[k])) {
      // A weight never feeds a data position nor a shape/count position ('c': a trip count,
      // a target size); only model inputs do.
      if (u.role == 'w' || u.role == 's')
        w = true;
      else if (u.role == 'x' || u.role == 'c')
        x = true;
    }
    cls[k] = w ? kWeight : x ? kData : kAmbiguous;
    any_weight_use |= w;
  }
  if (!any_weight_use && main_initializers_ > 0) return;  // a normal model with several inputs
  if (!any_weight_use && main_inputs_.size() <= 1) return;
  if (std::none_of(cls.begin(), cls.end(), [](Class c) { return c == kData; })) {
    for (Class& c : cls)
      if (c == kAmbiguous) {
        c = kData;
        break;
      }
  }
  // Provisional pass: data inputs are activations, all others constants.
  for (size_t k = 0; k < main_inputs_.size(); ++k)
    values_[main_inputs_[k]].real_input = cls[k] == kData;
  propagate();
  for (size_t k = 0; k < main_inputs_.size(); ++k) {
    if (cls[k] != kAmbiguous) continue;
    bool all_with_data = true, any = false;
    for (const Use& u : final_uses(main_inputs_[k])) {
      any = true;
      bool other_act = false;
      const FlatNode& fn = nodes_[u.node];
      for (size_t i = 0; i < fn.in.size(); ++i)
        if (onnx_input_role(fn.entry, static_cast<int>(i)) != 'c' && act(fn.in[i]))
          other_act = true;
      all_with_data &= other_act;
    }
    // An input nothing uses is a weight in a weight-input model (it lists every parameter).
    cls[k] = !any ? kWeight : all_with_data ? kWeight : kData;
  }
  for (size_t k = 0; k < main_inputs_.size(); ++k) {
    Value& val = values_[main_inputs_[k]];
    val.real_input = cls[k] == kData;
    val.weight_input = cls[k] == kWeight;
    if (val.weight_input) {
      val.dims_known = true;
      for (int64_t& d : val.dims) d = std::max<int64_t>(d, 1);
      val.root_param = new_param(val.name, val.dims, val.elem_type, false);
    }
  }
}

void OnnxReader::count_uses() {
  consumers_.assign(values_.size(), {});
  output_uses_.assign(values_.size(), 0);
  for (size_t ni = 0; ni < nodes_.size(); ++ni) {
    const FlatNode& fn = nodes_[ni];
    if (!fn.active) continue;
    for (size_t i = 0; i < fn.in.size(); ++i) {
      const int32_t v = fn.in[i];
      if (v < 0 || onnx_input_role(fn.entry, static_cast<int>(i)) == 'c') continue;
      auto& c = consumers_[v];
      if (c.empty() || c.back() != static_cast<int32_t>(ni)) c.push_back(static_cast<int32_t>(ni));
    }
    if (fn.control)  // a control op consumes the body values routed through it
      for (int32_t o : fn.out)
        for (int32_t s : values_[o].sources) consumers_[s].push_back(static_cast<int32_t>(ni));
  }
  for (const auto& o : model_.graph().output()) {
    auto it = names_.find(o.name());
    if (it != names_.end()) ++output_uses_[it->second];
  }
}

// ---------- fusion helpers ----------

int32_t OnnxReader::sole_consumer(int32_t v) const {
  if (v < 0 || output_uses_[v] > 0 || consumers_[v].size() != 1) return -1;
  return consumers_[v][0];
}

int32_t OnnxReader::act_operand_with_const(int32_t n) const {
  const int32_t a = in(n, 0), b = in(n, 1);
  if (act(a) && !act(b) && b >= 0) return a;
  if (act(b) && !act(a) && a >= 0) return b;
  return -1;
}

int32_t OnnxReader::const_operand(int32_t n) const {
  const int32_t a = in(n, 0), b = in(n, 1);
  if (act(a) && constant(b)) return b;
  if (act(b) && constant(a)) return a;
  return -1;
}

// Pure layout / type ops that are elided and pass their first input through.
bool OnnxReader::layout_op(int32_t n) const {
  if (n < 0) return false;
  const FlatNode& fn = nodes_[n];
  return fn.entry && fn.entry->action == OnnxAction::kElide && !fn.control &&
         onnx_input_role(fn.entry, 0) == 'x' && !fn.in.empty();
}

// LayerNorm decomposed by opsets < 17, matched at its Div:
//   m = ReduceMean(X); d = Sub(X, m); v = ReduceMean(Pow(d, 2) | Mul(d, d));
//   y = Div(d, Sqrt(Add(v, eps))) [* scale] [+ bias]  ->  one `ln` (shape (C,1,1,1), 2C params).
void OnnxReader::fuse_layer_norm(int32_t d) {
  const int32_t dv = in(d, 0), sv = in(d, 1);
  const int32_t sub = prod(dv), sqrt = prod(sv);
  if (!is(sub, "Sub") || !is(sqrt, "Sqrt") || !free_node(sub) || !free_node(sqrt)) return;
  const int32_t x = in(sub, 0), r1 = prod(in(sub, 1));
  if (!act(x) || !is(r1, "ReduceMean") || in(r1, 0) != x || !free_node(r1)) return;
  const int32_t add = prod(in(sqrt, 0));
  if (!is(add, "Add") || !free_node(add) || act_operand_with_const(add) < 0) return;
  const int32_t r2 = prod(act_operand_with_const(add));
  if (!is(r2, "ReduceMean") || !free_node(r2)) return;
  const int32_t pw = prod(in(r2, 0));
  if (!free_node(pw)) return;
  if (!((is(pw, "Pow") && in(pw, 0) == dv && !act(in(pw, 1))) ||
        (is(pw, "Mul") && in(pw, 0) == dv && in(pw, 1) == dv)))
    return;
  if (sole_consumer(out0(r1)) != sub || sole_consumer(out0(pw)) != r2 ||
      sole_consumer(out0(r2)) != add || sole_consumer(out0(add)) != sqrt ||
      sole_consumer(sv) != d || output_uses_[dv] > 0 || consumers_[dv].size() != 2)
    return;
  std::vector<int32_t> parts = {r1, sub, pw, r2, add, sqrt};
  std::vector<std::pair<int32_t, char>> weights;
  int32_t head = d;
  take_affine("Mul", head, parts, weights);
  take_affine("Add", head, parts, weights);
  fuse_into(head, parts, Op::kLayerNorm, "layer_norm");
  nodes_[head].weights = std::move(weights);
}

// GroupNorm as exporters before opset 18 write it, matched at its InstanceNormalization:
//   Reshape(X, [N, G, -1]) -> InstanceNormalization(scale = 1s, bias = 0s of size G) ->
//   Reshape(back) [* weight (C)] [+ bias (C)]  ->  one `gn` (shape (C,1,1,1), 2C params).
// The instance norm's exporter-made unit scale and zero bias are not parameters of the model.
void OnnxReader::fuse_group_norm(int32_t n) {
  if (!free_node(n) || !is(prod(in(n, 0)), "Reshape") || act(in(n, 1)) || act(in(n, 2))) return;
  const int32_t post = sole_consumer(out0(n));
  if (!is(post, "Reshape") || !free_node(post)) return;
  std::vector<int32_t> parts = {n};
  std::vector<std::pair<int32_t, char>> weights;
  int32_t head = post;
  take_affine("Mul", head, parts, weights);
  take_affine("Add", head, parts, weights);
  fuse_into(head, parts, Op::kGroupNorm, "group_norm");
  nodes_[head].weights = std::move(weights);
}

// RMSNorm (T5 / LLaMA) matched at its Sqrt:
//   X * Reciprocal(Sqrt(Add(ReduceMean(Pow(X, 2)), eps))) | Div(X, Sqrt(...))  [* weight].
void OnnxReader::fuse_rms_norm(int32_t q) {
  const int32_t add = prod(in(q, 0));
  if (!is(add, "Add") || !free_node(add) || act_operand_with_const(add) < 0) return;
  const int32_t r = prod(act_operand_with_const(add));
  if (!is(r, "ReduceMean") || !free_node(r)) return;
  const int32_t pw = prod(in(r, 0));
  if (!is(pw, "Pow") || !free_node(pw) || act(in(pw, 1))) return;
  const int32_t x = in(pw, 0);
  if (sole_consumer(out0(pw)) != r || sole_consumer(out0(r)) != add ||
      sole_consumer(out0(add)) != q)
    return;
  std::vector<int32_t> parts = {pw, r, add, q};
  int32_t norm = -1;
  const int32_t c = sole_consumer(out0(q));
  if (is(c, "Div") && free_node(c) && in(c, 0) == x && in(c, 1) == out0(q)) {
    norm = c;
  } else if (is(c, "Reciprocal") && free_node(c)) {
    const int32_t m = sole_consumer(out0(c));
    if (!is(m, "Mul") || !free_node(m)) return;
    const int32_t other = in(m, 0) == out0(c) ? in(m, 1) : in(m, 0);
    if (other != x) return;
    parts.push_back(c);
    norm = m;
  } else {
    return;
  }
  int32_t head = norm;
  std::vector<std::pair<int32_t, char>> weights;
  take_affine("Mul", head, parts, weights);
  fuse_into(head, parts, Op::kRmsNorm, "rms_norm");
  nodes_[head].weights = std::move(weights);
}

// GELU decompositions, matched at their Erf / Tanh:
//   erf:  0.5 * x * (1 + Erf(x / sqrt(2)))
//   tanh: 0.5 * x * (1 + Tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))   (GPT-2's gelu_new)
// in either multiplication order  ->  one `gelu`.
void OnnxReader::fuse_gelu(int32_t core) {
  std::vector<int32_t> parts;
  int32_t x = -1;
  const int32_t q = prod(in(core, 0));
  if (!free_node(q) || sole_consumer(out0(q)) != core) return;
  if (is(core, "Erf")) {
    if (!is(q, "Div") && !is(q, "Mul")) return;
    if (!act(in(q, 0)) || act(in(q, 1))) return;
    x = in(q, 0);
    parts = {q};
  } else {
    // Tanh(c * (x + c2 * x^3))
    if (!is(q, "Mul")) return;
    const int32_t u = prod(act_operand_with_const(q));
    if (!is(u, "Add") || !free_node(u) || sole_consumer(out0(u)) != q) return;
    for (int k = 0; k < 2 && x < 0; ++k) {
      const int32_t cand = in(u, k), w = prod(in(u, 1 - k));
      if (!is(w, "Mul") || !free_node(w) || sole_consumer(out0(w)) != u) continue;
      // x^3 as Pow(x, 3) or as Mul(x, Mul(x, x)) (PyTorch's tanh-approximate GELU).
      const int32_t p = prod(act_operand_with_const(w));
      if (!free_node(p) || sole_consumer(out0(p)) != w) continue;
      if (is(p, "Pow") && in(p, 0) == cand) {
        parts = {q, u, w, p};
      } else if (is(p, "Mul") && (in(p, 0) == cand || in(p, 1) == cand)) {
        const int32_t sq = prod(in(p, 0) == cand ? in(p, 1) : in(p, 0));
        if (!is(sq, "Mul") || !free_node(sq) || in(sq, 0) != cand || in(sq, 1) != cand ||
            sole_consumer(out0(sq)) != p)
          continue;
        parts = {q, u, w, p, sq};
      } else {
        continue;
      }
      x = cand;
    }
    if (x < 0) return;
  }
  parts.push_back(core);
  const int32_t a = sole_consumer(out0(core));
  if (!is(a, "Add") || !free_node(a) || act_operand_with_const(a) != out0(core)) return;
  parts.push_back(a);
  int32_t head = -1;
  const int32_t m = sole_consumer(out0(a));
  if (!is(m, "Mul") || !free_node(m)) return;
  const int32_t other = in(m, 0) == out0(a) ? in(m, 1) : in(m, 0);
  if (other == x) {
    // (x * (1 + erf)) * 0.5
    const int32_t h = sole_consumer(out0(m));
    if (is(h, "Mul") && free_node(h) && act_operand_with_const(h) == out0(m)) {
      parts.push_back(m);
      head = h;
    } else {
      head = m;
    }
  } else if (constant(other)) {
    // ((1 + erf) * 0.5) * x
    const int32_t h = sole_consumer(out0(m));
    if (!is(h, "Mul") || !free_node(h)) return;
    const int32_t o2 = in(h, 0) == out0(m) ? in(h, 1) : in(h, 0);
    if (o2 != x) return;
    parts.push_back(m);
    head = h;
  } else {
    // (x * 0.5) * (1 + erf)
    const int32_t hx = prod(other);
    if (!is(hx, "Mul") || !free_node(hx) || act_operand_with_const(hx) != x ||
        sole_consumer(other) != m)
      return;
    parts.push_back(hx);
    head = m;
  }
  fuse_into(head, parts, Op::kGelu, "gelu");
}

// x * Sigmoid(x) -> silu; x * HardSigmoid(x) -> hardswish; x * Tanh(Softplus(x)) -> mish.
// (PyTorch exports nn.SiLU, and nn.Hardswish below opset 14, this way.)
void OnnxReader::fuse_gated_activation(int32_t mul) {
  for (int k = 0; k < 2; ++k) {
    const int32_t x = in(mul, 1 - k), g = prod(in(mul, k));
    if (!act(x) || !free_node(g) || sole_consumer(out0(g)) != mul) continue;
    if ((is(g, "Sigmoid") || is(g, "HardSigmoid")) && in(g, 0) == x) {
      absorb(g, mul);
      make_head(mul, is(g, "Sigmoid") ? Op::kSilu : Op::kHardswish,
                is(g, "Sigmoid") ? "silu" : "hardswish");
      return;
    }
    if (is(g, "Tanh")) {
      const int32_t sp = prod(in(g, 0));
      if (is(sp, "Softplus") && free_node(sp) && in(sp, 0) == x && sole_consumer(out0(sp)) == g) {
        absorb(g, mul);
        absorb(sp, mul);
        make_head(mul, Op::kMish, "mish");
        return;
      }
    }
  }
}

// PyTorch exports ReLU6 as Relu followed by Clip(0, 6) (opset >= 11) or Clip(max=6) (opset < 11):
// one relu6 node, the Relu absorbed. A Clip(0, 6) on its own is relu6 as well.
void OnnxReader::fuse_relu_clip(int32_t clip) {
  std::optional<double> lo, hi;
  bool has_hi = false;
  clip_bounds(clip, &lo, &hi, &has_hi);
  if (!hi || *hi != 6.0) return;
  const int32_t r = prod(in(clip, 0));
  const bool after_relu = is(r, "Relu") && free_node(r) && sole_consumer(out0(r)) == clip;
  const bool lo_zero = lo && *lo == 0.0;
  const bool lo_none = !lo && in(clip, 1) < 0 && !find_attr(*nodes_[clip].proto, "min");
  if (!lo_zero && !(after_relu && (lo_none || (lo && *lo <= 0.0)))) return;
  make_head(clip, Op::kRelu6, "relu6");
  if (after_relu) absorb(r, clip);
}

// Gemm / MatMul / Einsum with a constant operand -> linear; a following Add of a constant vector
// (PyTorch's Linear on 3-D input: MatMul + Add) is folded into it.
void OnnxReader::fuse_linear(int32_t n) {
  const FlatNode& fn = nodes_[n];
  const std::string_view op = fn.op_type;
  int32_t w = -1, bias = -1;
  if (op == "Gemm") {
    if (constant(in(n, 1))) w = in(n, 1);
    if (constant(in(n, 2))) bias = in(n, 2);
  } else if (op == "QLinearMatMul") {
    w = constant(in(n, 3)) ? in(n, 3) : constant(in(n, 0)) ? in(n, 0) : -1;
  } else {
    for (size_t i = 0; i < fn.in.size() && i < 2; ++i)
      if (constant(fn.in[i])) w = fn.in[i];
    if (op == "Einsum")
      for (int32_t v : fn.in)
        if (constant(v)) w = v;
  }
  if (w < 0) return;
  make_head(n, Op::kLinear, "");
  nodes_[n].weights.push_back({w, 'w'});
  if (bias >= 0) {
    nodes_[n].weights.push_back({bias, 'w'});
    return;
  }
  const int32_t a = sole_consumer(out0(n));
  if (!is(a, "Add") || !free_node(a)) return;
  const int32_t b = const_operand(a);
  if (b < 0) return;
  // A bias is a vector (or broadcast-shaped with one non-unit dim).
  const Value& bv = values_[b];
  std::vector<int64_t> dims = bv.dims;
  if (!bv.dims_known && !bv.origins.empty()) dims = params_[bv.origins[0]].dims;
  int non_unit = 0;
  for (int64_t d : dims) non_unit += d > 1;
  if (non_unit > 1) return;
  absorb(a, n);
  nodes_[n].weights.push_back({b, 'w'});
}

// A convolution without a bias followed by an Add of a per-channel constant: one conv node.
void OnnxReader::fuse_conv_bias(int32_t n) {
  if (constant(in(n, 2)) || !constant(in(n, 1))) return;
  const int32_t a = sole_consumer(out0(n));
  if (!is(a, "Add") || !free_node(a)) return;
  const int32_t b = const_operand(a);
  if (b < 0) return;
  const Value& wv = values_[in(n, 1)];
  const Value& bv = values_[b];
  if (!wv.dims_known || wv.dims.empty()) return;
  const int64_t channels =
      nodes_[n].op_type == "ConvTranspose"
          ? (wv.dims.size() > 1 ? wv.dims[1] : 0) * attr_int(*nodes_[n].proto, "group", 1)
          : wv.dims[0];
  std::vector<int64_t> dims = bv.dims;
  if (!bv.dims_known && !bv.origins.empty()) dims = params_[bv.origins[0]].dims;
  if (numel_of(dims) != channels) return;
  absorb(a, n);  // the conv keeps its table mapping and owns the bias
  nodes_[n].weights.push_back({b, 'w'});
}

// Walks back from `v` through layout ops, the q/k/v split (Slice, Split, Gather with constant
// indices, Squeeze) and scaling by a constant, to the linear projection that produced it.
bool OnnxReader::reaches_linear(int32_t v, std::vector<int32_t>& path) const {
  for (int steps = 0; steps < 32; ++steps) {
    const int32_t n = prod(v);
    if (n < 0) return false;
    const FlatNode& fn = nodes_[n];
    if ((fn.head && fn.fused_op == Op::kLinear) ||
        (fn.absorbed_by >= 0 && nodes_[fn.absorbed_by].fused_op == Op::kLinear))
      return true;
    if (layout_op(n)) {
      v = fn.in[0];
      continue;
    }
    if (!free_node(n)) return false;
    if (is(n, "Slice") || is(n, "Split") || is(n, "Squeeze") ||
        (is(n, "Gather") && !act(in(n, 1)))) {
      path.push_back(n);
      v = in(n, 0);
      continue;
    }
    if ((is(n, "Div") || is(n, "Mul")) && act_operand_with_const(n) >= 0 &&
        (is(n, "Mul") || act(in(n, 0)))) {
      path.push_back(n);
      v = act_operand_with_const(n);
      continue;
    }
    return false;
  }
  return false;
}

// Multi-head attention, matched at its Softmax: matmul(q, k) [scale, mask] -> softmax ->
// matmul(., v). The canonical form keeps the projection linear(s), the two matmuls, the softmax
// and the output linear; the q/k/v split and the constant scaling are elided (SPEC §2), an Add of
// a mask computed from the inputs becomes `mask`.
void OnnxReader::fuse_attention(int32_t softmax) {
  auto is_matmul = [&](int32_t n) {
    return (is(n, "MatMul") || is(n, "Einsum")) && !nodes_[n].head && nodes_[n].absorbed_by == -1;
  };
  std::vector<int32_t> scale_nodes, masks;
  int32_t v = in(softmax, 0), m1 = -1;
  for (int steps = 0; steps < 16 && m1 < 0; ++steps) {
    const int32_t n = prod(v);
    if (n < 0) return;
    if (is_matmul(n)) {
      m1 = n;
    } else if (layout_op(n)) {
      v = in(n, 0);
    } else if (!free_node(n)) {
      return;
    } else if ((is(n, "Div") || is(n, "Mul")) && act_operand_with_const(n) >= 0) {
      scale_nodes.push_back(n);
      v = act_operand_with_const(n);
    } else if (is(n, "Add") && act_operand_with_const(n) >= 0) {
      const int32_t c = const_operand(n);
      bool learned = false;
      for (int32_t p : values_[c].origins) learned |= !params_[p].literal;
      if (!learned) scale_nodes.push_back(n);  // a constant mask: not architecture
      v = act_operand_with_const(n);
    } else if (is(n, "Add") && act(in(n, 0)) && act(in(n, 1))) {
      masks.push_back(n);
      v = in(n, 0);
    } else if (is(n, "Where") && (act(in(n, 1)) || act(in(n, 2)))) {
      masks.push_back(n);
      v = act(in(n, 2)) ? in(n, 2) : in(n, 1);
    } else {
      return;
    }
  }
  if (m1 < 0) return;
  int32_t m2 = -1, prob = out0(softmax);
  for (int steps = 0; steps < 16 && m2 < 0; ++steps) {
    const int32_t c = sole_consumer(prob);
    if (c < 0) return;
    if (is_matmul(c)) {
      m2 = c;
    } else if (layout_op(c) || is(c, "Dropout")) {
      prob = out0(c);
    } else {
      return;
    }
  }
  const int32_t v_in = in(m2, 0) == prob ? in(m2, 1) : in(m2, 0);
  for (int32_t n : scale_nodes) nodes_[n].absorbed_by = -2;
  for (int32_t n : masks) make_head(n, Op::kMask, "attention_mask");
  for (int32_t operand : {in(m1, 0), in(m1, 1), v_in}) {
    std::vector<int32_t> path;
    if (reaches_linear(operand, path))
      for (int32_t n : path) nodes_[n].absorbed_by = -2;
  }
}

// ---------- emission ----------

// The value of a one-element constant: an initializer or Constant, possibly through Cast or
// Identity (PyTorch writes Clip bounds as Cast(Constant)).
std::optional<double> OnnxReader::const_scalar(int32_t v) const {
  for (int hops = 0; hops < 8 && constant(v); ++hops) {
    const Value& val = values_[v];
    if (val.tensor) return tensor_scalar(*val.tensor);
    if (val.const_attr) {
      const auto& a = *val.const_attr;
      if (a.name() == "value_float") return a.f();
      if (a.name() == "value_int") return static_cast<double>(a.i());
      return std::nullopt;
    }
    if (!is(val.producer, "Cast") && !is(val.producer, "Identity")) return std::nullopt;
    v = in(val.producer, 0);
  }
  return std::nullopt;
}

// Clip bounds from attributes (opset < 11) or constant inputs; nullopt when absent or unknown.
void OnnxReader::clip_bounds(int32_t n, std::optional<double>* lo, std::optional<double>* hi,
                             bool* has_hi) const {
  const onnx::NodeProto& proto = *nodes_[n].proto;
  if (const auto* a = find_attr(proto, "min")) *lo = a->f();
  if (const auto* a = find_attr(proto, "max")) *hi = a->f();
  if (!*lo && in(n, 1) >= 0) *lo = const_scalar(in(n, 1));
  if (!*hi && in(n, 2) >= 0) *hi = const_scalar(in(n, 2));
  *has_hi = in(n, 2) >= 0 || find_attr(proto, "max") != nullptr;
}

std::optional<std::vector<int64_t>> OnnxReader::const_ints(int32_t v) const {
  if (!constant(v)) return std::nullopt;
  const Value& val = values_[v];
  if (val.tensor) return tensor_ints(*val.tensor);
  if (val.const_attr && val.const_attr->name() == "value_ints")
    return std::vector<int64_t>(val.const_attr->ints().begin(), val.const_attr->ints().end());
  if (val.const_attr && val.const_attr->name() == "value_int")
    return std::vector<int64_t>{val.const_attr->i()};
  return std::nullopt;
}

// Counts the parameters behind constant `v` used in `role` ('w' weight, 'l' learned operand);
// returns how many were not counted before (see the file comment). The first eligible one sets
// the node's main weight dims and name.
int64_t OnnxReader::take_params(int32_t v, char role, std::vector<int64_t>* main_dims,
                                std::string_view* main_name) {
  if (!constant(v)) return 0;
  int64_t total = 0;
  bool any = false;
  for (int32_t pid : values_[v].origins) {
    Param& p = params_[pid];
    if (p.elem_type == onnx::TensorProto::STRING || p.elem_type == onnx::TensorProto::BOOL)
      continue;
    if (role == 'w') {
      if (p.literal && p.numel <= 1) continue;  // an inline literal, not a weight
    } else {
      if (p.literal || !is_float_type(p.elem_type)) continue;
      if (p.numel <= 1 && is_generated_name(p.name)) continue;
    }
    if (!any && main_dims && main_dims->empty()) {
      *main_dims = values_[v].dims_known && !values_[v].dims.empty() ? values_[v].dims : p.dims;
      if (main_dims->empty()) *main_dims = {1};
      if (main_name) *main_name = p.name;
    }
    any = true;
    if (!p.counted) {
      p.counted = true;
      total += p.numel;
    }
  }
  return total;
}

// Module path from a parameter name ("layer1.0.conv1.weight" -> "layer1.0.conv1").
std::string module_name(std::string_view param) {
  if (param.empty() || is_generated_name(param)) return {};
  const size_t dot = param.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return std::string(param);
  return std::string(param.substr(0, dot));
}

// Module path from a PyTorch node name: the exporter names nodes by module scope, each segment
// either a child name or a dotted path extending the previous one:
// "/layer1/layer1.0/relu/Relu" -> "layer1.0.relu";
// "/encoder/layers/encoder_layer_0/mlp/mlp.1/Mul_1"
// -> "encoder.layers.encoder_layer_0.mlp.1". Empty for names without a scope ("/Flatten",
// "Conv_3").
std::string scope_name(std::string_view node_name) {
  if (node_name.size() < 2 || node_name[0] != '/') return {};
  std::vector<std::string_view> segs;
  size_t start = 1;
  while (start <= node_name.size()) {
    size_t slash = node_name.find('/', start);
    if (slash == std::string_view::npos) break;  // the last segment is the op, not a module
    std::string_view seg = node_name.substr(start, slash - start);
    if (!seg.empty()) {
      if (!segs.empty() && seg.size() > segs.back().size() &&
          seg.compare(0, segs.back().size(), segs.back()) == 0 && seg[segs.back().size()] == '.')
        segs.back() = seg;
      else
        segs.push_back(seg);
    }
    start = slash + 1;
  }
  std::string r;
  for (std::string_view seg : segs) {
    if (!r.empty()) r += '.';
    r += seg;
  }
  return r;
}

bool OnnxReader::conv_bn_folded(int32_t n) const {
  const int32_t w = in(n, 1), b = in(n, 2);
  if (!constant(w) || !constant(b)) return false;
  auto generated_only = [&](int32_t v) {
    const auto& o = values_[v].origins;
    return !o.empty() && std::all_of(o.begin(), o.end(), [&](int32_t p) {
      return !params_[p].literal && is_generated_name(params_[p].name);
    });
  };
  if (generated_only(w) && generated_only(b)) return true;
  if (has_batchnorm_) return false;
  for (int32_t v : {w, b})
    for (int32_t p : values_[v].origins) {
      const std::string l = lower(params_[p].name);
      if (l.find("batchnorm") != std::string::npos || l.find("batch_norm") != std::string::npos)
        return true;
    }
  return false;
}

Node OnnxReader::make_node(int32_t n) {
  FlatNode& fn = nodes_[n];
  const onnx::NodeProto& proto = *fn.proto;
  Node nd;
  nd.source_op =
      fn.default_domain ? std::string(fn.op_type) : proto.domain() + "::" + proto.op_type();
  if (!fn.pattern.empty()) nd.source_op += " (" + std::string(fn.pattern) + " pattern)";
  Op op = Op::kOther;
  if (fn.head && fn.fused_op != Op::kOther)
    op = fn.fused_op;
  else if (fn.entry && fn.entry->action == OnnxAction::kMap)
    op = fn.entry->op;

  std::vector<int64_t> dims;
  std::string_view main_name;
  int64_t params = 0;
  // A fused head's gathered weights come first (they hold its main weight: the linear's matrix,
  // the norm's scale); a plain node's own inputs come first (a conv's W before a folded bias).
  auto gathered = [&] {
    for (auto [v, role] : fn.weights) params += take_params(v, role, &dims, &main_name);
  };
  if (fn.head) gathered();
  const bool learned_ops = op == Op::kSum || op == Op::kMul || op == Op::kConcat ||
                           op == Op::kGather || op == Op::kMatmul || op == Op::kLinear;
  // A norm layer without affine parameters (InstanceNorm2d, BatchNorm2d or LayerNorm with
  // affine=False) is exported with Constant nodes of ones and zeros in its scale and bias slots.
  // An exporter that stores the model's parameters as initializers (or weight inputs) never puts
  // one in a Constant node, so there those literals are not parameters (like the GroupNorm
  // pattern's unit scale and zero bias).
  const bool norm = op == Op::kInstanceNorm || op == Op::kBatchNorm || op == Op::kLayerNorm ||
                    op == Op::kGroupNorm;
  auto exporter_default = [&](int32_t v) {
    if (!norm || !params_outside_constants_ || !constant(v) || values_[v].origins.empty())
      return false;
    for (int32_t p : values_[v].origins)
      if (!params_[p].literal) return false;
    return true;
  };
  for (size_t i = 0; i < fn.in.size(); ++i) {
    const char role = onnx_input_role(fn.entry, static_cast<int>(i));
    if (role == 'w' && exporter_default(fn.in[i])) continue;
    if (role == 'w')
      params += take_params(fn.in[i], 'w', &dims, &main_name);
    else if (role == 'l' && learned_ops)
      params += take_params(fn.in[i], 'l', &dims, &main_name);
  }
  if (!fn.head) gathered();
  const std::string_view t = fn.default_domain ? fn.op_type : std::string_view();
  if (op == Op::kConv && !fn.head) {
    bool dilated = false;
    for (int64_t d : attr_ints(proto, "dilations")) dilated |= d > 1;
    if (dilated)
      op = Op::kDilConv;
    else if (attr_int(proto, "group", 1) > 1)
      op = Op::kSepConv;
  } else if (op == Op::kLinear) {
    // Shape (out, in) from the weight: Gemm stores (K,N), or (N,K) with transB; a MatMul weight
    // on the right is (in, out) after any Transpose, on the left (out, in).
    const int32_t w = fn.weights.empty() ? -1 : fn.weights[0].first;
    const Value* wv = w >= 0 ? &values_[w] : nullptr;
    if (wv && wv->dims_known && wv->dims.size() >= 2) {
      const int64_t r0 = wv->dims[wv->dims.size() - 2], r1 = wv->dims.back();
      bool transposed;  // true when dims are (in, out)
      if (t == "Gemm")
        transposed = attr_int(proto, "transB", 0) == 0;
      else
        transposed = !(in(n, 0) == w);
      dims = transposed ? std::vector<int64_t>{r1, r0} : std::vector<int64_t>{r0, r1};
    }
  } else if (t == "Clip" && !fn.head) {
    std::optional<double> lo, hi;
    bool has_hi = false;
    clip_bounds(n, &lo, &hi, &has_hi);
    if (lo && *lo == 0.0 && hi && *hi == 6.0)
      op = Op::kRelu6;
    else if (lo && *lo == 0.0 && !has_hi)
      op = Op::kRelu;
  } else if (t == "ReduceMean" || t == "ReduceMax") {
    std::vector<int64_t> axes = attr_ints(proto, "axes");
    if (axes.empty() && in(n, 1) >= 0) axes = const_ints(in(n, 1)).value_or(std::vector<int64_t>{});
    std::sort(axes.begin(), axes.end());
    if (axes == std::vector<int64_t>{2, 3} || axes == std::vector<int64_t>{-2, -1})
      op = t == "ReduceMean" ? Op::kGlobalAvgPool : Op::kGlobalMaxPool;
  } else if (op == Op::kMatmul && params > 0) {
    op = Op::kLinear;
  } else if (op == Op::kGather && params > 0) {
    op = Op::kEmbedding;
  } else if (op == Op::kSum && params > 0 && t == "Add") {
    const std::string l = lower(main_name);
    const bool pos_name = l.find("pos") != std::string::npos;
    const bool pos_shape = dims.size() == 3 && dims[0] == 1 && dims[1] > 1 && dims[2] > 1;
    if (pos_name || pos_shape) op = Op::kPosEnc;
  }
  if (t == "MaxPool" || t == "AveragePool" || t == "LpPool") {
    // kernel_shape: (k) -> k x 1; (kh, kw); 3-D and more fold like shapes: (k1*...*k(n-1), kn).
    const std::vector<int64_t> k = attr_ints(proto, "kernel_shape");
    if (!k.empty()) {
      int64_t kh = k.size() == 1 ? k[0] : 1;
      for (size_t j = 0; j + 1 < k.size(); ++j) kh *= k[j];
      const int64_t kw = k.size() == 1 ? 1 : k.back();
      if (kh > 0 && kw > 0) nd.kernel = Kernel2{kh, kw};
    }
  }
  // Recurrent weights are (num_directions, gates*hidden, in): drop the direction axis so the
  // shape matches the framework's per-direction weight (gates*hidden, in).
  if ((op == Op::kLstm || op == Op::kGru || op == Op::kRnn) && dims.size() == 3)
    dims.erase(dims.begin());
  nd.op = op;
  nd.params = params;
  if (!dims.empty()) {
    bool positive = std::all_of(dims.begin(), dims.end(), [](int64_t d) { return d > 0; });
    if (positive) nd.shape = fold_shape(dims);
  }
  // Name: the module path of the main weight, else the node's module scope, else its ONNX name.
  nd.name = module_name(main_name);
  if (nd.name.empty()) nd.name = scope_name(proto.name());
  if (nd.name.empty())
    nd.name = !proto.name().empty() ? proto.name()
              : proto.output_size() ? proto.output(0)
                                    : std::string();
  return nd;
}

ArchGraph OnnxReader::run(const ImportOptions& options) {
  register_graph(model_.graph(), true, {});
  if (static_cast<int64_t>(nodes_.size()) > options.limits.max_nodes * 8)
    throw_bad_input(path_, "ONNX graph has " + std::to_string(nodes_.size()) +
                               " nodes, over the limit of " +
                               std::to_string(options.limits.max_nodes * 8));
  classify_inputs();
  propagate();
  count_uses();

  // Fusion, in a fixed order: norms and activations first, then linears (whose bias Add must
  // not be taken by a norm), then attention (which needs the linears).
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].active && is(static_cast<int32_t>(i), "Div"))
      fuse_layer_norm(static_cast<int32_t>(i));
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].active && is(static_cast<int32_t>(i), "InstanceNormalization"))
      fuse_group_norm(static_cast<int32_t>(i));
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].active && is(static_cast<int32_t>(i), "Sqrt") &&
        free_node(static_cast<int32_t>(i)))
      fuse_rms_norm(static_cast<int32_t>(i));
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].active &&
        (is(static_cast<int32_t>(i), "Erf") || is(static_cast<int32_t>(i), "Tanh")) &&
        free_node(static_cast<int32_t>(i)))
      fuse_gelu(static_cast<int32_t>(i));
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].active && is(static_cast<int32_t>(i), "Mul") &&
        free_node(static_cast<int32_t>(i)))
      fuse_gated_activation(static_cast<int32_t>(i));
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].active && is(static_cast<int32_t>(i), "Clip") &&
        free_node(static_cast<int32_t>(i)))
      fuse_relu_clip(static_cast<int32_t>(i));
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const int32_t n = static_cast<int32_t>(i);
    if (!nodes_[i].active || !free_node(n)) continue;
    const std::string_view op = nodes_[i].op_type;
    if (op == "Gemm" || op == "MatMul" || op == "Einsum" || op == "MatMulInteger" ||
        op == "QLinearMatMul" || op == "FusedMatMul")
      fuse_linear(n);
    else if (op == "Conv" || op == "ConvTranspose")
      fuse_conv_bias(n);
  }
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].active && is(static_cast<int32_t>(i), "Softmax"))
      fuse_attention(static_cast<int32_t>(i));

  // Emission.
  for (const Param& p : params_) params_outside_constants_ |= !p.literal;
  GraphBuilder b(path_);
  for (int32_t v : main_inputs_) {
    if (!values_[v].real_input) continue;
    values_[v].src = b.add(Op::kInput, std::string(values_[v].name), "input");
  }
  bool bn_folded = false;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    FlatNode& fn = nodes_[i];
    if (!fn.active) continue;
    const std::string label = fn.proto->name().empty() && fn.proto->output_size()
                                  ? fn.proto->output(0)
                                  : fn.proto->name();
    if (fn.control) {
      // One router per output, fed by the body values that flow out of it.
      for (int32_t o : fn.out) {
        if (!act(o)) continue;
        int id = b.elide(label, std::string(fn.op_type));
        for (int32_t s : values_[o].sources)
          if (act(s) && values_[s].src >= 0) b.connect(values_[s].src, id);
        values_[o].src = id;
      }
      continue;
    }
    int id;
    const bool elided =
        fn.absorbed_by != -1 || (!fn.head && fn.entry && fn.entry->action == OnnxAction::kElide);
    if (elided) {
      id = b.elide(label, std::string(fn.op_type));
    } else {
      Node nd = make_node(static_cast<int32_t>(i));
      int token = -1;
      if (nd.op == Op::kConcat && nd.params > 0) {
        // A learned tensor concatenated to the activations (ViT's class token) is its own
        // `pos_enc` node feeding the concat, as TorchScript models and HF builders show it.
        Node tok;
        tok.op = Op::kPosEnc;
        tok.shape = nd.shape;
        tok.params = nd.params;
        tok.name = nd.name;
        tok.source_op = nd.source_op + " (learned operand)";
        token = b.add(std::move(tok));
        nd.shape.reset();
        nd.params = 0;
      }
      id = b.add(std::move(nd));
      if (token >= 0) b.connect(token, id);
      const std::string_view t = fn.op_type;
      if (fn.default_domain && (t == "Conv" || t == "ConvTranspose") &&
          conv_bn_folded(static_cast<int32_t>(i)))
        bn_folded = true;
    }
    for (size_t k = 0; k < fn.in.size(); ++k) {
      const int32_t v = fn.in[k];
      if (v < 0 || onnx_input_role(fn.entry, static_cast<int>(k)) == 'c' || !act(v)) continue;
      if (values_[v].src >= 0 && values_[v].src != id) b.connect(values_[v].src, id);
    }
    for (int32_t o : fn.out) values_[o].src = id;
  }
  for (const auto& o : model_.graph().output()) {
    const int id = b.add(Op::kOutput, o.name(), "output");
    auto it = names_.find(o.name());
    if (it != names_.end() && act(it->second) && values_[it->second].src >= 0)
      b.connect(values_[it->second].src, id);
  }
  int64_t total = 0;
  for (const Param& p : params_)
    if (p.counted && __builtin_add_overflow(total, p.numel, &total))
      throw_bad_input(path_, "parameter count overflows (corrupt model?)");
  std::string name = std::filesystem::path(path_).stem().string();
  return b.finish(name, "onnx", total, bn_folded, options.limits);
}

// ============================== Importer interface ==============================

class OnnxImporter : public Importer {
 public:
  std::string format() const override { return "onnx"; }

  bool accepts(const std::string& path, std::string_view head, bool is_dir) const override {
    if (is_dir) return false;
    std::string ext = lower(std::filesystem::path(path).extension().string());
    return ext == ".onnx" || looks_like_onnx(head);
  }

  ArchGraph import(const std::string& path, const ImportOptions& options) const override {
    onnx::ModelProto model;
    read_model(path, model);
    OnnxReader reader(path, model);
    return reader.run(options);
  }
};

}  // namespace

std::unique_ptr<Importer> make_onnx_importer() { return std::make_unique<OnnxImporter>(); }

}  // namespace archbert
