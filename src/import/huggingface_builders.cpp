// Graph builders for Hugging Face model types: config.json -> canonical graph (SPEC §2).
//
// Layout decisions shared by every family:
// - Inputs are the tensors the model needs: input_ids (+ token_type_ids when there is more than
//   one segment type), decoder_input_ids for encoder-decoders, pixel_values, input_values.
//   Attention masks are not modelled: they only add a constant to the attention scores.
// - Word embeddings are `embedding` nodes (vocab, hidden). Learned absolute position tables,
//   fixed sinusoidal tables, class/distillation tokens and relative-position bias tables are
//   `pos_enc` nodes. Every weighted node has the shape of its HF tensor, folded (fold_shape).
// - Attention = q, k, v `linear` (one fused `linear` + `split` where HF stores one weight),
//   `matmul` (scores), [`sum` with a position bias], `softmax`, [`dropout`], `matmul` (context),
//   output `linear`. Scaling by 1/sqrt(d) and masking are not nodes; neither is the scalar
//   embedding scale of BART-like models.
// - A weight used in two places (tied LM heads, decoder embed_tokens, ALBERT's shared layer)
//   appears as a node with the weight's shape at each use; only its owner counts the weight.
// - GPT-2's Conv1D stores weights as (in, out): node shapes are normalised to (out, in).
// - Dropout modules (and functional dropouts of attention probabilities) are `dropout` nodes.
// - Selecting the first token for a pooler or classifier is a `slice` node.
#include "import/huggingface_builders.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "archbert/error.h"

namespace archbert::hf {

// ------------------------------------------------------------------------------ HfConfig

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

namespace {

using Ids = std::vector<int>;

int64_t checked_add(int64_t a, int64_t b, const std::string& source) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) throw_bad_input(source, "parameter count overflows");
  return r;
}

int64_t checked_numel(const std::vector<int64_t>& dims, const std::string& source) {
  int64_t n = 1;
  for (int64_t d : dims)
    if (__builtin_mul_overflow(n, d, &n)) throw_bad_input(source, "parameter count overflows");
  return n;
}

std::string str(int64_t i) { return std::to_string(i); }

// An activation as the config names it and the canonical op it maps to.
struct Act {
  Op op = Op::kGelu;
  std::string name;
};

// Maps transformers' ACT2FN names to canonical ops (all GELU variants are `gelu`).
Act activation(const HfConfig& c, const std::string& name) {
  static const std::map<std::string, Op> kTable = {
      {"gelu", Op::kGelu},        {"gelu_new", Op::kGelu},
      {"gelu_fast", Op::kGelu},   {"gelu_pytorch_tanh", Op::kGelu},
      {"gelu_python", Op::kGelu}, {"gelu_accurate", Op::kGelu},
      {"gelu_10", Op::kGelu},     {"quick_gelu", Op::kGelu},
      {"relu", Op::kRelu},        {"relu6", Op::kRelu6},
      {"silu", Op::kSilu},        {"swish", Op::kSilu},
      {"tanh", Op::kTanh},        {"sigmoid", Op::kSigmoid},
      {"mish", Op::kMish},        {"leaky_relu", Op::kLeakyRelu}};
  auto it = kTable.find(name);
  if (it == kTable.end()) c.fail("unsupported activation function '" + name + "'");
  return {it->second, name};
}

// Which parameters of a weighted node are its own (the rest belong to a node seen earlier).
enum class Own { kAll, kBias, kNone };

Own own_if(bool owned) { return owned ? Own::kAll : Own::kNone; }

// Collects one model's nodes and edges. It runs twice: first without a builder, only counting,
// so that a graph over the limits is refused before anything is allocated; then for real.
class Net {
 public:
  Net(std::string source, GraphBuilder* builder, const GraphLimits& limits)
      : source_(std::move(source)), builder_(builder), limits_(limits) {}

  const std::string& source() const { return source_; }
  int64_t params() const { return params_; }

  int input(const std::string& name) { return add(make(Op::kInput, name, "input"), {}); }
  void output(const std::string& name, int from) { add(make(Op::kOutput, name, "output"), {from}); }
  // A parameter-free operation fed by `from`.
  int op(Op op, const std::string& name, const Ids& from, const std::string& source_op) {
    return add(make(op, name, source_op), from);
  }
  // A node whose main weight has `dims` (counted when `owned`) plus `extra` parameters.
  int weighted(Op op, const std::string& name, const std::vector<int64_t>& dims, int64_t extra,
               bool owned, const Ids& from, const std::string& source_op) {
    Node nd = make(op, name, source_op);
    nd.shape = fold_shape(dims);
    nd.params = checked_add(owned ? checked_numel(dims, source_) : 0, extra, source_);
    params_ = checked_add(params_, nd.params, source_);
    return add(std::move(nd), from);
  }
  // `own`: kAll for a layer's own weights, kBias for a head tied to the embedding table (only
  // its bias is its own), kNone for another use of a shared layer (ALBERT).
  int linear(const std::string& name, int64_t out, int64_t in, bool bias, const Ids& from,
             const std::string& cls = "Linear", Own own = Own::kAll) {
    return weighted(Op::kLinear, name, {out, in}, bias && own != Own::kNone ? out : 0,
                    own == Own::kAll, from, cls);
  }
  int norm(Op op, const std::string& name, int64_t dim, bool bias, const Ids& from,
           const std::string& cls, bool owned = true) {
    return weighted(op, name, {dim}, bias && owned ? dim : 0, owned, from, cls);
  }
  int layer_norm(const std::string& name, int64_t dim, int from, bool owned = true) {
    return norm(Op::kLayerNorm, name, dim, true, {from}, "LayerNorm", owned);
  }
  int embedding(const std::string& name, int64_t rows, int64_t cols, const Ids& from,
                bool owned = true) {
    return weighted(Op::kEmbedding, name, {rows, cols}, 0, owned, from, "Embedding");
  }
  int pos_enc(const std::string& name, const std::vector<int64_t>& dims,
              const std::string& cls = "Embedding") {
    return weighted(Op::kPosEnc, name, dims, 0, true, {}, cls);
  }
  int dropout(const std::string& name, int from) {
    return op(Op::kDropout, name, {from}, "Dropout");
  }
  int sum(const std::string& name, const Ids& from) { return op(Op::kSum, name, from, "add"); }
  int act(const Act& a, const std::string& name, int from) {
    return op(a.op, name, {from}, a.name);
  }
  int first_token(const std::string& name, int from) {
    return op(Op::kSlice, name, {from}, "getitem");
  }

 private:
  static Node make(Op op, const std::string& name, const std::string& source_op) {
    Node nd;
    nd.op = op;
    nd.name = name;
    nd.source_op = source_op;
    return nd;
  }

  int add(Node nd, const Ids& from) {
    ++nodes_;
    for (int f : from)
      if (f >= 0) ++edges_;
    if (nodes_ > limits_.max_nodes)
      throw_bad_input(source_, "graph would have more than " + str(limits_.max_nodes) +
                                   " nodes (the limit; see --max-nodes)");
    if (edges_ > limits_.max_edges)
      throw_bad_input(
          source_, "graph would have more than " + str(limits_.max_edges) + " edges (the limit)");
    if (!builder_) return static_cast<int>(nodes_ - 1);
    int id = builder_->add(std::move(nd));
    for (int f : from)
      if (f >= 0) builder_->connect(f, id);
    return id;
  }

  std::string source_;
  GraphBuilder* builder_;
  const GraphLimits& limits_;
  int64_t nodes_ = 0;
  int64_t edges_ = 0;
  int64_t params_ = 0;
};

// ------------------------------------------------------------------------ shared blocks

// Multi-head attention as HF modules store it. Paths are full module paths.
struct Attn {
  std::string path;           // the attention module, used to name the functional nodes
  std::string q, k, v;        // separate projections (empty when fused)
  std::string qkv;            // one fused projection (GPT-2 c_attn, BLOOM/NeoX query_key_value)
  std::string o;              // output projection
  std::string probs_dropout;  // dropout on the attention probabilities; empty -> none
  int64_t d_model = 0;        // input width of q (and of k, v unless kv_in is set)
  int64_t kv_in = 0;          // input width of k and v (cross-attention); 0 -> d_model
  int64_t q_dim = 0;          // heads * head_dim
  int64_t kv_dim = 0;         // kv_heads * head_dim; 0 -> q_dim
  int64_t o_out = 0;          // output width; 0 -> d_model
  bool qkv_bias = true;
  bool o_bias = true;
  std::string cls = "Linear";
  bool owned = true;
};

// Builds q/k/v, scores, softmax, context and output projection; returns the output projection.
// `kv_from` feeds k and v (the encoder output for cross-attention); `pos_bias` is added to the
// scores when >= 0 (T5's relative bias, BERT's relative-key distance embedding).
int attention(Net& n, const Attn& a, int x, int kv_from, int pos_bias = -1) {
  const int64_t kv_dim = a.kv_dim ? a.kv_dim : a.q_dim;
  const int64_t kv_in = a.kv_in ? a.kv_in : a.d_model;
  int q, k, v;
  if (!a.qkv.empty()) {
    int p =
        n.linear(a.qkv, a.q_dim + 2 * kv_dim, a.d_model, a.qkv_bias, {x}, a.cls, own_if(a.owned));
    q = k = v = n.op(Op::kSplit, a.qkv + ".split", {p}, "split");
  } else {
    q = n.linear(a.q, a.q_dim, a.d_model, a.qkv_bias, {x}, a.cls, own_if(a.owned));
    k = n.linear(a.k, kv_dim, kv_in, a.qkv_bias, {kv_from}, a.cls, own_if(a.owned));
    v = n.linear(a.v, kv_dim, kv_in, a.qkv_bias, {kv_from}, a.cls, own_if(a.owned));
  }
  int s = n.op(Op::kMatmul, a.path + ".matmul_qk", {q, k}, "matmul");
  if (pos_bias >= 0) s = n.sum(a.path + ".add_position_bias", {s, pos_bias});
  s = n.op(Op::kSoftmax, a.path + ".softmax", {s}, "softmax");
  if (!a.probs_dropout.empty()) s = n.dropout(a.probs_dropout, s);
  int ctx = n.op(Op::kMatmul, a.path + ".matmul_av", {s, v}, "matmul");
  return n.linear(a.o, a.o_out ? a.o_out : a.d_model, a.q_dim, a.o_bias, {ctx}, a.cls,
                  own_if(a.owned));
}

