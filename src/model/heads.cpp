// Task heads (MAM, AQA), losses and MAM masking.

#include <cmath>
#include <limits>

#include "archbert/model_torch.h"

#include "archbert/error.h"

namespace archbert {

MamHeadImpl::MamHeadImpl(const ModelConfig& c) {
  dense_ = register_module("dense", torch::nn::Linear(c.d_model, c.d_model));
  norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.d_model})));
  decoder_ = register_module("decoder", torch::nn::Linear(c.d_model, ModelConfig::node_vocab()));
}

torch::Tensor MamHeadImpl::forward(const torch::Tensor& states) {
  return decoder_(norm_(torch::gelu(dense_(states))));  // [..., node_vocab]
}

AqaHeadImpl::AqaHeadImpl(const ModelConfig& c) {
  fc1_ = register_module("fc1", torch::nn::Linear(c.d_model, 2 * c.d_model));
  fc2_ = register_module("fc2", torch::nn::Linear(2 * c.d_model, c.aqa_answers));
}

torch::Tensor AqaHeadImpl::forward(const torch::Tensor& jt, const torch::Tensor& jg) {
  return fc2_(torch::gelu(fc1_(jt * jg)));  // [B, |A|]
}

ArHeadImpl::ArHeadImpl(const ModelConfig& c)
    : d_(c.d_model), heads_(c.heads), dh_(c.d_model / c.heads) {
  using torch::nn::LayerNorm;
  using torch::nn::LayerNormOptions;
  using torch::nn::Linear;
  ln_q_ = register_module("ln_q", torch::nn::ModuleList());
  ln_kv_ = register_module("ln_kv", torch::nn::ModuleList());
  ln_ff_ = register_module("ln_ff", torch::nn::ModuleList());
  q_ = register_module("q", torch::nn::ModuleList());
  kv_ = register_module("kv", torch::nn::ModuleList());
  out_ = register_module("out", torch::nn::ModuleList());
  ff1_ = register_module("ff1", torch::nn::ModuleList());
  ff2_ = register_module("ff2", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.ar_head_layers; ++i) {
    ln_q_->push_back(LayerNorm(LayerNormOptions({d_})));
    ln_kv_->push_back(LayerNorm(LayerNormOptions({d_})));
    ln_ff_->push_back(LayerNorm(LayerNormOptions({d_})));
    q_->push_back(Linear(d_, d_));
    kv_->push_back(Linear(d_, 2 * d_));
    out_->push_back(Linear(d_, d_));
    // FFN of width d, not ffn_dim: the head runs over every statement token of a batch, and a
    // 1024-wide FFN there made a training step ~60% slower.
    ff1_->push_back(Linear(d_, d_));
    ff2_->push_back(Linear(d_, d_));
  }
  final_ = register_module("final_norm", LayerNorm(LayerNormOptions({d_})));
  fc1_ = register_module("fc1", Linear(2 * d_, d_));
  fc2_ = register_module("fc2", Linear(d_, 1));
}

std::vector<torch::Tensor> ArHeadImpl::memory(const torch::Tensor& graph_tokens) {
  std::vector<torch::Tensor> out;
  const int64_t g = graph_tokens.size(0), m = graph_tokens.size(1);
  auto flat = graph_tokens.reshape({g * m, d_});  // [G*M, d]
  for (size_t i = 0; i < kv_->size(); ++i) {
    auto ln = ln_kv_[i]->as<torch::nn::LayerNorm>();
    auto kv = kv_[i]->as<torch::nn::Linear>();
    out.push_back(kv->forward(ln->forward(flat)).view({g, m, 2 * d_}));  // [G, M, 2d]
  }
  return out;
}

