// Tests of the TorchScript importer: real torchvision models scripted by
// tools/export_test_models.py during the test run (fixture `test_models`), and bad inputs
// (a torch.save state dict, a truncated archive, garbage, TorchScript disabled).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "archbert/error.h"
#include "archbert/graph.h"
#include "archbert/importer.h"

#include "test_support.h"

namespace archbert {
namespace {

namespace fs = std::filesystem;
using testing_support::bad_input_message;
using testing_support::ground_truth;
using testing_support::model_path;
using testing_support::node_param_sum;
using testing_support::TempDir;

ArchGraph import_ts(const std::string& path, const ImportOptions& options = {}) {
  return make_torchscript_importer()->import(path, options);
}

// Imports the exported <model>.pt and checks the parameter count against the ground truth, both
// the graph's total and the sum over its nodes.
ArchGraph import_counted(const std::string& model) {
  ArchGraph g = import_ts(model_path(model + ".pt"));
  EXPECT_EQ(g.params, ground_truth(model)) << model;
  EXPECT_EQ(node_param_sum(g), g.params) << model;
  return g;
}

int64_t count(const std::map<std::string, int64_t>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

TEST(TorchScriptImporter, ResNet18MatchesTheModule) {
  ArchGraph g = import_ts(model_path("resnet18.pt"));
  EXPECT_EQ(g.format, "torchscript");
  EXPECT_EQ(g.name, "resnet18");
  EXPECT_EQ(g.params, 11'689'512);
  EXPECT_EQ(g.params, ground_truth("resnet18"));
  EXPECT_EQ(node_param_sum(g), g.params);  // every parameter is owned by exactly one node
  EXPECT_FALSE(g.bn_folded);

  GraphStats st = g.stats();
  EXPECT_EQ(count(st.ops, "conv"), 20);
  EXPECT_EQ(count(st.ops, "bn"), 20);
  EXPECT_EQ(count(st.ops, "linear"), 1);
  EXPECT_EQ(count(st.ops, "relu"), 17);
  EXPECT_EQ(count(st.ops, "sum"), 8);
  EXPECT_EQ(count(st.ops, "max_pool"), 1);
  EXPECT_EQ(count(st.ops, "glob_avg"), 1);
  EXPECT_EQ(count(st.ops, "flatten"), 1);
  EXPECT_EQ(count(st.ops, "input"), 1);
  EXPECT_EQ(count(st.ops, "output"), 1);
  EXPECT_EQ(st.other_nodes, 0);
  EXPECT_EQ(count(st.inventory, "Conv2d"), 20);
  EXPECT_EQ(count(st.inventory, "BatchNorm2d"), 20);
  EXPECT_EQ(count(st.inventory, "Linear"), 1);
  EXPECT_EQ(count(st.inventory, "ReLU"), 17);
  EXPECT_EQ(count(st.inventory, "MaxPool2d"), 1);

  // Names, shapes and kernels come from the modules.
  std::map<std::string, const Node*> by_name;
  for (const Node& n : g.nodes) by_name.emplace(n.name, &n);
  ASSERT_TRUE(by_name.count("conv1"));
  const Node& conv1 = *by_name["conv1"];
  EXPECT_EQ(conv1.op, Op::kConv);
  EXPECT_EQ(conv1.shape, (Shape4{64, 3, 7, 7}));
  EXPECT_EQ(conv1.params, 64 * 3 * 7 * 7);
  EXPECT_EQ(conv1.kernel, (Kernel2{7, 7}));
  EXPECT_EQ(conv1.layer_class, "Conv2d");
  EXPECT_EQ(conv1.source_op, "aten::conv2d");
  ASSERT_TRUE(by_name.count("bn1"));
  EXPECT_EQ(by_name["bn1"]->shape, (Shape4{64, 1, 1, 1}));
  EXPECT_EQ(by_name["bn1"]->params, 128);  // weight + bias, not the running statistics
  ASSERT_TRUE(by_name.count("fc"));
  EXPECT_EQ(by_name["fc"]->shape, (Shape4{1000, 512, 1, 1}));
  EXPECT_EQ(by_name["fc"]->params, 513'000);
  ASSERT_TRUE(by_name.count("maxpool"));
  EXPECT_EQ(by_name["maxpool"]->kernel, (Kernel2{3, 3}));
  ASSERT_TRUE(by_name.count("layer2.0.downsample.0"));
  EXPECT_EQ(by_name["layer2.0.downsample.0"]->shape, (Shape4{128, 64, 1, 1}));
  EXPECT_EQ(g.nodes.front().op, Op::kInput);
  EXPECT_EQ(g.nodes.front().name, "x");
}

TEST(TorchScriptImporter, IsDeterministicAndTellsModelsApart) {
  ArchGraph a = import_ts(model_path("resnet18.pt"));
  ArchGraph b = import_ts(model_path("resnet18.pt"));
  EXPECT_EQ(a.fingerprint(), b.fingerprint());
  ArchGraph r34 = import_ts(model_path("resnet34.pt"));
  EXPECT_NE(r34.fingerprint(), a.fingerprint());
  EXPECT_EQ(r34.params, ground_truth("resnet34"));
  EXPECT_EQ(count(r34.stats().ops, "conv"), 36);
  EXPECT_EQ(count(r34.stats().ops, "bn"), 36);
}

TEST(TorchScriptImporter, VitB16ParametricNodesMatchParameterOwningModules) {
  ArchGraph g = import_counted("vit_b_16");

  GraphStats st = g.stats();
  EXPECT_EQ(count(st.ops, "conv"), 1);
  EXPECT_EQ(count(st.ops, "ln"), 25);
  EXPECT_EQ(count(st.ops, "gelu"), 12);
  // 12 fused in_proj (q/k/v in one weight) + 12 out_proj + 24 MLP + 1 head.
  EXPECT_EQ(count(st.ops, "linear"), 49);
  EXPECT_EQ(count(st.ops, "matmul"), 24);
  EXPECT_EQ(count(st.ops, "softmax"), 12);
  EXPECT_EQ(count(st.ops, "pos_enc"), 2);  // class token and position embedding
  EXPECT_EQ(st.other_nodes, 0);
  EXPECT_EQ(count(st.inventory, "MultiheadAttention"), 12);
  EXPECT_EQ(count(st.inventory, "LayerNorm"), 25);
  EXPECT_EQ(count(st.inventory, "GELU"), 12);

  // The nodes that own parameters are exactly the modules (or module attributes) that hold
  // them, each once.
  std::set<std::string> expected = {"conv_proj", "class_token", "encoder.pos_embedding",
                                    "encoder.ln", "heads.head"};
  for (int i = 0; i < 12; ++i) {
    const std::string layer = "encoder.layers.encoder_layer_" + std::to_string(i) + ".";
    for (const char* m :
         {"ln_1", "ln_2", "self_attention.in_proj", "self_attention.out_proj", "mlp.0", "mlp.3"})
      expected.insert(layer + m);
  }
  std::multiset<std::string> parametric;
  for (const Node& n : g.nodes) {
    if (n.params > 0) {
      EXPECT_TRUE(n.shape.has_value()) << n.name;
      parametric.insert(n.name);
    }
  }
  EXPECT_EQ(std::set<std::string>(parametric.begin(), parametric.end()), expected);
  EXPECT_EQ(parametric.size(), expected.size());

  for (const Node& n : g.nodes) {
    if (n.name == "encoder.layers.encoder_layer_0.self_attention.in_proj") {
      EXPECT_EQ(n.op, Op::kLinear);
      EXPECT_EQ(n.shape, (Shape4{2304, 768, 1, 1}));
      EXPECT_EQ(n.params, 2304 * 768 + 2304);
      EXPECT_EQ(n.layer_class, "MultiheadAttention");
    }
    if (n.name == "encoder.pos_embedding") {
      EXPECT_EQ(n.op, Op::kPosEnc);
      EXPECT_EQ(n.shape, (Shape4{1, 197, 768, 1}));
    }
  }
}

TEST(TorchScriptImporter, DetectionModelLoadsWithTorchvisionOps) {
  ArchGraph g = import_counted("fasterrcnn_mobilenet_v3_large_320_fpn");
  GraphStats st = g.stats();
  EXPECT_GE(count(st.ops, "nms"), 1);
  EXPECT_GE(count(st.ops, "roi_align"), 1);
  EXPECT_EQ(count(st.ops, "input"), 2);  // images, targets
  EXPECT_GE(count(st.ops, "output"), 1);
  EXPECT_GT(count(st.ops, "sep_conv"), 0);  // depthwise convolutions of MobileNetV3
  EXPECT_EQ(count(st.ops, "bn"), 46);
  EXPECT_LE(st.other_nodes, 10);
}

TEST(TorchScriptImporter, LoadGraphDispatchesTorchScript) {
  ArchGraph g = load_graph(model_path("resnet18.pt"));
  EXPECT_EQ(g.format, "torchscript");
  EXPECT_EQ(g.params, 11'689'512);
}

TEST(TorchScriptImporter, Accepts) {
  auto imp = make_torchscript_importer();
  EXPECT_EQ(imp->format(), "torchscript");
  EXPECT_TRUE(imp->accepts("model.bin", std::string("PK\x03\x04rest", 8), false));
  EXPECT_TRUE(imp->accepts("model.pt", "garbage", false));
  EXPECT_FALSE(imp->accepts("model.pt", std::string("\x80\x02legacy", 8), false));
  EXPECT_FALSE(imp->accepts("model.onnx", "\x08\x07\x12", false));
  EXPECT_FALSE(imp->accepts("folder.pt", "", true));
}

// A scripted module whose parameters are reached only through control flow and state the way
// torchvision's detection and optical-flow models reach them: an optional head behind a
// has_mask() method and a None check, whose output is written into the dicts of a result list
// (r = result[i]; r["masks"] = ...), and a submodule that stores a tensor on itself in one method
// (self.state = [self.proj(x)]) that another method reads inside a loop. Every parameter must be
// owned by a node that reaches the output.
constexpr const char* kStatefulModule = R"(import sys
from typing import Dict, List, Optional
import torch
from torch import nn

class Corr(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Conv2d(4, 4, 1)
        self.state: List[torch.Tensor] = [torch.zeros(1)]
    def build(self, x: torch.Tensor):
        self.state = [self.proj(x)]
    def read(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.state[0]

class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.corr = Corr()
        self.update = nn.Conv2d(4, 4, 3, padding=1)
        self.mask_head: Optional[nn.Module] = nn.Conv2d(4, 2, 1)
    def has_mask(self) -> bool:
        return self.mask_head is not None
    def forward(self, x: torch.Tensor, n: int = 2) -> List[Dict[str, torch.Tensor]]:
        f = self.stem(x)
        self.corr.build(f)
        h = f
        for _ in range(n):
            h = self.update(self.corr.read(h))
        result: List[Dict[str, torch.Tensor]] = []
        for i in range(x.shape[0]):
            result.append({"features": h[i]})
        if self.has_mask():
            head = self.mask_head
            if head is not None:
                masks = head(h)
                for i in range(len(result)):
                    r = result[i]
                    r["masks"] = masks[i]
        return result

torch.jit.script(Tiny().eval()).save(sys.argv[1])
)";

TEST(TorchScriptImporter, ParametersReachedThroughMethodsStateAndContainers) {
  TempDir dir;
  const std::string script = dir.file("stateful.py");
  const std::string path = dir.file("stateful.pt");
  std::ofstream(script) << kStatefulModule;
  const std::string cmd = "/usr/bin/python3 " + script + " " + path + " > /dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0 || !fs::exists(path)) GTEST_SKIP() << "python3-torch missing";
  ArchGraph g = import_ts(path);
  // stem 3*4*9+4, corr.proj 4*4+4, update 4*4*9+4, mask_head 4*2+2.
  EXPECT_EQ(g.params, 112 + 20 + 148 + 10);
  EXPECT_EQ(node_param_sum(g), g.params);
  std::map<std::string, int64_t> by_name;
  for (const Node& n : g.nodes)
    if (n.params > 0) by_name[n.name] += n.params;
  EXPECT_EQ(count(by_name, "corr.proj"), 20);
  EXPECT_EQ(count(by_name, "mask_head"), 10);
  EXPECT_EQ(count(by_name, "update"), 148);
}

// Norm layers without affine parameters (RAFT's InstanceNorm2d feature encoder): TorchScript
// passes weight=None, the ONNX exporter writes Constant ones and zeros in the scale and bias
// slots; neither is a parameter, so both formats count exactly the model's parameters.
TEST(TorchScriptImporter, NormsWithoutAffineAgreeWithOnnx) {
  TempDir dir;
  const std::string pt = dir.file("norms.pt");
  const std::string onnx = dir.file("norms.onnx");
  const std::string cmd =
      "/usr/bin/python3 -c \"import torch; from torch import nn; "
      "m = nn.Sequential(nn.Conv2d(3, 8, 3), nn.InstanceNorm2d(8), nn.ReLU(), "
      "nn.BatchNorm2d(8, affine=False), nn.InstanceNorm2d(8, affine=True)).eval(); "
      "torch.jit.script(m).save('" +
      pt + "'); torch.onnx.export(m, torch.randn(1, 3, 8, 8), '" + onnx +
      "', opset_version=14, training=torch.onnx.TrainingMode.PRESERVE, "
      "do_constant_folding=False)\" > /dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0 || !fs::exists(pt) || !fs::exists(onnx))
    GTEST_SKIP() << "python3-torch missing";
  const int64_t truth = 3 * 8 * 9 + 8 + 2 * 8;  // conv + the affine InstanceNorm2d
  for (const std::string& path : {pt, onnx}) {
    ArchGraph g = load_graph(path);
    EXPECT_EQ(g.params, truth) << path;
    EXPECT_EQ(node_param_sum(g), truth) << path;
  }
}

TEST(TorchScriptImporter, StateDictCheckpointIsExplained) {
  TempDir dir;
  const std::string path = dir.file("weights.pth");
  const std::string cmd =
      "/usr/bin/python3 -c \"import torch; torch.save("
      "torch.nn.Linear(4, 2).state_dict(), '" +
      path + "')\"";
  if (std::system(cmd.c_str()) != 0 || !fs::exists(path)) GTEST_SKIP() << "python3-torch missing";
  auto imp = make_torchscript_importer();
  std::ifstream in(path, std::ios::binary);
  std::string head(4, '\0');
  in.read(head.data(), 4);
  EXPECT_TRUE(imp->accepts(path, head, false));
  std::string msg = bad_input_message([&] { import_ts(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("pickle checkpoint"), std::string::npos) << msg;
  EXPECT_NE(msg.find("torch.jit.script"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

TEST(TorchScriptImporter, TruncatedArchiveIsBadInput) {
  TempDir dir;
  const std::string src = model_path("resnet18.pt");
  const std::string path = dir.file("half.pt");
  {
    std::ifstream in(src, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream out(path, std::ios::binary);
    out.write(data.data(), static_cast<std::streamsize>(data.size() / 2));
  }
  std::string msg = bad_input_message([&] { import_ts(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  // Through the dispatcher too.
  msg = bad_input_message([&] { load_graph(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
}

TEST(TorchScriptImporter, GarbageWithPtExtensionIsBadInput) {
  TempDir dir;
  const std::string path = dir.file("garbage.pt");
  std::ofstream(path, std::ios::binary) << "this is not a zip archive at all";
  std::string msg = bad_input_message([&] { import_ts(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
}

TEST(TorchScriptImporter, RefusedWhenDisabled) {
  ImportOptions options;
  options.allow_torchscript = false;
  const std::string path = model_path("resnet18.pt");
  std::string msg = bad_input_message([&] { import_ts(path, options); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("allow_torchscript"), std::string::npos) << msg;
  msg = bad_input_message([&] { load_graph(path, options); });
  EXPECT_NE(msg.find("allow_torchscript"), std::string::npos) << msg;
}

}  // namespace
}  // namespace archbert
