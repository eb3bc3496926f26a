// The same network read from its ONNX and its TorchScript export gives the same parametric
// layers and parameter count (SPEC §2: importers agree on the canonical form).
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "archbert/graph_io.h"
#include "archbert/importer.h"

namespace archbert {
namespace {

std::string model(const std::string& file) {
  std::string p = std::string(ARCHBERT_TEST_MODELS) + "/" + file;
  if (!std::filesystem::exists(p)) ADD_FAILURE() << "missing exported model " << p;
  return p;
}

int64_t ground_truth(const std::string& name) {
  auto j = nlohmann::json::parse(read_file(model("ground_truth.json")));
  return j.at(name).get<int64_t>();
}

// Canonical op -> count over the nodes that own parameters.
std::map<std::string, int> parametric_histogram(const ArchGraph& g) {
  std::map<std::string, int> h;
  for (const Node& n : g.nodes)
    if (n.params > 0) ++h[std::string(op_name(n.op))];
  return h;
}

void expect_formats_agree(const std::string& name) {
  ArchGraph ts = load_graph(model(name + ".pt"));
  ArchGraph ox = load_graph(model(name + ".onnx"));
  EXPECT_EQ(ts.format, "torchscript");
  EXPECT_EQ(ox.format, "onnx");
  EXPECT_EQ(ts.params, ground_truth(name));
  EXPECT_EQ(ox.params, ground_truth(name));
  EXPECT_EQ(parametric_histogram(ts), parametric_histogram(ox)) << name;
  EXPECT_FALSE(ts.bn_folded);
  EXPECT_FALSE(ox.bn_folded);
}

TEST(CrossFormat, ResNet18) {
  expect_formats_agree("resnet18");
  ArchGraph g = load_graph(model("resnet18.onnx"));
  EXPECT_EQ(g.stats().ops.at("conv"), 20);
  EXPECT_EQ(g.stats().ops.at("linear"), 1);
  // Plain CNN: the two formats give the very same graph.
  EXPECT_EQ(g.fingerprint(), load_graph(model("resnet18.pt")).fingerprint());
}

TEST(CrossFormat, VitB16) { expect_formats_agree("vit_b_16"); }

TEST(CrossFormat, FasterRcnnMobilenet) {
  expect_formats_agree("fasterrcnn_mobilenet_v3_large_320_fpn");
}

TEST(CrossFormat, DefaultExportIsBnFolded) {
  ArchGraph g = load_graph(model("resnet18_folded.onnx"));
  EXPECT_TRUE(g.bn_folded);
  EXPECT_EQ(g.stats().ops.at("conv"), 20);
  EXPECT_EQ(g.stats().ops.count("bn"), 0u);
}

}  // namespace
}  // namespace archbert