// A feed-forward block: fc1 -> act [* up] [-> dropout] -> fc2.
struct Ffn {
  std::string path;  // names the `mul` of gated units
  std::string fc1, act, fc2;
  std::string up;           // the un-activated branch of a gated unit (T5 wi_1, Llama up_proj)
  std::string mid_dropout;  // dropout between the two projections; empty -> none
  int64_t d_model = 0, d_ff = 0;
  Act a;
  bool bias = true;
  std::string cls = "Linear";
  bool owned = true;
};

int feed_forward(Net& n, const Ffn& f, int x) {
  int h = n.linear(f.fc1, f.d_ff, f.d_model, f.bias, {x}, f.cls, own_if(f.owned));
  h = n.act(f.a, f.act, h);
  if (!f.up.empty()) {
    int u = n.linear(f.up, f.d_ff, f.d_model, f.bias, {x}, f.cls, own_if(f.owned));
    h = n.op(Op::kMul, f.path + ".mul", {h, u}, "mul");
  }
  if (!f.mid_dropout.empty()) h = n.dropout(f.mid_dropout, h);
  return n.linear(f.fc2, f.d_model, f.d_ff, f.bias, {h}, f.cls, own_if(f.owned));
}

// Checks heads divide the width, as the HF attention modules do.
int64_t heads(const HfConfig& c, std::initializer_list<const char*> keys, int64_t width) {
  int64_t h = c.dim_any(keys, std::nullopt, 1, kMaxDim);
  if (width % h != 0)
    c.fail("width " + str(width) + " is not a multiple of the number of attention heads (" +
           str(h) + ")");
  return h;
}

// ---------------------------------------------------------------------------- heads

// The task head a class name selects (architectures[0]).
enum class Head {
  kBase,
  kMaskedLM,
  kCausalLM,
  kPreTraining,
  kSeqCls,
  kTokenCls,
  kQA,
  kMultipleChoice,
  kNextSentence,
  kCondGen,
  kEncoderOnly,
  kImageCls,
  kImageClsTeacher,
  kCtc,
  kUnsupported,
};

struct HeadSuffix {
  const char* suffix;
  Head head;
};

constexpr HeadSuffix kHeadSuffixes[] = {
    {"ForMaskedLM", Head::kMaskedLM},
    {"LMHeadModel", Head::kCausalLM},
    {"ForCausalLM", Head::kCausalLM},
    {"ForPreTraining", Head::kPreTraining},
    {"ForSequenceClassification", Head::kSeqCls},
    {"ForTokenClassification", Head::kTokenCls},
    {"ForQuestionAnswering", Head::kQA},
    {"ForMultipleChoice", Head::kMultipleChoice},
    {"ForNextSentencePrediction", Head::kNextSentence},
    {"ForConditionalGeneration", Head::kCondGen},
    {"MTModel", Head::kCondGen},
    {"EncoderModel", Head::kEncoderOnly},
    {"ForImageClassificationWithTeacher", Head::kImageClsTeacher},
    {"ForImageClassification", Head::kImageCls},
    {"ForCTC", Head::kCtc},
    {"DoubleHeadsModel", Head::kUnsupported},
};

