#pragma once
// The canonical architecture graph G = {V, A, S} (paper §3, SPEC §2) and its builder.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "archbert/ops.h"

namespace archbert {

// Parameter shape of a node: (out, in, kH, kW).
using Shape4 = std::array<int64_t, 4>;
// Kernel size of a convolution or pooling node: (kH, kW).
using Kernel2 = std::array<int64_t, 2>;

// Folds a weight's dimensions into the canonical 4-tuple:
//   1-D (C) -> (C,1,1,1); 2-D (o,i) -> (o,i,1,1); 3-D (o,i,k) -> (o,i,k,1); 4-D as is;
//   5-D and more (o,i,d1,...,dn) -> (o, i, d1*...*d(n-1), dn): all leading spatial dims fold into
//   kH, the last spatial dim stays kW. A 0-D tensor gives (1,1,1,1).
Shape4 fold_shape(const std::vector<int64_t>& dims);

// One operation of the network.
struct Node {
  Op op = Op::kOther;
  std::optional<Shape4> shape;    // main weight's shape; nullopt for parameter-free ops
  std::optional<Kernel2> kernel;  // convolution / pooling window; nullopt when not applicable
  int64_t params = 0;             // trainable parameters owned by this node (weight + bias + ...)
  std::string name;               // where it came from: module path or source node name
  std::string layer_class;        // inventory class; empty -> op_class(op)
  std::string source_op;          // the source format's op name (e.g. "aten::conv2d", "Conv")

  // Inventory class: layer_class if set, else the vocabulary default.
  std::string inventory_class() const;
};

// Directed data-flow edge: producer -> consumer (indices into ArchGraph::nodes).
struct Edge {
  int32_t src = 0;
  int32_t dst = 0;
  bool operator==(const Edge& o) const { return src == o.src && dst == o.dst; }
  bool operator<(const Edge& o) const { return src != o.src ? src < o.src : dst < o.dst; }
};

// Summary numbers derived from a graph.
struct GraphStats {
  int64_t nodes = 0;
  int64_t edges = 0;
  int64_t other_nodes = 0;                                  // nodes mapped to `other`
  std::map<std::string, int64_t> ops;                       // canonical op name -> count
  std::map<std::string, int64_t> inventory;                 // layer class -> count
  std::map<std::string, std::vector<std::string>> kernels;  // layer class -> sorted "kHxkW"
  int64_t depth = 0;                                        // longest input->output path, in nodes
};

// A canonical architecture graph. Nodes are in deterministic topological order.
struct ArchGraph {
  static constexpr int kSchemaVersion = 1;

  std::string name;        // e.g. "resnet18"
  std::string format;      // "onnx", "torchscript", "huggingface", "json", "autonet"
  int64_t params = 0;      // trainable parameters (SPEC §2 definition)
  bool bn_folded = false;  // the export folded BatchNorm into convolutions
  std::vector<Node> nodes;
  std::vector<Edge> edges;  // sorted, unique

  GraphStats stats() const;
  // Weisfeiler–Lehman fingerprint, 16 lowercase hex digits (docs/graph-format.md).
  std::string fingerprint() const;
  // Throws Error(kBadInput) naming `name` when the graph is not a valid canonical graph.
  void validate() const;
};

// Limits that keep hostile or accidental inputs from exhausting the machine.
struct GraphLimits {
  int64_t max_nodes = 1'000'000;  // graphs with more nodes are refused
  int64_t max_edges = 8'000'000;
};
GraphLimits& default_graph_limits();

// Builds a canonical graph from a raw, importer-shaped graph.
//
// Importers add every source operation as a node (in source order) and every data-flow edge;
// operations that are not architecture (Identity, Cast, Reshape, constant producers, shape
// arithmetic) are added with `elide()` and are removed by `finish()` with their edges rewired.
// `finish()` then drops nodes that do not reach an output, or that are fed neither from an input
// nor from a node owning parameters (constant subgraphs, shape computations feeding only removed
// nodes), puts
// the nodes in a deterministic topological order and validates the result.
class GraphBuilder {
 public:
  explicit GraphBuilder(std::string source_label) : source_(std::move(source_label)) {}

  int add(Node node);
  int add(Op op, std::string name = {}, std::string source_op = {});
  // A node that will be removed, its predecessors connected to its successors.
  int elide(std::string name = {}, std::string source_op = {});
  void connect(int src, int dst);

  Node& node(int id) { return nodes_[id]; }
  const Node& node(int id) const { return nodes_[id]; }
  int size() const { return static_cast<int>(nodes_.size()); }
  bool is_elided(int id) const { return elided_[id]; }

  // Produces the canonical graph. Throws Error(kBadInput) naming the source on cycles or when
  // the result exceeds `limits`.
  ArchGraph finish(std::string name, std::string format, int64_t params, bool bn_folded,
                   const GraphLimits& limits = default_graph_limits());

 private:
  std::string source_;
  std::vector<Node> nodes_;
  std::vector<char> elided_;
  std::vector<Edge> edges_;
};

}  // namespace archbert
