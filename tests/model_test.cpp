// Tests of the ArchBERT model: shape buckets, node cap, gradients, overfitting, batching
// invariance, masking, and checkpoints.

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <tuple>

#include "archbert/error.h"
#include "archbert/model.h"
#include "archbert/model_torch.h"

namespace archbert {
namespace {

namespace fs = std::filesystem;

// A small CNN-like graph: conv/sep_conv -> bn -> relu blocks with skip sums, then pooling and a
// linear classifier.
ArchGraph make_graph(uint32_t seed, int blocks) {
  std::mt19937 rng(seed);
  GraphBuilder b("test" + std::to_string(seed));
  int prev = b.add(Op::kInput, "x");
  int64_t c = 3, params = 0;
  for (int i = 0; i < blocks; ++i) {
    Node conv;
    conv.op = rng() % 3 == 0 ? Op::kSepConv : Op::kConv;
    const int64_t out = 16 * (1 + rng() % 4), k = rng() % 2 ? 3 : 1;
    conv.shape = Shape4{out, c, k, k};
    conv.kernel = Kernel2{k, k};
    conv.params = out * c * k * k;
    conv.name = "conv" + std::to_string(i);
    const int cv = b.add(conv);
    b.connect(prev, cv);
    Node bn;
    bn.op = Op::kBatchNorm;
    bn.shape = Shape4{out, 1, 1, 1};
    bn.params = 2 * out;
    const int bi = b.add(bn);
    b.connect(cv, bi);
    const int r = b.add(rng() % 2 ? Op::kRelu : Op::kGelu);
    b.connect(bi, r);
    if (i % 2 == 1) {
      const int s = b.add(Op::kSum);
      b.connect(r, s);
      b.connect(prev, s);
      prev = s;
    } else {
      prev = r;
    }
    params += conv.params + bn.params;
    c = out;
  }
  const int gap = b.add(Op::kGlobalAvgPool);
  b.connect(prev, gap);
  Node fc;
  fc.op = Op::kLinear;
  fc.shape = Shape4{10, c, 1, 1};
  fc.params = 10 * c + 10;
  const int l = b.add(fc);
  b.connect(gap, l);
  const int o = b.add(Op::kOutput, "y");
  b.connect(l, o);
  return b.finish("g" + std::to_string(seed), "json", params + fc.params, false);
}

ModelConfig tiny() {
  ModelConfig c = ModelConfig::from_preset("tiny");
  return c;
}

std::vector<int32_t> make_text(uint32_t seed, int len, int vocab) {
  std::mt19937 rng(seed * 7919 + 1);
  std::vector<int32_t> t(len);
  for (auto& x : t) x = 1 + static_cast<int32_t>(rng() % (vocab - 1));
  return t;
}

std::string temp_path(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("archbert_model_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return (dir / name).string();
}

std::string read_all(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
void write_all(const std::string& p, const std::string& s) {
  std::ofstream(p, std::ios::binary) << s;
}

// Expects load to fail with Error(kBadInput) naming the file and containing `what`.
void expect_bad_checkpoint(const std::string& path, const std::string& what) {
  try {
    ArchBertModel::load(path);
    FAIL() << "no error for " << path;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

TEST(ModelConfig, PresetsAndJson) {
  auto small = ModelConfig::from_preset("small");
  EXPECT_EQ(small.d_model, 256);
  auto base = ModelConfig::from_preset("base");
  EXPECT_EQ(base.d_model, 768);
  EXPECT_EQ(base.heads, 12);
  EXPECT_EQ(base.layers, 12);
  auto c = ModelConfig::from_json(R"({"preset":"small","d_model":128,"use_edges":false})");
  EXPECT_EQ(c.d_model, 128);
  EXPECT_FALSE(c.use_edges);
  EXPECT_EQ(c.layers, small.layers);
  auto round = ModelConfig::from_json(c.to_json());
  EXPECT_EQ(round.to_json(), c.to_json());
  EXPECT_THROW(ModelConfig::from_json(R"({"d_modle":128})"), Error);
  EXPECT_THROW(ModelConfig::from_json(R"({"heads":3})"), Error);
  EXPECT_THROW(ModelConfig::from_json(R"({"heads":"4"})"), Error);
  EXPECT_EQ(small.ar_head_layers, 0);  // AR by cosine unless a run adds the statement head
  EXPECT_EQ(ModelConfig::from_json(R"({"ar_head_layers":2})").ar_head_layers, 2);
  EXPECT_THROW(ModelConfig::from_json(R"({"ar_head_layers":-1})"), Error);
  EXPECT_THROW(ModelConfig::from_preset("huge"), Error);
  EXPECT_EQ(ModelConfig::node_vocab(), op_count() + 2);
}

TEST(ModelConfig, SmallCheckpointUnder50MB) {
  torch::manual_seed(0);
  ArchBertNet net(ModelConfig::from_preset("small"));
  int64_t n = 0;
  for (const auto& p : net->parameters()) n += p.numel();
  EXPECT_LT(n * 4, 50LL * 1000 * 1000) << n << " parameters";
}

TEST(ShapeBuckets, MonotoneAndInRange) {
  ModelConfig c;
  int64_t last = -1;
  for (int64_t v = 1; v <= (int64_t{1} << 22); v = v < 4096 ? v + 1 : v + v / 64) {
    const int64_t b = shape_bucket(v, c);
    EXPECT_GE(b, last) << v;
    EXPECT_GE(b, 0);
    EXPECT_LT(b, c.shape_buckets);
    last = b;
  }
  EXPECT_EQ(shape_bucket(c.shape_max_dim, c), c.shape_buckets - 1);
  EXPECT_EQ(shape_bucket(int64_t{1} << 40, c), c.shape_buckets - 1);
  // Kernel sizes and small dims stay apart; channel counts an octave apart too.
  for (int64_t v = 1; v < c.shape_exact; ++v) EXPECT_LT(shape_bucket(v, c), shape_bucket(v + 1, c));
  for (int64_t v = 16; v < (1 << 19); v *= 2) EXPECT_LT(shape_bucket(v, c), shape_bucket(2 * v, c));
}

TEST(NodeCap, KeepsParametricNodesInOrder) {
  ArchGraph g = make_graph(1, 60);  // 1 + 60*3 + 30 + 3 nodes
  int64_t shaped = 0;
  for (const auto& n : g.nodes) shaped += n.shape.has_value();
  const int64_t cap = shaped + 2 + 10;
  auto keep = cap_graph_nodes(g, cap);
  ASSERT_EQ(static_cast<int64_t>(keep.size()), cap);
  EXPECT_TRUE(std::is_sorted(keep.begin(), keep.end()));
  std::set<int32_t> kept(keep.begin(), keep.end());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (g.nodes[i].shape || g.nodes[i].op == Op::kInput || g.nodes[i].op == Op::kOutput) {
      EXPECT_TRUE(kept.count(static_cast<int32_t>(i))) << i;
    }
  }
  // Below the number of parametric nodes: evenly spread, still sorted and unique.
  auto few = cap_graph_nodes(g, 20);
  EXPECT_EQ(few.size(), 20u);
  EXPECT_TRUE(std::is_sorted(few.begin(), few.end()));
  EXPECT_EQ(std::set<int32_t>(few.begin(), few.end()).size(), 20u);
  EXPECT_EQ(cap_graph_nodes(g, 100000).size(), g.nodes.size());
  // The batch marks the graph as capped and the GAT still sees every node.
  ModelConfig c = tiny();
  c.max_graph_nodes = cap;
  auto batch = make_graph_batch({&g}, c);
  EXPECT_TRUE(batch.capped[0]);
  EXPECT_EQ(batch.total_nodes, static_cast<int64_t>(g.nodes.size()));
  EXPECT_EQ(batch.pad_mask.sum().item<int64_t>(), cap);
}

TEST(Masking, DeterministicAndSkipsIo) {
  std::vector<ArchGraph> gs = {make_graph(2, 20), make_graph(3, 30)};
  ModelConfig c = tiny();
  auto run = [&](uint64_t seed) {
    auto b = make_graph_batch({&gs[0], &gs[1]}, c);
    auto gen = at::detail::createCPUGenerator(seed);
    auto t = mask_nodes(b, gen);
    return std::make_tuple(b, t);
  };
  auto [b1, t1] = run(5);
  auto [b2, t2] = run(5);
  auto [b3, t3] = run(6);
  EXPECT_TRUE(torch::equal(t1, t2));
  EXPECT_TRUE(torch::equal(b1.ops, b2.ops));
  EXPECT_FALSE(torch::equal(t1, t3));
  auto chosen = t1.ne(-100);
  EXPECT_FALSE(chosen.logical_and(b1.is_io).any().item<bool>());
  EXPECT_TRUE(torch::equal(chosen, b1.shape_hidden));
  const int64_t eligible = b1.is_io.logical_not().sum().item<int64_t>();
  const int64_t n = chosen.sum().item<int64_t>();
  EXPECT_NEAR(static_cast<double>(n) / eligible, 0.15, 0.03);
  // Most chosen nodes carry [MASK]; the targets are the original ops.
  auto clean = make_graph_batch({&gs[0], &gs[1]}, c);
  EXPECT_TRUE(torch::equal(t1.masked_select(chosen), clean.ops.masked_select(chosen)));
  EXPECT_GT(b1.ops.masked_select(chosen).eq(ModelConfig::node_mask_id()).sum().item<int64_t>(),
            n / 2);
}

TEST(Model, EveryParameterGetsAGradient) {
  torch::manual_seed(1);
  ModelConfig c = tiny();
  c.gat_layers = 2;
  c.layers = 2;
  c.inventory_head = true;
  c.ar_head_layers = 1;
  ArchBertNet net(c);
  std::vector<ArchGraph> gs = {make_graph(4, 6), make_graph(5, 9), make_graph(6, 4)};
  auto batch = make_graph_batch({&gs[0], &gs[1], &gs[2]}, c);
  auto gen = at::detail::createCPUGenerator(3);
  auto targets = mask_nodes(batch, gen);
  std::vector<std::vector<int32_t>> texts;
  for (int i = 0; i < 6; ++i) texts.push_back(make_text(i, 3 + i, c.text_vocab));
  auto tb = make_text_batch(texts, c);
  auto tg = torch::tensor({0, 0, 1, 1, 2, 2}, torch::kLong);
  auto y = torch::tensor({1.f, 0.f, 1.f, 0.f, 1.f, 0.f});
  auto out = net->forward_pairs(batch, tb, tg);
  auto loss = sim_loss(out.cosine, y) + 0.05 * mam_loss(out.mam_logits, targets, batch) +
              inventory_loss(net->inventory_logits(out.graphs.pooled),
                             op_presence({&gs[0], &gs[1], &gs[2]})) +
              ar_head_loss(out.ar_logits, y);
  loss.backward();
  for (const auto& p : net->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_GT(p.value().grad().abs().sum().item<float>(), 0.f) << p.key();
  }
}

TEST(Model, TinyModelOverfitsTwentyPairs) {
  torch::manual_seed(2);
  ModelConfig c = tiny();
  ArchBertNet net(c);
  std::vector<ArchGraph> gs;
  for (int i = 0; i < 20; ++i) gs.push_back(make_graph(100 + i, 3 + i % 5));
  std::vector<const ArchGraph*> ptrs;
  for (auto& g : gs) ptrs.push_back(&g);
  auto batch = make_graph_batch(ptrs, c);
  // Each graph: its own description (y = 1) and another graph's (y = 0).
  std::vector<std::vector<int32_t>> texts;
  std::vector<int64_t> tg;
  std::vector<float> y;
  for (int i = 0; i < 20; ++i) {
    texts.push_back(make_text(i, 6, c.text_vocab));
    tg.push_back(i);
    y.push_back(1.f);
    texts.push_back(make_text((i + 7) % 20, 6, c.text_vocab));
    tg.push_back(i);
    y.push_back(0.f);
  }
  auto tb = make_text_batch(texts, c);
  auto tgt = torch::tensor(tg, torch::kLong);
  auto yt = torch::tensor(y);
  torch::optim::AdamW opt(net->parameters(), torch::optim::AdamWOptions(3e-3).weight_decay(0));
  float loss_value = 1;
  int step = 0;
  for (; step < 400 && loss_value >= 0.01f; ++step) {
    opt.zero_grad();
    auto out = net->forward_pairs(batch, tb, tgt);
    auto loss = sim_loss(out.cosine, yt);
    loss.backward();
    opt.step();
    loss_value = loss.item<float>();
  }
  EXPECT_LT(loss_value, 0.01f) << "after " << step << " steps";
}

TEST(Losses, SimilarityLossesByHand) {
  const auto cos = torch::tensor({0.5f, 0.6f, 0.2f});
  const auto y = torch::tensor({1.0f, 1.0f, 0.0f});
  // MSE (paper eq. 3): ((0.5)^2 + (0.4)^2 + (0.2)^2) / 3.
  EXPECT_NEAR(sim_loss(cos, y).item<double>(), (0.25 + 0.16 + 0.04) / 3, 1e-6);
  // BCE of sigmoid((cos - 0.5) / 0.1): logits 0, 1, -3 -> ln 2, ln(1 + e^-1), ln(1 + e^-3).
  const double expected =
      (std::log(2.0) + std::log1p(std::exp(-1.0)) + std::log1p(std::exp(-3.0))) / 3;
  EXPECT_NEAR(sim_loss_bce(cos, y, 0.1).item<double>(), expected, 1e-6);
  // A true pair far above 0.5 costs (almost) nothing; under MSE it still costs (1 - cos)^2.
  const auto far = torch::tensor({0.95f});
  const auto one = torch::tensor({1.0f});
  EXPECT_LT(sim_loss_bce(far, one, 0.1).item<double>(), 0.012);
  EXPECT_NEAR(sim_loss(far, one).item<double>(), 0.0025, 1e-6);
}

TEST(Losses, InventoryByHand) {
  const ArchGraph a = make_graph(1, 4), b = make_graph(2, 1);
  const auto p = op_presence({&a, &b});
  ASSERT_EQ(p.size(0), 2);
  ASSERT_EQ(p.size(1), ModelConfig::node_vocab());
  for (int64_t g = 0; g < 2; ++g) {
    const ArchGraph& graph = g == 0 ? a : b;
    for (int64_t v = 0; v < ModelConfig::node_vocab(); ++v) {
      bool has = false;
      for (const Node& n : graph.nodes)
        has = has || (static_cast<int64_t>(n.op) == v && n.op != Op::kInput && n.op != Op::kOutput);
      EXPECT_EQ(p[g][v].item<float>(), has ? 1.0f : 0.0f) << g << " " << v;
    }
  }
  EXPECT_EQ(p[0][static_cast<int64_t>(Op::kBatchNorm)].item<float>(), 1.0f);
  EXPECT_EQ(p[0][static_cast<int64_t>(Op::kInput)].item<float>(), 0.0f);
  // Mean binary cross-entropy of the logits: ln(1 + e^-2) (present, logit 2) and ln(1 + e^-1)
  // (absent, logit -1) and ln 2 (present, logit 0).
  const auto logits = torch::tensor({{2.0f, -1.0f, 0.0f}});
  const auto present = torch::tensor({{1.0f, 0.0f, 1.0f}});
  EXPECT_NEAR(inventory_loss(logits, present).item<double>(),
              (std::log1p(std::exp(-2.0)) + std::log1p(std::exp(-1.0)) + std::log(2.0)) / 3, 1e-6);
}

TEST(Losses, ContrastiveLossByHand) {
  // One text, three graphs with cosines 1, 0, 1: logits 10, 0, 10 at T = 0.1.
  const auto jt = torch::tensor({{2.0f, 0.0f}});
  const auto jg = torch::tensor({{1.0f, 0.0f}, {0.0f, 3.0f}, {0.5f, 0.0f}});
  const double all = std::log(2 * std::exp(10.0) + 1);
  // Only the first graph counts as a positive: the third, as close, is a competitor.
  const auto first = torch::tensor({{true, false, false}});
  EXPECT_NEAR(contrastive_loss(jt, jg, first, 0.1).item<double>(), all - 10.0, 1e-4);
  // A text true of the first and the third graph is not pushed away from either.
  const auto both = torch::tensor({{true, false, true}});
  EXPECT_NEAR(contrastive_loss(jt, jg, both, 0.1).item<double>(),
              all - std::log(2 * std::exp(10.0)), 1e-4);
  // With one positive per row it is the usual cross-entropy over the graphs.
  torch::manual_seed(5);
  const auto a = torch::randn({4, 8}), b = torch::randn({6, 8});
  const auto target = torch::tensor({2, 0, 5, 2}, torch::kLong);
  const auto one_hot = torch::nn::functional::one_hot(target, 6).to(torch::kBool);
  namespace F = torch::nn::functional;
  const auto logits = torch::matmul(F::normalize(a, F::NormalizeFuncOptions().dim(1)),
                                    F::normalize(b, F::NormalizeFuncOptions().dim(1)).t()) /
                      0.1;
  EXPECT_NEAR(contrastive_loss(a, b, one_hot, 0.1).item<double>(),
              F::cross_entropy(logits, target).item<double>(), 1e-5);
}

TEST(Model, GraphEmbeddingIndependentOfBatch) {
  torch::manual_seed(3);
  ModelConfig c = ModelConfig::from_preset("small");  // the real width and depth
  c.text_vocab = 64;
  c.max_text_len = 16;
  auto model = ArchBertModel::create(c, 3);
  ArchGraph small = make_graph(7, 2), big1 = make_graph(8, 40), big2 = make_graph(9, 25);
  auto alone = model.embed_graphs({&small});
  auto batched = model.embed_graphs({&big1, &small, &big2});
  ASSERT_EQ(batched.size(), 3u);
  for (int64_t i = 0; i < c.d_model; ++i) EXPECT_NEAR(alone[0][i], batched[1][i], 1e-5);
  auto big_alone = model.embed_graphs({&big2});
  for (int64_t i = 0; i < c.d_model; ++i) EXPECT_NEAR(big_alone[0][i], batched[2][i], 1e-5);
  // Same for texts padded beside longer texts.
  auto t = make_text(1, 3, c.text_vocab);
  auto ta = model.embed_texts({t});
  auto tb = model.embed_texts({make_text(2, 14, c.text_vocab), t});
  for (int64_t i = 0; i < c.d_model; ++i) EXPECT_NEAR(ta[0][i], tb[1][i], 1e-5);
}

TEST(Model, PairBatchMatchesSeparateEncoding) {
  torch::manual_seed(4);
  ModelConfig c = tiny();
  ArchBertNet net(c);
  net->eval();
  torch::NoGradGuard ng;
  std::vector<ArchGraph> gs = {make_graph(10, 5), make_graph(11, 8)};
  auto batch = make_graph_batch({&gs[0], &gs[1]}, c);
  std::vector<std::vector<int32_t>> texts = {make_text(1, 4, 64), make_text(2, 7, 64),
                                             make_text(3, 5, 64)};
  auto out = net->forward_pairs(batch, make_text_batch(texts, c), torch::tensor({1, 0, 1}));
  auto jg = net->encode_graphs(make_graph_batch({&gs[1]}, c)).pooled;
  auto jt = net->encode_texts(make_text_batch({texts[2]}, c)).pooled;
  auto cos = torch::cosine_similarity(jt, jg, 1).item<float>();
  EXPECT_NEAR(out.cosine[2].item<float>(), cos, 1e-5);
}

TEST(Model, ChunkedTextEncodingMatchesOneBatchAndKeepsOrder) {
  torch::manual_seed(5);
  ModelConfig c = tiny();
  ArchBertNet net(c);
  net->eval();
  torch::NoGradGuard ng;
  std::vector<std::vector<int32_t>> texts;
  for (int i = 0; i < 9; ++i) texts.push_back(make_text(20 + i, 2 + (i * 5) % 13, 64));
  auto whole = net->encode_texts(make_text_batch(texts, c)).pooled;  // [9, d]
  for (int64_t chunk : {1, 2, 4, 100}) {
    auto chunked = net->pooled_texts(texts, chunk);
    ASSERT_EQ(chunked.sizes(), whole.sizes());
    EXPECT_LT((chunked - whole).abs().max().item<float>(), 1e-5) << "chunk " << chunk;
  }
  // The pair forward over ids gives the cosines of the padded-batch forward, and gradients flow.
  std::vector<ArchGraph> gs = {make_graph(12, 4), make_graph(13, 6)};
  auto batch = make_graph_batch({&gs[0], &gs[1]}, c);
  auto tg = torch::tensor({0, 1, 1, 0, 1, 0, 0, 1, 1});
  auto a = net->forward_pairs(batch, make_text_batch(texts, c), tg);
  auto b = net->forward_pairs(batch, texts, tg, 3);
  EXPECT_LT((a.cosine - b.cosine).abs().max().item<float>(), 1e-5);
}

TEST(Summary, TokensCountTheWholeGraph) {
  // input -> conv3x3 -> conv3x3 -> relu -> maxpool2x2 -> conv1x1 -> output
  GraphBuilder b("summary");
  int prev = b.add(Op::kInput, "x");
  int64_t params = 0;
  auto conv = [&](int64_t k) {
    Node n;
    n.op = Op::kConv;
    n.shape = Shape4{8, 8, k, k};
    n.kernel = Kernel2{k, k};
    n.params = 64 * k * k;
    params += n.params;
    const int id = b.add(n);
    b.connect(prev, id);
    prev = id;
  };
  conv(3);
  conv(3);
  const int r = b.add(Op::kRelu);
  b.connect(prev, r);
  Node pool;
  pool.op = Op::kMaxPool;
  pool.kernel = Kernel2{2, 2};
  const int p = b.add(pool);
  b.connect(r, p);
  prev = p;
  conv(1);
  const int o = b.add(Op::kOutput, "y");
  b.connect(prev, o);
  ArchGraph g = b.finish("summary", "json", params, false);

  ModelConfig c = tiny();
  c.max_graph_nodes = 3;  // the cross encoder sees 3 nodes; counts still cover all 7
  auto batch = make_graph_batch({&g, &g}, c);
  ASSERT_EQ(batch.summary_offsets, (std::vector<int64_t>{0, 9, 18}));
  std::map<std::tuple<int64_t, int64_t, int64_t, int64_t>, double> got;
  for (int64_t s = 0; s < 9; ++s) {
    got[{batch.summary_kind[s].item<int64_t>(), batch.summary_op[s].item<int64_t>(),
         batch.summary_kernel[s][0].item<int64_t>(), batch.summary_kernel[s][1].item<int64_t>()}] =
        batch.summary_value[s].item<double>();
  }
  const int64_t conv_id = static_cast<int64_t>(Op::kConv), none = ModelConfig::node_pad_id();
  const int64_t k3 = shape_bucket(3, c), k2 = shape_bucket(2, c), k1 = shape_bucket(1, c);
  std::map<std::tuple<int64_t, int64_t, int64_t, int64_t>, double> want = {
      {{kOpCount, conv_id, 0, 0}, 3},
      {{kOpCount, static_cast<int64_t>(Op::kRelu), 0, 0}, 1},
      {{kOpCount, static_cast<int64_t>(Op::kMaxPool), 0, 0}, 1},
      {{kKernelCount, conv_id, k3, k3}, 2},
      {{kKernelCount, conv_id, k1, k1}, 1},
      {{kKernelCount, static_cast<int64_t>(Op::kMaxPool), k2, k2}, 1},
      {{kParamCount, none, 0, 0}, static_cast<double>(64 * 9 * 2 + 64)},
      {{kLayerCount, none, 0, 0}, 5},
      {{kDepth, none, 0, 0}, 7}};
  // kLayerCount is the inventory total and kDepth the stats' depth (what texts state).
  const GraphStats st = g.stats();
  int64_t layers = 0;
  for (const auto& [cls, n] : st.inventory) layers += n;
  want[{kLayerCount, none, 0, 0}] = static_cast<double>(layers);
  want[{kDepth, none, 0, 0}] = static_cast<double>(st.depth);
  EXPECT_EQ(got, want);
  EXPECT_TRUE(batch.capped[0]);

  c.use_summary = false;
  EXPECT_FALSE(make_graph_batch({&g}, c).summary_kind.defined());
}

TEST(Summary, ValueEmbeddingSeparatesNearbyCounts) {
  torch::manual_seed(3);
  ValueEmbedding v(tiny());
  auto e = v->forward(torch::tensor({39.0, 39.0, 35.0, 2850000.0, 2853211.0, 3300000.0},
                                    torch::kDouble));  // [6, d]
  auto dist = [&](int a, int b) { return (e[a] - e[b]).norm().item<float>(); };
  EXPECT_EQ(dist(0, 1), 0.0f);
  EXPECT_GT(dist(0, 2), 0.0f);
  // The features (before the linear map) of values 10% apart are far apart; of values 0.1%
  // apart, close: a rounded figure in a text lands near the exact count of the graph.
  EXPECT_LT(dist(3, 4), dist(3, 5));
}

// Graphs input -> one pooling node -> output that differ only in the pooling op: their
// summary tokens differ only in what the op-count and kernel-count tokens count.
TEST(Summary, BalancedTokensKeepWhichOpTheyCount) {
  auto pool_graph = [](Op op) {
    GraphBuilder b("pool");
    const int in = b.add(Op::kInput, "x");
    Node n;
    n.op = op;
    n.kernel = Kernel2{2, 2};
    const int p = b.add(n);
    b.connect(in, p);
    const int o = b.add(Op::kOutput, "y");
    b.connect(p, o);
    return b.finish("pool", "json", 0, false);
  };
  const ArchGraph gmax = pool_graph(Op::kMaxPool), gavg = pool_graph(Op::kAvgPool);
  // Relative distance between the two graphs' summary-token means. Without the cross encoder
  // J_g = (node mean + summary mean) / 2, so the summary mean is 2 J_g - node mean.
  auto summary_gap = [&](bool balanced) {
    torch::manual_seed(11);
    ModelConfig c = tiny();
    c.use_cross = false;
    c.balanced_summary = balanced;
    ArchBertNet net(c);
    net->eval();
    torch::NoGradGuard ng;
    auto summary_mean = [&](const ArchGraph& g) {
      auto b = make_graph_batch({&g}, c);
      auto e = net->encode_graphs(b);
      auto m = b.pad_mask.unsqueeze(-1).to(torch::kFloat);
      auto nodes = (e.node_states * m).sum(1) / m.sum(1);
      return (2 * e.pooled - nodes)[0];  // [d]
    };
    auto a = summary_mean(gmax), v = summary_mean(gavg);
    return ((a - v).norm() / a.norm()).item<float>();
  };
  const float plain = summary_gap(false), balanced = summary_gap(true);
  // Plain: the value embedding (the same count 1 in both) drowns the op rows.
  EXPECT_LT(plain, 0.15f);
  EXPECT_GT(balanced, 3 * plain) << plain << " " << balanced;  // 0.036 and 0.45 here
  EXPECT_GT(balanced, 0.3f);
}

TEST(Summary, GraphTokenBudgetDoesNotChangeEmbeddings) {
  for (bool summary : {true, false}) {
    torch::manual_seed(6);
    ModelConfig c = tiny();
    c.use_summary = summary;
    ArchBertNet net(c);
    net->eval();
    torch::NoGradGuard ng;
    std::vector<ArchGraph> gs;
    for (int i = 0; i < 7; ++i) gs.push_back(make_graph(60 + i, 1 + (i * 3) % 8));
    std::vector<const ArchGraph*> ptrs;
    for (auto& g : gs) ptrs.push_back(&g);
    auto batch = make_graph_batch(ptrs, c);
    net->set_graph_token_budget(1 << 20);
    auto whole = net->encode_graphs(batch);
    for (int64_t budget : {1, 40, 100}) {
      net->set_graph_token_budget(budget);
      auto part = net->encode_graphs(batch);
      EXPECT_LT((part.pooled - whole.pooled).abs().max().item<float>(), 1e-5) << budget;
      auto m = batch.pad_mask.unsqueeze(-1);
      EXPECT_LT(((part.node_states - whole.node_states) * m).abs().max().item<float>(), 1e-5);
    }
  }
}

// Number roles for a tiny vocabulary: ids 10..19 are digits 0..9 at a word start, 20..29 inside a
// word (number_roles' coding).
std::vector<int8_t> digit_roles(int64_t vocab) {
  std::vector<int8_t> roles(vocab, 0);
  for (int d = 0; d < 10; ++d) {
    roles[10 + d] = static_cast<int8_t>(1 + d);
    roles[20 + d] = static_cast<int8_t>(11 + d);
  }
  return roles;
}

TEST(Numbers, DigitsCarryTheirValue) {
  torch::manual_seed(7);
  ModelConfig c = tiny();
  ArchBertNet net(c);
  net->eval();
  torch::NoGradGuard ng;
  std::vector<int8_t> roles = digit_roles(c.text_vocab);
  const std::vector<int32_t> t39 = {2, 40, 13, 29, 41, 3};  // "... 3 ##9 ..."
  const std::vector<int32_t> t35 = {2, 40, 13, 25, 41, 3};  // "... 3 ##5 ..."
  auto before39 = net->pooled_texts({t39}, 4);
  net->set_number_roles(roles);
  auto a = net->pooled_texts({t39, t35}, 4);
  EXPECT_GT((a[0] - before39[0]).abs().max().item<float>(), 1e-4);  // the value is added
  EXPECT_GT((a[0] - a[1]).abs().max().item<float>(), 1e-4);
  // The roles travel with the checkpoint.
  const std::string path = temp_path("numbers.ckpt");
  save_checkpoint(path, net, CheckpointMeta{});
  auto loaded = load_checkpoint(path, nullptr);
  loaded->eval();
  auto b = loaded->pooled_texts({t39, t35}, 4);
  EXPECT_LT((a - b).abs().max().item<float>(), 1e-6);
  // Without use_numbers, digits are ordinary tokens.
  c.use_numbers = false;
  torch::manual_seed(7);
  ArchBertNet plain(c);
  plain->set_number_roles(roles);  // ignored
  plain->eval();
  EXPECT_LT((plain->pooled_texts({t39}, 4) - before39).abs().max().item<float>(), 1e-6);
}

// "w 3 w 7 w" against "w 7 w 3 w": the same numbers in swapped places. The value embedding
// drowns the position of a number's piece unless the two are balanced.
TEST(Numbers, BalancedNumbersKeepWhereTheyStand) {
  const std::vector<int32_t> a = {2, 40, 13, 41, 17, 42, 3};
  const std::vector<int32_t> b = {2, 40, 17, 41, 13, 42, 3};
  auto gap = [&](bool balanced) {
    torch::manual_seed(7);
    ModelConfig c = tiny();
    c.balanced_numbers = balanced;
    ArchBertNet net(c);
    net->eval();
    torch::NoGradGuard ng;
    net->set_number_roles(digit_roles(c.text_vocab));
    auto j = net->pooled_texts({a, b}, 4);
    return ((j[0] - j[1]).norm() / j[0].norm()).item<float>();
  };
  const float plain = gap(false), balanced = gap(true);
  EXPECT_GT(balanced, 3 * plain) << plain << " " << balanced;  // 0.0070 and 0.066 here
  EXPECT_LT(plain, 0.02f);
  // Texts without numbers are read as before.
  torch::manual_seed(7);
  ModelConfig c = tiny();
  ArchBertNet p(c);
  torch::manual_seed(7);
  c.balanced_numbers = true;
  ArchBertNet q(c);
  p->eval();
  q->eval();
  p->set_number_roles(digit_roles(c.text_vocab));
  q->set_number_roles(digit_roles(c.text_vocab));
  torch::NoGradGuard ng;
  const std::vector<int32_t> words = {2, 40, 41, 42, 3};
  EXPECT_LT((p->pooled_texts({words}, 4) - q->pooled_texts({words}, 4)).abs().max().item<float>(),
            1e-6);
}

TEST(Numbers, TextKernelsShareTheGraphKernelEmbedding) {
  ModelConfig c = tiny();
  c.use_text_kernels = true;
  torch::manual_seed(7);
  ArchBertNet net(c);
  net->eval();
  torch::NoGradGuard ng;
  std::vector<int8_t> roles = digit_roles(c.text_vocab);
  roles[30] = 30;  // "##x" (number_roles' coding)
  net->set_number_roles(roles);
  const std::vector<int32_t> k71 = {2, 40, 17, 30, 21, 41, 3};  // "... 7 ##x ##1 ..."
  const std::vector<int32_t> k17 = {2, 40, 11, 30, 27, 41, 3};  // "... 1 ##x ##7 ..."
  auto a = net->pooled_texts({k71, k17}, 4);
  // Without the kernel embedding the two texts hold the same numbers {7, 1} in other places;
  // with it, which size is the height matters more than positions alone.
  ModelConfig plain_c = c;
  plain_c.use_text_kernels = false;
  torch::manual_seed(7);
  ArchBertNet plain(plain_c);
  plain->eval();
  plain->set_number_roles(roles);
  auto p = plain->pooled_texts({k71, k17}, 4);
  EXPECT_GT((a[0] - p[0]).abs().max().item<float>(), 1e-4);  // the kernel embedding is added
  // Exactly the graph side's rows: zeroing kernel_h's row of 7 and kernel_w's row of 1 (buckets
  // 6 and 0) makes "7x1" read as without the flag; "1x7" uses other rows and keeps its change.
  for (auto& item : net->named_parameters()) {
    if (item.key() == "kernel_h.weight") item.value()[shape_bucket(7, c)].zero_();
    if (item.key() == "kernel_w.weight") item.value()[shape_bucket(1, c)].zero_();
  }
  auto z = net->pooled_texts({k71, k17}, 4);
  EXPECT_LT((z[0] - p[0]).abs().max().item<float>(), 1e-5);
  EXPECT_GT((z[1] - p[1]).abs().max().item<float>(), 1e-4);
  // The flag travels with the config; it needs summary tokens and number values.
  EXPECT_TRUE(ModelConfig::from_json(c.to_json()).use_text_kernels);
  auto j = nlohmann::json::parse(c.to_json());
  j.erase("use_text_kernels");
  EXPECT_FALSE(ModelConfig::from_json(j.dump()).use_text_kernels);
  c.use_numbers = false;
  EXPECT_THROW(c.validate(), Error);
}

TEST(ModelConfig, ConfigsWrittenBeforeSummaryTokensLoadWithout) {
  auto j = nlohmann::json::parse(tiny().to_json());
  j.erase("use_summary");
  j.erase("use_numbers");
  j.erase("value_frequencies");
  auto old = ModelConfig::from_json(j.dump());
  EXPECT_FALSE(old.use_summary);
  EXPECT_FALSE(old.use_numbers);
  // A hand-written config (no node_vocab) gets the preset's defaults.
  auto fresh = ModelConfig::from_json(R"({"preset":"small"})");
  EXPECT_TRUE(fresh.use_summary);
  EXPECT_TRUE(fresh.use_numbers);
  EXPECT_FALSE(fresh.balanced_summary);
  EXPECT_FALSE(fresh.balanced_numbers);
  auto balanced = tiny();
  balanced.balanced_summary = true;
  EXPECT_TRUE(ModelConfig::from_json(balanced.to_json()).balanced_summary);
  balanced.use_summary = false;
  EXPECT_THROW(balanced.validate("test"), Error);
  auto numbers = tiny();
  numbers.balanced_numbers = true;
  EXPECT_TRUE(ModelConfig::from_json(numbers.to_json()).balanced_numbers);
  numbers.use_numbers = false;
  EXPECT_THROW(numbers.validate("test"), Error);
}

TEST(Model, AblationsRun) {
  for (int k = 0; k < 3; ++k) {
    ModelConfig c = tiny();
    c.use_shape = k != 0;
    c.use_edges = k != 1;
    c.use_cross = k != 2;
    c.aqa_answers = 5;
    ArchBertNet net(c);
    ArchGraph g = make_graph(12, 4);
    auto out = net->forward_pairs(make_graph_batch({&g}, c),
                                  make_text_batch({make_text(1, 4, 64)}, c), torch::tensor({0}));
    EXPECT_EQ(out.cosine.size(0), 1);
    auto logits = net->aqa_head()->forward(out.texts.pooled, out.jg_per_text);
    EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{1, 5}));
  }
}

TEST(StatementHead, LossByHand) {
  // BCE with logits: -(1·log σ(0)) and -(log(1 - σ(2))) = log 2 and log(1 + e^2).
  const auto loss = ar_head_loss(torch::tensor({0.0f, 2.0f}), torch::tensor({1.0f, 0.0f}));
  EXPECT_NEAR(loss.item<double>(), 0.5 * (std::log(2.0) + std::log1p(std::exp(2.0))), 1e-6);
}

TEST(StatementHead, StartsAsThePapersCosineScore) {
  // Untrained, the head's logit is the cosine loss's logit (cos - 0.5) / 0.1 plus a correction
  // near zero; the correction is what training changes.
  torch::manual_seed(20);
  ModelConfig c = tiny();
  c.ar_head_layers = 1;
  ArchBertNet net(c);
  net->eval();
  torch::NoGradGuard ng;
  std::vector<ArchGraph> gs = {make_graph(80, 4), make_graph(81, 7)};
  std::vector<std::vector<int32_t>> texts;
  for (int i = 0; i < 6; ++i) texts.push_back(make_text(90 + i, 3 + i, c.text_vocab));
  auto out = net->forward_pairs(make_graph_batch({&gs[0], &gs[1]}, c), texts,
                                torch::tensor({0, 1, 1, 0, 1, 0}), 4);
  ASSERT_EQ(out.ar_logits.size(0), 6);
  auto expected = (out.cosine - 0.5) / 0.1;
  EXPECT_LT((out.ar_logits - expected).abs().max().item<float>(), 0.05f);
  EXPECT_GT((out.ar_logits - expected).abs().max().item<float>(), 0.0f);
}

TEST(StatementHead, ChunkedPairsMatchOneBatchAndKeepOrder) {
  torch::manual_seed(21);
  ModelConfig c = tiny();
  c.ar_head_layers = 2;
  ArchBertNet net(c);
  net->eval();
  torch::NoGradGuard ng;
  std::vector<ArchGraph> gs = {make_graph(30, 3), make_graph(31, 9), make_graph(32, 5)};
  auto batch = make_graph_batch({&gs[0], &gs[1], &gs[2]}, c);
  std::vector<std::vector<int32_t>> texts;
  for (int i = 0; i < 8; ++i) texts.push_back(make_text(40 + i, 2 + (i * 7) % 11, 64));
  auto tg = torch::tensor({2, 0, 1, 1, 0, 2, 2, 1});
  auto whole = net->forward_pairs(batch, make_text_batch(texts, c), tg).ar_logits;  // [8]
  ASSERT_EQ(whole.size(0), 8);
  for (int64_t chunk : {1, 3, 100}) {
    auto chunked = net->forward_pairs(batch, texts, tg, chunk).ar_logits;
    EXPECT_LT((chunked - whole).abs().max().item<float>(), 1e-5) << "chunk " << chunk;
  }
  // A text's logit depends on its own graph only: alone with its graph it scores the same.
  auto alone = net->forward_pairs(make_graph_batch({&gs[1]}, c), make_text_batch({texts[2]}, c),
                                  torch::tensor({0}))
                   .ar_logits;
  EXPECT_NEAR(alone.item<float>(), whole[2].item<float>(), 1e-5);
  // ... and on which graph that is.
  auto other =
      net->forward_pairs(batch, make_text_batch({texts[2]}, c), torch::tensor({0})).ar_logits;
  EXPECT_GT(std::abs(other.item<float>() - whole[2].item<float>()), 1e-4);
}

TEST(StatementHead, ManyStatementsAboutOneGraphScoreAsAlone) {
  // 12 statements of ~20 tokens about one graph: more tokens than one query row holds, so they
  // are split over rows; each must score as it does alone with its graph.
  torch::manual_seed(23);
  ModelConfig c = tiny();
  c.ar_head_layers = 1;
  ArchBertNet net(c);
  net->eval();
  torch::NoGradGuard ng;
  std::vector<ArchGraph> gs = {make_graph(33, 6), make_graph(34, 4)};
  auto batch = make_graph_batch({&gs[0], &gs[1]}, c);
  std::vector<std::vector<int32_t>> texts;
  std::vector<int64_t> tg;
  for (int i = 0; i < 13; ++i) {
    texts.push_back(make_text(100 + i, 18 + i % 5, 64));
    tg.push_back(i == 6 ? 1 : 0);
  }
  auto all = net->forward_pairs(batch, texts, torch::tensor(tg), 100).ar_logits;  // [13]
  ASSERT_EQ(all.size(0), 13);
  for (int i = 0; i < 13; ++i) {
    auto alone = net->forward_pairs(batch, {texts[i]}, torch::tensor({tg[i]}), 100).ar_logits;
    EXPECT_NEAR(alone.item<float>(), all[i].item<float>(), 1e-5) << "statement " << i;
  }
}

TEST(StatementHead, LearnsWhichGraphEachTextIsTrueOf) {
  // Every text is true of one of two graphs and false of the other, and each graph has texts of
  // both labels: the head must read the pair, not the text alone.
  torch::manual_seed(22);
  ModelConfig c = tiny();
  c.ar_head_layers = 1;
  ArchBertNet net(c);
  std::vector<ArchGraph> gs = {make_graph(50, 3), make_graph(51, 8)};
  auto batch = make_graph_batch({&gs[0], &gs[1]}, c);
  std::vector<std::vector<int32_t>> texts;
  std::vector<int64_t> tg;
  std::vector<float> y;
  for (int i = 0; i < 8; ++i) {
    for (int64_t g : {0, 1}) {
      texts.push_back(make_text(60 + i, 5, c.text_vocab));
      tg.push_back(g);
      y.push_back(static_cast<float>((i % 2) == g));
    }
  }
  auto tb = make_text_batch(texts, c);
  auto tgt = torch::tensor(tg);
  auto yt = torch::tensor(y);
  torch::optim::AdamW opt(net->parameters(), torch::optim::AdamWOptions(3e-3).weight_decay(0));
  float loss_value = 1;
  int step = 0;
  for (; step < 300 && loss_value >= 0.05f; ++step) {
    opt.zero_grad();
    auto loss = ar_head_loss(net->forward_pairs(batch, tb, tgt).ar_logits, yt);
    loss.backward();
    opt.step();
    loss_value = loss.item<float>();
  }
  EXPECT_LT(loss_value, 0.05f) << "after " << step << " steps";
}

// Synthetic presence check for the head alone: a graph is a set of token kinds (one vector per
// kind plus noise), a statement names one kind among filler tokens, and it is true when the graph
// holds that kind. The cosine says nothing (0). The head must learn the lookup, including "not
// there", and generalise to new graphs and statements.
TEST(StatementHead, LearnsWhetherTheGraphHoldsWhatTheStatementNames) {
  torch::manual_seed(5);
  ModelConfig c = tiny();
  c.ar_head_layers = 1;
  ArHead head(c);
  const int64_t d = c.d_model, kinds = 12, m = 8;
  auto kind = torch::randn({kinds, d});
  auto filler = torch::randn({2, d});
  std::mt19937 rng(9);
  // A batch of g graphs with 4 statements each, half of them true.
  auto sample = [&](int64_t g, torch::Tensor* logits, torch::Tensor* labels) {
    auto tokens = torch::zeros({g, m, d});
    auto mask = torch::zeros({g, m}, torch::kBool);
    std::vector<StatementTokens> parts;
    std::vector<int64_t> tg;
    std::vector<float> y;
    for (int64_t i = 0; i < g; ++i) {
      std::vector<int64_t> perm(kinds);
      std::iota(perm.begin(), perm.end(), 0);
      std::shuffle(perm.begin(), perm.end(), rng);
      const int64_t held = 2 + static_cast<int64_t>(rng() % (m - 2));  // 2..7 kinds
      for (int64_t j = 0; j < held; ++j) {
        tokens[i][j] = kind[perm[j]] + 0.1 * torch::randn({d});
        mask[i][j] = true;
      }
      for (int s = 0; s < 4; ++s) {
        const bool truth = s % 2 == 0;
        const int64_t named =
            truth ? perm[rng() % held] : perm[held + rng() % (kinds - held)];  // held or not
        StatementTokens st;
        st.states = torch::stack({filler[0], kind[named] + 0.1 * torch::randn({d}), filler[1]});
        const int64_t row = static_cast<int64_t>(y.size());
        st.text = {row, row, row};
        st.pos = {0, 1, 2};
        parts.push_back(st);
        tg.push_back(i);
        y.push_back(truth ? 1.0f : 0.0f);
      }
    }
    const auto n = static_cast<int64_t>(y.size());
    *logits = head->forward(StatementTokens::cat(parts), n, head->memory(tokens, tokens), mask,
                            torch::tensor(tg), torch::zeros({n}));
    *labels = torch::tensor(y);
  };
  torch::optim::AdamW opt(head->parameters(), torch::optim::AdamWOptions(3e-3).weight_decay(0));
  torch::Tensor logits, labels;
  for (int step = 0; step < 400; ++step) {
    sample(16, &logits, &labels);
    opt.zero_grad();
    ar_head_loss(logits, labels).backward();
    opt.step();
  }
  torch::NoGradGuard no_grad;
  sample(64, &logits, &labels);  // new graphs and statements
  const double accuracy =
      (logits.gt(0).to(torch::kFloat) == labels).to(torch::kFloat).mean().item<double>();
  EXPECT_GT(accuracy, 0.95) << accuracy;
}

TEST(StatementHead, FacadeScoresAreHeadProbabilitiesOrCosines) {
  ModelConfig c = tiny();
  std::vector<ArchGraph> gs = {make_graph(70, 4), make_graph(71, 6)};
  const std::vector<const ArchGraph*> ptrs = {&gs[0], &gs[1]};
  std::vector<std::vector<int32_t>> texts = {
      make_text(1, 5, c.text_vocab), make_text(2, 9, c.text_vocab), make_text(3, 3, c.text_vocab)};
  const std::vector<int64_t> tg = {1, 0, 1};
  {  // No head: the paper's cosine.
    auto model = ArchBertModel::create(c, 3);
    const auto s = model.statement_scores(texts, ptrs, tg);
    const auto sim = model.similarity(texts, ptrs);
    ASSERT_EQ(s.size(), 3u);
    for (size_t i = 0; i < 3; ++i) EXPECT_NEAR(s[i], sim[i][tg[i]], 1e-5);
  }
  c.ar_head_layers = 1;
  auto model = ArchBertModel::create(c, 3);
  const auto s = model.statement_scores(texts, ptrs, tg);
  auto& net = torch_net(model);
  torch::NoGradGuard ng;
  net->eval();
  auto logits =
      net->forward_pairs(make_graph_batch(ptrs, c), make_text_batch(texts, c), torch::tensor(tg))
          .ar_logits;
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_GT(s[i], 0.0f);
    EXPECT_LT(s[i], 1.0f);
    EXPECT_NEAR(s[i], torch::sigmoid(logits[static_cast<int64_t>(i)]).item<float>(), 1e-5);
  }
  // Saved and loaded, the head answers the same.
  const std::string path = temp_path("head.ckpt");
  model.save(path);
  EXPECT_EQ(ArchBertModel::load(path).statement_scores(texts, ptrs, tg), s);
  EXPECT_THROW(model.statement_scores(texts, ptrs, {0, 2, 1}), Error);
}

TEST(Checkpoint, SaveLoadGivesIdenticalOutputs) {
  ModelConfig c = tiny();
  auto model = ArchBertModel::create(c, 9);
  model.meta().tokenizer_json = R"({"type":"bpe","merges":[]})";
  model.meta().extra["threshold"] = "0.42";
  const std::string path = temp_path("a.ckpt");
  model.save(path);
  auto loaded = ArchBertModel::load(path);
  EXPECT_EQ(loaded.config().to_json(), c.to_json());
  EXPECT_EQ(loaded.meta().tokenizer_json, model.meta().tokenizer_json);
  EXPECT_EQ(loaded.meta().extra.at("threshold"), "0.42");
  ArchGraph g = make_graph(13, 6);
  EXPECT_EQ(model.embed_graphs({&g}), loaded.embed_graphs({&g}));
  auto t = make_text(3, 5, c.text_vocab);
  EXPECT_EQ(model.embed_texts({t}), loaded.embed_texts({t}));
  EXPECT_FALSE(fs::exists(path + ".tmp." + std::to_string(::getpid())));
}

TEST(Checkpoint, CorruptTruncatedAndMismatchedFilesAreRefused) {
  ModelConfig c = tiny();
  auto model = ArchBertModel::create(c, 10);
  const std::string good = temp_path("good.ckpt");
  model.save(good);
  const std::string bytes = read_all(good);

  expect_bad_checkpoint(temp_path("missing.ckpt"), "cannot open");

  std::string flipped = bytes;
  flipped[flipped.size() - 100] ^= 0x5a;
  const std::string corrupt = temp_path("corrupt.ckpt");
  write_all(corrupt, flipped);
  expect_bad_checkpoint(corrupt, "checksum");

  const std::string cut = temp_path("cut.ckpt");
  write_all(cut, bytes.substr(0, bytes.size() / 2));
  expect_bad_checkpoint(cut, "truncated");
  write_all(cut, bytes.substr(0, 10));
  expect_bad_checkpoint(cut, "truncated");

  const std::string junk = temp_path("junk.ckpt");
  write_all(junk, std::string(100, 'x'));
  expect_bad_checkpoint(junk, "not an archbert checkpoint");

  // A well-formed file (valid checksum) whose config does not fit its tensors.
  uint64_t hsize;
  std::memcpy(&hsize, bytes.data() + 20, 8);
  auto header = nlohmann::json::parse(bytes.substr(28, hsize));
  header["config"]["d_model"] = 64;
  const std::string h = header.dump();
  std::string payload;
  uint64_t hs = h.size();
  payload.append(reinterpret_cast<const char*>(&hs), 8);
  payload += h;
  payload += bytes.substr(28 + hsize);
  std::string file = bytes.substr(0, 8);
  uint64_t ps = payload.size();
  file.append(reinterpret_cast<const char*>(&ps), 8);
  uint32_t crc = static_cast<uint32_t>(
      crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(payload.data()), payload.size()));
  file.append(reinterpret_cast<const char*>(&crc), 4);
  file += payload;
  const std::string mismatched = temp_path("mismatched.ckpt");
  write_all(mismatched, file);
  expect_bad_checkpoint(mismatched, "does not match its config");
}

}  // namespace
}  // namespace archbert
