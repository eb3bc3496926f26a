// Training-step benchmark of the ArchBERT model: one pretraining step (MAM masking, forward,
// L_SIM + 0.05 L_MAM, backward, AdamW) on synthetic CNN-like graphs, timed, with the achieved
// GFLOP/s counting only the work on real tokens and nodes (no padding), beside doctor's sgemm.
//
//   archbert-bench-train-step [--preset small] [--graphs 32] [--nodes 300] [--texts 10]
//                             [--tokens 32] [--steps 3] [--threads 0] [--no-doctor]
//                             [--profile trace.json]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <torch/csrc/autograd/profiler_legacy.h>

#include "archbert/model_torch.h"
#include "archbert/system.h"

namespace {

using namespace archbert;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A CNN-like graph of about `nodes` nodes: conv/sep_conv -> bn -> relu blocks, a skip sum every
// second block, pooling and a classifier.
ArchGraph make_graph(uint32_t seed, int nodes) {
  std::mt19937 rng(seed);
  GraphBuilder b("bench" + std::to_string(seed));
  int prev = b.add(Op::kInput, "x");
  int64_t c = 3;
  const int blocks = std::max(1, (nodes - 4) * 2 / 7);  // 3.5 nodes per block
  for (int i = 0; i < blocks; ++i) {
    Node conv;
    conv.op = rng() % 3 == 0 ? Op::kSepConv : Op::kConv;
    const int64_t out = 32 * (1 + rng() % 16), k = rng() % 2 ? 3 : 1;
    conv.shape = Shape4{out, c, k, k};
    conv.kernel = Kernel2{k, k};
    conv.params = out * c * k * k;
    const int cv = b.add(conv);
    b.connect(prev, cv);
    Node bn;
    bn.op = Op::kBatchNorm;
    bn.shape = Shape4{out, 1, 1, 1};
    const int bi = b.add(bn);
    b.connect(cv, bi);
    const int r = b.add(Op::kRelu);
    b.connect(bi, r);
    if (i % 2) {
      const int s = b.add(Op::kSum);
      b.connect(r, s);
      b.connect(prev, s);
      prev = s;
    } else {
      prev = r;
    }
    c = out;
  }
  const int gap = b.add(Op::kGlobalAvgPool);
  b.connect(prev, gap);
  Node fc;
  fc.op = Op::kLinear;
  fc.shape = Shape4{1000, c, 1, 1};
  const int l = b.add(fc);
  b.connect(gap, l);
  const int o = b.add(Op::kOutput, "y");
  b.connect(l, o);
  return b.finish("bench" + std::to_string(seed), "json", 0, false);
}

// Forward FLOPs of one pre-LN encoder layer over sequences of the given real lengths.
double encoder_flops(const ModelConfig& c, const std::vector<int64_t>& lengths) {
  const double d = static_cast<double>(c.d_model), f = static_cast<double>(c.ffn_dim);
  double total = 0;
  for (int64_t l : lengths) {
    total += l * (2 * 4 * d * d + 2 * 2 * d * f)        // qkv + out projections, FFN
             + 2 * 2 * static_cast<double>(l) * l * d;  // QK^T and attn·V over real keys
  }
  return total * c.layers;
}

}  // namespace

