#pragma once
// Graph builders for Hugging Face `model_type`s (private to the Hugging Face importer).
//
// A builder turns a model's config.json into the canonical graph (SPEC §2) of the PyTorch module
// tree that `transformers` instantiates for `architectures[0]` (the base model when absent):
// one node per module that computes (embedding, linear, norm, activation, dropout) plus the
// functional ops between them (attention matmuls and softmax, residual sums, splits), data-flow
// edges as the forward pass uses them, and per-node parameter counts whose sum equals
// `sum(p.numel() for p in model.parameters())` (tied weights counted once, at their owner).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "archbert/graph.h"

namespace archbert::hf {

// Largest accepted width of any one dimension (hidden size, vocabulary, ...): 2^24.
constexpr int64_t kMaxDim = int64_t(1) << 24;
// Largest accepted number of layers in any one stack.
constexpr int64_t kMaxLayers = 100'000;

// A parsed config.json with checked accessors; every failure names `source` and the key.
class HfConfig {
 public:
  HfConfig(nlohmann::json json, std::string source);

  const std::string& source() const { return source_; }
  const std::string& model_type() const { return model_type_; }
  // architectures[0], or "" when the config does not name one.
  std::string architecture() const;
  const nlohmann::json& json() const { return json_; }

  bool has(const char* key) const;
  // An integer in [lo, hi]; `def` when absent or null (throws when absent and no default).
  int64_t dim(const char* key, std::optional<int64_t> def = std::nullopt, int64_t lo = 1,
              int64_t hi = kMaxDim) const;
  // Like dim() but tries each key in turn (configs use aliases: n_embd / hidden_size).
  int64_t dim_any(std::initializer_list<const char*> keys,
                  std::optional<int64_t> def = std::nullopt, int64_t lo = 1,
                  int64_t hi = kMaxDim) const;
  int64_t layers(const char* key, std::optional<int64_t> def = std::nullopt) const;
  bool flag(const char* key, bool def) const;
  double number(const char* key, double def) const;
  std::string str(const char* key, const std::string& def) const;
  // An array of integers, each in [1, kMaxDim]; `def` when absent.
  std::vector<int64_t> dims(const char* key, const std::vector<int64_t>& def) const;
  // Classifier width: size of id2label, else num_labels, else 2 (PretrainedConfig's default).
  int64_t num_labels() const;

  [[noreturn]] void fail(const std::string& problem) const;

 private:
  nlohmann::json json_;
  std::string source_;
  std::string model_type_;
};

// One tensor named in a safetensors header: name and shape (dtype is not needed).
struct TensorInfo {
  std::string name;
  std::vector<int64_t> shape;
};

// Model types with a builder, sorted.
std::vector<std::string> supported_model_types();
bool has_builder(const std::string& model_type);

// Builds the canonical graph named `name` for `config` (format "huggingface"). The node count is
// computed first, without allocating the graph, and graphs over `limits` are refused.
ArchGraph build_graph(const HfConfig& config, const std::string& name, const GraphLimits& limits);

// The fallback for unknown model types: one node per module (tensor-name prefix) with the op
// guessed from the name and rank, chained in natural name order (format "huggingface-generic").
ArchGraph build_generic_graph(const std::vector<TensorInfo>& tensors, const std::string& name,
                              const std::string& source, const GraphLimits& limits);

// True for tensors a checkpoint stores that are buffers, not parameters (position_ids, causal
// masks, final_logits_bias, rotary inv_freq, ...): they are not counted as parameters.
bool is_buffer_tensor(const std::string& name);

}  // namespace archbert::hf
