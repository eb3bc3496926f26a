#pragma once
// The ArchBERT model (paper §3, SPEC §4): configuration, node capping, shape buckets, and a
// torch-free facade for embedding texts and graphs. Torch-facing modules live in model_torch.h.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "archbert/graph.h"

namespace archbert {

// Everything that defines the network's size and its ablations. Read from / written to JSON.
struct ModelConfig {
  std::string preset = "small";
  int64_t d_model = 256;            // embedding width d (divisible by heads, gat_heads and 4)
  int64_t heads = 4;                // heads of the shared cross encoder
  int64_t layers = 4;               // layers of the shared cross encoder
  int64_t gat_layers = 2;           // graph attention layers
  int64_t gat_heads = 4;            // heads per graph attention layer
  int64_t ffn_dim = 1024;           // hidden width of the transformer FFN
  int64_t text_vocab = 8192;        // given by the tokenizer (includes its specials)
  int64_t text_pad_id = 0;          // padding token id of the tokenizer
  int64_t max_text_len = 96;        // position embeddings; longer texts are cut by the caller
  int64_t max_graph_nodes = 512;    // nodes entering the cross encoder (the GAT sees all)
  int64_t shape_buckets = 48;       // buckets per shape dimension
  int64_t shape_exact = 8;          // values 1..shape_exact get their own bucket
  int64_t shape_max_dim = 1 << 20;  // values >= this share the last bucket
  int64_t aqa_answers = 0;          // |A| of the AQA head; 0: no AQA head
  double dropout = 0.0;             // costly on CPU; 0 by default
  bool use_shape = true;            // ablation --no-shape: no shape embedding
  bool use_edges = true;            // ablation --no-edges: GAT sees self-loops only
  bool use_cross = true;            // ablation --no-cross: graph states bypass the cross encoder
  // Graph summary tokens (--no-summary): besides its nodes, each graph enters the cross encoder
  // with one token per op type (op + how many), per (op, kernel) pair (op + kernel + how many),
  // and for its parameter count, its layer count and its depth. Counts come from the whole
  // graph, also when the node cap applies. J_g is the mean of the node-token mean and the
  // summary-token mean.
  bool use_summary = true;
  // Balanced summary tokens (not in the paper; `train pretrain --balanced-summary`): a summary
  // token's identity (kind + op + kernel embeddings) and its value embedding are each brought to
  // unit RMS before they are summed. Without it the value embedding dominates: in the shipped
  // checkpoint it has norm ~6.5 against ~0.4 for an op row, and op-count tokens of different ops
  // with the same count have cosine 0.997 after the summary norm. Configs without the key: false.
  bool balanced_summary = false;
  // Number values in text (--no-numbers): a number's pieces ("6 , 6 ##0 ##1 , ...") get the
  // value embedding of the number they spell, the same embedding that carries the summary
  // tokens' counts.
  bool use_numbers = true;
  // Balanced number tokens (not in the paper; `train pretrain --balanced-numbers`; needs
  // use_numbers): on a number's pieces, the token's identity and place (token + position
  // embeddings, plus the kernel embedding with use_text_kernels) and its value embedding are
  // each brought to unit RMS before they are summed. Without it the value embedding (norm ~6 in
  // the shipped checkpoint, against ~1 for a token row and ~0.3 for a position) drowns where the
  // number stands: "39 layers of type ReLU and 12 of type Conv2d" and the same sentence with the
  // two numbers swapped have text embeddings of cosine 0.9997. Configs without the key: false.
  bool balanced_numbers = false;
  // Kernel sizes in text (--text-kernels; needs use_summary and use_numbers): the tokens of an
  // "HxW" pattern ("7 ##x ##1") also get the kernel embedding [kernel_h(H) | kernel_w(W)] that
  // the graph's (op, kernel) summary tokens carry, so text and graph name a kernel alike.
  bool use_text_kernels = false;
  int64_t value_frequencies = 32;  // sin/cos pairs of the value embedding (log10(1 + v))
  // Inventory head (not in the paper; `train pretrain --inventory-weight`): a linear map from
  // the L2-normalised J_g to one logit per node op, trained to say which ops the graph holds.
  bool inventory_head = false;
  // Statement head (not in the paper; `train pretrain --ar-head-weight`): when > 0, AR scores
  // come from this many cross-attention layers in which a statement's token states attend to
  // its graph's token states (nodes and summary tokens), then a small MLP over the mean and the
  // max of the result: sigmoid(logit) is the score, τ_AR applies to it. A pooled-vector cosine
  // must hold every fact of a graph in one direction; the head can look up the op a sentence
  // names and read the count or kernel beside it. 0 (configs without the key): AR scores are
  // cos(J_t, J_g), the paper's.
  int64_t ar_head_layers = 0;