const char* head_label(Head h) {
  switch (h) {
    case Head::kBase:
      return "base model";
    case Head::kMaskedLM:
      return "ForMaskedLM";
    case Head::kCausalLM:
      return "ForCausalLM/LMHeadModel";
    case Head::kPreTraining:
      return "ForPreTraining";
    case Head::kSeqCls:
      return "ForSequenceClassification";
    case Head::kTokenCls:
      return "ForTokenClassification";
    case Head::kQA:
      return "ForQuestionAnswering";
    case Head::kMultipleChoice:
      return "ForMultipleChoice";
    case Head::kNextSentence:
      return "ForNextSentencePrediction";
    case Head::kCondGen:
      return "ForConditionalGeneration";
    case Head::kEncoderOnly:
      return "EncoderModel";
    case Head::kImageCls:
      return "ForImageClassification";
    case Head::kImageClsTeacher:
      return "ForImageClassificationWithTeacher";
    case Head::kCtc:
      return "ForCTC";
    case Head::kUnsupported:
      break;
  }
  return "?";
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Head parse_head(const std::string& arch) {
  if (arch.empty()) return Head::kBase;
  for (const HeadSuffix& h : kHeadSuffixes)
    if (ends_with(arch, h.suffix)) return h.head;
  if (ends_with(arch, "Model") && arch.find("For") == std::string::npos) return Head::kBase;
  return Head::kUnsupported;
}

// The class being built: its head and the module prefix of the base model inside it ("" for the
// base model itself, e.g. "bert." for BertForMaskedLM).
struct Target {
  Head head = Head::kBase;
  std::string prefix;
};

Target target(const HfConfig& c, const std::string& base_attr, const std::vector<Head>& allowed) {
  const std::string arch = c.architecture();
  Head h = parse_head(arch);
  if (std::find(allowed.begin(), allowed.end(), h) == allowed.end()) {
    std::string list;
    for (Head a : allowed) list += std::string(list.empty() ? "" : ", ") + head_label(a);
    c.fail("architecture '" + arch + "' is not supported for model_type '" + c.model_type() +
           "' (supported: " + list + ")");
  }
  return {h, h == Head::kBase || base_attr.empty() ? std::string() : base_attr + "."};
}

// ------------------------------------------------------------------- BERT-like encoders

enum class BertKind { kBert, kRoberta, kElectra, kLongformer };

// word + token type + position embeddings -> LayerNorm -> dropout (BERT, RoBERTa, ELECTRA,
// ALBERT). `type_ids` may be -1 (single-segment models still own a token type table).
int bert_embeddings(Net& n, const std::string& p, int64_t vocab, int64_t max_pos,
                    int64_t type_vocab, int64_t width, int ids, int type_ids) {
  int x = n.embedding(p + ".word_embeddings", vocab, width, {ids});
  if (type_vocab > 0) {
    int t = n.embedding(p + ".token_type_embeddings", type_vocab, width, {type_ids});
    x = n.sum(p + ".add_token_type", {x, t});
  }
  int pos = n.pos_enc(p + ".position_embeddings", {max_pos, width});
  x = n.sum(p + ".add_position", {x, pos});
  x = n.layer_norm(p + ".LayerNorm", width, x);
  return n.dropout(p + ".dropout", x);
}

// One post-LN BERT layer (attention.self / attention.output / intermediate / output).
int bert_layer(Net& n, const std::string& p, int64_t hidden, int64_t inter, int64_t head_dim,
               int64_t max_pos, const Act& act, bool relative, bool longformer, int x) {
  Attn a;
  a.path = p + ".attention.self";
  a.q = a.path + ".query";
  a.k = a.path + ".key";
  a.v = a.path + ".value";
  a.o = p + ".attention.output.dense";
  a.probs_dropout = a.path + ".dropout";
  a.d_model = a.q_dim = hidden;
  int pos = -1;
  if (relative)  // position_embedding_type relative_key(_query): one distance table per layer
    pos = n.pos_enc(a.path + ".distance_embedding", {2 * max_pos - 1, head_dim});
  int att;
  if (!longformer) {
    att = attention(n, a, x, x, pos);
  } else {
    // Longformer: local (sliding window) attention with query/key/value plus global attention
    // with query_global/key_global/value_global; both feed the output projection.
    Attn g = a;
    g.path = a.path + ".global";
    g.q = a.path + ".query_global";
    g.k = a.path + ".key_global";
    g.v = a.path + ".value_global";
    const int64_t h = hidden;
    int q = n.linear(a.q, h, h, true, {x});
    int k = n.linear(a.k, h, h, true, {x});
    int v = n.linear(a.v, h, h, true, {x});
    int s = n.op(Op::kMatmul, a.path + ".matmul_qk", {q, k}, "matmul");
    s = n.op(Op::kSoftmax, a.path + ".softmax", {s}, "softmax");
    s = n.dropout(a.probs_dropout, s);
    int ctx = n.op(Op::kMatmul, a.path + ".matmul_av", {s, v}, "matmul");
    int gq = n.linear(g.q, h, h, true, {x});
    int gk = n.linear(g.k, h, h, true, {x});
    int gv = n.linear(g.v, h, h, true, {x});
    int gs = n.op(Op::kMatmul, g.path + ".matmul_qk", {gq, gk}, "matmul");
    gs = n.op(Op::kSoftmax, g.path + ".softmax", {gs}, "softmax");
    int gctx = n.op(Op::kMatmul, g.path + ".matmul_av", {gs, gv}, "matmul");
    att = n.linear(a.o, h, h, true, {ctx, gctx});
  }
  att = n.dropout(p + ".attention.output.dropout", att);
  att = n.sum(p + ".attention.output.add", {att, x});
  att = n.layer_norm(p + ".attention.output.LayerNorm", hidden, att);
  int h = n.linear(p + ".intermediate.dense", inter, hidden, true, {att});
  h = n.act(act, p + ".intermediate.intermediate_act_fn", h);
  h = n.linear(p + ".output.dense", hidden, inter, true, {h});
  h = n.dropout(p + ".output.dropout", h);
  h = n.sum(p + ".output.add", {h, att});
  return n.layer_norm(p + ".output.LayerNorm", hidden, h);
}

// pooler: first token -> dense -> tanh.
int pooler(Net& n, const std::string& dense, const std::string& act_name, int64_t hidden, int x) {
  int f = n.first_token(dense + ".first_token", x);
  int d = n.linear(dense, hidden, hidden, true, {f});
  return n.op(Op::kTanh, act_name, {d}, "Tanh");
}

// An MLM head: dense -> act -> LayerNorm -> decoder tied to the word embeddings (+ own bias).
int mlm_head(Net& n, const std::string& dense, const std::string& act_name, const std::string& norm,
             const std::string& decoder, const Act& act, int64_t hidden, int64_t width,
             int64_t vocab, bool tied, int x) {
  int h = n.linear(dense, width, hidden, true, {x});
  h = n.act(act, act_name, h);
  h = n.layer_norm(norm, width, h);
  return n.linear(decoder, vocab, width, true, {h}, "Linear", tied ? Own::kBias : Own::kAll);
}

// qa_outputs (2, hidden) -> split into start and end logits.
void qa_head(Net& n, const std::string& name, int64_t hidden, int x) {
  int q = n.linear(name, 2, hidden, true, {x});
  int s = n.op(Op::kSplit, name + ".split", {q}, "split");
  n.output("start_logits", s);
  n.output("end_logits", s);
}

void build_bert_like(Net& n, const HfConfig& c, BertKind kind) {
  const bool electra = kind == BertKind::kElectra;
  const bool roberta_style = kind == BertKind::kRoberta || kind == BertKind::kLongformer;
  const int64_t H = c.dim("hidden_size");
  const int64_t L = c.layers("num_hidden_layers");
  const int64_t I = c.dim("intermediate_size");
  const int64_t V = c.dim("vocab_size");
  const int64_t P = c.dim("max_position_embeddings", 512);
  const int64_t T = c.dim("type_vocab_size", 2, 0);
  const int64_t E = electra ? c.dim("embedding_size", H) : H;
  const int64_t nh = heads(c, {"num_attention_heads"}, H);
  const Act act = activation(c, c.str("hidden_act", "gelu"));
  const std::string pos_type = c.str("position_embedding_type", "absolute");
  if (pos_type != "absolute" && pos_type != "relative_key" && pos_type != "relative_key_query")
    c.fail("unsupported position_embedding_type '" + pos_type + "'");
  const bool relative = pos_type != "absolute";
  const bool tied = c.flag("tie_word_embeddings", true);
  const std::string base_attr = kind == BertKind::kBert      ? "bert"
                                : kind == BertKind::kElectra ? "electra"
                                : kind == BertKind::kRoberta ? "roberta"
                                                             : "longformer";
  const std::vector<Head> allowed = {
      Head::kBase, Head::kMaskedLM,       Head::kCausalLM,    Head::kSeqCls,      Head::kTokenCls,
      Head::kQA,   Head::kMultipleChoice, Head::kPreTraining, Head::kNextSentence};
  Target t = target(c, base_attr, allowed);
  if ((kind != BertKind::kBert && t.head == Head::kNextSentence) ||
      (roberta_style && t.head == Head::kPreTraining) ||
      (electra && t.head == Head::kMultipleChoice) ||
      (kind == BertKind::kLongformer && t.head == Head::kCausalLM))
    c.fail("architecture '" + c.architecture() + "' is not supported for model_type '" +
           c.model_type() + "'");
  const std::string& p = t.prefix;

  int ids = n.input("input_ids");
  int type_ids = T > 1 ? n.input("token_type_ids") : -1;
  int x = bert_embeddings(n, p + "embeddings", V, P, T, E, ids, type_ids);
  if (electra && E != H) x = n.linear(p + "embeddings_project", H, E, true, {x});
  for (int64_t i = 0; i < L; ++i)
    x = bert_layer(n, p + "encoder.layer." + str(i), H, I, H / nh, P, act, relative,
                   kind == BertKind::kLongformer, x);
  const int seq = x;
  const bool has_pooler = !electra;
  auto pool = [&] { return pooler(n, p + "pooler.dense", p + "pooler.activation", H, seq); };
  const int64_t labels = c.num_labels();
  const Act gelu{Op::kGelu, "gelu"};

  switch (t.head) {
    case Head::kBase:
      n.output("last_hidden_state", seq);
      if (has_pooler) n.output("pooler_output", pool());
      return;
    case Head::kMaskedLM:
    case Head::kCausalLM:
    case Head::kPreTraining:
      if (electra && t.head == Head::kPreTraining) {
        int h = n.linear("discriminator_predictions.dense", H, H, true, {seq});
        h = n.act(act, "discriminator_predictions.activation", h);
        n.output("logits", n.linear("discriminator_predictions.dense_prediction", 1, H, true, {h}));
      } else if (electra) {
        n.output("logits",
                 mlm_head(n, "generator_predictions.dense", "generator_predictions.activation",
                          "generator_predictions.LayerNorm", "generator_lm_head", gelu, H, E, V,
                          tied, seq));
      } else if (roberta_style) {
        n.output("logits", mlm_head(n, "lm_head.dense", "lm_head.gelu", "lm_head.layer_norm",
                                    "lm_head.decoder", gelu, H, H, V, tied, seq));
      } else {
        const std::string cp = "cls.predictions";
        n.output(t.head == Head::kPreTraining ? "prediction_logits" : "logits",
                 mlm_head(n, cp + ".transform.dense", cp + ".transform.transform_act_fn",
                          cp + ".transform.LayerNorm", cp + ".decoder", act, H, H, V, tied, seq));
        if (t.head == Head::kPreTraining)
          n.output("seq_relationship_logits",
                   n.linear("cls.seq_relationship", 2, H, true, {pool()}));
      }
      return;
    case Head::kNextSentence:
      n.output("logits", n.linear("cls.seq_relationship", 2, H, true, {pool()}));
      return;
    case Head::kSeqCls:
      if (kind == BertKind::kBert) {
        int d = n.dropout("dropout", pool());
        n.output("logits", n.linear("classifier", labels, H, true, {d}));
      } else {  // RobertaClassificationHead / ElectraClassificationHead
        int f = n.first_token("classifier.first_token", seq);
        f = n.dropout("classifier.dropout", f);
        f = n.linear("classifier.dense", H, H, true, {f});
        f = electra ? n.act(gelu, "classifier.activation", f)
                    : n.op(Op::kTanh, "classifier.tanh", {f}, "tanh");
        f = n.dropout("classifier.dropout", f);
        n.output("logits", n.linear("classifier.out_proj", labels, H, true, {f}));
      }
      return;
    case Head::kTokenCls: {
      int d = n.dropout("dropout", seq);
      n.output("logits", n.linear("classifier", labels, H, true, {d}));
      return;
    }
    case Head::kQA:
      qa_head(n, "qa_outputs", H, seq);
      return;
    case Head::kMultipleChoice: {
      int d = n.dropout("dropout", pool());
      n.output("logits", n.linear("classifier", 1, H, true, {d}));
      return;
    }
    default:
      c.fail("unsupported head");
  }
}

void build_bert(Net& n, const HfConfig& c) { build_bert_like(n, c, BertKind::kBert); }
void build_roberta(Net& n, const HfConfig& c) { build_bert_like(n, c, BertKind::kRoberta); }
void build_electra(Net& n, const HfConfig& c) { build_bert_like(n, c, BertKind::kElectra); }
void build_longformer(Net& n, const HfConfig& c) { build_bert_like(n, c, BertKind::kLongformer); }

// ALBERT: factorised embeddings (E < H) and one set of layer weights per group, applied
// num_hidden_layers times. Every application is in the graph; only the first owns the weights.
int albert_layer(Net& n, const std::string& p, int64_t H, int64_t I, const Act& act, bool owned,
                 int x) {
  Attn a;
  a.path = p + ".attention";
  a.q = a.path + ".query";
  a.k = a.path + ".key";
  a.v = a.path + ".value";
  a.o = a.path + ".dense";
  a.probs_dropout = a.path + ".attention_dropout";
  a.d_model = a.q_dim = H;
  a.owned = owned;
  int att = attention(n, a, x, x);
  att = n.dropout(a.path + ".output_dropout", att);
  att = n.sum(a.path + ".add", {att, x});
  att = n.layer_norm(a.path + ".LayerNorm", H, att, owned);
  Ffn f;
  f.fc1 = p + ".ffn";
  f.act = p + ".activation";
  f.fc2 = p + ".ffn_output";
  f.d_model = H;
  f.d_ff = I;
  f.a = act;
  f.owned = owned;
  int h = feed_forward(n, f, att);
  h = n.dropout(p + ".dropout", h);
  h = n.sum(p + ".add", {h, att});
  return n.layer_norm(p + ".full_layer_layer_norm", H, h, owned);
}

void build_albert(Net& n, const HfConfig& c) {
  const int64_t H = c.dim("hidden_size");
  const int64_t L = c.layers("num_hidden_layers");
  const int64_t G = c.dim("num_hidden_groups", 1, 1, L);
  const int64_t inner = c.dim("inner_group_num", 1, 1, kMaxLayers);
  const int64_t I = c.dim("intermediate_size");
  const int64_t V = c.dim("vocab_size");
  const int64_t P = c.dim("max_position_embeddings", 512);
  const int64_t T = c.dim("type_vocab_size", 2, 0);
  const int64_t E = c.dim("embedding_size", 128);
  heads(c, {"num_attention_heads"}, H);
  if (L * inner > kMaxLayers) c.fail("num_hidden_layers * inner_group_num is too large");
  const Act act = activation(c, c.str("hidden_act", "gelu_new"));
  const bool tied = c.flag("tie_word_embeddings", true);
  Target t = target(c, "albert",
                    {Head::kBase, Head::kMaskedLM, Head::kPreTraining, Head::kSeqCls,
                     Head::kTokenCls, Head::kQA, Head::kMultipleChoice});
  const std::string& p = t.prefix;
  int ids = n.input("input_ids");
  int type_ids = T > 1 ? n.input("token_type_ids") : -1;
  int x = bert_embeddings(n, p + "embeddings", V, P, T, E, ids, type_ids);
  x = n.linear(p + "encoder.embedding_hidden_mapping_in", H, E, true, {x});
  std::vector<char> used(static_cast<size_t>(G * inner), 0);
  for (int64_t i = 0; i < L; ++i) {
    // AlbertTransformer: group_idx = int(i / (num_hidden_layers / num_hidden_groups)).
    int64_t g = static_cast<int64_t>(static_cast<double>(i) /
                                     (static_cast<double>(L) / static_cast<double>(G)));
    g = std::min(g, G - 1);
    for (int64_t j = 0; j < inner; ++j) {
      char& u = used[static_cast<size_t>(g * inner + j)];
      x = albert_layer(n, p + "encoder.albert_layer_groups." + str(g) + ".albert_layers." + str(j),
                       H, I, act, !u, x);
      u = 1;
    }
  }
  const int seq = x;
  auto pool = [&] { return pooler(n, p + "pooler", p + "pooler_activation", H, seq); };
  auto mlm = [&] {
    return mlm_head(n, "predictions.dense", "predictions.activation", "predictions.LayerNorm",
                    "predictions.decoder", act, H, E, V, tied, seq);
  };
  const int64_t labels = c.num_labels();
  switch (t.head) {
    case Head::kBase:
      n.output("last_hidden_state", seq);
      n.output("pooler_output", pool());
      return;
    case Head::kMaskedLM:
      n.output("logits", mlm());
      return;
    case Head::kPreTraining: {
      n.output("prediction_logits", mlm());
      int d = n.dropout("sop_classifier.dropout", pool());
      n.output("sop_logits", n.linear("sop_classifier.classifier", 2, H, true, {d}));
      return;
    }
    case Head::kSeqCls:
    case Head::kMultipleChoice: {
      int d = n.dropout("dropout", pool());
      n.output("logits",
               n.linear("classifier", t.head == Head::kSeqCls ? labels : 1, H, true, {d}));
      return;
    }
    case Head::kTokenCls: {
      int d = n.dropout("dropout", seq);
      n.output("logits", n.linear("classifier", labels, H, true, {d}));
      return;
    }
    case Head::kQA:
      qa_head(n, "qa_outputs", H, seq);
      return;
    default:
      c.fail("unsupported head");
  }
}

// DistilBERT: BERT without token types or pooler; q_lin/k_lin/v_lin/out_lin naming.
void build_distilbert(Net& n, const HfConfig& c) {
  const int64_t H = c.dim_any({"dim", "hidden_size"});
  const int64_t L = c.layers("n_layers");
  const int64_t I = c.dim_any({"hidden_dim", "intermediate_size"});
  const int64_t V = c.dim("vocab_size");
  const int64_t P = c.dim("max_position_embeddings", 512);
  heads(c, {"n_heads", "num_attention_heads"}, H);
  const Act act = activation(c, c.str("activation", "gelu"));
  const bool tied = c.flag("tie_word_embeddings", true);
  Target t = target(c, "distilbert",
                    {Head::kBase, Head::kMaskedLM, Head::kSeqCls, Head::kTokenCls, Head::kQA,
                     Head::kMultipleChoice});
  const std::string& p = t.prefix;
  int ids = n.input("input_ids");
  int x = n.embedding(p + "embeddings.word_embeddings", V, H, {ids});
  // Sinusoidal tables (sinusoidal_pos_embds) are frozen but still nn.Parameters: counted.
  int pos = n.pos_enc(p + "embeddings.position_embeddings", {P, H});
  x = n.sum(p + "embeddings.add_position", {x, pos});
  x = n.layer_norm(p + "embeddings.LayerNorm", H, x);
  x = n.dropout(p + "embeddings.dropout", x);
  for (int64_t i = 0; i < L; ++i) {
    const std::string l = p + "transformer.layer." + str(i);
    Attn a;
    a.path = l + ".attention";
    a.q = a.path + ".q_lin";
    a.k = a.path + ".k_lin";
    a.v = a.path + ".v_lin";
    a.o = a.path + ".out_lin";
    a.probs_dropout = a.path + ".dropout";
    a.d_model = a.q_dim = H;
    int att = attention(n, a, x, x);
    att = n.sum(l + ".add_attention", {att, x});
    att = n.layer_norm(l + ".sa_layer_norm", H, att);
    Ffn f;
    f.fc1 = l + ".ffn.lin1";
    f.act = l + ".ffn.activation";
    f.fc2 = l + ".ffn.lin2";
    f.d_model = H;
    f.d_ff = I;
    f.a = act;
    int h = feed_forward(n, f, att);
    h = n.dropout(l + ".ffn.dropout", h);
    h = n.sum(l + ".add_ffn", {h, att});
    x = n.layer_norm(l + ".output_layer_norm", H, h);
  }
  const int seq = x;
  const int64_t labels = c.num_labels();
  switch (t.head) {
    case Head::kBase:
      n.output("last_hidden_state", seq);
      return;
    case Head::kMaskedLM:
      n.output("logits", mlm_head(n, "vocab_transform", "activation", "vocab_layer_norm",
                                  "vocab_projector", act, H, H, V, tied, seq));
      return;
    case Head::kSeqCls:
    case Head::kMultipleChoice: {
      int f = n.first_token("pre_classifier.first_token", seq);
      f = n.linear("pre_classifier", H, H, true, {f});
      f = n.op(Op::kRelu, "relu", {f}, "ReLU");
      f = n.dropout("dropout", f);
      n.output("logits",
               n.linear("classifier", t.head == Head::kSeqCls ? labels : 1, H, true, {f}));
      return;
    }
    case Head::kTokenCls: {
      int d = n.dropout("dropout", seq);
      n.output("logits", n.linear("classifier", labels, H, true, {d}));
      return;
    }
    case Head::kQA:
      qa_head(n, "qa_outputs", H, n.dropout("dropout", seq));
      return;
    default:
      c.fail("unsupported head");
  }
}

// ---------------------------------------------------------------- decoder-only (GPT family)

// The head shared by causal decoders: lm_head / score / classifier / qa_outputs.
void causal_head(Net& n, const HfConfig& c, Head head, int64_t H, int64_t V, bool tied,
                 bool lm_bias, int seq) {
  switch (head) {
    case Head::kBase:
      n.output("last_hidden_state", seq);
      return;
    case Head::kCausalLM:
      n.output("logits",
               n.linear("lm_head", V, H, lm_bias, {seq}, "Linear", tied ? Own::kBias : Own::kAll));
      return;
    case Head::kSeqCls: {
      // Scores every position, then picks the last non-padding token.
      int s = n.linear("score", c.num_labels(), H, false, {seq});
      n.output("logits", n.op(Op::kSlice, "score.last_token", {s}, "getitem"));
      return;
    }
    case Head::kTokenCls: {
      int d = n.dropout("dropout", seq);
      n.output("logits", n.linear("classifier", c.num_labels(), H, true, {d}));
      return;
    }
    case Head::kQA:
      qa_head(n, "qa_outputs", H, seq);
      return;
    default:
      c.fail("unsupported head");
  }
}

// GPT-2: learned positions, pre-LN blocks, fused c_attn (Conv1D), tied lm_head.
void build_gpt2(Net& n, const HfConfig& c) {
  const int64_t H = c.dim_any({"n_embd", "hidden_size"});
  const int64_t L = c.layers(c.has("n_layer") ? "n_layer" : "num_hidden_layers");
  const int64_t P = c.dim_any({"n_positions", "max_position_embeddings"}, 1024);
  const int64_t V = c.dim("vocab_size");
  const int64_t I = c.has("n_inner") ? c.dim("n_inner") : 4 * H;
  heads(c, {"n_head", "num_attention_heads"}, H);
  const Act act = activation(c, c.str("activation_function", "gelu_new"));
  if (c.flag("add_cross_attention", false)) c.fail("add_cross_attention is not supported");
  Target t = target(c, "transformer",
                    {Head::kBase, Head::kCausalLM, Head::kSeqCls, Head::kTokenCls, Head::kQA});
  const std::string& p = t.prefix;
  int ids = n.input("input_ids");
  int x = n.embedding(p + "wte", V, H, {ids});
  int pos = n.pos_enc(p + "wpe", {P, H});
  x = n.sum(p + "add_wpe", {x, pos});
  x = n.dropout(p + "drop", x);
  for (int64_t i = 0; i < L; ++i) {
    const std::string h = p + "h." + str(i);
    int a = n.layer_norm(h + ".ln_1", H, x);
    Attn at;
    at.path = h + ".attn";
    at.qkv = h + ".attn.c_attn";
    at.o = h + ".attn.c_proj";
    at.probs_dropout = h + ".attn.attn_dropout";
    at.d_model = at.q_dim = H;
    at.cls = "Conv1D";  // weight stored (in, out); shapes here are (out, in)
    a = attention(n, at, a, a);
    a = n.dropout(h + ".attn.resid_dropout", a);
    x = n.sum(h + ".add_attn", {a, x});
    int m = n.layer_norm(h + ".ln_2", H, x);
    Ffn f;
    f.fc1 = h + ".mlp.c_fc";
    f.act = h + ".mlp.act";
    f.fc2 = h + ".mlp.c_proj";
    f.d_model = H;
    f.d_ff = I;
    f.a = act;
    f.cls = "Conv1D";
    m = feed_forward(n, f, m);
    m = n.dropout(h + ".mlp.dropout", m);
    x = n.sum(h + ".add_mlp", {m, x});
  }
  x = n.layer_norm(p + "ln_f", H, x);
  causal_head(n, c, t.head, H, V, c.flag("tie_word_embeddings", true), false, x);
}

// GPT-Neo: like GPT-2 with separate bias-free q/k/v projections and nn.Linear MLPs.
void build_gpt_neo(Net& n, const HfConfig& c) {
  const int64_t H = c.dim("hidden_size");
  const int64_t L = c.layers("num_layers");
  const int64_t P = c.dim("max_position_embeddings", 2048);
  const int64_t V = c.dim("vocab_size");
  const int64_t I = c.has("intermediate_size") ? c.dim("intermediate_size") : 4 * H;
  heads(c, {"num_heads"}, H);
  const Act act = activation(c, c.str("activation_function", "gelu_new"));
  Target t = target(c, "transformer",
                    {Head::kBase, Head::kCausalLM, Head::kSeqCls, Head::kTokenCls, Head::kQA});
  const std::string& p = t.prefix;
  int ids = n.input("input_ids");
  int x = n.embedding(p + "wte", V, H, {ids});
  int pos = n.pos_enc(p + "wpe", {P, H});
  x = n.sum(p + "add_wpe", {x, pos});
  x = n.dropout(p + "drop", x);
  for (int64_t i = 0; i < L; ++i) {
    const std::string h = p + "h." + str(i);
    int a = n.layer_norm(h + ".ln_1", H, x);
    Attn at;
    at.path = h + ".attn.attention";
    at.q = at.path + ".q_proj";
    at.k = at.path + ".k_proj";
    at.v = at.path + ".v_proj";
    at.o = at.path + ".out_proj";
    at.probs_dropout = at.path + ".attn_dropout";
    at.d_model = at.q_dim = H;
    at.qkv_bias = false;
    a = attention(n, at, a, a);
    a = n.dropout(at.path + ".resid_dropout", a);
    x = n.sum(h + ".add_attn", {a, x});
    int m = n.layer_norm(h + ".ln_2", H, x);
    Ffn f;
    f.fc1 = h + ".mlp.c_fc";
    f.act = h + ".mlp.act";
    f.fc2 = h + ".mlp.c_proj";
    f.d_model = H;
    f.d_ff = I;
    f.a = act;
    m = feed_forward(n, f, m);
    m = n.dropout(h + ".mlp.dropout", m);
    x = n.sum(h + ".add_mlp", {m, x});
  }
  x = n.layer_norm(p + "ln_f", H, x);
  causal_head(n, c, t.head, H, V, c.flag("tie_word_embeddings", true), false, x);
}

// GPT-J: rotary positions (no table), attention and MLP in parallel from ln_1, untied lm_head
// with a bias.
void build_gptj(Net& n, const HfConfig& c) {
  const int64_t H = c.dim_any({"n_embd", "hidden_size"});
  const int64_t L = c.layers("n_layer");
  const int64_t V = c.dim("vocab_size");
  const int64_t I = c.has("n_inner") ? c.dim("n_inner") : 4 * H;
  heads(c, {"n_head"}, H);
  const Act act = activation(c, c.str("activation_function", "gelu_new"));
  Target t = target(c, "transformer", {Head::kBase, Head::kCausalLM, Head::kSeqCls, Head::kQA});
  const std::string& p = t.prefix;
  int x = n.embedding(p + "wte", V, H, {n.input("input_ids")});
  x = n.dropout(p + "drop", x);
  for (int64_t i = 0; i < L; ++i) {
    const std::string h = p + "h." + str(i);
    int a = n.layer_norm(h + ".ln_1", H, x);
    Attn at;
    at.path = h + ".attn";
    at.q = at.path + ".q_proj";
    at.k = at.path + ".k_proj";
    at.v = at.path + ".v_proj";
    at.o = at.path + ".out_proj";
    at.probs_dropout = at.path + ".attn_dropout";
    at.d_model = at.q_dim = H;
    at.qkv_bias = at.o_bias = false;
    int att = attention(n, at, a, a);
    att = n.dropout(at.path + ".resid_dropout", att);
    Ffn f;
    f.fc1 = h + ".mlp.fc_in";
    f.act = h + ".mlp.act";
    f.fc2 = h + ".mlp.fc_out";
    f.d_model = H;
    f.d_ff = I;
    f.a = act;
    int m = n.dropout(h + ".mlp.dropout", feed_forward(n, f, a));
    x = n.sum(h + ".add", {att, m, x});
  }
  x = n.layer_norm(p + "ln_f", H, x);
  causal_head(n, c, t.head, H, V, c.flag("tie_word_embeddings", false), true, x);
}

// GPT-NeoX (Pythia): fused query_key_value, rotary, optional parallel residual, untied embed_out.
void build_gpt_neox(Net& n, const HfConfig& c) {
  const int64_t H = c.dim("hidden_size");
  const int64_t L = c.layers("num_hidden_layers");
  const int64_t V = c.dim("vocab_size");
  const int64_t I = c.dim("intermediate_size");
  heads(c, {"num_attention_heads"}, H);
  const Act act = activation(c, c.str("hidden_act", "gelu"));
  const bool parallel = c.flag("use_parallel_residual", true);
  const bool bias = c.flag("attention_bias", true);
  Target t = target(c, "gpt_neox", {Head::kBase, Head::kCausalLM, Head::kSeqCls});
  const std::string& p = t.prefix;
  int x = n.embedding(p + "embed_in", V, H, {n.input("input_ids")});
  x = n.dropout(p + "emb_dropout", x);
  for (int64_t i = 0; i < L; ++i) {
    const std::string l = p + "layers." + str(i);
    int a = n.layer_norm(l + ".input_layernorm", H, x);
    Attn at;
    at.path = l + ".attention";
    at.qkv = at.path + ".query_key_value";
    at.o = at.path + ".dense";
    at.probs_dropout = at.path + ".attention_dropout";
    at.d_model = at.q_dim = H;
    at.qkv_bias = at.o_bias = bias;
    int att = n.dropout(l + ".post_attention_dropout", attention(n, at, a, a));
    Ffn f;
    f.fc1 = l + ".mlp.dense_h_to_4h";
    f.act = l + ".mlp.act";
    f.fc2 = l + ".mlp.dense_4h_to_h";
    f.d_model = H;
    f.d_ff = I;
    f.a = act;
    if (parallel) {
      int m = n.layer_norm(l + ".post_attention_layernorm", H, x);
      m = n.dropout(l + ".post_mlp_dropout", feed_forward(n, f, m));
      x = n.sum(l + ".add", {att, m, x});
    } else {
      x = n.sum(l + ".add_attention", {att, x});
      int m = n.layer_norm(l + ".post_attention_layernorm", H, x);
      m = n.dropout(l + ".post_mlp_dropout", feed_forward(n, f, m));
      x = n.sum(l + ".add_mlp", {m, x});
    }
  }
  x = n.layer_norm(p + "final_layer_norm", H, x);
  if (t.head == Head::kCausalLM) {
    bool tied = c.flag("tie_word_embeddings", false);
    n.output("logits",
             n.linear("embed_out", V, H, false, {x}, "Linear", tied ? Own::kBias : Own::kAll));
    return;
  }
  causal_head(n, c, t.head, H, V, true, false, x);
}

// BLOOM: embedding LayerNorm, fused query_key_value, ALiBi (no table), tied lm_head.
void build_bloom(Net& n, const HfConfig& c) {
  const int64_t H = c.dim_any({"hidden_size", "n_embed"});
  const int64_t L = c.layers(c.has("n_layer") ? "n_layer" : "num_hidden_layers");
  const int64_t V = c.dim("vocab_size");
  heads(c, {"n_head", "num_attention_heads"}, H);
  const bool post_ln_residual = c.flag("apply_residual_connection_post_layernorm", false);
  const Act gelu{Op::kGelu, "bloom_gelu"};
  Target t = target(c, "transformer",
                    {Head::kBase, Head::kCausalLM, Head::kSeqCls, Head::kTokenCls, Head::kQA});
  const std::string& p = t.prefix;
  int x = n.embedding(p + "word_embeddings", V, H, {n.input("input_ids")});
  x = n.layer_norm(p + "word_embeddings_layernorm", H, x);
  for (int64_t i = 0; i < L; ++i) {
    const std::string l = p + "h." + str(i);
    int a = n.layer_norm(l + ".input_layernorm", H, x);
    Attn at;
    at.path = l + ".self_attention";
    at.qkv = at.path + ".query_key_value";
    at.o = at.path + ".dense";
    at.probs_dropout = at.path + ".attention_dropout";
    at.d_model = at.q_dim = H;
    int att = n.dropout(at.path + ".hidden_dropout", attention(n, at, a, a));
    x = n.sum(l + ".add_attention", {att, post_ln_residual ? a : x});
    int m = n.layer_norm(l + ".post_attention_layernorm", H, x);
    Ffn f;
    f.fc1 = l + ".mlp.dense_h_to_4h";
    f.act = l + ".mlp.gelu_impl";
    f.fc2 = l + ".mlp.dense_4h_to_h";
    f.d_model = H;
    f.d_ff = 4 * H;
    f.a = gelu;
    int o = n.dropout(l + ".mlp.hidden_dropout", feed_forward(n, f, m));
    x = n.sum(l + ".add_mlp", {o, post_ln_residual ? m : x});
  }
  x = n.layer_norm(p + "ln_f", H, x);
  causal_head(n, c, t.head, H, V, c.flag("tie_word_embeddings", true), false, x);
}

// OPT: learned positions with an offset of 2, optional project_in/out, pre- or post-LN.
void build_opt(Net& n, const HfConfig& c) {
  const int64_t H = c.dim("hidden_size");
  const int64_t L = c.layers("num_hidden_layers");
  const int64_t F = c.dim("ffn_dim");
  const int64_t V = c.dim("vocab_size");
  const int64_t P = c.dim("max_position_embeddings", 2048);
  const int64_t W = c.dim("word_embed_proj_dim", H);
  heads(c, {"num_attention_heads"}, H);
  const bool pre = c.flag("do_layer_norm_before", true);
  const bool bias = c.flag("enable_bias", true);
  const bool affine = c.flag("layer_norm_elementwise_affine", true);
  const bool final_ln = pre && !c.flag("_remove_final_layer_norm", false);
  const Act act = activation(c, c.str("activation_function", "relu"));
  Target t = target(c, "model", {Head::kBase, Head::kCausalLM, Head::kSeqCls, Head::kQA});
  const std::string p = t.head == Head::kBase ? "decoder." : "model.decoder.";
  auto ln = [&](const std::string& name, int from) {
    return n.norm(Op::kLayerNorm, name, H, affine, {from}, "LayerNorm", affine);
  };
  int x = n.embedding(p + "embed_tokens", V, W, {n.input("input_ids")});
  if (W != H) x = n.linear(p + "project_in", H, W, false, {x});
  int pos = n.pos_enc(p + "embed_positions", {P + 2, H}, "OPTLearnedPositionalEmbedding");
  x = n.sum(p + "add_positions", {x, pos});
  x = n.dropout(p + "dropout", x);
  for (int64_t i = 0; i < L; ++i) {
    const std::string l = p + "layers." + str(i);
    Attn at;
    at.path = l + ".self_attn";
    at.q = at.path + ".q_proj";
    at.k = at.path + ".k_proj";
    at.v = at.path + ".v_proj";
    at.o = at.path + ".out_proj";
    at.probs_dropout = at.path + ".dropout";
    at.d_model = at.q_dim = H;
    at.qkv_bias = at.o_bias = bias;
    Ffn f;
    f.fc1 = l + ".fc1";
    f.act = l + ".activation_fn";
    f.fc2 = l + ".fc2";
    f.d_model = H;
    f.d_ff = F;
    f.a = act;
    f.bias = bias;
    int a = pre ? ln(l + ".self_attn_layer_norm", x) : x;
    a = n.dropout(l + ".dropout", attention(n, at, a, a));
    x = n.sum(l + ".add_attention", {a, x});
    if (!pre) x = ln(l + ".self_attn_layer_norm", x);
    int m = pre ? ln(l + ".final_layer_norm", x) : x;
    m = n.dropout(l + ".dropout", feed_forward(n, f, m));
    x = n.sum(l + ".add_mlp", {m, x});
    if (!pre) x = ln(l + ".final_layer_norm", x);
  }
  if (final_ln) x = ln(p + "final_layer_norm", x);
  if (W != H) x = n.linear(p + "project_out", W, H, false, {x});
  causal_head(n, c, t.head, W, V, c.flag("tie_word_embeddings", true), false, x);
}

// Llama, Mistral, Qwen2: RMSNorm, rotary positions, grouped-query attention, SwiGLU MLP.
void build_llama(Net& n, const HfConfig& c) {
  const bool qwen2 = c.model_type() == "qwen2";
  const int64_t H = c.dim("hidden_size");
  const int64_t L = c.layers("num_hidden_layers");
  const int64_t I = c.dim("intermediate_size");
  const int64_t V = c.dim("vocab_size");
  const int64_t nh = c.dim("num_attention_heads");
  const int64_t kvh = c.dim("num_key_value_heads", nh);
  if (nh % kvh != 0) c.fail("num_attention_heads is not a multiple of num_key_value_heads");
  if (!c.has("head_dim") && H % nh != 0)
    c.fail("hidden_size is not a multiple of num_attention_heads");
  const int64_t hd = c.dim("head_dim", H / nh);
  const bool attn_bias = c.flag("attention_bias", false);
  const bool mlp_bias = c.flag("mlp_bias", false);
  const Act act = activation(c, c.str("hidden_act", "silu"));
  Target t = target(c, "model", {Head::kBase, Head::kCausalLM, Head::kSeqCls});
  const std::string& p = t.prefix;
  auto rms = [&](const std::string& name, int from) {
    return n.norm(Op::kRmsNorm, name, H, false, {from}, "RMSNorm");
  };
  int x = n.embedding(p + "embed_tokens", V, H, {n.input("input_ids")});
  for (int64_t i = 0; i < L; ++i) {
    const std::string l = p + "layers." + str(i);
    int a = rms(l + ".input_layernorm", x);
    Attn at;
    at.path = l + ".self_attn";
    at.q = at.path + ".q_proj";
    at.k = at.path + ".k_proj";
    at.v = at.path + ".v_proj";
    at.o = at.path + ".o_proj";
    at.d_model = H;
    at.q_dim = nh * hd;
    at.kv_dim = kvh * hd;
    at.qkv_bias = qwen2 || attn_bias;
    at.o_bias = attn_bias && !qwen2;
    x = n.sum(l + ".add_attention", {attention(n, at, a, a), x});
    int m = rms(l + ".post_attention_layernorm", x);
    Ffn f;
    f.path = l + ".mlp";
    f.fc1 = f.path + ".gate_proj";
    f.act = f.path + ".act_fn";
    f.up = f.path + ".up_proj";
    f.fc2 = f.path + ".down_proj";
    f.d_model = H;
    f.d_ff = I;
    f.a = act;
    f.bias = mlp_bias;
    x = n.sum(l + ".add_mlp", {feed_forward(n, f, m), x});
  }
  x = rms(p + "norm", x);
  causal_head(n, c, t.head, H, V, c.flag("tie_word_embeddings", false), false, x);
}

// ------------------------------------------------------------------------------- T5

// T5 / mT5 / Flan-T5: shared embedding, pre-norm RMS (T5LayerNorm) blocks without biases, a
// relative position bias table (num_buckets, heads) in the first block of each stack that
// every block of that stack adds to its self-attention scores, ReLU or gated-GELU FFN.
void build_t5(Net& n, const HfConfig& c) {
  const int64_t d = c.dim("d_model");
  const int64_t dkv = c.dim("d_kv");
  const int64_t ff = c.dim("d_ff");
  const int64_t L = c.layers("num_layers");
  const int64_t Ld = c.has("num_decoder_layers") ? c.layers("num_decoder_layers") : L;
  const int64_t nh = c.dim("num_heads");
  const int64_t buckets = c.dim("relative_attention_num_buckets", 32);
  const int64_t V = c.dim("vocab_size");
  if (nh * dkv > kMaxDim) c.fail("num_heads * d_kv is too large");
  const int64_t inner = nh * dkv;
  const std::string proj = c.str("feed_forward_proj", "relu");
  const bool gated = proj.rfind("gated-", 0) == 0;
  std::string act_name = gated ? proj.substr(6) : proj;
  if (gated && act_name == "gelu") act_name = "gelu_new";  // as T5Config does
  const Act act = activation(c, act_name);
  const bool tied = c.flag("tie_word_embeddings", true);
  Target t = target(c, "", {Head::kBase, Head::kCondGen, Head::kEncoderOnly});

  auto rms = [&](const std::string& name, int from) {
    return n.norm(Op::kRmsNorm, name, d, false, {from}, "T5LayerNorm");
  };
  auto attn = [&](const std::string& path, int x, int kv, int pos) {
    Attn a;
    a.path = path;
    a.q = path + ".q";
    a.k = path + ".k";
    a.v = path + ".v";
    a.o = path + ".o";
    a.probs_dropout = path + ".dropout";
    a.d_model = d;
    a.q_dim = inner;
    a.qkv_bias = a.o_bias = false;
    return attention(n, a, x, kv, pos);
  };
  auto ffn = [&](const std::string& layer, int x) {
    const std::string m = layer + ".DenseReluDense";
    Ffn f;
    f.path = m;
    f.fc1 = gated ? m + ".wi_0" : m + ".wi";
    f.up = gated ? m + ".wi_1" : "";
    f.act = m + ".act";
    f.mid_dropout = m + ".dropout";
    f.fc2 = m + ".wo";
    f.d_model = d;
    f.d_ff = ff;
    f.a = act;
    f.bias = false;
    int h = n.dropout(layer + ".dropout", feed_forward(n, f, rms(layer + ".layer_norm", x)));
    return n.sum(layer + ".add", {h, x});
  };
  auto self_attention = [&](const std::string& block, int x, int& pos) {
    const std::string l = block + ".layer.0";
    if (pos < 0) pos = n.pos_enc(l + ".SelfAttention.relative_attention_bias", {buckets, nh});
    int h = rms(l + ".layer_norm", x);
    int a = attn(l + ".SelfAttention", h, h, pos);
    return n.sum(l + ".add", {n.dropout(l + ".dropout", a), x});
  };

  int x = n.embedding("shared", V, d, {n.input("input_ids")});
  x = n.dropout("encoder.dropout", x);
  int pos = -1;
  for (int64_t i = 0; i < L; ++i) {
    const std::string b = "encoder.block." + str(i);
    x = ffn(b + ".layer.1", self_attention(b, x, pos));
  }
  const int enc = n.dropout("encoder.dropout", rms("encoder.final_layer_norm", x));
  if (t.head == Head::kEncoderOnly) {
    n.output("last_hidden_state", enc);
    return;
  }
  int y = n.embedding("decoder.embed_tokens", V, d, {n.input("decoder_input_ids")}, false);
  y = n.dropout("decoder.dropout", y);
  pos = -1;
  for (int64_t i = 0; i < Ld; ++i) {
    const std::string b = "decoder.block." + str(i);
    y = self_attention(b, y, pos);
    const std::string l = b + ".layer.1";
    int a = attn(l + ".EncDecAttention", rms(l + ".layer_norm", y), enc, -1);
    y = n.sum(l + ".add", {n.dropout(l + ".dropout", a), y});
    y = ffn(b + ".layer.2", y);
  }
  y = n.dropout("decoder.dropout", rms("decoder.final_layer_norm", y));
  if (t.head == Head::kBase) {
    n.output("last_hidden_state", y);
    n.output("encoder_last_hidden_state", enc);
    return;
  }
  n.output("logits",
           n.linear("lm_head", V, d, false, {y}, "Linear", tied ? Own::kBias : Own::kAll));
}

// ------------------------------------------------------------------------ BART family

enum class BartKind { kBart, kMBart, kPegasus, kMarian };

// BART, mBART, Pegasus, Marian: encoder-decoder with a shared token embedding.
//   BART    post-LN, learned positions (max_pos + 2), layernorm_embedding
//   mBART   pre-LN,  learned positions (max_pos + 2), layernorm_embedding + final layer_norm
//   Pegasus pre-LN,  sinusoidal positions (max_pos),   final layer_norm
//   Marian  post-LN, sinusoidal positions (max_pos)
// Sinusoidal tables are frozen nn.Parameters and are counted, as model.parameters() does.
// final_logits_bias is a buffer, not a parameter.
void build_bart_like(Net& n, const HfConfig& c, BartKind kind) {
  const int64_t d = c.dim("d_model");
  const int64_t Le = c.layers("encoder_layers");
  const int64_t Ld = c.layers("decoder_layers");
  heads(c, {"encoder_attention_heads"}, d);
  heads(c, {"decoder_attention_heads"}, d);
  const int64_t Fe = c.dim("encoder_ffn_dim");
  const int64_t Fd = c.dim("decoder_ffn_dim");
  const int64_t V = c.dim("vocab_size");
  const int64_t P = c.dim("max_position_embeddings", 1024);
  const Act act = activation(c, c.str("activation_function", "gelu"));
  const bool pre = kind == BartKind::kMBart || kind == BartKind::kPegasus;
  const bool ln_embedding = kind == BartKind::kBart || kind == BartKind::kMBart;
  const bool final_ln = kind == BartKind::kMBart || kind == BartKind::kPegasus;
  const bool learned = kind == BartKind::kBart || kind == BartKind::kMBart;
  const bool tied = c.flag("tie_word_embeddings", true);
  const bool marian_split =
      kind == BartKind::kMarian && !c.flag("share_encoder_decoder_embeddings", true);
  const int64_t Vd = marian_split ? c.dim("decoder_vocab_size", V) : V;
  std::vector<Head> allowed = {Head::kBase, Head::kCondGen, Head::kSeqCls, Head::kQA};
  if (kind == BartKind::kPegasus || kind == BartKind::kMarian)
    allowed = {Head::kBase, Head::kCondGen};
  Target t = target(c, "model", allowed);
  const std::string& p = t.prefix;
  const std::string pos_cls =
      learned ? "LearnedPositionalEmbedding" : "SinusoidalPositionalEmbedding";

  auto attn = [&](const std::string& path, int x, int kv) {
    Attn a;
    a.path = path;
    a.q = path + ".q_proj";
    a.k = path + ".k_proj";
    a.v = path + ".v_proj";
    a.o = path + ".out_proj";
    a.probs_dropout = path + ".dropout";
    a.d_model = a.q_dim = d;
    return attention(n, a, x, kv);
  };
  // residual block: [pre-LN] f [post-LN], with dropout before the residual sum.
  auto block = [&](const std::string& l, const std::string& norm, int x, auto&& f) {
    int h = pre ? n.layer_norm(l + "." + norm, d, x) : x;
    h = n.dropout(l + ".dropout", f(h));
    int s = n.sum(l + ".add_" + norm, {h, x});
    return pre ? s : n.layer_norm(l + "." + norm, d, s);
  };
  auto ffn = [&](const std::string& l, int64_t dff, int x) {
    Ffn f;
    f.fc1 = l + ".fc1";
    f.act = l + ".activation_fn";
    f.mid_dropout = l + ".activation_dropout";
    f.fc2 = l + ".fc2";
    f.d_model = d;
    f.d_ff = dff;
    f.a = act;
    return feed_forward(n, f, x);
  };
  auto embed = [&](const std::string& stack, int tokens) {
    int pos = n.pos_enc(p + stack + ".embed_positions", {learned ? P + 2 : P, d}, pos_cls);
    int x = n.sum(p + stack + ".add_positions", {tokens, pos});
    if (ln_embedding) x = n.layer_norm(p + stack + ".layernorm_embedding", d, x);
    return n.dropout(p + stack + ".dropout", x);
  };

  int x = embed("encoder", n.embedding(p + "shared", V, d, {n.input("input_ids")}));
  for (int64_t i = 0; i < Le; ++i) {
    const std::string l = p + "encoder.layers." + str(i);
    x = block(l, "self_attn_layer_norm", x, [&](int h) { return attn(l + ".self_attn", h, h); });
    x = block(l, "final_layer_norm", x, [&](int h) { return ffn(l, Fe, h); });
  }
  if (final_ln) x = n.layer_norm(p + "encoder.layer_norm", d, x);
  const int enc = x;

  int tok =
      n.embedding(p + "decoder.embed_tokens", Vd, d, {n.input("decoder_input_ids")}, marian_split);
  int y = embed("decoder", tok);
  for (int64_t i = 0; i < Ld; ++i) {
    const std::string l = p + "decoder.layers." + str(i);
    y = block(l, "self_attn_layer_norm", y, [&](int h) { return attn(l + ".self_attn", h, h); });
    y = block(l, "encoder_attn_layer_norm", y,
              [&](int h) { return attn(l + ".encoder_attn", h, enc); });
    y = block(l, "final_layer_norm", y, [&](int h) { return ffn(l, Fd, h); });
  }
  if (final_ln) y = n.layer_norm(p + "decoder.layer_norm", d, y);

  switch (t.head) {
    case Head::kBase:
      n.output("last_hidden_state", y);
      n.output("encoder_last_hidden_state", enc);
      return;
    case Head::kCondGen:
      n.output("logits",
               n.linear("lm_head", Vd, d, false, {y}, "Linear", tied ? Own::kBias : Own::kAll));
      return;
    case Head::kSeqCls: {
      int e = n.op(Op::kSlice, "classification_head.eos_token", {y}, "getitem");
      e = n.dropout("classification_head.dropout", e);
      e = n.linear("classification_head.dense", d, d, true, {e});
      e = n.op(Op::kTanh, "classification_head.tanh", {e}, "tanh");
      e = n.dropout("classification_head.dropout", e);
      n.output("logits", n.linear("classification_head.out_proj", c.num_labels(), d, true, {e}));
      return;
    }
    case Head::kQA:
      qa_head(n, "qa_outputs", d, y);
      return;
    default:
      c.fail("unsupported head");
  }
}

void build_bart(Net& n, const HfConfig& c) { build_bart_like(n, c, BartKind::kBart); }
void build_mbart(Net& n, const HfConfig& c) { build_bart_like(n, c, BartKind::kMBart); }
void build_pegasus(Net& n, const HfConfig& c) { build_bart_like(n, c, BartKind::kPegasus); }
void build_marian(Net& n, const HfConfig& c) { build_bart_like(n, c, BartKind::kMarian); }

// ------------------------------------------------------------------------------- ViT

// ViT / DeiT: patch embedding conv (hidden, channels, p, p) with stride p -> flatten -> concat
// with the class (and DeiT distillation) token -> + position embeddings -> pre-LN encoder ->
// final layernorm -> classifier on the first token (or pooler for the base model).
void build_vit_like(Net& n, const HfConfig& c, bool deit) {
  const int64_t H = c.dim("hidden_size");
  const int64_t L = c.layers("num_hidden_layers");
  const int64_t I = c.dim("intermediate_size");
  const int64_t C = c.dim("num_channels", 3);
  const int64_t ps = c.dim("patch_size", 16);
  heads(c, {"num_attention_heads"}, H);
  std::vector<int64_t> img = c.dims("image_size", {224});
  if (img.size() == 1) img.push_back(img[0]);
  if (img.size() != 2) c.fail("\"image_size\" is not one or two integers");
  const int64_t patches = (img[0] / ps) * (img[1] / ps);
  if (patches < 1) c.fail("image_size is smaller than patch_size");
  const bool qkv_bias = c.flag("qkv_bias", true);
  const Act act = activation(c, c.str("hidden_act", "gelu"));
  Target t = target(c, deit ? "deit" : "vit",
                    deit ? std::vector<Head>{Head::kBase, Head::kImageCls, Head::kImageClsTeacher}
                         : std::vector<Head>{Head::kBase, Head::kImageCls});
  const std::string& p = t.prefix;
  const std::string e = p + "embeddings";
  int x = n.weighted(Op::kConv, e + ".patch_embeddings.projection", {H, C, ps, ps}, H, true,
                     {n.input("pixel_values")}, "Conv2d");
  x = n.op(Op::kFlatten, e + ".patch_embeddings.flatten", {x}, "flatten");
  Ids cat = {n.pos_enc(e + ".cls_token", {1, 1, H}, "Parameter")};
  if (deit) cat.push_back(n.pos_enc(e + ".distillation_token", {1, 1, H}, "Parameter"));
  cat.push_back(x);
  x = n.op(Op::kConcat, e + ".cat", cat, "cat");
  int pos = n.pos_enc(e + ".position_embeddings", {1, patches + (deit ? 2 : 1), H}, "Parameter");
  x = n.dropout(e + ".dropout", n.sum(e + ".add_position_embeddings", {x, pos}));
  for (int64_t i = 0; i < L; ++i) {
    const std::string l = p + "encoder.layer." + str(i);
    Attn a;
    a.path = l + ".attention.attention";
    a.q = a.path + ".query";
    a.k = a.path + ".key";
    a.v = a.path + ".value";
    a.o = l + ".attention.output.dense";
    a.probs_dropout = a.path + ".dropout";
    a.d_model = a.q_dim = H;
    a.qkv_bias = qkv_bias;
    int h = n.layer_norm(l + ".layernorm_before", H, x);
    h = n.dropout(l + ".attention.output.dropout", attention(n, a, h, h));
    x = n.sum(l + ".add_attention", {h, x});
    Ffn f;
    f.fc1 = l + ".intermediate.dense";
    f.act = l + ".intermediate.intermediate_act_fn";
    f.fc2 = l + ".output.dense";
    f.d_model = H;
    f.d_ff = I;
    f.a = act;
    h = feed_forward(n, f, n.layer_norm(l + ".layernorm_after", H, x));
    x = n.sum(l + ".output.add", {n.dropout(l + ".output.dropout", h), x});
  }
  x = n.layer_norm(p + "layernorm", H, x);
  const int64_t labels = c.num_labels();
  switch (t.head) {
    case Head::kBase:
      n.output("last_hidden_state", x);
      n.output("pooler_output", pooler(n, "pooler.dense", "pooler.activation", H, x));
      return;
    case Head::kImageCls:
      n.output("logits",
               n.linear("classifier", labels, H, true, {n.first_token("cls_token_output", x)}));
      return;
    case Head::kImageClsTeacher: {
      int a = n.linear("cls_classifier", labels, H, true, {n.first_token("cls_token_output", x)});
      int b = n.linear("distillation_classifier", labels, H, true,
                       {n.op(Op::kSlice, "distillation_token_output", {x}, "getitem")});
      n.output("logits", n.sum("average_logits", {a, b}));
      return;
    }
    default:
      c.fail("unsupported head");
  }
}

void build_vit(Net& n, const HfConfig& c) { build_vit_like(n, c, false); }
void build_deit(Net& n, const HfConfig& c) { build_vit_like(n, c, true); }

// --------------------------------------------------------------------------- wav2vec2

// wav2vec 2.0: 1-D conv feature extractor (GroupNorm after the first conv, or LayerNorm after
// every conv) -> feature projection -> masked_spec_embed (a parameter of size hidden, used to
// mask time steps in training) -> grouped positional conv (weight-normed: weight_v + weight_g +
// bias) -> transformer (post-LN, or pre-LN for do_stable_layer_norm) -> CTC head.
void build_wav2vec2(Net& n, const HfConfig& c) {
  const int64_t H = c.dim("hidden_size");
  const int64_t L = c.layers("num_hidden_layers");
  const int64_t I = c.dim("intermediate_size");
  heads(c, {"num_attention_heads"}, H);
  const std::vector<int64_t> dims = c.dims("conv_dim", {512, 512, 512, 512, 512, 512, 512});
  const std::vector<int64_t> kernels = c.dims("conv_kernel", {10, 3, 3, 3, 3, 2, 2});
  if (dims.size() != kernels.size()) c.fail("conv_dim and conv_kernel differ in length");
  const bool conv_bias = c.flag("conv_bias", false);
  const std::string norm = c.str("feat_extract_norm", "group");
  if (norm != "group" && norm != "layer")
    c.fail("feat_extract_norm must be 'group' or 'layer', not '" + norm + "'");
  const Act feat_act = activation(c, c.str("feat_extract_activation", "gelu"));
  const Act act = activation(c, c.str("hidden_act", "gelu"));
  const int64_t K = c.dim("num_conv_pos_embeddings", 128);
  const int64_t G = c.dim("num_conv_pos_embedding_groups", 16);
  if (H % G != 0) c.fail("hidden_size is not a multiple of num_conv_pos_embedding_groups");
  const bool stable = c.flag("do_stable_layer_norm", false);
  const bool masked = c.number("mask_time_prob", 0.05) > 0 || c.number("mask_feature_prob", 0) > 0;
  if (c.flag("add_adapter", false)) c.fail("add_adapter is not supported");
  Target t = target(c, "wav2vec2", {Head::kBase, Head::kCtc, Head::kSeqCls});
  const std::string& p = t.prefix;

  int x = n.input("input_values");
  int64_t in = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    const std::string l = p + "feature_extractor.conv_layers." + str(static_cast<int64_t>(i));
    x = n.weighted(Op::kConv, l + ".conv", {dims[i], in, kernels[i]}, conv_bias ? dims[i] : 0, true,
                   {x}, "Conv1d");
    if (norm == "layer")
      x = n.layer_norm(l + ".layer_norm", dims[i], x);
    else if (i == 0)  // GroupNorm(num_groups = channels): per-channel affine
      x = n.norm(Op::kGroupNorm, l + ".layer_norm", dims[i], true, {x}, "GroupNorm");
    x = n.act(feat_act, l + ".activation", x);
    in = dims[i];
  }
  x = n.layer_norm(p + "feature_projection.layer_norm", in, x);
  x = n.linear(p + "feature_projection.projection", H, in, true, {x});
  x = n.dropout(p + "feature_projection.dropout", x);
  if (masked) x = n.weighted(Op::kMask, p + "masked_spec_embed", {H}, 0, true, {x}, "Parameter");
  const std::string e = p + "encoder";
  // weight_norm(dim=2): weight_v (H, H/G, K) + weight_g (1, 1, K), plus the bias (H).
  int pc = n.weighted(G > 1 ? Op::kSepConv : Op::kConv, e + ".pos_conv_embed.conv", {H, H / G, K},
                      K + H, true, {x}, "Conv1d");
  pc = n.act(feat_act, e + ".pos_conv_embed.activation", pc);
  x = n.sum(e + ".add_pos_conv", {x, pc});
  if (!stable) x = n.layer_norm(e + ".layer_norm", H, x);
  x = n.dropout(e + ".dropout", x);
  for (int64_t i = 0; i < L; ++i) {
    const std::string l = e + ".layers." + str(i);
    Attn a;
    a.path = l + ".attention";
    a.q = a.path + ".q_proj";
    a.k = a.path + ".k_proj";
    a.v = a.path + ".v_proj";
    a.o = a.path + ".out_proj";
    a.probs_dropout = a.path + ".dropout";
    a.d_model = a.q_dim = H;
    Ffn f;
    f.fc1 = l + ".feed_forward.intermediate_dense";
    f.act = l + ".feed_forward.intermediate_act_fn";
    f.mid_dropout = l + ".feed_forward.intermediate_dropout";
    f.fc2 = l + ".feed_forward.output_dense";
    f.d_model = H;
    f.d_ff = I;
    f.a = act;
    int h = stable ? n.layer_norm(l + ".layer_norm", H, x) : x;
    h = n.dropout(l + ".dropout", attention(n, a, h, h));
    x = n.sum(l + ".add_attention", {h, x});
    if (!stable) x = n.layer_norm(l + ".layer_norm", H, x);
    h = stable ? n.layer_norm(l + ".final_layer_norm", H, x) : x;
    h = n.dropout(l + ".feed_forward.output_dropout", feed_forward(n, f, h));
    x = n.sum(l + ".add_feed_forward", {h, x});
    if (!stable) x = n.layer_norm(l + ".final_layer_norm", H, x);
  }
  if (stable) x = n.layer_norm(e + ".layer_norm", H, x);
  switch (t.head) {
    case Head::kBase:
      n.output("last_hidden_state", x);
      return;
    case Head::kCtc: {
      const int64_t V = c.dim("vocab_size");
      n.output("logits", n.linear("lm_head", V, H, true, {n.dropout("dropout", x)}));
      return;
    }
    case Head::kSeqCls: {
      const int64_t proj = c.dim("classifier_proj_size", 256);
      if (c.flag("use_weighted_layer_sum", false))
        x = n.weighted(Op::kMul, "layer_weights", {L + 1}, 0, true, {x}, "Parameter");
      int h = n.linear("projector", proj, H, true, {x});
      h = n.op(Op::kReduce, "mean_pool", {h}, "mean");
      n.output("logits", n.linear("classifier", c.num_labels(), proj, true, {h}));
      return;
    }
    default:
      c.fail("unsupported head");
  }
}

