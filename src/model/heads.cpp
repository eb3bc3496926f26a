// Task heads (MAM, AQA), losses and MAM masking.

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