torch::Tensor ArHeadImpl::forward(const torch::Tensor& text, const torch::Tensor& text_mask,
                                  const std::vector<torch::Tensor>& memory,
                                  const torch::Tensor& graph_mask,
                                  const torch::Tensor& text_graph) {
  const int64_t b = text.size(0), l = text.size(1), m = graph_mask.size(1);
  // Key padding of each text's graph: -inf on padded graph tokens, [B*H, 1, M].
  auto bias =
      torch::zeros({b, 1, m}, text.options())
          .masked_fill_(graph_mask.index_select(0, text_graph).logical_not().view({b, 1, m}),
                        -std::numeric_limits<float>::infinity())
          .repeat_interleave(heads_, 0);
  const double scale = 1.0 / std::sqrt(static_cast<double>(dh_));
  auto x = text.reshape({b * l, d_});  // [B*L, d]
  for (size_t i = 0; i < memory.size(); ++i) {
    auto q =
        q_[i]->as<torch::nn::Linear>()->forward(ln_q_[i]->as<torch::nn::LayerNorm>()->forward(x));
    q = q.view({b, l, heads_, dh_}).transpose(1, 2).reshape({b * heads_, l, dh_});  // [B*H, L, dh]
    auto kv = memory[i].index_select(0, text_graph);                                // [B, M, 2d]
    auto parts = kv.view({b, m, 2, heads_, dh_})
                     .permute({2, 0, 3, 1, 4})
                     .reshape({2, b * heads_, m, dh_});                           // [2, B*H, M, dh]
    auto scores = torch::baddbmm(bias, q, parts[0].transpose(1, 2), 1.0, scale);  // [B*H, L, M]
    auto ctx = torch::bmm(torch::softmax(scores, -1), parts[1])
                   .view({b, heads_, l, dh_})
                   .transpose(1, 2)
                   .reshape({b * l, d_});
    x = x + out_[i]->as<torch::nn::Linear>()->forward(ctx);
    auto ff = ff1_[i]->as<torch::nn::Linear>()->forward(
        ln_ff_[i]->as<torch::nn::LayerNorm>()->forward(x));
    x = x + ff2_[i]->as<torch::nn::Linear>()->forward(torch::gelu(ff));
  }
  auto h = final_(x).view({b, l, d_});                                            // [B, L, d]
  auto mean = masked_mean(h, text_mask);                                          // [B, d]
  auto max = h.masked_fill(text_mask.logical_not().unsqueeze(-1), -1e4).amax(1);  // [B, d]
  return fc2_(torch::gelu(fc1_(torch::cat({mean, max}, 1)))).squeeze(1);          // [B]
}

torch::Tensor ar_head_loss(const torch::Tensor& logits, const torch::Tensor& target) {
  return torch::nn::functional::binary_cross_entropy_with_logits(logits, target.to(logits.dtype()));
}

torch::Tensor ArchBertNetImpl::ar_logits(const TextEncoding& texts, const GraphEncoding& graphs,
                                         const torch::Tensor& text_graph) {
  if (!has_ar_head()) throw Error(ErrorKind::kUsage, "this network has no statement head");
  return ar_->forward(texts.token_states, texts.mask, ar_->memory(graphs.tokens), graphs.token_mask,
                      text_graph);  // [B]
}

torch::Tensor sim_loss(const torch::Tensor& cosine, const torch::Tensor& target) {
  return torch::mse_loss(cosine, target.to(cosine.dtype()));
}

torch::Tensor sim_loss_bce(const torch::Tensor& cosine, const torch::Tensor& target,
                           double temperature) {
  return torch::nn::functional::binary_cross_entropy_with_logits((cosine - 0.5) / temperature,
                                                                 target.to(cosine.dtype()));
}

torch::Tensor contrastive_loss(const torch::Tensor& jt, const torch::Tensor& jg,
                               const torch::Tensor& positive, double temperature) {
  namespace F = torch::nn::functional;
  const auto norm = F::NormalizeFuncOptions().dim(1);
  auto logits =
      torch::matmul(F::normalize(jt, norm), F::normalize(jg, norm).t()) / temperature;  // [P, G]
  auto all = torch::logsumexp(logits, 1);                                               // [P]
  auto pos = torch::logsumexp(logits.masked_fill(positive.logical_not(), -1e9), 1);     // [P]
  return (all - pos).mean();
}