// --------------------------------------------------------------------------- registry

struct Family {
  const char* model_type;
  void (*build)(Net&, const HfConfig&);
};

constexpr Family kFamilies[] = {
    {"albert", build_albert},
    {"bart", build_bart},
    {"bert", build_bert},
    {"bloom", build_bloom},
    {"camembert", build_roberta},
    {"deit", build_deit},
    {"distilbert", build_distilbert},
    {"electra", build_electra},
    {"gpt2", build_gpt2},
    {"gpt_neo", build_gpt_neo},
    {"gpt_neox", build_gpt_neox},
    {"gptj", build_gptj},
    {"llama", build_llama},
    {"longformer", build_longformer},
    {"marian", build_marian},
    {"mbart", build_mbart},
    {"mistral", build_llama},
    {"mt5", build_t5},
    {"opt", build_opt},
    {"pegasus", build_pegasus},
    {"qwen2", build_llama},
    {"roberta", build_roberta},
    {"t5", build_t5},
    {"vit", build_vit},
    {"wav2vec2", build_wav2vec2},
    {"xlm-roberta", build_roberta},
};

const Family* find_family(const std::string& model_type) {
  for (const Family& f : kFamilies)
    if (model_type == f.model_type) return &f;
  return nullptr;
}

// ------------------------------------------------------------------ generic fallback

