#pragma once
// Torch-facing parts of the ArchBERT model: graph batching, the modules (node + shape embedding,
// graph attention, shared cross encoder, heads), losses, MAM masking and checkpoints. Included by
// training code only; everything else uses model.h.
//
// Shape legend: G graphs, Nt total nodes of the batch (disjoint union), Nmax max kept nodes of a
// graph, E directed edges, B texts, L tokens, d = d_model, H heads.

#include <torch/torch.h>

#include <string>
#include <vector>

#include "archbert/model.h"

namespace archbert {

// ---------------------------------------------------------------------------------------------
// Graph batches.

// A batch of graphs as one disjoint union (the GAT works on it without padding) plus the
// padded view the cross encoder needs.
struct GraphBatch {
  int64_t graphs = 0;
  int64_t total_nodes = 0;
  torch::Tensor ops;             // [Nt] long: node-op ids (may be MAM-masked in place)
  torch::Tensor shape_ids;       // [Nt, 4] long: bucket of (out, in, kH, kW); 0 when no shape
  torch::Tensor has_shape;       // [Nt] bool: the node owns a weight shape
  torch::Tensor shape_hidden;    // [Nt] bool: shape replaced by the [MASK] shape vector (MAM)
  torch::Tensor is_io;           // [Nt] bool: input/output node (never MAM-masked)
  torch::Tensor edge_src;        // [E] long: producer (global node index)
  torch::Tensor edge_dst;        // [E] long: consumer (global node index)
  torch::Tensor node_graph;      // [Nt] long: graph of each node
  torch::Tensor pad_index;       // [G, Nmax] long: global node at each padded slot; Nt for padding
  torch::Tensor pad_mask;        // [G, Nmax] bool: true on real (kept) nodes
  std::vector<int64_t> offsets;  // G+1: first global node of each graph
  std::vector<bool> capped;      // graph had more nodes than max_graph_nodes
  std::vector<int64_t> kept;     // G: nodes of each graph in the padded view

  // Summary tokens (config.use_summary; empty otherwise), S in total, graph by graph, computed
  // from the unmasked graphs. Kinds: SummaryKind.
  torch::Tensor summary_kind;    // [S] long
  torch::Tensor summary_op;      // [S] long: the op (kOpCount, kKernelCount), else node_pad_id
  torch::Tensor summary_kernel;  // [S, 2] long: shape buckets of (kH, kW) (kKernelCount), else 0
  torch::Tensor summary_value;   // [S] double: count, parameters, layers or depth
  std::vector<int64_t> summary_offsets;  // G+1: first summary token of each graph
};

// What a summary token states about its graph.
enum SummaryKind : int64_t {
  kOpCount = 0,      // how many nodes of an op
  kKernelCount = 1,  // how many nodes of an op have a (kH, kW) window
  kParamCount = 2,   // trainable parameters
  kLayerCount = 3,   // layers in total (the inventory's layers)
  kDepth = 4,        // longest input -> output path, in nodes
  kSummaryKinds = 5
};

// Builds the batch (node cap applied to the padded view only).
GraphBatch make_graph_batch(const std::vector<const ArchGraph*>& graphs, const ModelConfig& config);

// Gathers per-node rows [Nt, ...] into the padded layout [G, Nmax, ...]; padding gets `fill`.
torch::Tensor to_padded(const torch::Tensor& flat, const GraphBatch& batch, double fill = 0.0);

// Texts: token ids cut to max_text_len and padded with text_pad_id.
struct TextBatch {
  torch::Tensor ids;   // [B, L] long
  torch::Tensor mask;  // [B, L] bool: real tokens
};
TextBatch make_text_batch(const std::vector<std::vector<int32_t>>& ids, const ModelConfig& config);

// ---------------------------------------------------------------------------------------------
// Modules.

// E_v(V) + E_s(S): node-op embedding plus four bucketed shape sub-embeddings (d/4 each,
// concatenated), a learned "no shape" vector for parameter-free nodes and a learned [MASK]
// shape vector for MAM-masked nodes.
class NodeEmbeddingImpl : public torch::nn::Module {
 public:
  explicit NodeEmbeddingImpl(const ModelConfig& config);
  // -> [Nt, d]
  torch::Tensor forward(const GraphBatch& batch);
  torch::nn::Embedding& op_table() { return op_; }  // [node_vocab, d]

