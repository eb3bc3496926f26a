// E_v(V) + E_s(S): node-op embedding plus the bucketed shape embedding; the value embedding.

#include <cmath>

#include "archbert/model_torch.h"

namespace archbert {

NodeEmbeddingImpl::NodeEmbeddingImpl(const ModelConfig& c) : use_shape_(c.use_shape) {
  const int64_t d = c.d_model, q = c.d_model / 4, k = c.shape_buckets;
  op_ = register_module("op", torch::nn::Embedding(ModelConfig::node_vocab(), d));
  out_ = register_module("shape_out", torch::nn::Embedding(k, q));
  in_ = register_module("shape_in", torch::nn::Embedding(k, q));
  kh_ = register_module("shape_kh", torch::nn::Embedding(k, q));
  kw_ = register_module("shape_kw", torch::nn::Embedding(k, q));
  for (auto* e : {&op_, &out_, &in_, &kh_, &kw_}) {
    torch::nn::init::normal_((*e)->weight, 0.0, 0.02);
  }
  no_shape_ = register_parameter("no_shape", torch::randn({d}) * 0.02);
  mask_shape_ = register_parameter("mask_shape", torch::randn({d}) * 0.02);
}

torch::Tensor NodeEmbeddingImpl::forward(const GraphBatch& b) {
  auto x = op_(b.ops);  // [Nt, d]
  if (!use_shape_) return x;
  auto s = b.shape_ids;  // [Nt, 4]
  auto shaped = torch::cat(
      {out_(s.select(1, 0)), in_(s.select(1, 1)), kh_(s.select(1, 2)), kw_(s.select(1, 3))},
      1);  // [Nt, d]
  auto shape = torch::where(b.has_shape.unsqueeze(1), shaped, no_shape_.unsqueeze(0));
  shape = torch::where(b.shape_hidden.unsqueeze(1), mask_shape_.unsqueeze(0), shape);
  return x + shape;
}

}  // namespace archbert

namespace archbert {

ValueEmbeddingImpl::ValueEmbeddingImpl(const ModelConfig& c) {
  const int64_t f = c.value_frequencies;
  // Periods (in decades of 1 + v) from 32 down to 0.01, geometric.
  auto k = torch::arange(f, torch::kDouble) / std::max<int64_t>(1, f - 1);  // [F] in [0, 1]
  auto period = 32.0 * torch::pow(torch::full({f}, 0.01 / 32.0, torch::kDouble), k);
  omega_ = register_buffer("omega", (2.0 * M_PI / period).to(torch::kFloat));
  proj_ = register_module("proj", torch::nn::Linear(2 * f, c.d_model));
}

torch::Tensor ValueEmbeddingImpl::forward(const torch::Tensor& values) {
  // Angles in double: at the shortest period a float's rounding would matter.
  auto x = torch::log10(1.0 + values.to(torch::kDouble).clamp_min(0.0));
  auto angle = x.unsqueeze(-1) * omega_.to(torch::kDouble);  // [..., F]
  auto features = torch::cat({torch::sin(angle), torch::cos(angle)}, -1).to(torch::kFloat);
  return proj_(features);  // [..., d]
}

}  // namespace archbert
