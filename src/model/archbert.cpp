// The ArchBERT network (paper eq. 1–2) and the torch-free facade over it.

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

#include "archbert/error.h"
#include "archbert/model_torch.h"
#include "archbert/tokenizer.h"

namespace archbert {

torch::Tensor masked_mean(const torch::Tensor& x, const torch::Tensor& mask) {
  auto m = mask.to(x.dtype()).unsqueeze(-1);        // [B, L, 1]
  return (x * m).sum(1) / m.sum(1).clamp_min(1.0);  // [B, d]
}

namespace {

// What a token is and the amount its value embedding states, each brought to unit RMS over the
// last dimension (LayerNorm without gain) before the sum, so that neither drowns the other
// (balanced_summary, balanced_numbers).
torch::Tensor balanced_sum(const torch::Tensor& what, const torch::Tensor& value) {
  const std::vector<int64_t> dim{what.size(-1)};
  return torch::layer_norm(what, dim) + torch::layer_norm(value, dim);  // [..., d]
}

// Encodes `ids` in chunks of `chunk` texts of similar length (far less padding than one batch
// padded to the longest text) and calls visit(rows, encoding) per chunk, rows being the chunk's
// input indices. Returns the order of the chunks' rows: row k of their concatenation is text
// order[k] (in_input_order puts it back).
std::vector<int64_t> encode_in_length_chunks(
    ArchBertNetImpl& net, const std::vector<std::vector<int32_t>>& ids, int64_t chunk,
    const std::function<void(const std::vector<int64_t>&, const TextEncoding&)>& visit) {
  const int64_t n = static_cast<int64_t>(ids.size());
  const int64_t max_len = net.config().max_text_len;
  auto length = [&](int64_t i) {
    return std::min<int64_t>(max_len, static_cast<int64_t>(ids[i].size()));
  };
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return length(a) < length(b); });
  const int64_t step = std::max<int64_t>(1, chunk);
  for (int64_t i = 0; i < n; i += step) {
    const std::vector<int64_t> rows(order.begin() + i, order.begin() + std::min(n, i + step));
    std::vector<std::vector<int32_t>> part;
    for (int64_t r : rows) part.push_back(ids[r]);
    visit(rows, net.encode_texts(make_text_batch(part, net.config())));
  }
  return order;
}

// The concatenated chunk results [B, ...] (row k = text order[k]) in input order.
torch::Tensor in_input_order(const std::vector<torch::Tensor>& parts,
                             const std::vector<int64_t>& order) {
  const int64_t n = static_cast<int64_t>(order.size());
  auto inverse = torch::empty({n}, torch::kLong);
  inverse.index_put_({torch::tensor(order)}, torch::arange(n, torch::kLong));
  return torch::cat(parts).index_select(0, inverse);
}

}  // namespace

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
  if (c.inventory_head)
    inventory_ = register_module("inventory", torch::nn::Linear(c.d_model, c.node_vocab()));
  if (c.ar_head_layers > 0) ar_ = register_module("ar_head", ArHead(c));
  if (c.use_summary || c.use_numbers) value_ = register_module("value", ValueEmbedding(c));
  if (c.use_summary) {
    summary_kind_ = register_module("summary_kind", torch::nn::Embedding(kSummaryKinds, c.d_model));
    kernel_h_ = register_module("kernel_h", torch::nn::Embedding(c.shape_buckets, c.d_model / 2));
    kernel_w_ = register_module("kernel_w", torch::nn::Embedding(c.shape_buckets, c.d_model / 2));
    for (auto* e : {&summary_kind_, &kernel_h_, &kernel_w_}) {
      torch::nn::init::normal_((*e)->weight, 0.0, 0.02);
    }
    summary_norm_ = register_module("summary_norm",
                                    torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.d_model})));
  }
  if (c.use_numbers) {
    number_roles_ = register_buffer("number_roles", torch::zeros({c.text_vocab}, torch::kLong));
  }
}

void ArchBertNetImpl::set_number_roles(const std::vector<int8_t>& roles) {
  if (!config_.use_numbers) return;
  auto r = torch::zeros({config_.text_vocab}, torch::kLong);
  const int64_t n = std::min<int64_t>(config_.text_vocab, static_cast<int64_t>(roles.size()));
  for (int64_t i = 0; i < n; ++i) r[i] = static_cast<int64_t>(roles[i]);
  torch::NoGradGuard no_grad;
  number_roles_.copy_(r);
}

