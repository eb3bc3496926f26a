// graph_to_onnx: a canonical graph as a weight-free ONNX model (opset 17, IR 8), the way
// torch.onnx.export(..., export_params=False) writes one, so that the ONNX importer reads it back
// to the same canonical graph.
//
// Canonical op -> ONNX (every weight is a graph input named "<node name>.<role>", full shape):
//   conv / sep_conv / dil_conv  Conv (W, B when params include a bias); group = C_in / W.dim(1),
//                               dilation 2 for dil_conv, "same" pads, strides from the options
//   linear                      Gemm(transB=1) on vectors; MatMul(x, Transpose(W)) + Add(b) on
//                               token sequences (torch's Linear on 3-D input)
//   bn                          BatchNormalization (weight, bias, running_mean, running_var)
//   ln                          LayerNormalization over the last axis (opset 17)
//   gelu                        Div(x, sqrt 2), Erf, Add 1, Mul x, Mul 0.5 (torch's opset-17
//   export) silu / mish                 x * Sigmoid(x) / x * Tanh(Softplus(x)); relu6: Clip(0, 6)
//   pos_enc                     Add of a learned "<name>.pos_embedding" table (its shape minus
//                               trailing 1s) to the token sequence
//   matmul                      MatMul; inside self-attention (linear (3C, C) -> matmul ->
//                               softmax -> matmul) the q/k/v Split, head Reshape/Transpose,
//                               the 1/sqrt(d) scaling and the head merge are re-created
//   max_pool / avg_pool         MaxPool / AveragePool (kernel from the node, "same" pads)
//   glob_avg / glob_max         GlobalAveragePool / GlobalMaxPool
//   flatten, dropout, softmax, relu, hardswish, sigmoid, ...  the ONNX op of the same name
//   sum / sub / mul / div       Add / Sub / Mul / Div; concat: Concat on the channel axis
//   slice                       Slice of [1:, 1:] on the spatial axes (DARTS FactorizedReduce)
// Data layouts are tracked per value: images (N,C,H,W), token sequences (N,L,C) and vectors
// (N,C); a node that needs another layout gets Reshape/Transpose in front of it (a sequence goes
// back to an image by Reshape to Shape(the image it came from)). These layout ops are what the
// importer elides. Anything else throws Error(kBadInput) naming the graph and the op.
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "archbert/error.h"
#include "archbert/onnx_export.h"
#include "onnx/onnx_pb.h"

namespace archbert {

int onnx_attention_heads(int64_t channels) {
  for (int h : {8, 4, 2})
    if (channels % h == 0 && channels / h >= 8) return h;
  return 1;
}

namespace {

enum class Layout : uint8_t { kImage, kTokens, kVector, kHeads };

// The ONNX value holding a canonical node's output.
struct Val {
  std::string name;
  Layout layout = Layout::kImage;
  std::string image_ref;  // for token sequences: the image value whose Shape restores them
  int64_t channels = 0;   // 0 when unknown
};

// q, k^T, v split into heads: (N, h, L, d), (N, h, d, L), (N, h, L, d).
struct Heads {
  std::string q, kt, v;
  int64_t channels = 0;
  std::string image_ref;
};

class OnnxWriter {
 public:
  OnnxWriter(const ArchGraph& g, const OnnxExportOptions& o) : g_(g), o_(o) {}

  std::string run() {
    model_.set_ir_version(kOnnxExportIrVersion);
    model_.set_producer_name("archbert");
    model_.set_producer_version("autonet");
    auto* opset = model_.add_opset_import();
    opset->set_domain("");
    opset->set_version(kOnnxExportOpset);
    graph_ = model_.mutable_graph();
    graph_->set_name(g_.name.empty() ? "graph" : g_.name);
    const size_t n = g_.nodes.size();
    preds_.assign(n, {});
    succs_.assign(n, {});
    for (const Edge& e : g_.edges) {
      preds_[e.dst].push_back(e.src);
      succs_[e.src].push_back(e.dst);
    }
    vals_.assign(n, {});
    for (size_t i = 0; i < n; ++i) emit_node(static_cast<int>(i));
    std::string out;
    if (!model_.SerializeToString(&out))
      throw Error(ErrorKind::kInternal, who() + ": cannot serialise the ONNX model");
    return out;
  }