// Compares names with digit runs as numbers, so layer.2 sorts before layer.10.
bool natural_less(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) &&
        std::isdigit(static_cast<unsigned char>(b[j]))) {
      size_t i2 = i, j2 = j;
      while (i2 < a.size() && a[i2] == '0') ++i2;
      while (j2 < b.size() && b[j2] == '0') ++j2;
      size_t ie = i2, je = j2;
      while (ie < a.size() && std::isdigit(static_cast<unsigned char>(a[ie]))) ++ie;
      while (je < b.size() && std::isdigit(static_cast<unsigned char>(b[je]))) ++je;
      if (ie - i2 != je - j2) return ie - i2 < je - j2;
      int cmp = a.compare(i2, ie - i2, b, j2, je - j2);
      if (cmp != 0) return cmp < 0;
      i = ie;
      j = je;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

std::string lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

// The tensors of one module (a name prefix): "bert.encoder.layer.0.attention.self.query".
struct Module {
  std::string name;
  std::vector<const TensorInfo*> tensors;
};

// Guesses the canonical op of a module from its name and its tensors.
Op guess_op(const Module& m, const TensorInfo& main) {
  const std::string n = lower(m.name);
  std::string last = n.substr(n.rfind('.') == std::string::npos ? 0 : n.rfind('.') + 1);
  bool has_bias = false, has_running = false;
  for (const TensorInfo* t : m.tensors) {
    const std::string leaf = t->name.substr(m.name.empty() ? 0 : m.name.size() + 1);
    if (leaf == "bias" || leaf == "beta") has_bias = true;
    if (leaf == "running_mean" || leaf == "running_var") has_running = true;
  }
  const size_t rank = main.shape.size();
  const bool norm_name =
      contains(n, "norm") || contains(last, "ln") || last == "ln_f" || contains(n, ".ln_");
  if (has_running || contains(last, "batch_norm") || contains(last, "batchnorm") || last == "bn")
    return Op::kBatchNorm;
  if (rank == 1 && norm_name) {
    if (contains(last, "group_norm") || contains(last, "groupnorm")) return Op::kGroupNorm;
    return has_bias ? Op::kLayerNorm : Op::kRmsNorm;
  }
  const std::string tn = lower(main.name);
  const bool positional = contains(tn, "position") || contains(last, "pos") || last == "wpe" ||
                          contains(tn, "cls_token") || contains(tn, "distillation_token") ||
                          contains(n, "relative_attention_bias");
  if (positional && rank >= 2) return Op::kPosEnc;
  if (rank == 2 && (contains(n, "embed") || last == "wte" || last == "shared"))
    return Op::kEmbedding;
  if (rank == 4 || rank == 3) {
    if (main.shape[1] == 1 && main.shape[0] > 1) return Op::kSepConv;
    return Op::kConv;
  }
  if (rank == 2) return Op::kLinear;
  return Op::kOther;
}

}  // namespace