 private:
  bool use_shape_;
  torch::nn::Embedding op_{nullptr};                                             // [node_vocab, d]
  torch::nn::Embedding out_{nullptr}, in_{nullptr}, kh_{nullptr}, kw_{nullptr};  // [K, d/4]
  torch::Tensor no_shape_;                                                       // [d]
  torch::Tensor mask_shape_;                                                     // [d]
};
TORCH_MODULE(NodeEmbedding);

// Embedding of a non-negative number v (a count, a parameter total, a number in a text):
// sin/cos of log10(1 + v) at `value_frequencies` geometric frequencies (periods 32 down to
// 0.01 decades, so values 2% apart differ), then a linear map to d.
class ValueEmbeddingImpl : public torch::nn::Module {
 public:
  explicit ValueEmbeddingImpl(const ModelConfig& config);
  // values [...] double or float (>= 0) -> [..., d]
  torch::Tensor forward(const torch::Tensor& values);

 private:
  torch::Tensor omega_;              // [F] buffer: angular frequencies per decade
  torch::nn::Linear proj_{nullptr};  // 2F -> d
};
TORCH_MODULE(ValueEmbedding);

// One multi-head graph attention layer (Veličković et al.) over self-loops, predecessors and
// successors with separate projections and attention vectors per relation; sparse (edge lists,
// segment softmax), then residual + LayerNorm.
class GraphAttentionImpl : public torch::nn::Module {
 public:
  GraphAttentionImpl(int64_t d, int64_t heads, double dropout);
  // x [Nt, d]; tgt/src/rel [E'] long (E' = Nt + 2E: message src -> tgt via relation rel).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& tgt, const torch::Tensor& src,
                        const torch::Tensor& rel);

 private:
  int64_t d_, heads_, dh_;
  double dropout_;
  torch::nn::Linear proj_{nullptr};  // d -> 3d: W_self | W_pred | W_succ
  torch::Tensor att_src_;            // [3, H, dh]
  torch::Tensor att_dst_;            // [3, H, dh]
  torch::nn::Linear out_{nullptr};   // d -> d
  torch::nn::LayerNorm norm_{nullptr};
};
TORCH_MODULE(GraphAttention);

// Stack of graph attention layers; builds the relation edge list once per batch.
class GraphEncoderImpl : public torch::nn::Module {
 public:
  explicit GraphEncoderImpl(const ModelConfig& config);
  // x [Nt, d] -> [Nt, d]
  torch::Tensor forward(const torch::Tensor& x, const GraphBatch& batch);

 private:
  bool use_edges_;
  torch::nn::ModuleList layers_{nullptr};
};
TORCH_MODULE(GraphEncoder);

// Pre-LN, batch-first transformer encoder layer: x + MHA(LN(x)), then x + FFN(LN(x)) with GELU.
class EncoderLayerImpl : public torch::nn::Module {
 public:
  EncoderLayerImpl(int64_t d, int64_t heads, int64_t ffn, double dropout);
  // x [B, L, d], mask [B, L] bool (true = real) -> [B, L, d]
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask);

 private:
  int64_t d_, heads_, dh_;
  double dropout_;
  torch::nn::LayerNorm ln1_{nullptr}, ln2_{nullptr};
  torch::nn::Linear qkv_{nullptr}, out_{nullptr}, ff1_{nullptr}, ff2_{nullptr};
};
TORCH_MODULE(EncoderLayer);

// The shared cross encoder E_c: layers + final LayerNorm.
class CrossEncoderImpl : public torch::nn::Module {
 public:
  explicit CrossEncoderImpl(const ModelConfig& config);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask);  // [B, L, d]

 private:
  torch::nn::ModuleList layers_{nullptr};
  torch::nn::LayerNorm final_{nullptr};
};
TORCH_MODULE(CrossEncoder);

// MAM head H_M: node states -> node-op logits.
class MamHeadImpl : public torch::nn::Module {
 public:
  explicit MamHeadImpl(const ModelConfig& config);
  torch::Tensor forward(const torch::Tensor& states);  // [..., d] -> [..., node_vocab]

 private:
  torch::nn::Linear dense_{nullptr}, decoder_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
};
TORCH_MODULE(MamHead);

// AQA head H_q: MLP over J_t ⊙ J_g -> |A| logits.
class AqaHeadImpl : public torch::nn::Module {
 public:
  explicit AqaHeadImpl(const ModelConfig& config);
  torch::Tensor forward(const torch::Tensor& jt, const torch::Tensor& jg);  // [B, d] -> [B, |A|]