torch::Tensor mam_loss(const torch::Tensor& logits, const torch::Tensor& targets,
                       const GraphBatch& batch) {
  auto padded = to_padded(targets, batch, -100.0).reshape({-1});  // [G*Nmax]
  auto flat = logits.reshape({-1, logits.size(-1)});              // [G*Nmax, V]
  auto keep = padded.ne(-100);
  if (keep.sum().item<int64_t>() == 0) return (flat.sum() * 0.0);
  return torch::nn::functional::cross_entropy(
      flat, padded, torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100));
}

torch::Tensor op_presence(const std::vector<const ArchGraph*>& graphs) {
  const int64_t v = ModelConfig::node_vocab();
  auto out = torch::zeros({static_cast<int64_t>(graphs.size()), v});
  auto acc = out.accessor<float, 2>();
  for (size_t g = 0; g < graphs.size(); ++g)
    for (const Node& n : graphs[g]->nodes)
      if (n.op != Op::kInput && n.op != Op::kOutput)
        acc[static_cast<int64_t>(g)][static_cast<int64_t>(n.op)] = 1.0f;
  return out;
}

torch::Tensor ArchBertNetImpl::inventory_logits(const torch::Tensor& jg) {
  if (!inventory_) throw Error(ErrorKind::kUsage, "this network has no inventory head");
  namespace F = torch::nn::functional;
  return inventory_(F::normalize(jg, F::NormalizeFuncOptions().dim(1)));  // [G, node_vocab]
}

torch::Tensor inventory_loss(const torch::Tensor& logits, const torch::Tensor& presence) {
  return torch::nn::functional::binary_cross_entropy_with_logits(logits, presence);
}

torch::Tensor mask_nodes(GraphBatch& b, at::Generator& gen, double rate) {
  auto targets = torch::full({b.total_nodes}, -100, torch::kLong);
  auto is_io = b.is_io.contiguous();
  const bool* io = is_io.data_ptr<bool>();
  auto ops = b.ops.contiguous();
  auto hidden = b.shape_hidden.clone().contiguous();
  int64_t* op = ops.data_ptr<int64_t>();
  bool* hid = hidden.data_ptr<bool>();
  int64_t* tg = targets.data_ptr<int64_t>();
  const int64_t real_ops = ModelConfig::node_pad_id();  // random replacements: real ops only
  for (int64_t g = 0; g < b.graphs; ++g) {
    std::vector<int64_t> eligible;
    for (int64_t k = b.offsets[g]; k < b.offsets[g + 1]; ++k) {
      if (!io[k]) eligible.push_back(k);
    }
    if (eligible.empty()) continue;
    const int64_t count =
        std::max<int64_t>(1, static_cast<int64_t>(std::llround(rate * eligible.size())));
    auto perm = torch::randperm(static_cast<int64_t>(eligible.size()), gen, torch::kLong);
    auto roll = torch::rand({count}, gen);                                // 80/10/10 choice
    auto repl = torch::randint(0, real_ops, {count}, gen, torch::kLong);  // random op
    const int64_t* pp = perm.data_ptr<int64_t>();
    const float* rp = roll.data_ptr<float>();
    const int64_t* xp = repl.data_ptr<int64_t>();
    for (int64_t c = 0; c < count; ++c) {
      const int64_t k = eligible[pp[c]];
      tg[k] = op[k];
      hid[k] = true;
      const float r = rp[c];
      if (r < 0.8f) {
        op[k] = ModelConfig::node_mask_id();
      } else if (r < 0.9f) {
        op[k] = xp[c];
      }
    }
  }
  b.ops = ops;
  b.shape_hidden = hidden;
  return targets;
}

}  // namespace archbert
