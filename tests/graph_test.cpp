// Canonical graph: builder rules, validation, stats, fingerprint.
#include <gtest/gtest.h>

#include "archbert/error.h"
#include "archbert/graph.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace archbert {
namespace {

Node weighted(Op op, Shape4 shape, int64_t params, std::string name = {}) {
  Node n;
  n.op = op;
  n.shape = shape;
  n.params = params;
  n.name = std::move(name);
  return n;
}

// input -> conv -> bn -> relu -> (identity) -> gap -> flatten -> linear -> output
ArchGraph small_cnn(int64_t out_channels = 8) {
  GraphBuilder b("small_cnn");
  int in = b.add(Op::kInput, "x");
  int conv = b.add(weighted(Op::kConv, {out_channels, 3, 3, 3}, out_channels * 27, "conv1"));
  int bn = b.add(weighted(Op::kBatchNorm, {out_channels, 1, 1, 1}, 2 * out_channels, "bn1"));
  int relu = b.add(Op::kRelu, "relu");
  int id = b.elide("identity", "Identity");
  int gap = b.add(Op::kGlobalAvgPool, "gap");
  int flat = b.add(Op::kFlatten, "flatten");
  int fc = b.add(weighted(Op::kLinear, {10, out_channels, 1, 1}, 10 * out_channels + 10, "fc"));
  int out = b.add(Op::kOutput, "y");
  b.connect(in, conv);
  b.connect(conv, bn);
  b.connect(bn, relu);
  b.connect(relu, id);
  b.connect(id, gap);
  b.connect(gap, flat);
  b.connect(flat, fc);
  b.connect(fc, out);
  int64_t params = out_channels * 27 + 2 * out_channels + 10 * out_channels + 10;
  return b.finish("small_cnn", "test", params, false);
}

TEST(FoldShape, FollowsTheSpecRules) {
  EXPECT_EQ(fold_shape({}), (Shape4{1, 1, 1, 1}));
  EXPECT_EQ(fold_shape({64}), (Shape4{64, 1, 1, 1}));
  EXPECT_EQ(fold_shape({10, 512}), (Shape4{10, 512, 1, 1}));
  EXPECT_EQ(fold_shape({8, 4, 5}), (Shape4{8, 4, 5, 1}));
  EXPECT_EQ(fold_shape({64, 3, 7, 7}), (Shape4{64, 3, 7, 7}));
  EXPECT_EQ(fold_shape({64, 3, 3, 7, 7}), (Shape4{64, 3, 21, 7}));
  EXPECT_EQ(fold_shape({2, 3, 2, 3, 4, 5}), (Shape4{2, 3, 24, 5}));
}

TEST(Ops, NamesRoundTripAndAreUnique) {
  std::set<std::string> names;
  for (int i = 0; i < op_count(); ++i) {
    Op op = static_cast<Op>(i);
    std::string name(op_name(op));
    EXPECT_TRUE(names.insert(name).second) << name;
    ASSERT_TRUE(op_from_name(name).has_value());
    EXPECT_EQ(*op_from_name(name), op);
    for (char c : name) EXPECT_TRUE(std::islower(c) || c == '_' || std::isdigit(c)) << name;
  }
  EXPECT_FALSE(op_from_name("Conv").has_value());
  EXPECT_EQ(op_class(Op::kSepConv), "Sep_conv2d");
}

TEST(GraphBuilder, ElidesIdentitiesAndRewires) {
  ArchGraph g = small_cnn();
  ASSERT_EQ(g.nodes.size(), 8u);  // identity removed
  EXPECT_EQ(g.nodes[3].op, Op::kRelu);
  EXPECT_EQ(g.nodes[4].op, Op::kGlobalAvgPool);
  EXPECT_TRUE(std::find(g.edges.begin(), g.edges.end(), Edge{3, 4}) != g.edges.end());
  EXPECT_EQ(g.edges.size(), 7u);
  // The conv kernel is derived from its shape.
  ASSERT_TRUE(g.nodes[1].kernel.has_value());
  EXPECT_EQ(*g.nodes[1].kernel, (Kernel2{3, 3}));
}

TEST(GraphBuilder, DropsShapeArithmeticAndConstantSubgraphs) {
  GraphBuilder b("shapes");
  int in = b.add(Op::kInput, "x");
  int shape = b.elide("shape", "Shape");      // reads x, feeds only the reshape's shape input
  int gather = b.add(Op::kGather, "gather");  // part of the shape chain: reaches no output
  int reshape = b.elide("reshape", "Reshape");
  int cst = b.add(Op::kMul, "const_mul");  // constant subgraph: not fed by an input
  int add = b.add(Op::kSum, "add");
  int out = b.add(Op::kOutput, "y");
  b.connect(in, shape);
  b.connect(shape, gather);
  b.connect(in, reshape);  // gather -> reshape is a shape input: importers do not connect it
  b.connect(reshape, add);
  b.connect(cst, add);
  b.connect(add, out);
  ArchGraph g = b.finish("shapes", "test", 0, false);
  ASSERT_EQ(g.nodes.size(), 3u);
  EXPECT_EQ(g.nodes[0].op, Op::kInput);
  EXPECT_EQ(g.nodes[1].op, Op::kSum);
  EXPECT_EQ(g.nodes[2].op, Op::kOutput);
  EXPECT_EQ(g.edges, (std::vector<Edge>{{0, 1}, {1, 2}}));
}

TEST(GraphBuilder, KeepsParameterSourcesLikeClassTokens) {
  GraphBuilder b("tokens");
  int in = b.add(Op::kInput, "x");
  int cls = b.add(weighted(Op::kPosEnc, {1, 1, 1, 768}, 768, "class_token"));
  int cat = b.add(Op::kConcat, "cat");
  int out = b.add(Op::kOutput, "y");
  b.connect(cls, cat);
  b.connect(in, cat);
  b.connect(cat, out);
  ArchGraph g = b.finish("tokens", "test", 768, false);
  EXPECT_EQ(g.nodes.size(), 4u);
}

TEST(GraphBuilder, KeepsComputationsOnParametersAlone) {
  // mvit: spatial + temporal position tables are summed before they meet the activations. The
  // sum is fed by parameters only; dropping it would strand both tables.
  GraphBuilder b("pos");
  int in = b.add(Op::kInput, "x");
  int spatial = b.add(weighted(Op::kPosEnc, {3136, 96, 1, 1}, 301056, "spatial_pos"));
  int temporal = b.add(weighted(Op::kPosEnc, {8, 96, 1, 1}, 768, "temporal_pos"));
  int both = b.add(Op::kSum, "pos_sum");
  int add = b.add(Op::kSum, "x_plus_pos");
  int out = b.add(Op::kOutput, "y");
  b.connect(spatial, both);
  b.connect(temporal, both);
  b.connect(in, add);
  b.connect(both, add);
  b.connect(add, out);
  ArchGraph g = b.finish("pos", "test", 301056 + 768, false);
  EXPECT_EQ(g.nodes.size(), 6u);
  EXPECT_EQ(g.edges.size(), 5u);
  // Canonical graphs are fixed points: reading one back through the builder changes nothing.
  GraphBuilder again("again");
  for (const Node& n : g.nodes) again.add(n);
  for (const Edge& e : g.edges) again.connect(e.src, e.dst);
  ArchGraph g2 = again.finish("pos", "test", g.params, false);
  EXPECT_EQ(g2.nodes.size(), g.nodes.size());
  EXPECT_EQ(g2.edges, g.edges);
}

TEST(GraphBuilder, OrderIsDeterministicAndTopological) {
  ArchGraph a = small_cnn(), b = small_cnn();
  ASSERT_EQ(a.nodes.size(), b.nodes.size());
  for (size_t i = 0; i < a.nodes.size(); ++i) EXPECT_EQ(a.nodes[i].op, b.nodes[i].op);
  EXPECT_EQ(a.edges, b.edges);
  for (const Edge& e : a.edges) EXPECT_LT(e.src, e.dst);
}

TEST(GraphBuilder, RejectsCyclesNamingTheInput) {
  GraphBuilder b("cyclic.json");
  int in = b.add(Op::kInput, "x");
  int r1 = b.add(Op::kRelu, "r1");
  int r2 = b.add(Op::kRelu, "r2");
  int out = b.add(Op::kOutput, "y");
  b.connect(in, r1);
  b.connect(r1, r2);
  b.connect(r2, r1);
  b.connect(r2, out);
  try {
    b.finish("cyclic", "test", 0, false);
    FAIL() << "cycle accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_NE(std::string(e.what()).find("cyclic.json"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("cycle"), std::string::npos);
  }
}

TEST(GraphBuilder, EnforcesTheNodeLimit) {
  GraphLimits limits;
  limits.max_nodes = 5;
  GraphBuilder b("big");
  int prev = b.add(Op::kInput, "x");
  for (int i = 0; i < 10; ++i) {
    int r = b.add(Op::kRelu);
    b.connect(prev, r);
    prev = r;
  }
  int out = b.add(Op::kOutput);
  b.connect(prev, out);
  EXPECT_THROW(b.finish("big", "test", 0, false, limits), Error);
}

TEST(Validate, RejectsBrokenGraphs) {
  ArchGraph g = small_cnn();
  ArchGraph dangling = g;
  dangling.edges.push_back({1, 99});
  EXPECT_THROW(dangling.validate(), Error);
  ArchGraph backwards = g;
  backwards.edges.push_back({5, 2});
  std::sort(backwards.edges.begin(), backwards.edges.end());
  EXPECT_THROW(backwards.validate(), Error);
  ArchGraph bad_shape = g;
  bad_shape.nodes[1].shape = Shape4{8, 0, 3, 3};
  EXPECT_THROW(bad_shape.validate(), Error);
  ArchGraph no_output = g;
  no_output.nodes.back().op = Op::kRelu;
  EXPECT_THROW(no_output.validate(), Error);
  EXPECT_NO_THROW(g.validate());
}

TEST(Stats, InventoryKernelsDepthAndOps) {
  ArchGraph g = small_cnn();
  GraphStats s = g.stats();
  EXPECT_EQ(s.nodes, 8);
  EXPECT_EQ(s.edges, 7);
  EXPECT_EQ(s.depth, 8);
  EXPECT_EQ(s.ops.at("conv"), 1);
  EXPECT_EQ(s.inventory.at("Conv2d"), 1);
  EXPECT_EQ(s.inventory.at("BatchNorm2d"), 1);
  EXPECT_EQ(s.inventory.at("AdaptiveAvgPool2d"), 1);
  EXPECT_EQ(s.inventory.count("input"), 0u);
  EXPECT_EQ(s.kernels.at("Conv2d"), (std::vector<std::string>{"3x3"}));
  EXPECT_EQ(s.other_nodes, 0);
}

TEST(Fingerprint, StableForEqualGraphsAndSensitiveToChanges) {
  ArchGraph a = small_cnn(8), b = small_cnn(8), c = small_cnn(16);
  EXPECT_EQ(a.fingerprint(), b.fingerprint());
  EXPECT_EQ(a.fingerprint().size(), 16u);
  EXPECT_NE(a.fingerprint(), c.fingerprint());  // shapes count
  ArchGraph d = a;
  d.nodes[3].op = Op::kGelu;
  EXPECT_NE(a.fingerprint(), d.fingerprint());  // ops count
  ArchGraph e = a;
  e.edges.push_back({0, 3});
  std::sort(e.edges.begin(), e.edges.end());
  EXPECT_NE(a.fingerprint(), e.fingerprint());  // structure counts
  ArchGraph f = a;
  f.nodes[1].name = "renamed";
  EXPECT_EQ(a.fingerprint(), f.fingerprint());  // names do not
}

}  // namespace
}  // namespace archbert