 private:
  torch::nn::Linear fc1_{nullptr}, fc2_{nullptr};
};
TORCH_MODULE(AqaHead);

// The real (unpadded) tokens of a set of statements, the statement head's input.
struct StatementTokens {
  torch::Tensor states;       // [T, d]
  std::vector<int64_t> text;  // [T]: the statement (batch row) each token belongs to
  std::vector<int64_t> pos;   // [T]: its position in that statement

  // The tokens of text [B, L, d] under mask [B, L] bool; row b of the batch is statement rows[b].
  static StatementTokens of(const torch::Tensor& text, const torch::Tensor& mask,
                            const std::vector<int64_t>& rows);
  // The tokens of several sets, in order.
  static StatementTokens cat(const std::vector<StatementTokens>& parts);
};

// Statement head (ModelConfig::ar_head_layers; not in the paper). A statement's token states
// attend to its graph's tokens through cross-attention layers, each x + MHA(LN(x), graph) then
// x + FFN(LN(x)) with an FFN of width d; a graph token's key and value come from
// [LN(state) ; LN(input to the encoder)], and each layer also holds a learned sink, what a token
// reads when nothing in the graph matches it. An MLP over the masked mean and max of the result
// gives a correction that is added to the paper's score:
//   logit = a·cos(J_t, J_g) + b + MLP(mean, max),
// with a, b learned (starting at 10 and -5, the cosine loss's (cos - 0.5) / 0.1) and the MLP's
// last layer starting near zero, so the head starts as the cosine and learns what it misses. The
// cosine enters detached: the head does not train J_t or J_g through it.
// The statements' real tokens are grouped by graph into query rows of at most 128 tokens; each
// row reads its graph's keys and values (projected once per graph by memory()).
class ArHeadImpl : public torch::nn::Module {
 public:
  explicit ArHeadImpl(const ModelConfig& config);
  // Per layer: keys and values of every graph token and then of the sink, [G, M+1, 2d], from
  // the tokens' states [G, M, d] and what entered the encoder for them [G, M, d] (op identity
  // and counts as they were, before the encoder mixed them with the rest of the graph).
  std::vector<torch::Tensor> memory(const torch::Tensor& graph_tokens,
                                    const torch::Tensor& graph_inputs);
  // tokens of n statements; memory from memory(); graph_mask [G, M] bool; text_graph [n] long
  // (the graph row of each statement); cosine [n] (cos(J_t, J_g) of each) -> logits [n].
  torch::Tensor forward(const StatementTokens& tokens, int64_t n,
                        const std::vector<torch::Tensor>& memory, const torch::Tensor& graph_mask,
                        const torch::Tensor& text_graph, const torch::Tensor& cosine);

 private:
  int64_t d_, heads_, dh_;
  torch::nn::ModuleList ln_q_{nullptr}, ln_kv_{nullptr}, ln_in_{nullptr}, ln_ff_{nullptr};
  torch::nn::ModuleList q_{nullptr}, kv_{nullptr}, out_{nullptr}, ff1_{nullptr}, ff2_{nullptr};
  torch::nn::LayerNorm final_{nullptr};
  torch::nn::Linear fc1_{nullptr}, fc2_{nullptr};  // 2d -> d -> 1
  torch::Tensor sink_;                             // [layers, 2d]: key and value of the sink
  torch::Tensor cos_scale_, cos_bias_;             // [1], [1]
};
TORCH_MODULE(ArHead);

// The statement head's loss: mean binary cross-entropy of logits [B] against labels [B].
torch::Tensor ar_head_loss(const torch::Tensor& logits, const torch::Tensor& target);