ArchBertNetImpl::TextNumbers ArchBertNetImpl::text_numbers(const torch::Tensor& ids) {
  auto roles_t = number_roles_.contiguous();
  const int64_t* rp = roles_t.data_ptr<int64_t>();
  std::vector<int8_t> roles(rp, rp + roles_t.numel());
  auto c = ids.contiguous();
  const int64_t b = c.size(0), l = c.size(1);
  const bool kernels = config_.use_text_kernels;
  TextNumbers out;
  out.values = torch::empty({b, l}, torch::kDouble);
  if (kernels) out.kernel = torch::full({b, l, 2}, -1, torch::kLong);
  const int64_t* ip = c.data_ptr<int64_t>();
  double* vp = out.values.data_ptr<double>();
  int64_t* kp = kernels ? out.kernel.data_ptr<int64_t>() : nullptr;
  std::vector<int32_t> row(l);
  for (int64_t i = 0; i < b; ++i) {
    for (int64_t j = 0; j < l; ++j) row[j] = static_cast<int32_t>(ip[i * l + j]);
    const auto v = number_values(row, roles);
    std::copy(v.begin(), v.end(), vp + i * l);
    if (!kernels) continue;
    const auto k = kernel_sizes(row, roles);
    for (int64_t j = 0; j < l; ++j) {
      if (k[j][0] < 0) continue;
      kp[(i * l + j) * 2] = shape_bucket(k[j][0], config_);
      kp[(i * l + j) * 2 + 1] = shape_bucket(k[j][1], config_);
    }
  }
  return out;
}

torch::Tensor ArchBertNetImpl::summary_tokens(const GraphBatch& g) {
  auto& ops = node_emb_->op_table();
  auto has_op = g.summary_kind.le(static_cast<int64_t>(kKernelCount)).unsqueeze(1);
  auto is_kernel = g.summary_kind.eq(static_cast<int64_t>(kKernelCount)).unsqueeze(1);
  auto kernel = torch::cat(
      {kernel_h_(g.summary_kernel.select(1, 0)), kernel_w_(g.summary_kernel.select(1, 1))},
      1);                                // [S, d]
  auto value = value_(g.summary_value);  // [S, d]: how many
  if (config_.balanced_summary) {
    // What the token counts (kind + op + kernel) and how many, at equal scale.
    auto id = summary_kind_(g.summary_kind);  // [S, d]
    id = id + torch::where(has_op, ops(g.summary_op), torch::zeros_like(id));
    id = id + torch::where(is_kernel, kernel, torch::zeros_like(id));
    return summary_norm_(balanced_sum(id, value));  // [S, d]
  }
  auto x = summary_kind_(g.summary_kind) + value;  // [S, d]
  x = x + torch::where(has_op, ops(g.summary_op), torch::zeros_like(x));
  x = x + torch::where(is_kernel, kernel, torch::zeros_like(x));
  return summary_norm_(x);  // [S, d]
}

TextEncoding ArchBertNetImpl::encode_texts(const TextBatch& t) {
  const int64_t l = t.ids.size(1);
  auto pos = torch::arange(l, torch::kLong);
  auto e = tok_(t.ids) + pos_(pos).unsqueeze(0);  // [B, L, d]
  if (config_.use_numbers) {
    auto numbers = text_numbers(t.ids);
    auto is_number = numbers.values.ge(0.0).unsqueeze(-1);  // [B, L, 1]
    auto value = value_(numbers.values);                    // [B, L, d]
    auto kernel_term = [&] {
      // The graph side's kernel embedding on the tokens of "HxW" (kernel_sizes).
      auto is_kernel = numbers.kernel.select(2, 0).ge(0).unsqueeze(-1);  // [B, L, 1]
      auto bucket = numbers.kernel.clamp_min(0);                         // [B, L, 2]
      auto kernel = torch::cat({kernel_h_(bucket.select(2, 0)), kernel_w_(bucket.select(2, 1))},
                               2);  // [B, L, d]
      return torch::where(is_kernel, kernel, torch::zeros_like(kernel));
    };
    if (config_.balanced_numbers) {
      // What and where a number's piece is, and the value it spells, at equal scale.
      if (config_.use_text_kernels) e = e + kernel_term();
      e = torch::where(is_number, balanced_sum(e, value), e);
    } else {
      e = e + torch::where(is_number, value, torch::zeros_like(e));
      if (config_.use_text_kernels) e = e + kernel_term();
    }
  }
  auto x = text_norm_(e);  // [B, L, d]: M_t
  if (config_.dropout > 0 && is_training()) x = torch::dropout(x, config_.dropout, true);
  TextEncoding out;
  out.mask = t.mask;
  out.token_states = cross_(x, t.mask);                // [B, L, d]
  out.pooled = masked_mean(out.token_states, t.mask);  // [B, d]: J_t
  return out;
}

