// Tests of the AutoNet generator (src/data/autonet*.cpp) and the ONNX writer
// (src/data/onnx_writer.cpp): determinism, validity, the parameter budget, reduction cells, op
// coverage, and the ONNX round trip through the project's ONNX importer.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "archbert/autonet.h"
#include "archbert/dataset.h"
#include "archbert/error.h"
#include "archbert/graph_io.h"
#include "archbert/importer.h"
#include "onnx/checker.h"
#include "onnx/onnx_pb.h"
#include "onnx/shape_inference/implementation.h"

#include "test_support.h"

namespace archbert {
namespace {

namespace fs = std::filesystem;

using testing_support::node_param_sum;
using testing_support::TempDir;

std::string slurp(const std::string& path) { return read_file(path); }

std::string shape_str(const std::optional<Shape4>& s) {
  if (!s) return "none";
  std::ostringstream o;
  o << (*s)[0] << "x" << (*s)[1] << "x" << (*s)[2] << "x" << (*s)[3];
  return o.str();
}

std::string kernel_str(const std::optional<Kernel2>& k) {
  if (!k) return "none";
  return std::to_string((*k)[0]) + "x" + std::to_string((*k)[1]);
}

// First difference between two canonical graphs in ops, shapes, kernels, params, edges and
// order ("" when equal). Names are compared separately.
std::string structural_diff(const ArchGraph& want, const ArchGraph& got) {
  std::ostringstream o;
  if (want.nodes.size() != got.nodes.size()) {
    o << "node count " << want.nodes.size() << " vs " << got.nodes.size() << ";";
    auto a = want.stats().ops, b = got.stats().ops;
    for (auto& [op, c] : a)
      if (b[op] != c) o << " " << op << " " << c << " vs " << b[op];
    for (auto& [op, c] : b)
      if (!a.count(op)) o << " " << op << " 0 vs " << c;
  }
  const size_t n = std::min(want.nodes.size(), got.nodes.size());
  for (size_t i = 0; i < n && o.str().size() < 2000; ++i) {
    const Node &a = want.nodes[i], &b = got.nodes[i];
    if (a.op != b.op || a.shape != b.shape || a.kernel != b.kernel || a.params != b.params ||
        a.inventory_class() != b.inventory_class()) {
      o << " node " << i << " (" << a.name << "): " << op_name(a.op) << " " << shape_str(a.shape)
        << " k" << kernel_str(a.kernel) << " p" << a.params << " " << a.inventory_class() << " vs "
        << op_name(b.op) << " " << shape_str(b.shape) << " k" << kernel_str(b.kernel) << " p"
        << b.params << " " << b.inventory_class() << " (" << b.name << ", " << b.source_op << ")";
      break;
    }
  }
  if (want.edges != got.edges) {
    o << " edges differ (" << want.edges.size() << " vs " << got.edges.size() << ")";
    for (size_t i = 0; i < std::min(want.edges.size(), got.edges.size()); ++i)
      if (!(want.edges[i] == got.edges[i])) {
        o << ": first at " << i << ": " << want.edges[i].src << "->" << want.edges[i].dst << " vs "
          << got.edges[i].src << "->" << got.edges[i].dst;
        break;
      }
  }
  if (want.params != got.params) o << " params " << want.params << " vs " << got.params;
  if (want.bn_folded != got.bn_folded) o << " bn_folded differs";
  return o.str();
}

// ------------------------------------------------------------------------------------------

TEST(AutoNet, SameSeedSameNetworkDifferentSeedOrSplitDiffers) {
  const AutoNetSampler a(7, DatasetSplit::kTrain), b(7, DatasetSplit::kTrain);
  const AutoNetSampler c(8, DatasetSplit::kTrain), v(7, DatasetSplit::kVal);
  int differ_seed = 0, differ_split = 0;
  for (int i = 0; i < 20; ++i) {
    const AutoNet x = a.sample(i), y = b.sample(i);
    EXPECT_EQ(graph_to_json(x.graph), graph_to_json(y.graph));
    EXPECT_EQ(autonet_genotype_json(x), autonet_genotype_json(y));
    EXPECT_EQ(x.graph.name, "autonet-train-" + std::to_string(i));
    EXPECT_EQ(v.sample(i).graph.name, "autonet-val-" + std::to_string(i));
    differ_seed += x.graph.fingerprint() != c.sample(i).graph.fingerprint();
    differ_split += x.graph.fingerprint() != v.sample(i).graph.fingerprint();
  }
  EXPECT_EQ(differ_seed, 20);
  EXPECT_EQ(differ_split, 20);
}

TEST(AutoNet, GenotypeJsonRecordsEveryChoice) {
  const AutoNet net = AutoNetSampler(9, DatasetSplit::kTrain).sample(3);
  const nlohmann::json j = nlohmann::json::parse(autonet_genotype_json(net));
  EXPECT_EQ(j.at("name"), net.graph.name);
  EXPECT_EQ(j.at("params"), net.graph.params);
  EXPECT_EQ(j.at("cells"), net.genotype.cells);
  EXPECT_EQ(j.at("channels"), net.genotype.channels);
  EXPECT_EQ(j.at("fingerprint"), net.graph.fingerprint());
  ASSERT_EQ(j.at("normal").size(), net.genotype.normal.steps.size());
  ASSERT_EQ(j.at("reduce").size(), net.genotype.reduce.steps.size());
  for (size_t i = 0; i < net.genotype.reduce.steps.size(); ++i)
    for (int k = 0; k < 2; ++k) {
      const nlohmann::json& term = j.at("reduce")[i][k];
      EXPECT_EQ(term.at("op"), autonet_op_name(net.genotype.reduce.steps[i].op[k]));
      EXPECT_EQ(term.at("input"), net.genotype.reduce.steps[i].input[k]);
    }
}

TEST(AutoNet, GeneratedDirectoryIsByteIdenticalAndIndependentOfCount) {
  TempDir t1, t2, t3, t4;
  AutoNetOptions o;
  o.seed = 42;
  o.count = 12;
  o.onnx = true;
  o.out_dir = t1.str();
  const AutoNetReport r1 = generate_autonet(o);
  EXPECT_EQ(r1.graphs, 12);
  EXPECT_EQ(r1.onnx_files, 12);
  o.out_dir = t2.str();
  o.threads = 2;  // the output must not depend on the thread count
  generate_autonet(o);
  for (const char* f : {"graphs.bin", "manifest.json", "genotypes.jsonl",
                        "onnx/autonet-train-0.onnx", "onnx/autonet-train-11.onnx"})
    EXPECT_EQ(slurp(t1 / f), slurp(t2 / f)) << f;

  o.seed = 43;
  o.out_dir = t3.str();
  o.onnx = false;
  generate_autonet(o);
  EXPECT_NE(slurp(t1 / "graphs.bin"), slurp(t3 / "graphs.bin"));

  // Network i is the same whatever the dataset size.
  o.seed = 42;
  o.count = 5;
  o.out_dir = t4.str();
  generate_autonet(o);
  const GraphStore big = open_dataset_graphs(t1.str()), small = open_dataset_graphs(t4.str());
  ASSERT_EQ(small.size(), 5);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(graph_to_json(big.get(i)), graph_to_json(small.get(i))) << i;

  const DatasetManifest m = read_manifest(t1.str());
  EXPECT_EQ(m.generator, "autonet");
  EXPECT_EQ(m.seed, 42u);
  EXPECT_EQ(m.split, "train");
  EXPECT_EQ(m.counts.at("graphs"), 12);
  EXPECT_EQ(m.counts.at("onnx"), 12);
  EXPECT_EQ(m.format_version, kDatasetFormatVersion);
}

TEST(AutoNet, BadOptionsAreUsageErrors) {
  AutoNetOptions o;
  o.count = -1;
  o.out_dir = "/tmp/x";
  try {
    generate_autonet(o);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
  }
  o.count = 1;
  o.out_dir = "/proc/archbert-cannot-create";
  EXPECT_THROW(generate_autonet(o), Error);
}

// Every network validates, fits the budget, counts its parameters exactly, and has its
// reduction cells at 1/3 and 2/3 of its depth.
TEST(AutoNet, NetworksAreValidWithinBudgetAndReduceAtOneAndTwoThirds) {
  const AutoNetSampler sampler(1, DatasetSplit::kTrain);
  std::map<int, int> cells_seen;
  int64_t max_params = 0, min_params = INT64_MAX;
  for (int i = 0; i < 300; ++i) {
    const AutoNet net = sampler.sample(i);
    const ArchGraph& g = net.graph;
    SCOPED_TRACE(g.name);
    ASSERT_NO_THROW(g.validate());
    EXPECT_EQ(g.format, "autonet");
    EXPECT_LE(g.params, AutoNetSampler::kMaxParams);
    EXPECT_EQ(g.params, node_param_sum(g));
    EXPECT_EQ(g.params, net.genotype.params);
    max_params = std::max(max_params, g.params);
    min_params = std::min(min_params, g.params);
    EXPECT_EQ(g.nodes.front().op, Op::kInput);
    EXPECT_EQ(g.nodes.back().op, Op::kOutput);
    EXPECT_EQ(net.onnx.strides.size(), g.nodes.size());
    const AutoNetGenotype& geno = net.genotype;
    ASSERT_GE(geno.cells, 4);
    ASSERT_LE(geno.cells, 18);
    ++cells_seen[geno.cells];
    EXPECT_EQ(geno.reduction_cells, (std::vector<int>{geno.cells / 3, 2 * geno.cells / 3}));

    // Parameters from shapes, node by node.
    for (const Node& n : g.nodes) {
      if (!n.shape) {
        EXPECT_EQ(n.params, 0) << n.name;
        continue;
      }
      const Shape4& s = *n.shape;
      const int64_t numel = s[0] * s[1] * s[2] * s[3];
      switch (n.op) {
        case Op::kConv:
        case Op::kSepConv:
        case Op::kDilConv:
          EXPECT_EQ(n.params, numel + (geno.batch_norm ? 0 : s[0])) << n.name;
          EXPECT_EQ(n.kernel, (Kernel2{s[2], s[3]})) << n.name;
          break;
        case Op::kBatchNorm:
        case Op::kLayerNorm:
          EXPECT_EQ(n.params, 2 * s[0]) << n.name;
          break;
        case Op::kLinear:
          EXPECT_EQ(n.params, s[0] * s[1] + s[0]) << n.name;
          break;
        case Op::kPosEnc:
          EXPECT_EQ(n.params, s[0] * s[1]) << n.name;
          break;
        default:
          ADD_FAILURE() << "unexpected weighted op " << op_name(n.op) << " " << n.name;
      }
    }

    // Channels of each cell, read from its input-1 preprocessing conv (every cell has one):
    // doubled exactly at the reduction cells; ops on the cell inputs of a reduction cell have
    // stride 2, and no other cell has stride-2 ops.
    std::vector<int64_t> width(geno.cells, 0);
    std::vector<int> stride2(geno.cells, 0);
    for (size_t k = 0; k < g.nodes.size(); ++k) {
      const std::string& name = g.nodes[k].name;
      if (name.rfind("cells.", 0) != 0) continue;
      const int cell = std::stoi(name.substr(6));
      if (name == "cells." + std::to_string(cell) + ".pre1.conv")
        width[cell] = (*g.nodes[k].shape)[0];
      if (name.find(".step") != std::string::npos &&
          (net.onnx.strides[k][0] == 2 || net.onnx.strides[k][1] == 2))
        ++stride2[cell];
    }
    int64_t c = geno.channels;
    for (int cell = 0; cell < geno.cells; ++cell) {
      const bool red = cell == geno.cells / 3 || cell == 2 * geno.cells / 3;
      if (red) c *= 2;
      EXPECT_EQ(width[cell], c) << "cell " << cell;
      if (red)
        EXPECT_GT(stride2[cell], 0) << "reduction cell " << cell;
      else
        EXPECT_EQ(stride2[cell], 0) << "normal cell " << cell;
    }
  }
  EXPECT_EQ(cells_seen.size(), 15u);  // 4..18 all drawn
  EXPECT_LE(max_params, AutoNetSampler::kMaxParams);
  std::cout << "[ info ] params over 300 networks: min " << min_params << ", max " << max_params
            << "\n";
}

// Over 500 networks every op kind of the list appears, and so do the layer classes and
// kernel sizes the descriptions will talk about.
TEST(AutoNet, OpCoverage) {
  const AutoNetSampler sampler(3, DatasetSplit::kTrain);
  std::set<AutoNetOp> ops;
  std::map<std::string, int64_t> inventory;
  std::map<std::string, std::set<std::string>> kernels;
  std::set<std::string> canonical;
  int bn = 0, flatten = 0, two_fc = 0, pooled_stem = 0;
  int64_t nodes = 0;
  for (int i = 0; i < 500; ++i) {
    const AutoNet net = sampler.sample(i);
    const AutoNetGenotype& g = net.genotype;
    for (const auto* cell : {&g.normal, &g.reduce})
      for (const AutoNetStep& s : cell->steps)
        for (AutoNetOp op : s.op) ops.insert(op);
    const GraphStats st = net.graph.stats();
    for (auto& [cls, c] : st.inventory) inventory[cls] += c;
    for (auto& [cls, ks] : st.kernels) kernels[cls].insert(ks.begin(), ks.end());
    for (auto& [op, c] : st.ops) canonical.insert(op);
    bn += g.batch_norm;
    flatten += g.head == AutoNetHead::kFlatten;
    two_fc += g.fc_layers == 2;
    pooled_stem += g.stem_pool != AutoNetPool::kNone;
    nodes += st.nodes;
  }
  EXPECT_EQ(ops.size(), static_cast<size_t>(kAutoNetOpCount));
  for (const char* cls : {"Conv2d", "Sep_conv2d", "Dil_conv2d", "BatchNorm2d", "LayerNorm",
                          "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Linear", "Dropout",
                          "ReLU", "GELU", "Hardswish", "PosEnc", "Flatten", "Softmax"})
    EXPECT_GT(inventory[cls], 0) << cls;
  for (const char* op :
       {"conv",     "sep_conv", "dil_conv", "bn",   "ln",   "max_pool",  "avg_pool",
        "glob_avg", "linear",   "dropout",  "relu", "gelu", "hardswish", "pos_enc",
        "flatten",  "softmax",  "matmul",   "sum",  "mul",  "concat",    "slice"})
    EXPECT_TRUE(canonical.count(op)) << op;
  const std::set<std::string> conv_k = kernels["Conv2d"];
  for (const char* k : {"1x1", "3x3", "5x5", "7x7", "1x7", "7x1"})
    EXPECT_TRUE(conv_k.count(k)) << k;
  EXPECT_EQ(kernels["Sep_conv2d"], (std::set<std::string>{"3x3", "5x5"}));
  EXPECT_EQ(kernels["Dil_conv2d"], (std::set<std::string>{"3x3", "5x5"}));
  EXPECT_EQ(kernels["MaxPool2d"], (std::set<std::string>{"3x3"}));
  EXPECT_GT(bn, 150);
  EXPECT_LT(bn, 350);
  EXPECT_GT(flatten, 150);
  EXPECT_GT(two_fc, 150);
  EXPECT_GT(pooled_stem, 200);
  std::cout << "[ info ] mean nodes over 500 networks: " << nodes / 500.0 << "\n";
}

// The ONNX export of a network passes the ONNX checker, its shapes infer consistently, and the
// project's ONNX importer reads it back to the identical canonical graph.
TEST(AutoNet, OnnxRoundTrip) {
  TempDir dir;
  const AutoNetSampler sampler(11, DatasetSplit::kVal);
  auto importer = make_onnx_importer();
  int structural_failures = 0, name_failures = 0;
  std::set<AutoNetOp> ops_tried;
  std::map<std::string, int> first_mismatch;
  const int kNetworks = 200;
  for (int i = 0; i < kNetworks; ++i) {
    const AutoNet net = sampler.sample(i);
    for (const auto* cell : {&net.genotype.normal, &net.genotype.reduce})
      for (const AutoNetStep& st : cell->steps) ops_tried.insert(st.op.begin(), st.op.end());
    const std::string bytes = graph_to_onnx(net.graph, net.onnx);
    onnx::ModelProto model;
    ASSERT_TRUE(model.ParseFromString(bytes)) << net.graph.name;
    EXPECT_EQ(model.ir_version(), 8);
    EXPECT_EQ(model.opset_import(0).version(), 17);
    try {
      onnx::checker::check_model(model);
    } catch (const std::exception& e) {
      ADD_FAILURE() << net.graph.name << ": check_model: " << e.what();
    }
    if (i < 40) {  // strict shape inference: the strides and layouts make a runnable network
      onnx::ModelProto inferred = model;
      inferred.mutable_graph()
          ->mutable_output(0)
          ->mutable_type()
          ->mutable_tensor_type()
          ->clear_shape();
      try {
        onnx::shape_inference::InferShapes(inferred, onnx::OpSchemaRegistry::Instance(),
                                           onnx::ShapeInferenceOptions(true, 1, true));
        const auto& out = inferred.graph().output(0).type().tensor_type().shape();
        ASSERT_EQ(out.dim_size(), 2) << net.graph.name;
        EXPECT_EQ(out.dim(1).dim_value(), net.genotype.num_classes) << net.graph.name;
        // Every intermediate value got a complete static shape.
        int unknown = 0;
        for (const auto& vi : inferred.graph().value_info()) {
          const auto& s = vi.type().tensor_type().shape();
          bool known = vi.type().tensor_type().has_shape();  // 0-D: a scalar constant
          for (const auto& d : s.dim()) known &= d.has_dim_value();
          unknown += !known;
        }
        EXPECT_EQ(unknown, 0) << net.graph.name;
        // (every node but the input and the output's Identity has an intermediate value)
        EXPECT_GE(inferred.graph().value_info_size(), static_cast<int>(net.graph.nodes.size()) - 2);
      } catch (const std::exception& e) {
        ADD_FAILURE() << net.graph.name << ": shape inference: " << e.what();
      }
    }
    const std::string path = dir / (net.graph.name + ".onnx");
    write_file_atomic(path, bytes);
    ArchGraph back;
    try {
      back = importer->import(path, {});
    } catch (const std::exception& e) {
      ADD_FAILURE() << net.graph.name << ": import failed: " << e.what();
      ++structural_failures;
      continue;
    }
    EXPECT_EQ(back.name, net.graph.name);
    const std::string diff = structural_diff(net.graph, back);
    if (!diff.empty()) {
      ++structural_failures;
      if (structural_failures <= 5) ADD_FAILURE() << net.graph.name << ":" << diff;
    }
    for (size_t k = 0; k < std::min(back.nodes.size(), net.graph.nodes.size()); ++k)
      if (back.nodes[k].name != net.graph.nodes[k].name) {
        ++name_failures;
        if (name_failures <= 3)
          ADD_FAILURE() << net.graph.name << ": node " << k << " named '" << back.nodes[k].name
                        << "', expected '" << net.graph.nodes[k].name << "'";
        break;
      }
    EXPECT_EQ(back.stats().inventory, net.graph.stats().inventory) << net.graph.name;
    EXPECT_EQ(back.stats().kernels, net.graph.stats().kernels) << net.graph.name;
    EXPECT_EQ(back.fingerprint(), net.graph.fingerprint()) << net.graph.name;
  }
  EXPECT_EQ(ops_tried.size(), static_cast<size_t>(kAutoNetOpCount));  // every op went through
  EXPECT_EQ(structural_failures, 0) << "of " << kNetworks;
  EXPECT_EQ(name_failures, 0) << "of " << kNetworks;
}

TEST(OnnxWriter, UnsupportedOpIsAClearError) {
  GraphBuilder b("odd");
  const int in = b.add(Op::kInput, "x");
  const int lstm = b.add(Op::kLstm, "rnn");
  const int out = b.add(Op::kOutput, "y");
  b.connect(in, lstm);
  b.connect(lstm, out);
  const ArchGraph g = b.finish("odd", "json", 0, false);
  try {
    graph_to_onnx(g);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_NE(std::string(e.what()).find("lstm"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).rfind("odd:", 0), 0u) << e.what();
  }
}

TEST(OnnxWriter, AttentionHeads) {
  EXPECT_EQ(onnx_attention_heads(64), 8);
  EXPECT_EQ(onnx_attention_heads(32), 4);
  EXPECT_EQ(onnx_attention_heads(16), 2);
  EXPECT_EQ(onnx_attention_heads(8), 1);
  EXPECT_EQ(onnx_attention_heads(12), 1);
}

}  // namespace
}  // namespace archbert
