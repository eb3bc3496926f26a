#pragma once
// Shared pieces of the Hugging Face graph builders (private to src/import/huggingface_*.cpp):
// the node collector (Net), checked parameter arithmetic, activations, the task-head parser and
// the transformer blocks every family is made of (attention, feed-forward, residual sub-layers,
// pooler and task heads). The layout rules they follow are in huggingface_builders.cpp.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "archbert/error.h"
#include "archbert/graph.h"
#include "import/huggingface_builders.h"
#include "util/strings.h"

namespace archbert::hf::detail {

using Ids = std::vector<int>;

inline int64_t checked_add(int64_t a, int64_t b, const std::string& source) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) throw_bad_input(source, "parameter count overflows");
  return r;
}

inline int64_t checked_numel(const std::vector<int64_t>& dims, const std::string& source) {
  int64_t n = 1;
  for (int64_t d : dims)
    if (__builtin_mul_overflow(n, d, &n)) throw_bad_input(source, "parameter count overflows");
  return n;
}

inline std::string str(int64_t i) { return std::to_string(i); }

// An activation as the config names it and the canonical op it maps to.
struct Act {
  Op op = Op::kGelu;
  std::string name;
};

// Maps transformers' ACT2FN names to canonical ops (all GELU variants are `gelu`).
Act activation(const HfConfig& c, const std::string& name);

// Which parameters of a weighted node are its own (the rest belong to a node seen earlier).
enum class Own { kAll, kBias, kNone };

inline Own own_if(bool owned) { return owned ? Own::kAll : Own::kNone; }

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

// Names of separate q, k, v projections inside an attention module ("q_proj", "query", ...).
struct QkvNames {
  const char* q;
  const char* k;
  const char* v;
};
constexpr QkvNames kProjNames{"q_proj", "k_proj", "v_proj"};  // BART, OPT, GPT-Neo, Llama, ...
constexpr QkvNames kQueryKeyValue{"query", "key", "value"};   // BERT, ALBERT, ViT
constexpr QkvNames kLinNames{"q_lin", "k_lin", "v_lin"};      // DistilBERT
constexpr QkvNames kT5Names{"q", "k", "v"};                   // T5

// Self-attention of width `width` (q_dim = d_model) with separate projections
// `<path>.<names>`, output projection `o` and attention-probability dropout `probs_dropout`
// (empty -> none); biases on, class "Linear". Callers adjust the rest.
Attn separate_attn(const std::string& path, const QkvNames& names, const std::string& o,
                   const std::string& probs_dropout, int64_t width);
// The same with one fused projection `<path>.<qkv>` followed by a split.
Attn fused_attn(const std::string& path, const std::string& qkv, const std::string& o,
                const std::string& probs_dropout, int64_t width);

// Builds q/k/v, scores, softmax, context and output projection; returns the output projection.
// `kv_from` feeds k and v (the encoder output for cross-attention); `pos_bias` is added to the
// scores when >= 0 (T5's relative bias, BERT's relative-key distance embedding).
int attention(Net& n, const Attn& a, int x, int kv_from, int pos_bias = -1);

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

// A plain fc1 -> act -> fc2 block (no gate, no middle dropout) with biases and class "Linear".
Ffn mlp(const std::string& fc1, const std::string& act, const std::string& fc2, int64_t d_model,
        int64_t d_ff, const Act& a);

int feed_forward(Net& n, const Ffn& f, int x);

// A residual sub-layer: [norm (pre-LN)] -> body -> [dropout] -> sum with the input ->
// [norm (post-LN)]. `norm` names the norm module in either placement; empty `dropout` -> none.
struct Sublayer {
  std::string norm;
  std::string dropout;
  std::string add;
  bool pre = true;
};

// `norm_fn(name, from)` adds the norm node; `body(h)` adds the sub-layer and returns its output.
template <class NormFn, class Body>
int residual(Net& n, const Sublayer& s, int x, NormFn&& norm_fn, Body&& body) {
  int h = s.pre ? norm_fn(s.norm, x) : x;
  h = body(h);
  if (!s.dropout.empty()) h = n.dropout(s.dropout, h);
  const int sum = n.sum(s.add, {h, x});
  return s.pre ? sum : norm_fn(s.norm, sum);
}

// A `norm_fn` for residual(): LayerNorm(dim), its weights owned unless `owned` is false.
inline auto layer_norm_of(Net& n, int64_t dim, bool owned = true) {
  return [&n, dim, owned](const std::string& name, int from) {
    return n.layer_norm(name, dim, from, owned);
  };
}

// Checks heads divide the width, as the HF attention modules do.
int64_t heads(const HfConfig& c, std::initializer_list<const char*> keys, int64_t width);

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

// The class being built: its head and the module prefix of the base model inside it ("" for the
// base model itself, e.g. "bert." for BertForMaskedLM).
struct Target {
  Head head = Head::kBase;
  std::string prefix;
};

// Parses architectures[0]; fails naming the supported heads when it is not in `allowed`.
Target target(const HfConfig& c, const std::string& base_attr, const std::vector<Head>& allowed);

// pooler: first token -> dense -> tanh.
int pooler(Net& n, const std::string& dense, const std::string& act_name, int64_t hidden, int x);

// An MLM head: dense -> act -> LayerNorm -> decoder tied to the word embeddings (+ own bias).
int mlm_head(Net& n, const std::string& dense, const std::string& act_name, const std::string& norm,
             const std::string& decoder, const Act& act, int64_t hidden, int64_t width,
             int64_t vocab, bool tied, int x);

// qa_outputs (2, hidden) -> split into start and end logits.
void qa_head(Net& n, const std::string& name, int64_t hidden, int x);

// dropout -> classifier (out, hidden) as the "logits" output (token and sequence classifiers).
void dropout_classifier(Net& n, int64_t out, int64_t hidden, int x);

// An LM head over the vocabulary: tied heads own only their bias (if any).
int lm_head(Net& n, const std::string& name, int64_t vocab, int64_t hidden, bool bias, bool tied,
            int x);

}  // namespace archbert::hf::detail