// Encoded graphs.
struct GraphEncoding {
  torch::Tensor gat_states;    // [Nt, d]: GAT output over the whole graphs
  torch::Tensor node_states;   // [G, Nmax, d]: cross-encoder output (GAT output when !use_cross)
  torch::Tensor mask;          // [G, Nmax] bool
  torch::Tensor tokens;        // [G, M, d]: every token of a graph (kept nodes, then summary
                               // tokens), M >= Nmax
  torch::Tensor token_inputs;  // [G, M, d]: the same tokens as they entered the cross encoder
                               // (GAT states, summary tokens); kept only for a statement head
  torch::Tensor token_mask;    // [G, M] bool: real tokens
  torch::Tensor pooled;        // [G, d]: J_g (masked mean)
};
// Encoded texts.
struct TextEncoding {
  torch::Tensor token_states;  // [B, L, d]
  torch::Tensor mask;          // [B, L] bool
  torch::Tensor pooled;        // [B, d]: J_t (masked mean)
};
// One pretraining forward over G graphs and B texts, text b describing graph text_graph[b].
struct PairOutput {
  GraphEncoding graphs;
  TextEncoding texts;
  torch::Tensor jg_per_text;  // [B, d]: J_g of each text's graph (each graph encoded once)
  torch::Tensor cosine;       // [B]
  torch::Tensor mam_logits;   // [G, Nmax, node_vocab]
  torch::Tensor ar_logits;    // [B]: the statement head's logits (when the network has one)
};

// The whole network.
class ArchBertNetImpl : public torch::nn::Module {
 public:
  explicit ArchBertNetImpl(const ModelConfig& config);
  const ModelConfig& config() const { return config_; }

  TextEncoding encode_texts(const TextBatch& texts);
  GraphEncoding encode_graphs(const GraphBatch& graphs);
  // text_graph [B] long: index into the graph batch for each text.
  PairOutput forward_pairs(const GraphBatch& graphs, const TextBatch& texts,
                           const torch::Tensor& text_graph);

  // Same as forward_pairs, but the texts are given as ids and encoded in chunks of
  // `text_chunk` texts of similar length (far less padding than one batch padded to the
  // longest text); out.texts holds only `pooled`.
  PairOutput forward_pairs(const GraphBatch& graphs, const std::vector<std::vector<int32_t>>& ids,
                           const torch::Tensor& text_graph, int64_t text_chunk);
  // J_t of every text [B, d], rows in input order, encoded in length-sorted chunks.
  torch::Tensor pooled_texts(const std::vector<std::vector<int32_t>>& ids, int64_t chunk);
  // J_g of every graph [G, d], rows in input order, encoded `chunk` graphs at a time.
  torch::Tensor pooled_graphs(const std::vector<const ArchGraph*>& graphs, int64_t chunk);

  MamHead& mam_head() { return mam_; }
  torch::nn::Embedding& token_embedding() { return tok_; }  // [text_vocab, d]

  // What each text piece is to a number reader (number_roles of the tokenizer), stored with the
  // weights; used when config.use_numbers. A network without them reads no numbers.
  void set_number_roles(const std::vector<int8_t>& roles);
  // The graphs entering the cross encoder in one call hold at most this many tokens (nodes plus
  // summary tokens, padded), graphs of similar size together; the result does not depend on it.
  void set_graph_token_budget(int64_t tokens) { graph_token_budget_ = tokens; }
  AqaHead& aqa_head() { return aqa_; }  // null module when aqa_answers == 0
  // config.inventory_head: the inventory head's logits over the L2-normalised J_g,
  // jg [G, d] -> [G, node_vocab]. Error(kUsage) when the network has no inventory head.
  torch::Tensor inventory_logits(const torch::Tensor& jg);
  bool has_ar_head() const { return !ar_.is_empty(); }
  // The statement head's logits [n] for n statements (their real tokens) about
  // graphs[text_graph], cosine [n] being each one's cos(J_t, J_g).
  // Error(kUsage) when the network has no statement head.
  torch::Tensor ar_logits(const StatementTokens& tokens, int64_t n, const GraphEncoding& graphs,
                          const torch::Tensor& text_graph, const torch::Tensor& cosine);

 private:
  ModelConfig config_;
  torch::nn::Embedding tok_{nullptr};  // [text_vocab, d]
  torch::nn::Embedding pos_{nullptr};  // [max_text_len, d]
  torch::nn::LayerNorm text_norm_{nullptr};
  NodeEmbedding node_emb_{nullptr};
  GraphEncoder gat_{nullptr};
  CrossEncoder cross_{nullptr};
  MamHead mam_{nullptr};
  AqaHead aqa_{nullptr};
  torch::nn::Linear inventory_{nullptr};
  ArHead ar_{nullptr};
  ValueEmbedding value_{nullptr};                               // use_summary || use_numbers
  torch::nn::Embedding summary_kind_{nullptr};                  // [kSummaryKinds, d]
  torch::nn::Embedding kernel_h_{nullptr}, kernel_w_{nullptr};  // [shape_buckets, d/2]
  torch::nn::LayerNorm summary_norm_{nullptr};
  torch::Tensor number_roles_;  // [text_vocab] long buffer (use_numbers)
  int64_t graph_token_budget_ = 8192;