GraphEncoding ArchBertNetImpl::encode_graphs(const GraphBatch& g) {
  GraphEncoding out;
  out.gat_states = gat_(node_emb_(g), g);  // [Nt, d]: M_g = GAT(E_v(V) + E_s(S), A)
  out.mask = g.pad_mask;
  const bool summary = config_.use_summary;
  if (!config_.use_cross && !summary) {
    out.node_states = to_padded(out.gat_states, g);         // [G, Nmax, d]
    out.pooled = masked_mean(out.node_states, g.pad_mask);  // [G, d]: J_g
    out.tokens = out.node_states;
    out.token_inputs = out.node_states;
    out.token_mask = g.pad_mask;
    return out;
  }
  // Token table: node states, one zero row for padding, then the summary tokens.
  const int64_t d = config_.d_model, nt = g.total_nodes, graphs = g.graphs;
  std::vector<torch::Tensor> table{out.gat_states, torch::zeros({1, d})};
  if (summary) table.push_back(summary_tokens(g));
  auto source = torch::cat(table, 0);  // [Nt + 1 + S, d]
  // Sequence of graph i: its kept nodes (padded-view order), then its summary tokens.
  auto pad_index = g.pad_index.contiguous();
  const int64_t nmax = pad_index.size(1);
  const int64_t* pi = pad_index.data_ptr<int64_t>();
  std::vector<int64_t> len(graphs);
  for (int64_t i = 0; i < graphs; ++i) {
    len[i] = g.kept[i] + (summary ? g.summary_offsets[i + 1] - g.summary_offsets[i] : 0);
  }
  const int64_t lmax = std::max<int64_t>(1, *std::max_element(len.begin(), len.end()));
  auto row_index = [&](int64_t i, int64_t width, int64_t* dst) {
    for (int64_t j = 0; j < width; ++j) {
      if (j < g.kept[i]) {
        dst[j] = pi[i * nmax + j];
      } else if (j < len[i]) {
        dst[j] = nt + 1 + g.summary_offsets[i] + (j - g.kept[i]);
      } else {
        dst[j] = nt;  // the zero row
      }
    }
  };
  // Graphs of similar length together, at most graph_token_budget_ padded tokens per call.
  std::vector<int64_t> order(graphs);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return len[a] < len[b]; });
  std::vector<torch::Tensor> parts, inputs;
  const bool keep_inputs = has_ar_head();  // the statement head reads them beside the states
  for (size_t start = 0; start < order.size();) {
    size_t end = start + 1;
    while (end < order.size() &&
           static_cast<int64_t>(end + 1 - start) * len[order[end]] <= graph_token_budget_) {
      ++end;
    }
    const int64_t rows = static_cast<int64_t>(end - start);
    const int64_t width = std::max<int64_t>(1, len[order[end - 1]]);
    std::vector<int64_t> index(rows * width);
    std::vector<uint8_t> mask(rows * width);
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t i = order[start + r];
      row_index(i, width, index.data() + r * width);
      for (int64_t j = 0; j < width; ++j) mask[r * width + j] = j < len[i];
      if (len[i] == 0) mask[r * width] = 1;  // keeps attention defined; pooled over no tokens
    }
    auto idx = torch::from_blob(index.data(), {rows * width}, torch::kLong).clone();
    auto m = torch::from_blob(mask.data(), {rows, width}, torch::kUInt8).to(torch::kBool);
    auto x = source.index_select(0, idx).reshape({rows, width, d});  // [rows, width, d]
    auto pad = [&](const torch::Tensor& t) {
      return width < lmax ? torch::cat({t, torch::zeros({rows, lmax - width, d})}, 1) : t;
    };
    if (keep_inputs) inputs.push_back(pad(x));  // [rows, lmax, d]
    if (config_.use_cross) x = cross_(x, m);
    parts.push_back(pad(x));  // [rows, lmax, d]
    start = end;
  }
  auto inverse = torch::empty({graphs}, torch::kLong);
  inverse.index_put_({torch::tensor(order)}, torch::arange(graphs, torch::kLong));
  auto states = torch::cat(parts, 0).index_select(0, inverse);  // [G, lmax, d], input order
  // Node part: the first Nmax positions (real where pad_mask; Nmax <= lmax).
  out.node_states = states.narrow(1, 0, nmax);                // [G, Nmax, d]
  auto node_pool = masked_mean(out.node_states, g.pad_mask);  // [G, d]
  out.tokens = states;                                        // [G, lmax, d]
  if (keep_inputs) out.token_inputs = torch::cat(inputs, 0).index_select(0, inverse);
  {
    std::vector<uint8_t> tmask(graphs * lmax, 0);
    for (int64_t i = 0; i < graphs; ++i) {
      for (int64_t j = 0; j < len[i]; ++j) tmask[i * lmax + j] = 1;
      tmask[i * lmax] = 1;  // an empty graph attends to its zero row
    }
    out.token_mask = torch::from_blob(tmask.data(), {graphs, lmax}, torch::kUInt8).to(torch::kBool);
  }
  if (!summary) {
    out.pooled = node_pool;
    return out;
  }
  std::vector<uint8_t> smask(graphs * lmax, 0);
  for (int64_t i = 0; i < graphs; ++i)
    for (int64_t j = g.kept[i]; j < len[i]; ++j) smask[i * lmax + j] = 1;
  auto summary_mask =
      torch::from_blob(smask.data(), {graphs, lmax}, torch::kUInt8).to(torch::kBool);
  out.pooled = 0.5 * (node_pool + masked_mean(states, summary_mask));  // [G, d]: J_g
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
  if (has_ar_head()) {
    const int64_t n = out.texts.token_states.size(0);
    std::vector<int64_t> rows(static_cast<size_t>(n));
    std::iota(rows.begin(), rows.end(), 0);
    out.ar_logits = ar_logits(StatementTokens::of(out.texts.token_states, out.texts.mask, rows), n,
                              out.graphs, text_graph, out.cosine);  // [B]
  }
  return out;
}