 private:
  std::string who() const { return g_.name.empty() ? std::string("graph") : g_.name; }

  [[noreturn]] void fail(int i, const std::string& what) const {
    throw_bad_input(who(), "cannot write node " + std::to_string(i) + " ('" + g_.nodes[i].name +
                               "', " + std::string(op_name(g_.nodes[i].op)) + ") as ONNX: " + what);
  }

  std::string node_name(int i) const {
    return g_.nodes[i].name.empty() ? "node" + std::to_string(i) : g_.nodes[i].name;
  }

  std::string fresh() { return "/v" + std::to_string(counter_++); }

  // Appends a node with one new output value; returns the output name.
  std::string emit(const std::string& type, std::vector<std::string> inputs,
                   const std::string& name, onnx::NodeProto** proto = nullptr, int outputs = 1,
                   std::vector<std::string>* out_names = nullptr) {
    onnx::NodeProto* p = graph_->add_node();
    p->set_op_type(type);
    if (!name.empty()) p->set_name(name);
    for (const std::string& in : inputs) p->add_input(in);
    std::string first;
    for (int k = 0; k < outputs; ++k) {
      const std::string v = fresh();
      p->add_output(v);
      if (k == 0) first = v;
      if (out_names) out_names->push_back(v);
    }
    if (proto) *proto = p;
    return first;
  }

