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
  ln_in_ = register_module("ln_in", torch::nn::ModuleList());
  ln_ff_ = register_module("ln_ff", torch::nn::ModuleList());
  q_ = register_module("q", torch::nn::ModuleList());
  kv_ = register_module("kv", torch::nn::ModuleList());
  out_ = register_module("out", torch::nn::ModuleList());
  ff1_ = register_module("ff1", torch::nn::ModuleList());
  ff2_ = register_module("ff2", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.ar_head_layers; ++i) {
    ln_q_->push_back(LayerNorm(LayerNormOptions({d_})));
    ln_kv_->push_back(LayerNorm(LayerNormOptions({d_})));
    ln_in_->push_back(LayerNorm(LayerNormOptions({d_})));
    ln_ff_->push_back(LayerNorm(LayerNormOptions({d_})));
    q_->push_back(Linear(d_, d_));
    kv_->push_back(Linear(2 * d_, 2 * d_));  // [state ; input] -> [key ; value]
    out_->push_back(Linear(d_, d_));
    // FFN of width d, not ffn_dim: the head runs over every statement token of a batch, and a
    // 1024-wide FFN there made a training step ~60% slower.
    ff1_->push_back(Linear(d_, d_));
    ff2_->push_back(Linear(d_, d_));
  }
  final_ = register_module("final_norm", LayerNorm(LayerNormOptions({d_})));
  fc1_ = register_module("fc1", Linear(2 * d_, d_));
  fc2_ = register_module("fc2", Linear(d_, 1));
  // The correction starts near zero (not at zero: fc1 would get no gradient), the cosine term at
  // the cosine loss's logit (cos - 0.5) / 0.1.
  torch::NoGradGuard no_grad;
  torch::nn::init::normal_(fc2_->weight, 0.0, 1e-3);
  torch::nn::init::zeros_(fc2_->bias);
  // A learned key and value per layer that every statement token can attend to besides the graph's
  // tokens: what a query finds when nothing in the graph matches it ("has Flatten" of a graph
  // without one). Zero at first: its value adds nothing to what a token reads; it only takes a
  // share of the token's attention.
  sink_ = register_parameter("sink", torch::zeros({c.ar_head_layers, 2 * d_}));
  cos_scale_ = register_parameter("cos_scale", torch::full({1}, 10.0f));
  cos_bias_ = register_parameter("cos_bias", torch::full({1}, -5.0f));
}

std::vector<torch::Tensor> ArHeadImpl::memory(const torch::Tensor& graph_tokens,
                                              const torch::Tensor& graph_inputs) {
  std::vector<torch::Tensor> out;
  const int64_t g = graph_tokens.size(0), m = graph_tokens.size(1);
  auto states = graph_tokens.reshape({g * m, d_});  // [G*M, d]
  auto inputs = graph_inputs.reshape({g * m, d_});  // [G*M, d]
  for (size_t i = 0; i < kv_->size(); ++i) {
    auto flat = torch::cat({ln_kv_[i]->as<torch::nn::LayerNorm>()->forward(states),
                            ln_in_[i]->as<torch::nn::LayerNorm>()->forward(inputs)},
                           1);  // [G*M, 2d]
    auto kv = kv_[i]->as<torch::nn::Linear>();
    auto sink = sink_[static_cast<int64_t>(i)].view({1, 1, 2 * d_}).expand({g, 1, 2 * d_});
    out.push_back(torch::cat({kv->forward(flat).view({g, m, 2 * d_}), sink},
                             1));  // [G, M+1, 2d]
  }
  return out;
}

StatementTokens StatementTokens::of(const torch::Tensor& text, const torch::Tensor& mask,
                                    const std::vector<int64_t>& rows) {
  const int64_t b = text.size(0), l = text.size(1);
  auto m = mask.to(torch::kBool).contiguous();
  const bool* mp = m.data_ptr<bool>();
  StatementTokens out;
  std::vector<int64_t> flat;
  for (int64_t i = 0; i < b; ++i)
    for (int64_t j = 0; j < l; ++j)
      if (mp[i * l + j]) {
        flat.push_back(i * l + j);
        out.text.push_back(rows[static_cast<size_t>(i)]);
        out.pos.push_back(j);
      }
  out.states = text.reshape({b * l, text.size(2)}).index_select(0, torch::tensor(flat));  // [T, d]
  return out;
}

StatementTokens StatementTokens::cat(const std::vector<StatementTokens>& parts) {
  StatementTokens out;
  std::vector<torch::Tensor> states;
  for (const auto& p : parts) {
    states.push_back(p.states);
    out.text.insert(out.text.end(), p.text.begin(), p.text.end());
    out.pos.insert(out.pos.end(), p.pos.begin(), p.pos.end());
  }
  out.states = torch::cat(states);  // [T, d]
  return out;
}

