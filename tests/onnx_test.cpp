// Tests of the ONNX importer: real torchvision exports (made by tools/export_test_models.py during
// the test run), the tiny committed fixtures of tests/data/onnx (tools/make_onnx_fixtures.py),
// bad inputs, and the op table's coverage of the ONNX schema registry.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>

#include "../src/import/onnx_op_table.h"
#include "archbert/error.h"
#include "archbert/graph.h"
#include "archbert/importer.h"
#include "onnx/defs/schema.h"

#include "test_support.h"

namespace archbert {
namespace {

namespace fs = std::filesystem;
using testing_support::ground_truth;
using testing_support::model_path;
using testing_support::read_json;

std::string fixture_path(const std::string& file) {
  return std::string(ARCHBERT_TEST_DATA) + "/onnx/" + file;
}

int64_t fixture_params(const std::string& file) {
  return read_json(fixture_path("fixtures.json")).at(file).at("params").get<int64_t>();
}

ArchGraph import_onnx(const std::string& path) { return make_onnx_importer()->import(path, {}); }

// Imports tests/data/onnx/<file> and checks its parameter count against fixtures.json.
ArchGraph import_fixture(const std::string& file) {
  ArchGraph g = import_onnx(fixture_path(file));
  EXPECT_EQ(g.params, fixture_params(file)) << file;
  return g;
}

int64_t count(const ArchGraph& g, const std::string& op) {
  auto ops = g.stats().ops;
  auto it = ops.find(op);
  return it == ops.end() ? 0 : it->second;
}

const Node* find_node(const ArchGraph& g, Op op, const std::string& name) {
  for (const Node& n : g.nodes)
    if (n.op == op && n.name == name) return &n;
  return nullptr;
}

std::vector<int> successors(const ArchGraph& g, int id) {
  std::vector<int> r;
  for (const Edge& e : g.edges)
    if (e.src == id) r.push_back(e.dst);
  return r;
}

// A fresh scratch folder for files made by a test.
class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() / ("archbert_onnx_test_" + std::to_string(::getpid()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name, const std::string& bytes) const {
    const std::string p = (path_ / name).string();
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }

 private:
  fs::path path_;
};

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// ------------------------------------------------------------ real exports

TEST(OnnxResnet18, PreservedBatchNorm) {
  const ArchGraph g = import_onnx(model_path("resnet18.onnx"));
  EXPECT_EQ(g.params, 11'689'512);
  EXPECT_EQ(g.params, ground_truth("resnet18"));
  EXPECT_EQ(count(g, "conv"), 20);
  EXPECT_EQ(count(g, "linear"), 1);
  EXPECT_EQ(count(g, "bn"), 20);
  EXPECT_EQ(count(g, "input"), 1);
  EXPECT_EQ(count(g, "output"), 1);
  EXPECT_EQ(count(g, "glob_avg"), 1);
  EXPECT_EQ(count(g, "max_pool"), 1);
  EXPECT_EQ(count(g, "other"), 0);
  EXPECT_FALSE(g.bn_folded);
  EXPECT_EQ(g.format, "onnx");
  EXPECT_EQ(g.name, "resnet18");
  EXPECT_NO_THROW(g.validate());

  const Node* conv1 = find_node(g, Op::kConv, "conv1");
  ASSERT_NE(conv1, nullptr);
  EXPECT_EQ(*conv1->shape, (Shape4{64, 3, 7, 7}));
  EXPECT_EQ(*conv1->kernel, (Kernel2{7, 7}));
  EXPECT_EQ(conv1->params, 64 * 3 * 7 * 7);
  const Node* fc = find_node(g, Op::kLinear, "fc");
  ASSERT_NE(fc, nullptr);
  EXPECT_EQ(*fc->shape, (Shape4{1000, 512, 1, 1}));
  EXPECT_EQ(fc->params, 1000 * 512 + 1000);
  // BN counts scale and bias, not the running statistics.
  const Node* bn1 = find_node(g, Op::kBatchNorm, "bn1");
  ASSERT_NE(bn1, nullptr);
  EXPECT_EQ(bn1->params, 128);
  EXPECT_EQ(*bn1->shape, (Shape4{64, 1, 1, 1}));
  for (const Node& n : g.nodes)
    if (n.op == Op::kMaxPool) EXPECT_EQ(*n.kernel, (Kernel2{3, 3}));
}

TEST(OnnxResnet18, DefaultExportIsBnFolded) {
  const ArchGraph g = import_onnx(model_path("resnet18_folded.onnx"));
  EXPECT_TRUE(g.bn_folded);
  EXPECT_EQ(count(g, "bn"), 0);
  EXPECT_EQ(count(g, "conv"), 20);
  EXPECT_EQ(count(g, "linear"), 1);
  // Folding drops each BN's 2C parameters and gives its conv a C-element bias.
  EXPECT_EQ(g.params, 11'689'512 - 4800);
  EXPECT_NO_THROW(g.validate());
}

TEST(OnnxVit, B16Opset14) {
  const ArchGraph g = import_onnx(model_path("vit_b_16.onnx"));
  EXPECT_EQ(g.params, ground_truth("vit_b_16"));
  EXPECT_EQ(count(g, "ln"), 25);  // 2 per encoder block + the final one
  EXPECT_EQ(count(g, "linear"),
            49);                   // in_proj (fused qkv), out_proj, mlp.0, mlp.3 per block + head
  EXPECT_EQ(count(g, "conv"), 1);  // patch embedding
  EXPECT_EQ(count(g, "gelu"), 12);
  EXPECT_EQ(count(g, "softmax"), 12);
  EXPECT_EQ(count(g, "matmul"), 24);
  EXPECT_EQ(count(g, "pos_enc"), 2);  // the class token (concatenated) and the position table
  EXPECT_EQ(count(g, "other"), 0);
  EXPECT_FALSE(g.bn_folded);
  EXPECT_NO_THROW(g.validate());

  const Node* ln = find_node(g, Op::kLayerNorm, "encoder.layers.encoder_layer_0.ln_1");
  ASSERT_NE(ln, nullptr);
  EXPECT_EQ(*ln->shape, (Shape4{768, 1, 1, 1}));
  EXPECT_EQ(ln->params, 2 * 768);

  // Attention: in_proj linear -> matmul -> softmax -> matmul (also fed by the linear) -> out_proj.
  int qkv = -1;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (g.nodes[i].op == Op::kLinear &&
        g.nodes[i].name == "encoder.layers.encoder_layer_0.self_attention")
      qkv = static_cast<int>(i);
  ASSERT_GE(qkv, 0);
  EXPECT_EQ(*g.nodes[qkv].shape, (Shape4{2304, 768, 1, 1}));
  EXPECT_EQ(g.nodes[qkv].params, 2304 * 768 + 2304);
  const std::vector<int> from_qkv = successors(g, qkv);
  ASSERT_EQ(from_qkv.size(), 2u);
  const int scores = from_qkv[0], context = from_qkv[1];
  EXPECT_EQ(g.nodes[scores].op, Op::kMatmul);
  EXPECT_EQ(g.nodes[context].op, Op::kMatmul);
  ASSERT_EQ(successors(g, scores).size(), 1u);
  const int softmax = successors(g, scores)[0];
  EXPECT_EQ(g.nodes[softmax].op, Op::kSoftmax);
  EXPECT_EQ(successors(g, softmax), std::vector<int>{context});
  ASSERT_EQ(successors(g, context).size(), 1u);
  const Node& out_proj = g.nodes[successors(g, context)[0]];
  EXPECT_EQ(out_proj.op, Op::kLinear);
  EXPECT_EQ(*out_proj.shape, (Shape4{768, 768, 1, 1}));
}

TEST(OnnxDetection, FasterRcnnMobilenetWithControlFlow) {
  const ArchGraph g = import_onnx(model_path("fasterrcnn_mobilenet_v3_large_320_fpn.onnx"));
  EXPECT_EQ(g.params, ground_truth("fasterrcnn_mobilenet_v3_large_320_fpn"));
  EXPECT_NO_THROW(g.validate());
  EXPECT_EQ(count(g, "input"), 1);
  EXPECT_EQ(count(g, "output"), 3);  // boxes, labels, scores
  EXPECT_GT(count(g, "conv"), 0);
  EXPECT_GT(count(g, "sep_conv"), 0);  // MobileNetV3 depthwise convolutions
  EXPECT_EQ(count(g, "bn"), 46);
  EXPECT_GE(count(g, "nms"), 1);  // inside If bodies, imported inline
  EXPECT_GE(count(g, "roi_align"), 1);
  EXPECT_FALSE(g.bn_folded);
}

// Share of `other` nodes over the exported test models (reported, and kept small).
TEST(OnnxCoverage, OtherShareOverExportedModels) {
  int64_t other = 0, total = 0;
  for (const char* file : {"resnet18.onnx", "resnet18_folded.onnx", "vit_b_16.onnx",
                           "fasterrcnn_mobilenet_v3_large_320_fpn.onnx"}) {
    const auto t0 = std::chrono::steady_clock::now();
    const ArchGraph g = import_onnx(model_path(file));
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const GraphStats s = g.stats();
    std::cout << "[onnx] " << file << ": " << s.nodes << " nodes, " << s.other_nodes
              << " other, imported in " << ms << " ms\n";
    EXPECT_LT(s.other_nodes * 20, s.nodes) << file;  // under 5 % per model
    other += s.other_nodes;
    total += s.nodes;
  }
  const double share = static_cast<double>(other) / static_cast<double>(total);
  std::cout << "[onnx] share of `other` nodes over the exported models: " << other << "/" << total
            << " = " << share * 100.0 << " %\n";
  RecordProperty("other_share_percent", std::to_string(share * 100.0));
  EXPECT_LT(share, 0.01);
}

// ------------------------------------------------------------ committed fixtures

TEST(OnnxFixtures, WeightsFromGraphInputs) {
  // export_params=False: the weights (and BN statistics) are graph inputs, not initializers.
  const ArchGraph g = import_fixture("tiny_cnn_noparams.onnx");
  EXPECT_EQ(count(g, "input"), 1);
  EXPECT_EQ(count(g, "conv"), 2);
  EXPECT_EQ(count(g, "bn"), 2);
  EXPECT_EQ(count(g, "relu"), 1);
  EXPECT_EQ(count(g, "relu6"), 1);  // Relu + Clip(0, 6)
  EXPECT_EQ(count(g, "linear"), 1);
  EXPECT_EQ(*find_node(g, Op::kConv, "conv2")->shape, (Shape4{16, 8, 3, 3}));
  EXPECT_FALSE(g.bn_folded);
}

TEST(OnnxFixtures, TinyVitWithoutParams) {
  // Class token, position embedding, fused qkv, decomposed LayerNorm and GELU, all as inputs.
  const ArchGraph g = import_fixture("tiny_vit_noparams.onnx");
  EXPECT_EQ(count(g, "input"), 1);
  EXPECT_EQ(count(g, "ln"), 3);
  EXPECT_EQ(count(g, "gelu"), 1);
  EXPECT_EQ(count(g, "linear"), 5);
  EXPECT_EQ(count(g, "matmul"), 2);
  EXPECT_EQ(count(g, "softmax"), 1);
  EXPECT_EQ(count(g, "pos_enc"), 2);  // class token + position table
  EXPECT_EQ(count(g, "conv"), 1);
  EXPECT_EQ(count(g, "other"), 0);
}

TEST(OnnxFixtures, Opset7) {
  const ArchGraph g = import_fixture("opset7_noparams.onnx");
  EXPECT_EQ(count(g, "relu6"), 1);  // Relu + Clip(max=6) with attributes
  EXPECT_EQ(count(g, "bn"), 1);
  EXPECT_EQ(count(g, "leaky_relu"), 1);
  EXPECT_EQ(count(g, "linear"), 1);
  bool saw_avg = false;
  for (const Node& n : g.nodes)
    if (n.op == Op::kAvgPool) {
      saw_avg = true;
      EXPECT_EQ(*n.kernel, (Kernel2{3, 3}));
    }
  EXPECT_TRUE(saw_avg);
}

TEST(OnnxFixtures, ExternalDataWithoutTheDataFile) {
  ASSERT_FALSE(fs::exists(fixture_path("external_data.bin")));
  const ArchGraph g = import_fixture("external_data.onnx");
  EXPECT_EQ(count(g, "conv"), 2);
  EXPECT_EQ(count(g, "bn"), 2);
  EXPECT_EQ(count(g, "relu6"), 1);
  EXPECT_EQ(*find_node(g, Op::kLinear, "head")->shape, (Shape4{10, 16, 1, 1}));
}

TEST(OnnxFixtures, GroupedDepthwiseDilatedConvs) {
  const ArchGraph g = import_fixture("convs_noparams.onnx");
  EXPECT_NE(find_node(g, Op::kConv, "plain"), nullptr);
  EXPECT_NE(find_node(g, Op::kSepConv, "grouped"), nullptr);
  EXPECT_NE(find_node(g, Op::kSepConv, "depthwise"), nullptr);
  EXPECT_NE(find_node(g, Op::kDilConv, "dilated"), nullptr);
  EXPECT_NE(find_node(g, Op::kDilConv, "dilated_dw"), nullptr);  // dilation wins over groups
  const Node* up = find_node(g, Op::kConvTranspose, "up");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(*up->shape, (Shape4{8, 4, 2, 2}));
  EXPECT_EQ(*find_node(g, Op::kSepConv, "depthwise")->shape, (Shape4{8, 1, 3, 3}));
}

TEST(OnnxFixtures, ConstantNodeWeights) {
  const ArchGraph g = import_fixture("constant_weights.onnx");
  EXPECT_EQ(count(g, "conv"), 1);
  EXPECT_EQ(count(g, "linear"), 1);
  for (const Node& n : g.nodes) {
    if (n.op == Op::kConv) EXPECT_EQ(*n.shape, (Shape4{4, 3, 3, 3}));
    if (n.op == Op::kLinear) EXPECT_EQ(*n.shape, (Shape4{3, 4, 1, 1}));
  }
}

TEST(OnnxFixtures, DecomposedActivations) {
  // Opset 13: SiLU = x*Sigmoid(x), Hardswish = x*HardSigmoid(x), Mish = x*Tanh(Softplus(x)),
  // tanh-GELU = 0.5*x*(1+Tanh(c*(x+0.044715*x*x*x))).
  const ArchGraph g = import_fixture("activations_opset13_noparams.onnx");
  EXPECT_EQ(count(g, "silu"), 1);
  EXPECT_EQ(count(g, "hardswish"), 1);
  EXPECT_EQ(count(g, "mish"), 1);
  EXPECT_EQ(count(g, "gelu"), 1);
  EXPECT_EQ(count(g, "conv"), 4);
  EXPECT_EQ(count(g, "mul"), 0);
  EXPECT_EQ(g.nodes.size(), 10u);  // input, 4 conv, 4 activations, output
}

TEST(OnnxFixtures, MatMulWeightsInInOutLayout) {
  // Constant folding stores Linear weights as (in, out) initializers "onnx::MatMul_N" feeding
  // MatMul directly; the bias Add is folded into the linear node.
  const ArchGraph g = import_fixture("mlp3d_default_noparams.onnx");
  ASSERT_EQ(count(g, "linear"), 2);
  EXPECT_EQ(count(g, "sum"), 0);
  EXPECT_EQ(count(g, "gelu"), 1);
  std::vector<Shape4> shapes;
  for (const Node& n : g.nodes)
    if (n.op == Op::kLinear) shapes.push_back(*n.shape);
  EXPECT_EQ(shapes, (std::vector<Shape4>{{16, 8, 1, 1}, {4, 16, 1, 1}}));
}

TEST(OnnxFixtures, TiedWeightsCountOnce) {
  const ArchGraph g = import_fixture("tied_noparams.onnx");
  EXPECT_EQ(count(g, "input"), 1);  // the token ids; the table is a weight input
  const Node* emb = find_node(g, Op::kEmbedding, "emb");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(*emb->shape, (Shape4{20, 8, 1, 1}));
  EXPECT_EQ(count(g, "linear"), 2);
}

TEST(OnnxFixtures, GroupNormDecompositionIsOneNode) {
  // Exported as Reshape -> InstanceNormalization(unit scale, zero bias) -> Reshape -> Mul -> Add.
  const ArchGraph g = import_fixture("groupnorm_noparams.onnx");
  EXPECT_EQ(g.params, fixture_params("groupnorm_noparams.onnx"));  // no instance-norm constants
  EXPECT_EQ(count(g, "gn"), 2);
  EXPECT_EQ(count(g, "instance_norm"), 0);
  EXPECT_EQ(count(g, "mul"), 0);
  EXPECT_EQ(count(g, "sum"), 0);
  int affine = 0;
  for (const Node& n : g.nodes)
    if (n.op == Op::kGroupNorm && n.shape) {
      EXPECT_EQ(*n.shape, (Shape4{8, 1, 1, 1}));
      EXPECT_EQ(n.params, 16);
      ++affine;
    }
  EXPECT_EQ(affine, 1);  // the second GroupNorm has affine=False
}

TEST(OnnxFixtures, LoopAndIfBodiesInline) {
  const ArchGraph g = import_fixture("loop_if_noparams.onnx");
  EXPECT_EQ(count(g, "conv"), 1);  // inside the Loop body
  EXPECT_EQ(count(g, "linear"), 1);
  EXPECT_EQ(count(g, "input"), 2);  // x and the trip count n
  EXPECT_NO_THROW(g.validate());
}

TEST(OnnxFixtures, BnFoldedOnlyForFoldedExports) {
  EXPECT_TRUE(import_onnx(fixture_path("tiny_cnn_folded_noparams.onnx")).bn_folded);
  EXPECT_FALSE(import_onnx(fixture_path("tiny_cnn_plain_noparams.onnx")).bn_folded);
  EXPECT_FALSE(import_onnx(fixture_path("tiny_cnn_noparams.onnx")).bn_folded);
  // Same architecture either way, apart from the BN nodes.
  EXPECT_EQ(count(import_onnx(fixture_path("tiny_cnn_folded_noparams.onnx")), "conv"), 2);
}

// ------------------------------------------------------------ bad input

void expect_bad_input(const std::string& path) {
  try {
    import_onnx(path);
    ADD_FAILURE() << path << " was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    std::cout << "[onnx] " << msg << "\n";
  }
}

TEST(OnnxBadInput, TruncatedFile) {
  TempDir dir;
  const std::string whole = read_bytes(model_path("resnet18.onnx"));
  ASSERT_GT(whole.size(), 1000u);
  expect_bad_input(dir.file("truncated.onnx", whole.substr(0, whole.size() / 2)));
  const std::string tiny = read_bytes(fixture_path("tiny_cnn_noparams.onnx"));
  expect_bad_input(dir.file("truncated_tiny.onnx", tiny.substr(0, tiny.size() / 2)));
}

TEST(OnnxBadInput, RandomBytes) {
  TempDir dir;
  std::mt19937 rng(7);
  std::string bytes(4096, '\0');
  for (char& c : bytes) c = static_cast<char>(rng() & 0xff);
  expect_bad_input(dir.file("random.onnx", bytes));
}

TEST(OnnxBadInput, EmptyFileAndMissingFile) {
  TempDir dir;
  expect_bad_input(dir.file("empty.onnx", ""));
  expect_bad_input(fixture_path("does_not_exist.onnx"));
}

TEST(OnnxAccepts, ContentSniffing) {
  auto imp = make_onnx_importer();
  const std::string head = read_bytes(fixture_path("tiny_cnn_noparams.onnx")).substr(0, 4096);
  EXPECT_TRUE(imp->accepts("model.onnx", head, false));
  EXPECT_TRUE(imp->accepts("model.bin", head, false));  // by content
  EXPECT_TRUE(imp->accepts("model.ONNX", "", false));   // by extension
  EXPECT_FALSE(imp->accepts("graph.json", R"({"nodes": [], "edges": []})", false));
  EXPECT_FALSE(imp->accepts("model.pt", std::string("PK\x03\x04\x14\x00\x00\x00", 8), false));
  EXPECT_FALSE(imp->accepts("ckpt.pth", std::string("\x80\x02\x63\x63", 4), false));
  EXPECT_FALSE(imp->accepts("folder", "", true));
}

// ------------------------------------------------------------ op table

TEST(OnnxOpTable, CoversEverySchemaInTheRegistry) {
  std::set<std::string> missing;
  int checked = 0;
  for (const auto& schema : onnx::OpSchemaRegistry::get_all_schemas()) {
    const std::string& domain = schema.domain();
    if (domain != "" && domain != "ai.onnx" && domain != "ai.onnx.ml") continue;
    ++checked;
    if (!onnx_import::find_onnx_op(domain, schema.Name()))
      missing.insert(domain + ":" + schema.Name());
  }
  EXPECT_GT(checked, 150);
  EXPECT_TRUE(missing.empty()) << "ONNX ops without a mapping entry: " << [&] {
    std::string s;
    for (const auto& m : missing) s += m + " ";
    return s;
  }();
}

TEST(OnnxOpTable, RowsAreWellFormed) {
  std::set<std::string> seen;
  for (const auto& e : onnx_import::onnx_op_table()) {
    const std::string key = std::string(e.domain) + ":" + std::string(e.op_type);
    EXPECT_TRUE(seen.insert(key).second) << "duplicate row " << key;
    for (char c : e.roles) EXPECT_NE(std::string("xlwsc*").find(c), std::string::npos) << key;
    if (e.action != onnx_import::OnnxAction::kMap) EXPECT_EQ(e.op, Op::kOther) << key;
    if (e.action == onnx_import::OnnxAction::kMap) EXPECT_NE(e.op, Op::kOther) << key;
  }
  EXPECT_EQ(onnx_import::find_onnx_op("ai.onnx", "Conv")->op, Op::kConv);
  EXPECT_EQ(onnx_import::find_onnx_op("", "Reshape")->action, onnx_import::OnnxAction::kElide);
  EXPECT_EQ(onnx_import::onnx_input_role(onnx_import::find_onnx_op("", "Reshape"), 1), 'c');
  EXPECT_EQ(onnx_import::onnx_input_role(onnx_import::find_onnx_op("", "Concat"), 5), 'l');
  EXPECT_EQ(onnx_import::find_onnx_op("com.example", "Conv"), nullptr);
}

}  // namespace
}  // namespace archbert