  static void attr_int(onnx::NodeProto* p, const std::string& name, int64_t v) {
    auto* a = p->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attr_ints(onnx::NodeProto* p, const std::string& name,
                        const std::vector<int64_t>& v) {
    auto* a = p->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }
  static void attr_float(onnx::NodeProto* p, const std::string& name, float v) {
    auto* a = p->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }

  static void set_type(onnx::ValueInfoProto* vi, const std::vector<int64_t>& dims, bool shaped) {
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    if (!shaped) return;
    auto* shape = tt->mutable_shape();
    for (int64_t d : dims) shape->add_dim()->set_dim_value(d);
  }

  // A graph output's type: float, with the rank of its layout; the batch and channel dims when
  // known, named symbolic dims otherwise.
  void out_type(onnx::ValueInfoProto* vi, const Val& v) const {
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    auto* shape = tt->mutable_shape();
    const int rank = v.layout == Layout::kVector ? 2 : v.layout == Layout::kTokens ? 3 : 4;
    const int channel_axis = v.layout == Layout::kTokens ? 2 : 1;
    for (int d = 0; d < rank; ++d) {
      auto* dim = shape->add_dim();
      if (d == 0 && !o_.input_shape.empty())
        dim->set_dim_value(o_.input_shape[0]);
      else if (d == channel_axis && v.channels > 0)
        dim->set_dim_value(v.channels);
      else
        dim->set_dim_param("d" + std::to_string(d));
    }
  }

  // A weight: a graph input "<base>.<role>" with its full shape.
  std::string weight(int i, const std::string& role, const std::vector<int64_t>& dims) {
    std::string base = node_name(i);
    std::string name = base + "." + role;
    if (names_.count(name)) name = base + "_" + std::to_string(i) + "." + role;
    names_.insert(name);
    auto* vi = graph_->add_input();
    vi->set_name(name);
    set_type(vi, dims, true);
    return name;
  }

  // A Constant node keyed by `key`, shared by all its users; `fill(t)` writes its tensor.
  template <class Fill>
  std::string constant(const std::string& key, Fill&& fill) {
    auto it = consts_.find(key);
    if (it != consts_.end()) return it->second;
    onnx::NodeProto* p;
    const std::string out = emit("Constant", {}, "", &p);
    auto* a = p->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    fill(a->mutable_t());
    consts_[key] = out;
    return out;
  }

  // A Constant node holding int64 values (shapes, axes).
  std::string ints(const std::vector<int64_t>& v) {
    std::string key = "i";
    for (int64_t x : v) key += "," + std::to_string(x);
    return constant(key, [&](onnx::TensorProto* t) {
      t->set_data_type(onnx::TensorProto::INT64);
      t->add_dims(static_cast<int64_t>(v.size()));
      for (int64_t x : v) t->add_int64_data(x);
    });
  }

  // A Constant scalar float.
  std::string scalar(float f) {
    return constant("f" + std::to_string(f), [&](onnx::TensorProto* t) {
      t->set_data_type(onnx::TensorProto::FLOAT);
      t->add_float_data(f);
    });
  }

  std::string reshape(const std::string& x, const std::vector<int64_t>& shape) {
    return emit("Reshape", {x, ints(shape)}, "");
  }
  std::string transpose(const std::string& x, const std::vector<int64_t>& perm) {
    onnx::NodeProto* p;
    const std::string out = emit("Transpose", {x}, "", &p);
    attr_ints(p, "perm", perm);
    return out;
  }

  // ---------- layouts ----------

  // `v` in `layout`, converted once per value name: `convert(r)` sets the name (and image_ref)
  // of `r`, a copy of `v` already marked with the new layout.
  template <class Convert>
  Val converted(const Val& v, Layout layout, std::map<std::string, Val>& cache, Convert&& convert) {
    if (v.layout == layout) return v;
    auto it = cache.find(v.name);
    if (it != cache.end()) return it->second;
    Val r = v;
    r.layout = layout;
    convert(r);
    cache[v.name] = r;
    return r;
  }

  Val as_image(const Val& v, int i) {
    return converted(v, Layout::kImage, image_cache_, [&](Val& r) {
      r.image_ref.clear();
      if (v.layout == Layout::kTokens) {
        if (v.image_ref.empty()) fail(i, "a token sequence that did not come from an image");
        auto s = shape_cache_.find(v.image_ref);
        if (s == shape_cache_.end())
          s = shape_cache_.emplace(v.image_ref, emit("Shape", {v.image_ref}, "")).first;
        r.name = emit("Reshape", {transpose(v.name, {0, 2, 1}), s->second}, "");
      } else if (v.layout == Layout::kVector) {
        r.name = reshape(v.name, {0, -1, 1, 1});
      } else {
        fail(i, "attention scores used outside attention");
      }
    });
  }

  Val as_tokens(const Val& v, int i) {
    return converted(v, Layout::kTokens, tokens_cache_, [&](Val& r) {
      if (v.layout == Layout::kImage) {
        r.name = transpose(reshape(v.name, {0, 0, -1}), {0, 2, 1});
        r.image_ref = v.name;
      } else if (v.layout == Layout::kVector) {
        r.name = reshape(v.name, {0, 1, -1});
        r.image_ref.clear();
      } else {
        fail(i, "attention scores used outside attention");
      }
    });
  }

  Val as_vector(const Val& v, int i) {
    if (v.layout == Layout::kHeads) fail(i, "attention scores used outside attention");
    return converted(v, Layout::kVector, vector_cache_, [&](Val& r) {
      r.image_ref.clear();
      r.name = reshape(v.name, {0, -1});
      if (v.layout == Layout::kImage) r.channels = 0;  // C*H*W unless H = W = 1
    });
  }

  // ---------- nodes ----------

  const Val& in(int i, size_t k = 0) {
    if (preds_[i].empty()) fail(i, "it has no input");
    return vals_[preds_[i][std::min(k, preds_[i].size() - 1)]];
  }

  Val unary(int i, const std::string& type, const Val& x) {
    Val r = x;
    r.name = emit(type, {x.name}, node_name(i));
    return r;
  }

  void emit_node(int i) {
    const Node& n = g_.nodes[i];
    const std::string name = node_name(i);
    Val& out = vals_[i];
    switch (n.op) {
      case Op::kInput: {
        std::vector<int64_t> dims = o_.input_shape;
        std::string vname = n.name.empty() ? "input" : n.name;
        if (names_.count(vname)) vname += "_" + std::to_string(i);
        names_.insert(vname);
        auto* vi = graph_->add_input();
        vi->set_name(vname);
        set_type(vi, dims, true);
        out = {vname,
               dims.size() == 3   ? Layout::kTokens
               : dims.size() == 2 ? Layout::kVector
                                  : Layout::kImage,
               "", dims.size() > 1 ? dims[dims.size() == 3 ? 2 : 1] : 0};
        return;
      }
      case Op::kOutput: {
        std::string vname = n.name.empty() ? "output" : n.name;
        if (names_.count(vname)) vname += "_" + std::to_string(i);
        names_.insert(vname);
        onnx::NodeProto* p = graph_->add_node();
        p->set_op_type("Identity");
        p->set_name(name);
        p->add_input(in(i).name);
        p->add_output(vname);
        out_type(graph_->add_output(), in(i));
        graph_->mutable_output(graph_->output_size() - 1)->set_name(vname);
        out = in(i);
        out.name = vname;
        return;
      }
      case Op::kConv:
      case Op::kSepConv:
      case Op::kDilConv:
        out = conv(i, as_image(in(i), i));
        return;
      case Op::kLinear:
        out = linear(i, in(i));
        return;
      case Op::kBatchNorm: {
        if (!n.shape) fail(i, "a batch norm needs its shape");
        const Val x = as_image(in(i), i);
        const int64_t c = (*n.shape)[0];
        onnx::NodeProto* p;
        out = x;
        out.name = emit("BatchNormalization",
                        {x.name, weight(i, "weight", {c}), weight(i, "bias", {c}),
                         weight(i, "running_mean", {c}), weight(i, "running_var", {c})},
                        name, &p);
        attr_float(p, "epsilon", 1e-5f);
        attr_float(p, "momentum", 0.9f);
        out.channels = c;
        return;
      }
      case Op::kLayerNorm: {
        if (!n.shape) fail(i, "a layer norm needs its shape");
        const Val& src = in(i);
        const Val x = src.layout == Layout::kVector ? src : as_tokens(src, i);
        const int64_t c = (*n.shape)[0];
        onnx::NodeProto* p;
        out = x;
        out.name = emit("LayerNormalization",
                        {x.name, weight(i, "weight", {c}), weight(i, "bias", {c})}, name, &p);
        attr_int(p, "axis", -1);
        attr_float(p, "epsilon", 1e-5f);
        return;
      }
      case Op::kPosEnc: {
        if (!n.shape) fail(i, "a position embedding needs its shape");
        std::vector<int64_t> dims(n.shape->begin(), n.shape->end());
        while (dims.size() > 2 && dims.back() == 1) dims.pop_back();
        const Val x = as_tokens(in(i), i);
        out = x;
        out.name = emit("Add", {x.name, weight(i, "pos_embedding", dims)}, name);
        return;
      }
      case Op::kRelu:
        out = unary(i, "Relu", in(i));
        return;
      case Op::kHardswish:
        out = unary(i, "HardSwish", in(i));
        return;
      case Op::kHardsigmoid:
        out = unary(i, "HardSigmoid", in(i));
        return;
      case Op::kSigmoid:
        out = unary(i, "Sigmoid", in(i));
        return;
      case Op::kTanh:
        out = unary(i, "Tanh", in(i));
        return;
      case Op::kSoftplus:
        out = unary(i, "Softplus", in(i));
        return;
      case Op::kElu:
        out = unary(i, "Elu", in(i));
        return;
      case Op::kSelu:
        out = unary(i, "Selu", in(i));
        return;
      case Op::kLeakyRelu:
        out = unary(i, "LeakyRelu", in(i));
        return;
      case Op::kDropout:
        out = unary(i, "Dropout", in(i));
        return;
      case Op::kSoftmax:
      case Op::kLogSoftmax: {
        onnx::NodeProto* p;
        out = in(i);
        out.name = emit(n.op == Op::kSoftmax ? "Softmax" : "LogSoftmax", {in(i).name}, name, &p);
        attr_int(p, "axis", -1);
        return;
      }
      case Op::kRelu6: {
        const Val& x = in(i);
        out = x;
        out.name = emit("Clip", {x.name, scalar(0.f), scalar(6.f)}, name);
        return;
      }
      case Op::kGelu: {
        const Val& x = in(i);
        const std::string d = emit("Div", {x.name, scalar(1.41421354f)}, name + "/Div");
        const std::string e = emit("Erf", {d}, name + "/Erf");
        const std::string a = emit("Add", {e, scalar(1.f)}, name + "/Add");
        const std::string m = emit("Mul", {x.name, a}, name + "/Mul");
        out = x;
        out.name = emit("Mul", {m, scalar(0.5f)}, name);
        return;
      }
      case Op::kSilu:
      case Op::kMish: {
        const Val& x = in(i);
        std::string g;
        if (n.op == Op::kSilu) {
          g = emit("Sigmoid", {x.name}, name + "/Sigmoid");
        } else {
          g = emit("Tanh", {emit("Softplus", {x.name}, name + "/Softplus")}, name + "/Tanh");
        }
        out = x;
        out.name = emit("Mul", {x.name, g}, name);
        return;
      }
      case Op::kMaxPool:
      case Op::kAvgPool: {
        const Val x = as_image(in(i), i);
        const Kernel2 k = n.kernel.value_or(Kernel2{3, 3});
        const Kernel2 s = stride(i);
        onnx::NodeProto* p;
        out = x;
        out.name = emit(n.op == Op::kMaxPool ? "MaxPool" : "AveragePool", {x.name}, name, &p);
        attr_ints(p, "kernel_shape", {k[0], k[1]});
        attr_ints(p, "pads", {(k[0] - 1) / 2, (k[1] - 1) / 2, (k[0] - 1) / 2, (k[1] - 1) / 2});
        attr_ints(p, "strides", {s[0], s[1]});
        return;
      }
      case Op::kGlobalAvgPool:
      case Op::kGlobalMaxPool: {
        const Val x = as_image(in(i), i);
        out = x;
        out.name = emit(n.op == Op::kGlobalAvgPool ? "GlobalAveragePool" : "GlobalMaxPool",
                        {x.name}, name);
        return;
      }
      case Op::kFlatten: {
        const Val x = as_image(in(i), i);
        onnx::NodeProto* p;
        out = {emit("Flatten", {x.name}, name, &p), Layout::kVector, "", 0};
        attr_int(p, "axis", 1);
        return;
      }
      case Op::kSlice: {
        const Val x = as_image(in(i), i);
        const int64_t big = std::numeric_limits<int64_t>::max();
        out = x;
        out.name = emit("Slice", {x.name, ints({1, 1}), ints({big, big}), ints({2, 3})}, name);
        return;
      }
      case Op::kSum:
      case Op::kSub:
      case Op::kMul:
      case Op::kDiv:
        out = binary(i);
        return;
      case Op::kConcat:
        out = concat(i);
        return;
      case Op::kMatmul:
        out = matmul(i);
        return;
      default:
        fail(i, "no ONNX mapping for this op");
    }
  }

  Kernel2 stride(int i) const {
    if (static_cast<size_t>(i) < o_.strides.size()) {
      const Kernel2 s = o_.strides[i];
      if (s[0] > 0 && s[1] > 0) return s;
    }
    return {1, 1};
  }

  Val conv(int i, const Val& x) {
    const Node& n = g_.nodes[i];
    if (!n.shape) fail(i, "a convolution needs its weight shape");
    const Shape4 w = *n.shape;
    int64_t group = 1;
    if (x.channels > 0 && x.channels % w[1] == 0)
      group = x.channels / w[1];
    else if (n.op == Op::kSepConv && w[1] == 1)
      group = w[0];
    const int64_t numel = w[0] * w[1] * w[2] * w[3];
    const bool bias = n.params == numel + w[0];
    const int64_t dil = n.op == Op::kDilConv ? 2 : 1;
    const Kernel2 s = stride(i);
    std::vector<std::string> inputs = {x.name, weight(i, "weight", {w[0], w[1], w[2], w[3]})};
    if (bias) inputs.push_back(weight(i, "bias", {w[0]}));
    onnx::NodeProto* p;
    Val r = x;
    r.name = emit("Conv", inputs, node_name(i), &p);
    r.channels = w[0];
    const int64_t ph = dil * (w[2] - 1) / 2, pw = dil * (w[3] - 1) / 2;
    attr_ints(p, "dilations", {dil, dil});
    attr_int(p, "group", group);
    attr_ints(p, "kernel_shape", {w[2], w[3]});
    attr_ints(p, "pads", {ph, pw, ph, pw});
    attr_ints(p, "strides", {s[0], s[1]});
    return r;
  }

  Val linear(int i, const Val& src) {
    const Node& n = g_.nodes[i];
    if (!n.shape) fail(i, "a linear layer needs its weight shape");
    const int64_t o = (*n.shape)[0], k = (*n.shape)[1];
    const bool bias = n.params == o * k + o;
    const std::string name = node_name(i);
    if (src.layout == Layout::kTokens || src.layout == Layout::kHeads) {
      // torch's Linear on a sequence: MatMul with the transposed weight, then the bias Add.
      const std::string wt = transpose(weight(i, "weight", {o, k}), {1, 0});
      Val r = src;
      r.name = emit("MatMul", {src.name, wt}, name);
      if (bias) r.name = emit("Add", {r.name, weight(i, "bias", {o})}, name + "/Add");
      r.channels = o;
      return r;
    }
    const Val x = as_vector(src, i);
    std::vector<std::string> inputs = {x.name, weight(i, "weight", {o, k})};
    if (bias) inputs.push_back(weight(i, "bias", {o}));
    onnx::NodeProto* p;
    Val r = x;
    r.name = emit("Gemm", inputs, name, &p);
    attr_int(p, "transB", 1);
    r.channels = o;
    return r;
  }

  Val binary(int i) {
    static const std::map<Op, const char*> kTypes = {
        {Op::kSum, "Add"}, {Op::kSub, "Sub"}, {Op::kMul, "Mul"}, {Op::kDiv, "Div"}};
    const char* type = kTypes.at(g_.nodes[i].op);
    if (preds_[i].size() > 2) {
      if (g_.nodes[i].op != Op::kSum) fail(i, "more than two operands");
      std::vector<std::string> names;
      Val first = as_image(in(i), i);
      for (int p : preds_[i]) names.push_back(as_image(vals_[p], i).name);
      first.name = emit("Sum", names, node_name(i));
      return first;
    }
    Val a = in(i, 0), b = in(i, 1);
    if (a.layout != b.layout) {
      if (a.layout == Layout::kImage || b.layout == Layout::kImage) {
        a = as_image(a, i);
        b = as_image(b, i);
      } else {
        a = as_tokens(a, i);
        b = as_tokens(b, i);
      }
    }
    Val r = a.channels >= b.channels ? a : b;
    if (r.layout == Layout::kTokens && r.image_ref.empty()) r.image_ref = a.image_ref + b.image_ref;
    r.name = emit(type, {a.name, b.name}, node_name(i));
    return r;
  }

  Val concat(int i) {
    bool tokens = true;
    for (int p : preds_[i]) tokens &= vals_[p].layout == Layout::kTokens;
    std::vector<std::string> names;
    Val r = in(i);
    int64_t channels = 0;
    for (int p : preds_[i]) {
      const Val v = tokens ? vals_[p] : as_image(vals_[p], i);
      names.push_back(v.name);
      channels = v.channels > 0 && channels >= 0 ? channels + v.channels : -1;
      if (!tokens) r = v;
    }
    onnx::NodeProto* p;
    r.name = emit("Concat", names, node_name(i), &p);
    r.channels = std::max<int64_t>(channels, 0);
    attr_int(p, "axis", tokens ? -1 : 1);
    return r;
  }

  // True when node p is a fused q/k/v projection: linear (3C, C).
  bool is_qkv(int p) const {
    const Node& n = g_.nodes[p];
    return n.op == Op::kLinear && n.shape && (*n.shape)[0] == 3 * (*n.shape)[1];
  }

  const Heads& heads(int p, int i) {
    auto it = heads_.find(p);
    if (it != heads_.end()) return it->second;
    const Val x = as_tokens(vals_[p], i);
    const int64_t c = (*g_.nodes[p].shape)[1];
    const int64_t h = onnx_attention_heads(c), d = c / h;
    std::vector<std::string> qkv;
    onnx::NodeProto* split;
    emit("Split", {x.name}, "", &split, 3, &qkv);
    attr_int(split, "axis", -1);
    Heads r;
    r.q = transpose(reshape(qkv[0], {0, 0, h, d}), {0, 2, 1, 3});
    r.kt = transpose(reshape(qkv[1], {0, 0, h, d}), {0, 2, 3, 1});
    r.v = transpose(reshape(qkv[2], {0, 0, h, d}), {0, 2, 1, 3});
    r.channels = c;
    r.image_ref = x.image_ref;
    return heads_.emplace(p, std::move(r)).first->second;
  }

  Val matmul(int i) {
    const std::vector<int>& ps = preds_[i];
    const std::string name = node_name(i);
    bool feeds_softmax = false;
    for (int s : succs_[i]) feeds_softmax |= g_.nodes[s].op == Op::kSoftmax;
    // Attention scores: q k^T / sqrt(d) from one fused projection.
    if (ps.size() == 1 && is_qkv(ps[0]) && feeds_softmax) {
      const Heads& hd = heads(ps[0], i);
      const int64_t d = hd.channels / onnx_attention_heads(hd.channels);
      const std::string s = emit("MatMul", {hd.q, hd.kt}, name);
      return {emit("Div", {s, scalar(std::sqrt(static_cast<float>(d)))}, name + "/scale"),
              Layout::kHeads, hd.image_ref, hd.channels};
    }
    // Attention context: softmax(scores) v, heads merged back to (N, L, C).
    if (ps.size() == 2) {
      for (int k = 0; k < 2; ++k) {
        const int probs = ps[k], proj = ps[1 - k];
        if (vals_[probs].layout != Layout::kHeads || !heads_.count(proj)) continue;
        const Heads& hd = heads_.at(proj);
        const std::string m = emit("MatMul", {vals_[probs].name, hd.v}, name);
        return {reshape(transpose(m, {0, 2, 1, 3}), {0, 0, -1}), Layout::kTokens, hd.image_ref,
                hd.channels};
      }
    }
    Val a = in(i, 0), b = in(i, 1);
    Val r = a;
    r.name = emit("MatMul", {a.name, b.name}, name);
    return r;
  }

  const ArchGraph& g_;
  const OnnxExportOptions& o_;
  onnx::ModelProto model_;
  onnx::GraphProto* graph_ = nullptr;
  std::vector<std::vector<int>> preds_, succs_;
  std::vector<Val> vals_;
  int64_t counter_ = 0;
  std::set<std::string> names_;
  std::map<std::string, std::string> consts_, shape_cache_;
  std::map<std::string, Val> image_cache_, tokens_cache_, vector_cache_;
  std::map<int, Heads> heads_;
};

}  // namespace

std::string graph_to_onnx(const ArchGraph& graph, const OnnxExportOptions& options) {
  return OnnxWriter(graph, options).run();
}

}  // namespace archbert