// ---------------------------------------------------------------------------- public

std::vector<std::string> supported_model_types() {
  std::vector<std::string> out;
  for (const Family& f : kFamilies) out.emplace_back(f.model_type);
  std::sort(out.begin(), out.end());
  return out;
}

bool has_builder(const std::string& model_type) { return find_family(model_type) != nullptr; }

ArchGraph build_graph(const HfConfig& config, const std::string& name, const GraphLimits& limits) {
  const Family* f = find_family(config.model_type());
  if (!f) config.fail("no graph builder for model_type '" + config.model_type() + "'");
  {
    Net counter(config.source(), nullptr, limits);  // sizes the graph; throws over the limits
    f->build(counter, config);
  }
  GraphBuilder builder(config.source());
  Net net(config.source(), &builder, limits);
  f->build(net, config);
  return builder.finish(name, "huggingface", net.params(), false, limits);
}

bool is_buffer_tensor(const std::string& name) {
  static const char* const kBufferSuffixes[] = {
      ".position_ids",
      ".token_type_ids",
      "final_logits_bias",
      ".attn.bias",
      ".attn.masked_bias",
      ".rotary_emb.inv_freq",
      ".relative_position_index",
      ".num_batches_tracked",
      ".running_mean",
      ".running_var",
  };
  for (const char* s : kBufferSuffixes)
    if (ends_with(name, s)) return true;
  return false;
}