  torch::Tensor summary_tokens(const GraphBatch& g);  // [S, d]
  struct TextNumbers {
    torch::Tensor values;  // [B, L] double: the number a token belongs to, -1 outside numbers
    torch::Tensor kernel;  // [B, L, 2] long: shape buckets of "HxW" (-1 elsewhere); when
                           // use_text_kernels, else undefined
  };
  TextNumbers text_numbers(const torch::Tensor& ids);
};
TORCH_MODULE(ArchBertNet);

// The network behind an ArchBertModel facade.
ArchBertNet& torch_net(ArchBertModel& model);
// Wraps a network (e.g. after training) into the facade.
ArchBertModel make_model(ArchBertNet net, CheckpointMeta meta = {});

// Masked mean over dim 1: x [B, L, d], mask [B, L] -> [B, d].
torch::Tensor masked_mean(const torch::Tensor& x, const torch::Tensor& mask);

// ---------------------------------------------------------------------------------------------
// Losses and MAM masking.

// L_SIM = mean over pairs of (y - cos)^2. cosine, target [B].
torch::Tensor sim_loss(const torch::Tensor& cosine, const torch::Tensor& target);
// A classification form of L_SIM (not the paper's): mean binary cross-entropy of
// sigmoid((cos - 0.5) / temperature) against y. Pairs far on the right side of 0.5 give almost no
// gradient, so the encoders are not pulled to cos = 1 for every true pair. cosine, target [B].
torch::Tensor sim_loss_bce(const torch::Tensor& cosine, const torch::Tensor& target,
                           double temperature);
// In-batch text -> graph InfoNCE with several positives per text (not in the paper):
// mean over texts of  log sum_g exp(s_tg / T) - log sum_{g positive} exp(s_tg / T),  s the
// cosine of J_t and J_g. A text true of several graphs of the batch (a family sentence and every
// member of the family) is not pushed away from any of them. jt [P, d], jg [G, d],
// positive [P, G] bool with at least one true per row.
torch::Tensor contrastive_loss(const torch::Tensor& jt, const torch::Tensor& jg,
                               const torch::Tensor& positive, double temperature);
// Cross-entropy on masked nodes. logits [G, Nmax, V]; targets [Nt] long (-100 = not masked).
// Returns 0 (with a graph) when nothing is masked.
torch::Tensor mam_loss(const torch::Tensor& logits, const torch::Tensor& targets,
                       const GraphBatch& batch);

// Which node ops each graph holds (input and output excluded): [G, node_vocab] float, 1 where
// the graph has at least one node of that op. Read from the graphs, so MAM masking of a batch
// does not change it.
torch::Tensor op_presence(const std::vector<const ArchGraph*>& graphs);
// The inventory term (not in the paper): mean binary cross-entropy of the inventory head's
// logits [G, V] against op_presence [G, V]. It asks J_g itself, the vector every cosine reads,
// to tell which layers a graph has: without it, layers that are one or a few nodes of a graph
// (pooling, flatten, dilated convolutions) are not linearly readable from J_g.
torch::Tensor inventory_loss(const torch::Tensor& logits, const torch::Tensor& presence);

// MAM masking in place on batch.ops / batch.shape_hidden: per graph, 15% (at least one) of the
// non-input/output nodes are chosen; of those 80% -> [MASK], 10% -> a random op, 10% unchanged;
// the shape embedding of every chosen node is hidden. Deterministic for a generator state.
// Returns targets [Nt] long: the original op on chosen nodes, -100 elsewhere.
torch::Tensor mask_nodes(GraphBatch& batch, at::Generator& gen, double rate = 0.15);

// ---------------------------------------------------------------------------------------------
// Checkpoints.

// Writes config, meta and every parameter and buffer of `net` to `path` atomically.
void save_checkpoint(const std::string& path, ArchBertNet& net, const CheckpointMeta& meta);
// Reads a checkpoint; Error(kBadInput) naming `path` on any problem. `meta` may be null.
ArchBertNet load_checkpoint(const std::string& path, CheckpointMeta* meta);

}  // namespace archbert
