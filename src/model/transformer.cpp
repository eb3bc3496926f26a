// Pre-LN, batch-first transformer encoder written by hand (LibTorch 1.13's C++
// TransformerEncoderLayer has neither batch_first nor norm_first).

#include <cmath>
#include <limits>

#include "archbert/model_torch.h"

namespace archbert {

EncoderLayerImpl::EncoderLayerImpl(int64_t d, int64_t heads, int64_t ffn, double dropout)
    : d_(d), heads_(heads), dh_(d / heads), dropout_(dropout) {
  ln1_ = register_module("ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
  ln2_ = register_module("ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
  qkv_ = register_module("qkv", torch::nn::Linear(d, 3 * d));
  out_ = register_module("out", torch::nn::Linear(d, d));
  ff1_ = register_module("ff1", torch::nn::Linear(d, ffn));
  ff2_ = register_module("ff2", torch::nn::Linear(ffn, d));
}

torch::Tensor EncoderLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  const int64_t b = x.size(0), l = x.size(1);
  auto drop = [&](const torch::Tensor& t) {
    return dropout_ > 0 && is_training() ? torch::dropout(t, dropout_, true) : t;
  };
  // Self-attention on LN(x), heads folded into the batch: [B*H, L, dh].
  // Linear layers run on [B*L, d] so LibTorch uses addmm (bias fused) rather than matmul + add.
  auto x2 = x.reshape({b * l, d_});                                                 // [B*L, d]
  auto qkv = qkv_(ln1_(x2)).view({b, l, 3, heads_, dh_}).permute({2, 0, 3, 1, 4});  // [3,B,H,L,dh]
  auto parts = qkv.reshape({3, b * heads_, l, dh_}).unbind(0);  // unbind: one stack in backward
  const double scale = 1.0 / std::sqrt(static_cast<double>(dh_));
  const auto& q = parts[0];
  const auto& k = parts[1];
  const auto& v = parts[2];
  torch::Tensor scores;  // [B*H, L, L]
  if (mask.all().item<bool>()) {
    scores = torch::bmm(q, k.transpose(1, 2)).mul_(scale);
  } else {
    // Key padding: padded keys get -inf (weight exactly 0); scale and mask fused in baddbmm.
    auto bias = torch::zeros({b, 1, l}, x.options())
                    .masked_fill_(mask.logical_not().view({b, 1, l}),
                                  -std::numeric_limits<float>::infinity())
                    .repeat_interleave(heads_, 0);  // [B*H, 1, L]
    scores = torch::baddbmm(bias, q, k.transpose(1, 2), 1.0, scale);
  }
  auto attn = drop(torch::softmax(scores, -1));
  auto ctx = torch::bmm(attn, v).view({b, heads_, l, dh_}).transpose(1, 2).reshape({b * l, d_});
  auto h = x2 + drop(out_(ctx));  // [B*L, d]
  // Feed-forward on LN(h).
  return (h + drop(ff2_(drop(torch::gelu(ff1_(ln2_(h))))))).view({b, l, d_});
}

CrossEncoderImpl::CrossEncoderImpl(const ModelConfig& c) {
  layers_ = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.layers; ++i) {
    layers_->push_back(EncoderLayer(c.d_model, c.heads, c.ffn_dim, c.dropout));
  }
  final_ =
      register_module("final_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.d_model})));
}

torch::Tensor CrossEncoderImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  auto h = x;
  for (auto& layer : *layers_) h = layer->as<EncoderLayer>()->forward(h, mask);
  return final_(h);
}

}  // namespace archbert