// The fallback graph: input -> one node per module in natural name order -> output. Edges are
// approximate (a chain; residuals, branches and head structure are unknown without the model
// code), which is why such graphs have format "huggingface-generic".
ArchGraph build_generic_graph(const std::vector<TensorInfo>& tensors, const std::string& name,
                              const std::string& source, const GraphLimits& limits) {
  std::map<std::string, Module> by_name;
  int64_t params = 0;
  for (const TensorInfo& t : tensors) {
    const size_t dot = t.name.rfind('.');
    const std::string module = dot == std::string::npos ? t.name : t.name.substr(0, dot);
    Module& m = by_name[module];
    m.name = module;
    m.tensors.push_back(&t);
    if (!is_buffer_tensor(t.name))
      params = checked_add(params, checked_numel(t.shape, source), source);
  }
  if (by_name.empty()) throw_bad_input(source, "safetensors header names no tensors");
  if (static_cast<int64_t>(by_name.size()) + 2 > limits.max_nodes)
    throw_bad_input(source, "graph would have " + str(static_cast<int64_t>(by_name.size()) + 2) +
                                " nodes, over the limit of " + str(limits.max_nodes));
  std::vector<const Module*> order;
  for (const auto& kv : by_name) order.push_back(&kv.second);
  std::sort(order.begin(), order.end(),
            [](const Module* a, const Module* b) { return natural_less(a->name, b->name); });

  GraphBuilder builder(source);
  int prev = builder.add(Op::kInput, "input", "input");
  for (const Module* m : order) {
    // The main tensor: "weight" (or weight_v of a weight-normed conv), else the largest.
    const TensorInfo* main = nullptr;
    const TensorInfo* largest = nullptr;
    int64_t own = 0, largest_numel = -1;
    for (const TensorInfo* t : m->tensors) {
      if (is_buffer_tensor(t->name)) continue;
      const int64_t ne = checked_numel(t->shape, source);
      own = checked_add(own, ne, source);
      const std::string leaf = t->name.substr(t->name.rfind('.') + 1);
      if (!main && (leaf == "weight" || leaf == "weight_v" || leaf == "original1")) main = t;
      if (ne > largest_numel) {
        largest = t;
        largest_numel = ne;
      }
    }
    if (!main) main = largest;
    if (!main) continue;  // buffers only
    Node nd;
    nd.op = guess_op(*m, *main);
    nd.name = m->name;
    nd.source_op = "safetensors";
    if (std::all_of(main->shape.begin(), main->shape.end(), [](int64_t d) { return d > 0; }))
      nd.shape = fold_shape(main->shape);
    nd.params = own;
    int id = builder.add(std::move(nd));
    builder.connect(prev, id);
    prev = id;
  }
  int out = builder.add(Op::kOutput, "output", "output");
  builder.connect(prev, out);
  return builder.finish(name, "huggingface-generic", params, false, limits);
}

}  // namespace archbert::hf