torch::Tensor ArchBertNetImpl::pooled_texts(const std::vector<std::vector<int32_t>>& ids,
                                            int64_t chunk) {
  if (ids.empty()) return torch::zeros({0, config_.d_model});
  std::vector<torch::Tensor> parts;
  const auto order = encode_in_length_chunks(
      *this, ids, chunk,
      [&](const std::vector<int64_t>&, const TextEncoding& t) { parts.push_back(t.pooled); });
  return in_input_order(parts, order);  // [B, d]
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
  // With a statement head, each chunk's real tokens are kept for it; the head then reads all of
  // them at once, grouped by graph.
  std::vector<StatementTokens> tokens;
  std::vector<torch::Tensor> pooled;
  const auto order = encode_in_length_chunks(
      *this, ids, text_chunk, [&](const std::vector<int64_t>& rows, const TextEncoding& t) {
        pooled.push_back(t.pooled);  // [chunk, d]
        if (has_ar_head()) tokens.push_back(StatementTokens::of(t.token_states, t.mask, rows));
      });
  out.texts.pooled =
      ids.empty() ? torch::zeros({0, config_.d_model}) : in_input_order(pooled, order);  // [B, d]
  out.jg_per_text = out.graphs.pooled.index_select(0, text_graph);                       // [B, d]
  out.cosine = torch::cosine_similarity(out.texts.pooled, out.jg_per_text, 1, 1e-8);     // [B]
  if (has_ar_head())
    out.ar_logits = ids.empty()
                        ? torch::zeros({0})
                        : ar_logits(StatementTokens::cat(tokens), static_cast<int64_t>(ids.size()),
                                    out.graphs, text_graph, out.cosine);  // [B]
  out.mam_logits = mam_(out.graphs.node_states);                          // [G, Nmax, node_vocab]
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

std::vector<float> ArchBertModel::statement_scores(const std::vector<std::vector<int32_t>>& ids,
                                                   const std::vector<const ArchGraph*>& graphs,
                                                   const std::vector<int64_t>& text_graph) const {
  if (ids.size() != text_graph.size())
    throw Error(ErrorKind::kInternal, "statement_scores: one graph index per text");
  for (int64_t g : text_graph)
    if (g < 0 || g >= static_cast<int64_t>(graphs.size()))
      throw Error(ErrorKind::kInternal, "statement_scores: graph index out of range");
  if (ids.empty()) return {};
  auto& net = impl_->net;
  if (!net->has_ar_head()) {
    auto t = embed_texts(ids);
    auto g = embed_graphs(graphs);
    std::vector<float> s(ids.size());
    for (size_t i = 0; i < ids.size(); ++i)
      s[i] = cosine_similarity(t[i], g[static_cast<size_t>(text_graph[i])]);
    return s;
  }
  torch::NoGradGuard no_grad;
  net->eval();
  auto out = net->forward_pairs(make_graph_batch(graphs, net->config()), ids,
                                torch::tensor(text_graph), 64);
  auto p = torch::sigmoid(out.ar_logits).contiguous();  // [B]
  return std::vector<float>(p.data_ptr<float>(), p.data_ptr<float>() + p.numel());
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
