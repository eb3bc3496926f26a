// The ArchBERT network (paper eq. 1–2) and the torch-free facade over it.

#include <algorithm>
#include <cmath>
#include <numeric>

#include "archbert/model_torch.h"

namespace archbert {

torch::Tensor masked_mean(const torch::Tensor& x, const torch::Tensor& mask) {
  auto m = mask.to(x.dtype()).unsqueeze(-1);        // [B, L, 1]
  return (x * m).sum(1) / m.sum(1).clamp_min(1.0);  // [B, d]
}

ArchBertNetImpl::ArchBertNetImpl(const ModelConfig& c) : config_(c) {
  c.validate();
  tok_ = register_module("tok", torch::nn::Embedding(c.text_vocab, c.d_model));
  pos_ = register_module("pos", torch::nn::Embedding(c.max_text_len, c.d_model));
  torch::nn::init::normal_(tok_->weight, 0.0, 0.02);
  torch::nn::init::normal_(pos_->weight, 0.0, 0.02);
  text_norm_ =
      register_module("text_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.d_model})));
  node_emb_ = register_module("node_emb", NodeEmbedding(c));
  gat_ = register_module("gat", GraphEncoder(c));
  cross_ = register_module("cross", CrossEncoder(c));
  mam_ = register_module("mam", MamHead(c));
  if (c.aqa_answers > 0) aqa_ = register_module("aqa", AqaHead(c));
}

TextEncoding ArchBertNetImpl::encode_texts(const TextBatch& t) {
  const int64_t l = t.ids.size(1);
  auto pos = torch::arange(l, torch::kLong);
  auto x = text_norm_(tok_(t.ids) + pos_(pos).unsqueeze(0));  // [B, L, d]: M_t
  if (config_.dropout > 0 && is_training()) x = torch::dropout(x, config_.dropout, true);
  TextEncoding out;
  out.mask = t.mask;
  out.token_states = cross_(x, t.mask);                // [B, L, d]
  out.pooled = masked_mean(out.token_states, t.mask);  // [B, d]: J_t
  return out;
}

GraphEncoding ArchBertNetImpl::encode_graphs(const GraphBatch& g) {
  GraphEncoding out;
  out.gat_states = gat_(node_emb_(g), g);      // [Nt, d]: M_g = GAT(E_v(V) + E_s(S), A)
  auto padded = to_padded(out.gat_states, g);  // [G, Nmax, d]
  out.mask = g.pad_mask;
  out.node_states = config_.use_cross ? cross_(padded, g.pad_mask) : padded;
  out.pooled = masked_mean(out.node_states, g.pad_mask);  // [G, d]: J_g
  return out;
}

PairOutput ArchBertNetImpl::forward_pairs(const GraphBatch& graphs, const TextBatch& texts,
                                          const torch::Tensor& text_graph) {
  PairOutput out;
  out.graphs = encode_graphs(graphs);
  out.texts = encode_texts(texts);
  out.jg_per_text = out.graphs.pooled.index_select(0, text_graph);                    // [B, d]
  out.cosine = torch::cosine_similarity(out.texts.pooled, out.jg_per_text, 1, 1e-8);  // [B]
  out.mam_logits = mam_(out.graphs.node_states);  // [G, Nmax, node_vocab]
  return out;
}

torch::Tensor ArchBertNetImpl::pooled_texts(const std::vector<std::vector<int32_t>>& ids,
                                            int64_t chunk) {
  const int64_t n = static_cast<int64_t>(ids.size());
  if (n == 0) return torch::zeros({0, config_.d_model});
  auto length = [&](int64_t i) {
    return std::min<int64_t>(config_.max_text_len, static_cast<int64_t>(ids[i].size()));
  };
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return length(a) < length(b); });
  std::vector<torch::Tensor> parts;
  const int64_t step = std::max<int64_t>(1, chunk);
  for (int64_t i = 0; i < n; i += step) {
    std::vector<std::vector<int32_t>> part;
    for (int64_t k = i; k < std::min(n, i + step); ++k) part.push_back(ids[order[k]]);
    parts.push_back(encode_texts(make_text_batch(part, config_)).pooled);  // [chunk, d]
  }
  auto sorted = torch::cat(parts);  // [B, d], row k = text order[k]
  auto inverse = torch::empty({n}, torch::kLong);
  inverse.index_put_({torch::tensor(order)}, torch::arange(n, torch::kLong));
  return sorted.index_select(0, inverse);  // [B, d], input order
}

