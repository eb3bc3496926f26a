// GraphBuilder::finish — turns an importer's raw graph into the canonical graph (SPEC §2).
#include <algorithm>
#include <numeric>
#include <queue>

#include "archbert/error.h"
#include "archbert/graph.h"

namespace archbert {

int GraphBuilder::add(Node node) {
  nodes_.push_back(std::move(node));
  elided_.push_back(0);
  return size() - 1;
}

int GraphBuilder::add(Op op, std::string name, std::string source_op) {
  Node n;
  n.op = op;
  n.name = std::move(name);
  n.source_op = std::move(source_op);
  return add(std::move(n));
}

int GraphBuilder::elide(std::string name, std::string source_op) {
  int id = add(Op::kOther, std::move(name), std::move(source_op));
  elided_[id] = 1;
  return id;
}

void GraphBuilder::connect(int src, int dst) {
  if (src < 0 || dst < 0 || src >= size() || dst >= size())
    throw Error(ErrorKind::kInternal, source_ + ": edge " + std::to_string(src) + "->" +
                                          std::to_string(dst) + " is out of range");
  edges_.push_back({src, dst});
}

namespace {

using Adjacency = std::vector<std::vector<int32_t>>;

// Deterministic Kahn order: among ready nodes the smallest original index goes first, so an
// already-ordered graph keeps its order. Returns fewer than n ids when there is a cycle.
std::vector<int32_t> topo_order(int n, const Adjacency& succ, const std::vector<int32_t>& indeg0) {
  std::vector<int32_t> indeg = indeg0;
  std::priority_queue<int32_t, std::vector<int32_t>, std::greater<>> ready;
  for (int i = 0; i < n; ++i)
    if (indeg[i] == 0) ready.push(i);
  std::vector<int32_t> order;
  order.reserve(n);
  while (!ready.empty()) {
    int v = ready.top();
    ready.pop();
    order.push_back(v);
    for (int w : succ[v])
      if (--indeg[w] == 0) ready.push(w);
  }
  return order;
}

// Marks every node reachable from `seeds` following `adj`.
std::vector<char> reach(const std::vector<int32_t>& seeds, const Adjacency& adj) {
  std::vector<char> seen(adj.size(), 0);
  std::vector<int32_t> stack(seeds);
  for (int s : seeds) seen[s] = 1;
  while (!stack.empty()) {
    int v = stack.back();
    stack.pop_back();
    for (int w : adj[v])
      if (!seen[w]) {
        seen[w] = 1;
        stack.push_back(w);
      }
  }
  return seen;
}

void sort_unique(std::vector<int32_t>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

ArchGraph GraphBuilder::finish(std::string name, std::string format, int64_t params, bool bn_folded,
                               const GraphLimits& limits) {
  const int n = size();
  // Raw graphs carry the shape arithmetic that canonicalisation removes; allow for it.
  if (n > limits.max_nodes * 8)
    throw_bad_input(source_, "raw graph has " + std::to_string(n) + " nodes, over the limit of " +
                                 std::to_string(limits.max_nodes * 8) + " (--max-nodes " +
                                 std::to_string(limits.max_nodes) + ")");

  Adjacency succ(n), pred(n);
  for (const Edge& e : edges_) {
    if (e.src == e.dst) throw_bad_input(source_, "node '" + nodes_[e.src].name + "' feeds itself");
    succ[e.src].push_back(e.dst);
  }
  edges_.clear();
  edges_.shrink_to_fit();
  std::vector<int32_t> indeg(n, 0);
  for (int v = 0; v < n; ++v) {
    sort_unique(succ[v]);
    for (int w : succ[v]) {
      pred[w].push_back(v);
      ++indeg[w];
    }
  }
  std::vector<int32_t> order = topo_order(n, succ, indeg);
  if (static_cast<int>(order.size()) != n) {
    std::vector<char> done(n, 0);
    for (int v : order) done[v] = 1;
    int culprit = static_cast<int>(std::find(done.begin(), done.end(), 0) - done.begin());
    throw_bad_input(source_, "graph has a cycle (through node '" + nodes_[culprit].name + "', " +
                                 std::string(op_name(nodes_[culprit].op)) + ")");
  }

  // 1. Elide: every kept node's predecessors become the nearest kept ancestors.
  std::vector<std::vector<int32_t>> kept_pred(n);
  for (int v : order) {
    std::vector<int32_t> ps;
    for (int p : pred[v]) {
      if (elided_[p])
        ps.insert(ps.end(), kept_pred[p].begin(), kept_pred[p].end());
      else
        ps.push_back(p);
    }
    sort_unique(ps);
    kept_pred[v] = std::move(ps);
  }
  for (int v = 0; v < n; ++v)
    if (elided_[v]) std::vector<int32_t>().swap(kept_pred[v]);
  Adjacency().swap(pred);
  Adjacency().swap(succ);

  // 2. Liveness: keep what reaches an output and is fed from an input or owns parameters.
  Adjacency kept_succ(n);
  std::vector<int32_t> inputs, outputs;
  for (int v = 0; v < n; ++v) {
    if (elided_[v]) continue;
    for (int p : kept_pred[v]) kept_succ[p].push_back(v);
    if (nodes_[v].op == Op::kInput) inputs.push_back(v);
    if (nodes_[v].op == Op::kOutput) outputs.push_back(v);
  }
  if (inputs.empty()) throw_bad_input(source_, "graph has no input");
  if (outputs.empty()) throw_bad_input(source_, "graph has no output");
  // "Fed" nodes are reached from an input or from a node that owns parameters: a computation on
  // parameters alone (two position tables summed before they meet the activations) is part of
  // the architecture; a computation on constants alone is not.
  std::vector<int32_t> sources = inputs;
  for (int v = 0; v < n; ++v)
    if (!elided_[v] && (nodes_[v].shape.has_value() || nodes_[v].params > 0)) sources.push_back(v);
  std::vector<char> fed = reach(sources, kept_succ);
  std::vector<char> to_output = reach(outputs, kept_pred);
  std::vector<char> keep(n, 0);
  for (int v = 0; v < n; ++v)
    if (!elided_[v]) keep[v] = nodes_[v].op == Op::kInput || (to_output[v] && fed[v]);

  // 3. Renumber in deterministic topological order (the raw order among kept nodes).
  std::vector<int32_t> new_id(n, -1);
  ArchGraph g;
  g.name = std::move(name);
  g.format = std::move(format);
  g.params = params;
  g.bn_folded = bn_folded;
  int kept = 0;
  for (int v : order)
    if (keep[v]) new_id[v] = kept++;
  if (kept > limits.max_nodes)
    throw_bad_input(source_, "graph has " + std::to_string(kept) + " nodes, over the limit of " +
                                 std::to_string(limits.max_nodes) + " (see --max-nodes)");
  g.nodes.resize(kept);
  for (int v : order) {
    if (!keep[v]) continue;
    Node& nd = nodes_[v];
    if (!nd.kernel && nd.shape && op_has_kernel(nd.op))
      nd.kernel = Kernel2{(*nd.shape)[2], (*nd.shape)[3]};
    g.nodes[new_id[v]] = std::move(nd);
    for (int p : kept_pred[v])
      if (keep[p]) g.edges.push_back({new_id[p], new_id[v]});
  }
  std::sort(g.edges.begin(), g.edges.end());
  g.edges.erase(std::unique(g.edges.begin(), g.edges.end()), g.edges.end());
  if (static_cast<int64_t>(g.edges.size()) > limits.max_edges)
    throw_bad_input(source_, "graph has " + std::to_string(g.edges.size()) +
                                 " edges, over the limit of " + std::to_string(limits.max_edges));
  nodes_.clear();
  elided_.clear();
  g.validate();
  return g;
}

}  // namespace archbert