int main(int argc, char** argv) {
  ensure_fast_blas(argc, argv);
  std::string preset = "small";
  int graphs = 32, nodes = 300, texts = 10, tokens = 32, steps = 3, threads = 0;
  bool doctor = true;
  std::string profile;  // chrome trace of the last step
  for (int i = 1; i < argc; ++i) {
    auto next = [&]() {
      return i + 1 < argc ? argv[++i]
                          : (std::fprintf(stderr, "missing value\n"), std::exit(1), argv[0]);
    };
    if (!std::strcmp(argv[i], "--preset"))
      preset = next();
    else if (!std::strcmp(argv[i], "--graphs"))
      graphs = std::atoi(next());
    else if (!std::strcmp(argv[i], "--nodes"))
      nodes = std::atoi(next());
    else if (!std::strcmp(argv[i], "--texts"))
      texts = std::atoi(next());
    else if (!std::strcmp(argv[i], "--tokens"))
      tokens = std::atoi(next());
    else if (!std::strcmp(argv[i], "--steps"))
      steps = std::atoi(next());
    else if (!std::strcmp(argv[i], "--threads"))
      threads = std::atoi(next());
    else if (!std::strcmp(argv[i], "--no-doctor"))
      doctor = false;
    else if (!std::strcmp(argv[i], "--profile"))
      profile = next();
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 1;
    }
  }
  set_threads(threads);
  ModelConfig c = ModelConfig::from_preset(preset);
  torch::manual_seed(0);
  ArchBertNet net(c);
  int64_t n_params = 0;
  for (const auto& p : net->parameters()) n_params += p.numel();

  std::vector<ArchGraph> gs;
  for (int g = 0; g < graphs; ++g) gs.push_back(make_graph(1000 + g, nodes));
  std::vector<const ArchGraph*> ptrs;
  for (auto& g : gs) ptrs.push_back(&g);
  std::mt19937 rng(1);
  std::vector<std::vector<int32_t>> ids;
  std::vector<int64_t> text_graph;
  std::vector<float> y;
  for (int g = 0; g < graphs; ++g) {
    for (int t = 0; t < texts; ++t) {
      std::vector<int32_t> s(tokens);
      for (auto& x : s) x = 1 + static_cast<int32_t>(rng() % (c.text_vocab - 1));
      ids.push_back(s);
      text_graph.push_back(g);
      y.push_back(t % 2 ? 1.f : 0.f);
    }
  }
  auto tb = make_text_batch(ids, c);
  auto tg = torch::tensor(text_graph, torch::kLong);
  auto yt = torch::tensor(y);
  torch::optim::AdamW opt(net->parameters(), torch::optim::AdamWOptions(1e-4));
  auto gen = at::detail::createCPUGenerator(7);

  // FLOPs on real tokens and nodes (forward; backward counted as 2x forward).
  std::vector<int64_t> text_lengths(ids.size(), std::min<int64_t>(tokens, c.max_text_len));
  // Cross-encoder sequence of a graph: its kept nodes plus its summary tokens.
  const GraphBatch probe = make_graph_batch(ptrs, c);
  std::vector<int64_t> graph_lengths;
  int64_t total_nodes = 0, total_edges = 0;
  double kept = 0;
  for (size_t i = 0; i < gs.size(); ++i) {
    const int64_t summary =
        c.use_summary ? probe.summary_offsets[i + 1] - probe.summary_offsets[i] : 0;
    graph_lengths.push_back(probe.kept[i] + summary);
    kept += probe.kept[i];
    total_nodes += gs[i].nodes.size();
    total_edges += gs[i].edges.size();
  }
  const double d = static_cast<double>(c.d_model);
  double fwd = encoder_flops(c, text_lengths);
  if (c.use_cross) fwd += encoder_flops(c, graph_lengths);
  fwd += c.gat_layers * (total_nodes * (2 * 3 * d * d + 2 * d * d) +
                         (total_nodes + 2.0 * total_edges) * 2 * d);  // projections + messages
  fwd += kept * (2 * d * d + 2 * d * ModelConfig::node_vocab());      // MAM head
  const double step_flops = 3 * fwd;

  std::printf("preset %s: d=%lld heads=%lld layers=%lld gat_layers=%lld ffn=%lld, %.2fM params\n",
              c.preset.c_str(), (long long)c.d_model, (long long)c.heads, (long long)c.layers,
              (long long)c.gat_layers, (long long)c.ffn_dim, n_params / 1e6);
  std::printf("batch: %d graphs (%lld nodes, %lld edges), %zu texts x %d tokens; threads %d\n",
              graphs, (long long)total_nodes, (long long)total_edges, ids.size(), tokens,
              get_threads());
  std::printf("work per step (real tokens/nodes only): %.1f GFLOP\n", step_flops / 1e9);

  double best = 1e30, sum = 0;
  for (int s = 0; s <= steps; ++s) {  // step 0 warms up
    std::unique_ptr<torch::autograd::profiler::RecordProfile> prof;
    if (!profile.empty() && s == steps) {
      prof = std::make_unique<torch::autograd::profiler::RecordProfile>(profile);
    }
    auto t0 = std::chrono::steady_clock::now();
    auto batch = make_graph_batch(ptrs, c);
    auto targets = mask_nodes(batch, gen);
    auto t1 = std::chrono::steady_clock::now();
    opt.zero_grad();
    auto out = net->forward_pairs(batch, tb, tg);
    auto loss = sim_loss(out.cosine, yt) + 0.05 * mam_loss(out.mam_logits, targets, batch);
    const float lv = loss.item<float>();
    const double t_fwd = seconds_since(t1);
    auto t2 = std::chrono::steady_clock::now();
    loss.backward();
    const double t_bwd = seconds_since(t2);
    auto t3 = std::chrono::steady_clock::now();
    opt.step();
    const double t_opt = seconds_since(t3);
    const double total = seconds_since(t0);
    std::printf(
        "step %d%s: %.3f s (batching+mask %.3f, forward %.3f, backward %.3f, adamw %.3f)"
        " loss %.4f  %.1f GFLOP/s  %.1f texts/s\n",
        s, s == 0 ? " (warm-up)" : "", total, std::chrono::duration<double>(t1 - t0).count(), t_fwd,
        t_bwd, t_opt, lv, step_flops / total / 1e9, ids.size() / total);
    if (s > 0) {
      best = std::min(best, total);
      sum += total;
    }
  }
  if (steps > 0) {
    std::printf("mean step %.3f s, best %.3f s: %.1f GFLOP/s (best), %.1f graphs/s, %.1f texts/s\n",
                sum / steps, best, step_flops / best / 1e9, graphs / best, ids.size() / best);
  }
  if (doctor) {
    auto r = run_doctor(true);
    std::printf("doctor sgemm: %.1f GFLOP/s (BLAS %s, core %s) -> step achieves %.0f%% of it\n",
                r.sgemm_gflops, r.blas_kind.c_str(), r.blas_core.c_str(),
                100.0 * step_flops / best / 1e9 / r.sgemm_gflops);
  }
  return 0;
}