torch::Tensor ArHeadImpl::forward(const StatementTokens& tokens, int64_t n,
                                  const std::vector<torch::Tensor>& memory,
                                  const torch::Tensor& graph_mask, const torch::Tensor& text_graph,
                                  const torch::Tensor& cosine) {
  const auto opts = tokens.states.options();
  if (n == 0) return torch::zeros({0}, opts);
  const int64_t t = tokens.states.size(0), m = graph_mask.size(1) + 1;  // graph tokens + sink
  // Group the tokens by graph into query rows of at most kRowSlots tokens: each row reads one
  // graph's keys and values. One row per graph would pad every graph to the busiest one's token
  // count (a Zoo graph with many statements beside AutoNet graphs with few: a training run
  // grew to 17 GB); one row per statement would gather the keys and values once per statement.
  constexpr int64_t kRowSlots = 128;
  auto tg = text_graph.to(torch::kLong).contiguous();
  const int64_t* tgp = tg.data_ptr<int64_t>();
  std::vector<int64_t> open(static_cast<size_t>(graph_mask.size(0)), -1), row_graph, fill;
  std::vector<int64_t> ri(static_cast<size_t>(t)), si(static_cast<size_t>(t));
  int64_t slots = 1, len = 1;
  for (int64_t k = 0; k < t; ++k) {
    const int64_t g = tgp[tokens.text[static_cast<size_t>(k)]];
    auto& row = open[static_cast<size_t>(g)];
    if (row < 0 || fill[static_cast<size_t>(row)] == kRowSlots) {
      row = static_cast<int64_t>(row_graph.size());
      row_graph.push_back(g);
      fill.push_back(0);
    }
    ri[static_cast<size_t>(k)] = row;
    si[static_cast<size_t>(k)] = fill[static_cast<size_t>(row)]++;
    slots = std::max(slots, fill[static_cast<size_t>(row)]);
    len = std::max(len, tokens.pos[static_cast<size_t>(k)] + 1);
  }
  const int64_t rows = static_cast<int64_t>(row_graph.size());  // query rows
  const auto row_graph_t = torch::tensor(row_graph), r_idx = torch::tensor(ri),
             s_idx = torch::tensor(si);
  // Key padding of each row's graph: -inf on padded graph tokens, never on the sink, [R*H, 1, M+1].
  auto visible = torch::cat({graph_mask.index_select(0, row_graph_t).to(torch::kBool),
                             torch::ones({rows, 1}, torch::kBool)},
                            1);  // [R, M+1]
  auto bias = torch::zeros({rows, 1, m}, opts)
                  .masked_fill_(visible.logical_not().view({rows, 1, m}),
                                -std::numeric_limits<float>::infinity())
                  .repeat_interleave(heads_, 0);
  const double scale = 1.0 / std::sqrt(static_cast<double>(dh_));
  auto x = tokens.states;  // [T, d]
  for (size_t i = 0; i < memory.size(); ++i) {
    auto q =
        q_[i]->as<torch::nn::Linear>()->forward(ln_q_[i]->as<torch::nn::LayerNorm>()->forward(x));
    auto qs = torch::zeros({rows, slots, d_}, opts)
                  .index_put({r_idx, s_idx}, q)  // [R, S, d]: statement tokens of one graph
                  .view({rows, slots, heads_, dh_})
                  .transpose(1, 2)
                  .reshape({rows * heads_, slots, dh_});  // [R*H, S, dh]
    auto kv = memory[i].index_select(0, row_graph_t);     // [R, M+1, 2d]
    auto parts = kv.view({rows, m, 2, heads_, dh_})
                     .permute({2, 0, 3, 1, 4})
                     .reshape({2, rows * heads_, m, dh_});  // [2, R*H, M, dh]
    auto scores = torch::baddbmm(bias, qs, parts[0].transpose(1, 2), 1.0, scale);  // [R*H, S, M]
    auto ctx = torch::bmm(torch::softmax(scores, -1), parts[1])
                   .view({rows, heads_, slots, dh_})
                   .transpose(1, 2)
                   .reshape({rows, slots, d_})
                   .index({r_idx, s_idx});  // [T, d]
    x = x + out_[i]->as<torch::nn::Linear>()->forward(ctx);
    auto ff = ff1_[i]->as<torch::nn::Linear>()->forward(
        ln_ff_[i]->as<torch::nn::LayerNorm>()->forward(x));
    x = x + ff2_[i]->as<torch::nn::Linear>()->forward(torch::gelu(ff));
  }
  auto h = final_(x);  // [T, d]
  const auto t_idx = torch::tensor(tokens.text), p_idx = torch::tensor(tokens.pos);
  auto sum = torch::zeros({n, d_}, opts).index_add(0, t_idx, h);                          // [n, d]
  auto cnt = torch::zeros({n}, opts).index_add(0, t_idx, torch::ones({t}, opts));         // [n]
  auto mean = sum / cnt.clamp_min(1).unsqueeze(1);                                        // [n, d]
  auto max = torch::full({n, len, d_}, -1e4, opts).index_put({t_idx, p_idx}, h).amax(1);  // [n, d]
  auto correction = fc2_(torch::gelu(fc1_(torch::cat({mean, max}, 1)))).squeeze(1);       // [n]
  return cos_scale_ * cosine.detach() + cos_bias_ + correction;                           // [n]
}

torch::Tensor ar_head_loss(const torch::Tensor& logits, const torch::Tensor& target) {
  return torch::nn::functional::binary_cross_entropy_with_logits(logits, target.to(logits.dtype()));
}

torch::Tensor ArchBertNetImpl::ar_logits(const StatementTokens& tokens, int64_t n,
                                         const GraphEncoding& graphs,
                                         const torch::Tensor& text_graph,
                                         const torch::Tensor& cosine) {
  if (!has_ar_head()) throw Error(ErrorKind::kUsage, "this network has no statement head");
  return ar_->forward(tokens, n, ar_->memory(graphs.tokens, graphs.token_inputs), graphs.token_mask,
                      text_graph,
                      cosine);  // [n]
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