  // Node-op vocabulary: every canonical op, then [PAD] and [MASK].
  static int64_t node_vocab();
  static int64_t node_pad_id();   // == op_count()
  static int64_t node_mask_id();  // == op_count() + 1

  // "small" (2 CPU cores, checkpoint <= 50 MB) or "base" (paper size, d=768, 12 heads, 12
  // layers). Throws Error(kUsage) on an unknown name.
  static ModelConfig from_preset(const std::string& name);
  // Preset named by the JSON's "preset" key (default small), then every key present overrides.
  // Throws Error(kBadInput) naming `source` on unknown keys, wrong types or invalid values.
  static ModelConfig from_json(const std::string& json_text, const std::string& source = "config");
  std::string to_json(int indent = 2) const;
  // Throws Error(kBadInput) naming `source` when sizes are inconsistent.
  void validate(const std::string& source = "config") const;
};

// Log-spaced bucket of one shape value: v <= shape_exact -> v-1 (1 -> 0), larger values
// log-spaced up to shape_max_dim; monotone non-decreasing in v; in [0, shape_buckets).
int64_t shape_bucket(int64_t value, const ModelConfig& config);

// Which nodes of `graph` enter the cross encoder when it has more than `max_nodes` nodes.
// Structure-preserving choice: input/output nodes, then every parametric node (those with a
// shape), then the highest-degree remaining nodes (ties: earlier first); when the nodes with a
// shape alone exceed the budget they are sub-sampled evenly along the topological order.
// Returns indices in ascending (topological) order; all nodes when the graph fits.
std::vector<int32_t> cap_graph_nodes(const ArchGraph& graph, int64_t max_nodes);

// Opaque metadata stored beside the weights in a checkpoint.
struct CheckpointMeta {
  std::string tokenizer_json;                // the tokenizer, as the tokenizer serialises it
  std::map<std::string, std::string> extra;  // vocabularies, τ, recipe, ... (opaque strings)
};

// Torch-free facade over the network, for the CLI and the task layer. Inference only: it puts
// the network in eval mode and runs without autograd. Texts arrive as token ids (the tokenizer
// lives in src/text/); ids longer than max_text_len are cut.
class ArchBertModel {
 public:
  // A freshly initialised network (deterministic for a seed).
  static ArchBertModel create(const ModelConfig& config, uint64_t seed = 0);
  // Throws Error(kBadInput) naming `path` on a missing, corrupt, truncated or mismatched file.
  static ArchBertModel load(const std::string& path);

  ArchBertModel(ArchBertModel&&) noexcept;
  ArchBertModel& operator=(ArchBertModel&&) noexcept;
  ~ArchBertModel();

  const ModelConfig& config() const;
  CheckpointMeta& meta();
  const CheckpointMeta& meta() const;

  // J_t for each text: [texts][d_model].
  std::vector<std::vector<float>> embed_texts(const std::vector<std::vector<int32_t>>& ids) const;
  // J_g for each graph: [graphs][d_model]. Graphs are batched `batch` at a time.
  std::vector<std::vector<float>> embed_graphs(const std::vector<const ArchGraph*>& graphs,
                                               int batch = 16) const;
  // The AR score of each statement about its graph (text i about graphs[text_graph[i]]): the
  // statement head's probability when config().ar_head_layers > 0, else cos(J_t, J_g).
  std::vector<float> statement_scores(const std::vector<std::vector<int32_t>>& ids,
                                      const std::vector<const ArchGraph*>& graphs,
                                      const std::vector<int64_t>& text_graph) const;
  // cos(J_t, J_g) for every (text, graph) pair: [texts][graphs].
  std::vector<std::vector<float>> similarity(const std::vector<std::vector<int32_t>>& ids,
                                             const std::vector<const ArchGraph*>& graphs) const;

  // Atomic write (temp file + rename) with a CRC-32 of the payload.
  void save(const std::string& path) const;

  struct Impl;  // holds the torch network (model_torch.h: torch_net(), make_model())
  explicit ArchBertModel(std::unique_ptr<Impl> impl);
  Impl& impl() { return *impl_; }
  const Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// Cosine similarity of two vectors of the same length (0 when either is zero).
float cosine_similarity(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace archbert
