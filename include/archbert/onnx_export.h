#pragma once
// Writing a canonical graph as an ONNX model (opset 17, IR version 8), weight-free like
// torch.onnx.export(..., export_params=False): every weight is a graph input with its full shape.
// The project's ONNX importer reads the file back to the same canonical graph.

#include <cstdint>
#include <string>
#include <vector>

#include "archbert/graph.h"

namespace archbert {

constexpr int kOnnxExportOpset = 17;
constexpr int kOnnxExportIrVersion = 8;

// What the canonical graph does not record but a runnable ONNX model needs.
struct OnnxExportOptions {
  // Shape of every `input` node's tensor: (N, C, H, W).
  std::vector<int64_t> input_shape = {1, 3, 32, 32};
  // Per-node (stride_h, stride_w) for convolutions and pooling, indexed like graph.nodes;
  // empty, or an entry of {0, 0}, means stride 1.
  std::vector<Kernel2> strides;
};

// Number of attention heads the writer uses for a self-attention block of `channels` channels:
// the largest of 8, 4, 2, 1 that divides `channels` with a head width of at least 8.
int onnx_attention_heads(int64_t channels);

// Serialised onnx::ModelProto of `graph`. Layout ops the canonical graph removed (Reshape,
// Transpose, Shape, Split of a fused q/k/v projection, the attention scaling) are re-created
// where the data needs them. Supported ops: see docs (onnx_writer.cpp's table); any other op
// throws Error(kBadInput) naming the graph and the op.
std::string graph_to_onnx(const ArchGraph& graph, const OnnxExportOptions& options = {});

}  // namespace archbert
