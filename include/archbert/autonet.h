#pragma once
// AutoNet (paper §4.2, SPEC §3): random DARTS-style networks in the manner of DeepNets-1M,
// generated directly as canonical graphs, deterministically from (seed, split, index).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "archbert/dataset.h"
#include "archbert/graph.h"
#include "archbert/onnx_export.h"

namespace archbert {

// Version of the generator's sampling rules: bump whenever the same (seed, split, index) would
// give a different network. Stored in the dataset manifest.
constexpr int kAutoNetGeneratorVersion = 1;

// The cell operations a step can apply to an earlier state (DARTS names, extended).
enum class AutoNetOp : uint8_t {
  kNone,         // the zero op: contributes nothing (no node)
  kMaxPool3x3,   // max_pool 3x3
  kAvgPool3x3,   // avg_pool 3x3
  kSkipConnect,  // identity; FactorizedReduce at stride 2
  kSepConv3x3,   // (ReLU, depthwise sep_conv, pointwise conv, BN) x 2
  kSepConv5x5,
  kDilConv3x3,  // ReLU, dilated (2) depthwise dil_conv, pointwise conv, BN
  kDilConv5x5,
  kConv1x1,      // ReLU, conv, BN
  kConv7x1_1x7,  // ReLU, conv 1x7, conv 7x1, BN
  kConv3x3,
  kConv5x5,
  kConv7x7,
  kTransformer,    // pos_enc, LN, self-attention, residual, LN, GELU MLP, residual
  kSqueezeExcite,  // glob_avg, Linear, ReLU, Linear, Hardswish gate, mul
};
constexpr int kAutoNetOpCount = 15;

// "sep_conv_3x3", "transformer", "squeeze_excite", ...
std::string_view autonet_op_name(AutoNetOp op);

// One step of a cell: sum of two ops, each applied to an earlier state
// (0 = the cell's first input, 1 = its second input, 2 + k = the output of step k).
struct AutoNetStep {
  std::array<AutoNetOp, 2> op{};
  std::array<int, 2> input{};
};

// The steps of one cell type (1–4). The cell output is the channel concat of all steps.
struct AutoNetCellGenotype {
  std::vector<AutoNetStep> steps;
};

enum class AutoNetPool : uint8_t { kNone, kMax, kAvg };
enum class AutoNetHead : uint8_t { kGlobalAvg, kFlatten };

// Every choice the sampler made for one network, plus the derived figures.
struct AutoNetGenotype {
  int image_size = 32;  // input is (1, 3, image_size, image_size)
  int num_classes = 10;
  int stem_kernel = 3;  // 3, 5 or 7
  int stem_multiplier = 3;
  AutoNetPool stem_pool = AutoNetPool::kNone;  // 3x3, stride 2
  int cells = 8;                               // 4–18
  std::vector<int> reduction_cells;            // {cells/3, 2*cells/3}
  AutoNetCellGenotype normal, reduce;
  bool batch_norm = true;  // BatchNorm after every conv block, or none anywhere
  int mlp_ratio = 4;       // transformer feed-forward width / channels
  int se_reduction = 4;    // squeeze-excitation hidden = max(4, channels / se_reduction)
  AutoNetHead head = AutoNetHead::kGlobalAvg;
  int fc_layers = 1;          // 1 or 2
  int fc_hidden = 256;        // hidden width of a 2-layer head
  int sampled_channels = 32;  // C drawn before fitting to the parameter budget
  int channels = 32;          // C of the first cell after fitting (doubles at each reduction)
  int64_t params = 0;         // = graph.params
};

// One generated network.
struct AutoNet {
  int64_t index = 0;
  AutoNetGenotype genotype;
  ArchGraph graph;  // format "autonet", name "autonet-<split>-<index>"
  // Per-node strides (same indexing as graph.nodes) and the input shape, for graph_to_onnx.
  OnnxExportOptions onnx;
};

// The genotype as one JSON object (one line of genotypes.jsonl).
std::string autonet_genotype_json(const AutoNet& net);

// Samples AutoNet networks. Network `index` of (seed, split) is drawn from its own PRNG stream
// seeded with hash(seed, split, index): it is the same whatever the dataset size, and the val
// split never repeats a train network's stream. Thread-safe (sample() is const).
class AutoNetSampler {
 public:
  static constexpr int64_t kMaxParams = 10'000'000;

  AutoNetSampler(uint64_t seed, DatasetSplit split) : seed_(seed), split_(split) {}

  // Draws the genotype of network `index`, fits its width to the parameter budget and builds
  // the canonical graph. Throws Error(kInternal) if the network cannot be built (a bug).
  AutoNet sample(int64_t index) const;

  // Only the sampled choices (no graph, channels not yet fitted).
  AutoNetGenotype sample_genotype(int64_t index) const;

 private:
  uint64_t seed_;
  DatasetSplit split_;
};

// Builds the graph of a genotype with first-cell width `channels` (no budget fitting).
AutoNet build_autonet(const AutoNetGenotype& genotype, int channels, const std::string& name);

// `archbert data autonet`: what to generate and where.
struct AutoNetOptions {
  DatasetSplit split = DatasetSplit::kTrain;
  int64_t count = 0;
  uint64_t seed = 0;
  std::string out_dir;
  bool onnx = false;  // also write DIR/onnx/autonet-<split>-<index>.onnx
  bool names = true;  // keep node names in graphs.bin
  int threads = 1;    // worker threads (the output does not depend on it)
};

// What generate_autonet wrote.
struct AutoNetReport {
  int64_t graphs = 0;
  int64_t nodes = 0;
  int64_t edges = 0;
  int64_t onnx_files = 0;
  double seconds = 0;
};

// Generates the networks and writes DIR/graphs.bin, DIR/genotypes.jsonl, DIR/manifest.json
// (and DIR/onnx/ when asked). Deterministic: the same options give a byte-identical directory.
// Throws Error(kUsage) for bad options, Error(kBadInput) naming the path it cannot write.
AutoNetReport generate_autonet(const AutoNetOptions& options);

}  // namespace archbert
