#include "archbert/graph.h"

#include <algorithm>
#include <set>

#include "archbert/error.h"

namespace archbert {

Shape4 fold_shape(const std::vector<int64_t>& dims) {
  switch (dims.size()) {
    case 0:
      return {1, 1, 1, 1};
    case 1:
      return {dims[0], 1, 1, 1};
    case 2:
      return {dims[0], dims[1], 1, 1};
    case 3:
      return {dims[0], dims[1], dims[2], 1};
    case 4:
      return {dims[0], dims[1], dims[2], dims[3]};
    default: {
      int64_t kh = 1;
      for (size_t i = 2; i + 1 < dims.size(); ++i) kh *= dims[i];
      return {dims[0], dims[1], kh, dims.back()};
    }
  }
}

std::string Node::inventory_class() const {
  return layer_class.empty() ? std::string(op_class(op)) : layer_class;
}

GraphLimits& default_graph_limits() {
  static GraphLimits limits;
  return limits;
}

GraphStats ArchGraph::stats() const {
  GraphStats s;
  s.nodes = static_cast<int64_t>(nodes.size());
  s.edges = static_cast<int64_t>(edges.size());
  std::map<std::string, std::set<std::pair<int64_t, int64_t>>> kernels;
  for (const Node& n : nodes) {
    ++s.ops[std::string(op_name(n.op))];
    if (n.op == Op::kOther) ++s.other_nodes;
    std::string cls = n.inventory_class();
    if (cls.empty()) continue;
    ++s.inventory[cls];
    if (n.kernel) kernels[cls].insert({(*n.kernel)[0], (*n.kernel)[1]});
  }
  for (auto& [cls, ks] : kernels)
    for (auto [h, w] : ks) s.kernels[cls].push_back(std::to_string(h) + "x" + std::to_string(w));
  // Longest path in nodes; edges go from lower to higher index (topological order).
  std::vector<int64_t> depth(nodes.size(), 1);
  for (const Edge& e : edges) depth[e.dst] = std::max(depth[e.dst], depth[e.src] + 1);
  for (int64_t d : depth) s.depth = std::max(s.depth, d);
  return s;
}

void ArchGraph::validate() const {
  const std::string who = name.empty() ? std::string("graph") : name;
  const int64_t n = static_cast<int64_t>(nodes.size());
  if (n == 0) throw_bad_input(who, "graph has no nodes");
  if (params < 0) throw_bad_input(who, "negative parameter count");
  std::vector<char> has_pred(n, 0), has_succ(n, 0);
  for (size_t i = 0; i < edges.size(); ++i) {
    const Edge& e = edges[i];
    if (e.src < 0 || e.src >= n || e.dst < 0 || e.dst >= n)
      throw_bad_input(who, "edge " + std::to_string(e.src) + "->" + std::to_string(e.dst) +
                               " refers to a node outside 0.." + std::to_string(n - 1));
    if (e.src >= e.dst)
      throw_bad_input(who, "edge " + std::to_string(e.src) + "->" + std::to_string(e.dst) +
                               " breaks topological order (cycle or unsorted nodes)");
    if (i > 0 && !(edges[i - 1] < e))
      throw_bad_input(who, "edges are not sorted and unique at " + std::to_string(e.src) + "->" +
                               std::to_string(e.dst));
    has_pred[e.dst] = 1;
    has_succ[e.src] = 1;
  }
  int inputs = 0, outputs = 0;
  for (int64_t i = 0; i < n; ++i) {
    const Node& nd = nodes[i];
    if (static_cast<int>(nd.op) >= op_count())
      throw_bad_input(who, "node " + std::to_string(i) + " has an unknown op");
    if (nd.op == Op::kInput) {
      ++inputs;
      if (has_pred[i])
        throw_bad_input(who, "input node " + std::to_string(i) + " has a predecessor");
    }
    if (nd.op == Op::kOutput) {
      ++outputs;
      if (has_succ[i])
        throw_bad_input(who, "output node " + std::to_string(i) + " has a successor");
    }
    if (nd.shape)
      for (int64_t d : *nd.shape)
        if (d <= 0)
          throw_bad_input(who, "node " + std::to_string(i) + " has a non-positive shape dimension");
    if (nd.kernel)
      for (int64_t d : *nd.kernel)
        if (d <= 0)
          throw_bad_input(who, "node " + std::to_string(i) + " has a non-positive kernel size");
    if (nd.params < 0)
      throw_bad_input(who, "node " + std::to_string(i) + " has a negative parameter count");
  }
  if (inputs == 0) throw_bad_input(who, "graph has no input node");
  if (outputs == 0) throw_bad_input(who, "graph has no output node");
}

}  // namespace archbert
