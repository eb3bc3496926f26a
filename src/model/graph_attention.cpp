// Sparse multi-head graph attention over self-loops, predecessors and successors.

#include <limits>

#include "archbert/model_torch.h"

namespace archbert {

namespace {
constexpr int64_t kRelations = 3;  // 0: self, 1: from a predecessor, 2: from a successor

// Swallows LibTorch 1.13's one-time "scatter_reduce() is in beta" warning, which would otherwise
// reach users' terminals through glog.
class QuietWarnings : public c10::WarningHandler {
 public:
  void process(const c10::SourceLocation&, const std::string&, const bool) override {}
};
}  // namespace

GraphAttentionImpl::GraphAttentionImpl(int64_t d, int64_t heads, double dropout)
    : d_(d), heads_(heads), dh_(d / heads), dropout_(dropout) {
  proj_ = register_module("proj", torch::nn::Linear(torch::nn::LinearOptions(d, kRelations * d)));
  att_src_ = register_parameter("att_src", torch::randn({kRelations, heads_, dh_}) *
                                               (1.0 / std::sqrt(static_cast<double>(dh_))));
  att_dst_ = register_parameter("att_dst", torch::randn({kRelations, heads_, dh_}) *
                                               (1.0 / std::sqrt(static_cast<double>(dh_))));
  out_ = register_module("out", torch::nn::Linear(d, d));
  norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
}

torch::Tensor GraphAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& tgt,
                                          const torch::Tensor& src, const torch::Tensor& rel) {
  const int64_t n = x.size(0);
  auto h = proj_(x).view({n, kRelations, heads_, dh_});  // [Nt, 3, H, dh]: W_r x per relation
  auto s_src = (h * att_src_).sum(-1).reshape({n * kRelations, heads_});  // [Nt*3, H]
  auto s_dst = (h * att_dst_).sum(-1).reshape({n * kRelations, heads_});  // [Nt*3, H]
  auto src_key = src * kRelations + rel;  // [E'] row of (source node, relation)
  auto tgt_key = tgt * kRelations + rel;  // [E'] row of (target node, relation)
  // e_ij = LeakyReLU(a_dst_r . W_r x_i + a_src_r . W_r x_j)  [E', H]
  auto e = torch::leaky_relu(s_dst.index_select(0, tgt_key) + s_src.index_select(0, src_key), 0.2);
  // Segment softmax over each target's neighbourhood (self + predecessors + successors).
  torch::Tensor seg_max;
  {
    torch::NoGradGuard no_grad;  // softmax is shift-invariant: the max needs no gradient
    static QuietWarnings quiet;
    c10::Warning::WarningHandlerGuard guard(&quiet);
    auto idx = tgt.unsqueeze(1).expand({-1, heads_});
    seg_max = torch::full({n, heads_}, -std::numeric_limits<float>::infinity(), x.options())
                  .scatter_reduce(0, idx, e.detach(), "amax", /*include_self=*/true);  // [Nt, H]
  }
  auto ex = torch::exp(e - seg_max.index_select(0, tgt));                     // [E', H]
  auto denom = torch::zeros({n, heads_}, x.options()).index_add(0, tgt, ex);  // [Nt, H]
  auto alpha = ex / denom.index_select(0, tgt);                               // [E', H]
  if (dropout_ > 0 && is_training()) alpha = torch::dropout(alpha, dropout_, true);
  auto values = h.reshape({n * kRelations, heads_, dh_}).index_select(0, src_key);  // [E', H, dh]
  auto agg = torch::zeros({n, heads_, dh_}, x.options())
                 .index_add(0, tgt, values * alpha.unsqueeze(-1))
                 .reshape({n, d_});  // [Nt, d]
  auto y = out_(torch::elu(agg));
  if (dropout_ > 0 && is_training()) y = torch::dropout(y, dropout_, true);
  return norm_(x + y);  // residual + LayerNorm
}

GraphEncoderImpl::GraphEncoderImpl(const ModelConfig& c) : use_edges_(c.use_edges) {
  layers_ = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.gat_layers; ++i) {
    layers_->push_back(GraphAttention(c.d_model, c.gat_heads, c.dropout));
  }
}

torch::Tensor GraphEncoderImpl::forward(const torch::Tensor& x, const GraphBatch& b) {
  const int64_t n = x.size(0);
  auto self = torch::arange(n, torch::kLong);
  torch::Tensor tgt = self, src = self, rel = torch::zeros({n}, torch::kLong);
  if (use_edges_ && b.edge_src.numel() > 0) {
    const int64_t e = b.edge_src.size(0);
    // Consumer hears its producer (relation 1); producer hears its consumer (relation 2).
    tgt = torch::cat({self, b.edge_dst, b.edge_src});
    src = torch::cat({self, b.edge_src, b.edge_dst});
    rel = torch::cat({rel, torch::ones({e}, torch::kLong), torch::full({e}, 2, torch::kLong)});
  }
  auto h = x;
  for (auto& layer : *layers_) h = layer->as<GraphAttention>()->forward(h, tgt, src, rel);
  return h;
}

}  // namespace archbert
