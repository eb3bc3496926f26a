// Metric code against hand-computed values (SPEC §5): binary metrics, threshold search,
// recall@k / MRR, the ACD Jaccard baseline, AR name matching and search popularity.

#include "archbert/metrics.h"

#include <gtest/gtest.h>

#include <vector>

#include "archbert/error.h"
#include "archbert/graph.h"

namespace archbert {
namespace {

TEST(BinaryMetrics, HandComputedConfusion) {
  // tp = {0, 2, 9}, fn = {1, 8}, fp = {3}, tn = {4, 5, 6, 7}.
  const std::vector<int> labels = {1, 1, 1, 0, 0, 0, 0, 0, 1, 1};
  const std::vector<int> preds = {1, 0, 1, 1, 0, 0, 0, 0, 0, 1};
  const BinaryMetrics m = binary_metrics(labels, preds);
  EXPECT_EQ(m.tp, 3);
  EXPECT_EQ(m.fn, 2);
  EXPECT_EQ(m.fp, 1);
  EXPECT_EQ(m.tn, 4);
  EXPECT_EQ(m.samples(), 10);
  EXPECT_EQ(m.positives(), 5);
  EXPECT_DOUBLE_EQ(m.accuracy(), 0.7);
  EXPECT_DOUBLE_EQ(m.precision(), 0.75);
  EXPECT_DOUBLE_EQ(m.recall(), 0.6);
  EXPECT_DOUBLE_EQ(m.f1(), 6.0 / 9.0);  // 2PR/(P+R) = 0.9/1.35
}

TEST(BinaryMetrics, DegenerateCasesAreZeroNotNan) {
  const BinaryMetrics empty = binary_metrics({}, {});
  EXPECT_EQ(empty.samples(), 0);
  EXPECT_EQ(empty.accuracy(), 0.0);
  EXPECT_EQ(empty.f1(), 0.0);
  // Nothing predicted positive, nothing positive: precision, recall and F1 are 0, accuracy 1.
  const BinaryMetrics none = binary_metrics({0, 0, 0}, {0, 0, 0});
  EXPECT_EQ(none.precision(), 0.0);
  EXPECT_EQ(none.recall(), 0.0);
  EXPECT_EQ(none.f1(), 0.0);
  EXPECT_EQ(none.accuracy(), 1.0);
  EXPECT_THROW(binary_metrics({1, 0}, {1}), Error);
}

TEST(BinaryMetrics, ThresholdIsInclusive) {
  const std::vector<double> scores = {0.9, 0.4, 0.6, 0.5, 0.2};
  const std::vector<int> labels = {1, 1, 0, 1, 0};
  // score >= 0.5 -> {0, 2, 3}: tp = {0, 3}, fp = {2}, fn = {1}, tn = {4}.
  const BinaryMetrics m = binary_metrics_at(scores, labels, 0.5);
  EXPECT_EQ(m.tp, 2);
  EXPECT_EQ(m.fp, 1);
  EXPECT_EQ(m.fn, 1);
  EXPECT_EQ(m.tn, 1);
  EXPECT_DOUBLE_EQ(m.threshold, 0.5);
  EXPECT_DOUBLE_EQ(m.f1(), 4.0 / 6.0);
  EXPECT_DOUBLE_EQ(m.accuracy(), 0.6);
}

TEST(BestThreshold, MaximisesF1) {
  // Sorted: 0.9(1) 0.6(0) 0.5(1) 0.4(1) 0.2(0). Candidates and F1:
  //   none 0, τ=0.75 2/4, τ=0.55 2/5, τ=0.45 4/6, τ=0.3 6/7 (best), τ=0.2 6/8.
  const std::vector<double> scores = {0.9, 0.4, 0.6, 0.5, 0.2};
  const std::vector<int> labels = {1, 1, 0, 1, 0};
  const BinaryMetrics best = best_threshold(scores, labels);
  EXPECT_DOUBLE_EQ(best.threshold, 0.3);
  EXPECT_EQ(best.tp, 3);
  EXPECT_EQ(best.fp, 1);
  EXPECT_EQ(best.tn, 1);
  EXPECT_EQ(best.fn, 0);
  EXPECT_DOUBLE_EQ(best.f1(), 6.0 / 7.0);
  EXPECT_DOUBLE_EQ(best.accuracy(), 0.8);
  // The threshold reproduces the same predictions.
  const BinaryMetrics again = binary_metrics_at(scores, labels, best.threshold);
  EXPECT_EQ(again.tp, best.tp);
  EXPECT_EQ(again.fp, best.fp);
}

TEST(BestThreshold, TiesGoToTheLargerThreshold) {
  // Sorted labels 1, 0, 0, 1: τ=0.7 gives F1 2/3 (acc 3/4) and τ=0.1 gives F1 4/6 = 2/3
  // (acc 2/4): the tie goes to the more accurate, larger τ.
  const std::vector<double> scores = {0.8, 0.6, 0.4, 0.1};
  const std::vector<int> labels = {1, 0, 0, 1};
  const BinaryMetrics best = best_threshold(scores, labels);
  EXPECT_DOUBLE_EQ(best.threshold, 0.7);
  EXPECT_EQ(best.tp, 1);
  EXPECT_DOUBLE_EQ(best.f1(), 2.0 / 3.0);
  // Input order does not matter.
  const BinaryMetrics shuffled = best_threshold({0.1, 0.4, 0.8, 0.6}, {1, 0, 1, 0});
  EXPECT_DOUBLE_EQ(shuffled.threshold, best.threshold);
}

TEST(BestThreshold, EqualScoresAndNoPositives) {
  // Equal scores are one candidate: all positive (τ = the score) or none.
  const BinaryMetrics eq = best_threshold({0.5, 0.5, 0.5}, {1, 0, 1});
  EXPECT_DOUBLE_EQ(eq.threshold, 0.5);
  EXPECT_EQ(eq.tp, 2);
  EXPECT_EQ(eq.fp, 1);
  // No positives: F1 is 0 everywhere, accuracy is best with everything negative.
  const BinaryMetrics none = best_threshold({0.2, 0.9}, {0, 0});
  EXPECT_GT(none.threshold, 0.9);
  EXPECT_EQ(none.tn, 2);
  EXPECT_EQ(none.fp, 0);
  EXPECT_EQ(best_threshold({}, {}).threshold, 0.5);
}

TEST(Ranking, ThreeQueries) {
  // q0: first relevant at rank 2; q1: rank 1; q2: rank 8 (12 items).
  const std::vector<std::vector<int64_t>> ranked = {
      {2, 0, 1, 3}, {1, 3, 0, 2}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}};
  const std::vector<std::vector<int64_t>> relevant = {{0}, {2, 1}, {11, 7}};
  EXPECT_EQ(first_relevant_rank(ranked[0], {0}), 2);
  EXPECT_EQ(first_relevant_rank(ranked[2], {7, 11}), 8);
  EXPECT_EQ(first_relevant_rank(ranked[0], {9}), 0);
  const RankingMetrics m = ranking_metrics(ranked, relevant);
  EXPECT_EQ(m.queries, 3);
  EXPECT_DOUBLE_EQ(m.recall_at_1, 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.recall_at_5, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.recall_at_10, 1.0);
  EXPECT_DOUBLE_EQ(m.mrr, (0.5 + 1.0 + 0.125) / 3.0);
}

TEST(Ranking, MissesAndEmptyRelevantSets) {
  const RankingMetrics m = ranking_metrics({{0, 1}, {0, 1}}, {{1}, {}});
  EXPECT_EQ(m.queries, 2);
  EXPECT_DOUBLE_EQ(m.recall_at_1, 0.0);
  EXPECT_DOUBLE_EQ(m.recall_at_5, 0.5);
  EXPECT_DOUBLE_EQ(m.mrr, 0.25);
  EXPECT_EQ(ranking_metrics({}, {}).mrr, 0.0);
  EXPECT_THROW(ranking_metrics({{0}}, {}), Error);
}

TEST(Ranking, RankByScoreIsStable) {
  EXPECT_EQ(rank_by_score({0.1, 0.5, 0.5, 0.9}), (std::vector<int64_t>{3, 1, 2, 0}));
}

// input -> conv -> relu -> linear -> output
ArchGraph chain_graph() {
  GraphBuilder b("a");
  const int in = b.add(Op::kInput, "x");
  Node conv;
  conv.op = Op::kConv;
  conv.shape = Shape4{8, 3, 3, 3};
  conv.params = 8 * 27;
  conv.name = "conv";
  const int c = b.add(conv);
  const int r = b.add(Op::kRelu, "relu");
  Node fc;
  fc.op = Op::kLinear;
  fc.shape = Shape4{10, 8, 1, 1};
  fc.params = 80;
  fc.name = "fc";
  const int l = b.add(fc);
  const int out = b.add(Op::kOutput, "y");
  b.connect(in, c);
  b.connect(c, r);
  b.connect(r, l);
  b.connect(l, out);
  return b.finish("a", "json", 8 * 27 + 80, false);
}

// input -> conv -> relu -> conv -> relu -> max_pool -> output
ArchGraph two_conv_graph() {
  GraphBuilder b("b");
  int prev = b.add(Op::kInput, "x");
  for (int i = 0; i < 2; ++i) {
    Node conv;
    conv.op = Op::kConv;
    conv.shape = Shape4{8, i == 0 ? 3 : 8, 3, 3};
    conv.params = 8 * (i == 0 ? 3 : 8) * 9;
    conv.name = "conv" + std::to_string(i);
    const int c = b.add(conv);
    const int r = b.add(Op::kRelu, "relu" + std::to_string(i));
    b.connect(prev, c);
    b.connect(c, r);
    prev = r;
  }
  Node pool;
  pool.op = Op::kMaxPool;
  pool.kernel = Kernel2{2, 2};
  pool.name = "pool";
  const int p = b.add(pool);
  const int out = b.add(Op::kOutput, "y");
  b.connect(prev, p);
  b.connect(p, out);
  return b.finish("b", "json", 8 * 27 + 8 * 72, false);
}

TEST(Jaccard, TwoTinyGraphs) {
  const ArchGraph a = chain_graph(), b = two_conv_graph();
  const GraphOpSets sa = graph_op_sets(a), sb = graph_op_sets(b);
  EXPECT_EQ(sa.ops.size(), 5u);       // input conv relu linear output
  EXPECT_EQ(sb.ops.size(), 5u);       // input conv relu max_pool output
  EXPECT_EQ(sa.edge_ops.size(), 4u);  // (in,conv) (conv,relu) (relu,linear) (linear,out)
  EXPECT_EQ(sb.edge_ops.size(), 5u);  // (in,conv) (conv,relu) (relu,conv) (relu,pool) (pool,out)
  // Ops: 4 common of 6 -> 2/3. Edge pairs: 2 common of 7 -> 2/7. Mean: 10/21.
  EXPECT_DOUBLE_EQ(jaccard_index(sa.ops, sb.ops), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(jaccard_index(sa.edge_ops, sb.edge_ops), 2.0 / 7.0);
  EXPECT_DOUBLE_EQ(acd_jaccard(a, b), 10.0 / 21.0);
  EXPECT_DOUBLE_EQ(acd_jaccard(b, a), 10.0 / 21.0);
  EXPECT_DOUBLE_EQ(acd_jaccard(a, a), 1.0);
  EXPECT_DOUBLE_EQ(jaccard_index(std::vector<int>{}, std::vector<int>{}), 1.0);
  EXPECT_DOUBLE_EQ(jaccard_index(std::vector<int>{1}, std::vector<int>{}), 0.0);
}

TEST(NameMatching, Variants) {
  const auto v = architecture_name_variants("hf:EleutherAI/gpt-neo-1.3B", "gpt_neo");
  const std::vector<std::string> expected = {"gpt neo", "gpt neo 1.3b", "gpt-neo", "gpt-neo-1.3b",
                                             "gpt_neo", "gpt_neo_1.3b", "gptneo",  "gptneo1.3b"};
  EXPECT_EQ(v, expected);
  const auto r = architecture_name_variants("tv:resnet18.folded", "resnet");
  EXPECT_EQ(
      r, (std::vector<std::string>{"resnet", "resnet 18", "resnet-18", "resnet18", "resnet_18"}));
  // "v2" keeps its digit; "mobilenet" does not end in digits.
  EXPECT_EQ(
      architecture_name_variants("tv:mobilenet_v2"),
      (std::vector<std::string>{"mobilenet v2", "mobilenet-v2", "mobilenet_v2", "mobilenetv2"}));
  EXPECT_EQ(
      architecture_name_variants("autonet-val-3"),
      (std::vector<std::string>{"autonet val 3", "autonet-val-3", "autonet_val_3", "autonetval3"}));
}

TEST(NameMatching, WholeWordsCaseInsensitive) {
  const auto neo = architecture_name_variants("hf:EleutherAI/gpt-neo-1.3B", "gpt_neo");
  EXPECT_TRUE(text_names_architecture("GPT-Neo is EleutherAI's replication of GPT-3.", neo));
  EXPECT_TRUE(text_names_architecture("Use gpt_neo_1.3B for this.", neo));
  EXPECT_FALSE(text_names_architecture("The MLP uses GELU with a four-times expansion.", neo));

  const auto resnet = architecture_name_variants("tv:resnet18.folded", "resnet");
  EXPECT_TRUE(text_names_architecture("ResNets stack residual blocks.", resnet));
  EXPECT_TRUE(text_names_architecture("a ResNet50 backbone", resnet));  // digits may follow
  EXPECT_TRUE(text_names_architecture("ResNet-18", resnet));
  EXPECT_TRUE(text_names_architecture("GPT-2 predicts the next token.",
                                      architecture_name_variants("hf:gpt2", "gpt2")));
  EXPECT_FALSE(text_names_architecture("FooResNet is different", resnet));  // letter before
  EXPECT_FALSE(text_names_architecture("a resnetwork", resnet));            // letter after
  EXPECT_FALSE(text_names_architecture("a 2resnet", resnet));               // digit before

  const auto opt = architecture_name_variants("hf:facebook/opt-1.3b", "opt");
  EXPECT_FALSE(text_names_architecture("The optimizer options are unusual.", opt));
  EXPECT_TRUE(text_names_architecture("OPT was released by Meta.", opt));
  EXPECT_FALSE(text_names_architecture("nothing here", {}));
}

TEST(Popularity, CountsPositivesPerModel) {
  // Graph 5 and -1 are outside the 4 models and ignored.
  const auto s = popularity_scores({0, 2, 2, 5, -1, 0, 2}, 4);
  EXPECT_EQ(s, (std::vector<double>{2, 0, 3, 0}));
  EXPECT_EQ(rank_by_score(s), (std::vector<int64_t>{2, 0, 1, 3}));
}

}  // namespace
}  // namespace archbert