torch::Tensor ArchBertNetImpl::pooled_graphs(const std::vector<const ArchGraph*>& graphs,
                                             int64_t chunk) {
  std::vector<torch::Tensor> parts;
  const size_t step = static_cast<size_t>(std::max<int64_t>(1, chunk));
  for (size_t i = 0; i < graphs.size(); i += step) {
    std::vector<const ArchGraph*> part(graphs.begin() + i,
                                       graphs.begin() + std::min(graphs.size(), i + step));
    parts.push_back(encode_graphs(make_graph_batch(part, config_)).pooled);  // [chunk, d]
  }
  return parts.empty() ? torch::zeros({0, config_.d_model}) : torch::cat(parts);
}

PairOutput ArchBertNetImpl::forward_pairs(const GraphBatch& graphs,
                                          const std::vector<std::vector<int32_t>>& ids,
                                          const torch::Tensor& text_graph, int64_t text_chunk) {
  PairOutput out;
  out.graphs = encode_graphs(graphs);
  out.texts.pooled = pooled_texts(ids, text_chunk);                                   // [B, d]
  out.jg_per_text = out.graphs.pooled.index_select(0, text_graph);                    // [B, d]
  out.cosine = torch::cosine_similarity(out.texts.pooled, out.jg_per_text, 1, 1e-8);  // [B]
  out.mam_logits = mam_(out.graphs.node_states);  // [G, Nmax, node_vocab]
  return out;
}

// ---------------------------------------------------------------------------------------------
// Facade.

struct ArchBertModel::Impl {
  ArchBertNet net{nullptr};
  CheckpointMeta meta;
};

ArchBertModel::ArchBertModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ArchBertModel::ArchBertModel(ArchBertModel&&) noexcept = default;
ArchBertModel& ArchBertModel::operator=(ArchBertModel&&) noexcept = default;
ArchBertModel::~ArchBertModel() = default;

ArchBertModel ArchBertModel::create(const ModelConfig& config, uint64_t seed) {
  torch::manual_seed(seed);
  return make_model(ArchBertNet(config));
}

ArchBertModel ArchBertModel::load(const std::string& path) {
  CheckpointMeta meta;
  auto net = load_checkpoint(path, &meta);
  return make_model(net, std::move(meta));
}

ArchBertModel make_model(ArchBertNet net, CheckpointMeta meta) {
  auto impl = std::make_unique<ArchBertModel::Impl>();
  impl->net = net;
  impl->meta = std::move(meta);
  return ArchBertModel(std::move(impl));
}

ArchBertNet& torch_net(ArchBertModel& model) { return model.impl().net; }

const ModelConfig& ArchBertModel::config() const { return impl_->net->config(); }
CheckpointMeta& ArchBertModel::meta() { return impl_->meta; }
const CheckpointMeta& ArchBertModel::meta() const { return impl_->meta; }

namespace {
std::vector<std::vector<float>> to_rows(const torch::Tensor& t) {  // [B, d] -> rows
  auto c = t.contiguous().to(torch::kFloat);
  std::vector<std::vector<float>> rows(c.size(0));
  for (int64_t i = 0; i < c.size(0); ++i) {
    const float* p = c[i].data_ptr<float>();
    rows[i].assign(p, p + c.size(1));
  }
  return rows;
}
}  // namespace

std::vector<std::vector<float>> ArchBertModel::embed_texts(
    const std::vector<std::vector<int32_t>>& ids) const {
  if (ids.empty()) return {};
  torch::NoGradGuard no_grad;
  auto& net = impl_->net;
  net->eval();
  return to_rows(net->pooled_texts(ids, 64));
}

std::vector<std::vector<float>> ArchBertModel::embed_graphs(
    const std::vector<const ArchGraph*>& graphs, int batch) const {
  if (graphs.empty()) return {};
  torch::NoGradGuard no_grad;
  auto& net = impl_->net;
  net->eval();
  return to_rows(net->pooled_graphs(graphs, batch));
}

std::vector<std::vector<float>> ArchBertModel::similarity(
    const std::vector<std::vector<int32_t>>& ids,
    const std::vector<const ArchGraph*>& graphs) const {
  auto t = embed_texts(ids);
  auto g = embed_graphs(graphs);
  std::vector<std::vector<float>> s(t.size(), std::vector<float>(g.size()));
  for (size_t i = 0; i < t.size(); ++i) {
    for (size_t j = 0; j < g.size(); ++j) s[i][j] = cosine_similarity(t[i], g[j]);
  }
  return s;
}

void ArchBertModel::save(const std::string& path) const {
  save_checkpoint(path, impl_->net, impl_->meta);
}

float cosine_similarity(const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0, na = 0, nb = 0;
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    na += static_cast<double>(a[i]) * a[i];
    nb += static_cast<double>(b[i]) * b[i];
  }
  if (na == 0 || nb == 0) return 0.0f;
  return static_cast<float>(dot / std::sqrt(na * nb));
}

}  // namespace archbert
