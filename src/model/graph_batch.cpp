// Canonical graphs -> one disjoint-union batch (for the GAT) plus a padded view (for the cross
// encoder); texts -> padded id tensors.

#include <algorithm>
#include <array>
#include <map>

#include "archbert/descriptions.h"
#include "archbert/error.h"
#include "archbert/model_torch.h"

namespace archbert {
namespace {

// The summary tokens of every graph (GraphBatch::summary_*), in a fixed order: op counts by op
// id, kernel counts by (op, kH, kW), then parameters, layers and depth.
void add_summary(GraphBatch& b, const std::vector<const ArchGraph*>& graphs,
                 const ModelConfig& config) {
  std::vector<int64_t> kind, op, kernel;
  std::vector<double> value;
  b.summary_offsets.assign(1, 0);
  auto push = [&](int64_t k, int64_t o, int64_t kh, int64_t kw, double v) {
    kind.push_back(k);
    op.push_back(o);
    kernel.push_back(kh);
    kernel.push_back(kw);
    value.push_back(v);
  };
  for (const ArchGraph* gp : graphs) {
    const ArchGraph& g = *gp;
    std::map<int64_t, int64_t> ops;
    std::map<std::array<int64_t, 3>, int64_t> kernels;
    for (const Node& n : g.nodes) {
      if (n.op == Op::kInput || n.op == Op::kOutput) continue;
      ++ops[static_cast<int64_t>(n.op)];
      if (n.kernel) {
        ++kernels[{static_cast<int64_t>(n.op), shape_bucket((*n.kernel)[0], config),
                   shape_bucket((*n.kernel)[1], config)}];
      }
    }
    for (const auto& [o, count] : ops) push(kOpCount, o, 0, 0, static_cast<double>(count));
    for (const auto& [key, count] : kernels)
      push(kKernelCount, key[0], key[1], key[2], static_cast<double>(count));
    const GraphStats stats = g.stats();
    const int64_t none = ModelConfig::node_pad_id();
    push(kParamCount, none, 0, 0, static_cast<double>(g.params));
    push(kLayerCount, none, 0, 0, static_cast<double>(total_layers(stats)));  // as texts count
    push(kDepth, none, 0, 0, static_cast<double>(stats.depth));
    b.summary_offsets.push_back(static_cast<int64_t>(kind.size()));
  }
  const int64_t s = static_cast<int64_t>(kind.size());
  auto lt = torch::TensorOptions().dtype(torch::kLong);
  b.summary_kind = torch::from_blob(kind.data(), {s}, lt).clone();
  b.summary_op = torch::from_blob(op.data(), {s}, lt).clone();
  b.summary_kernel = torch::from_blob(kernel.data(), {s, 2}, lt).clone();
  b.summary_value = torch::from_blob(value.data(), {s}, torch::kDouble).clone();
}

}  // namespace

GraphBatch make_graph_batch(const std::vector<const ArchGraph*>& graphs,
                            const ModelConfig& config) {
  GraphBatch b;
  b.graphs = static_cast<int64_t>(graphs.size());
  b.offsets.assign(1, 0);
  int64_t total = 0, edges = 0;
  for (const ArchGraph* g : graphs) {
    total += static_cast<int64_t>(g->nodes.size());
    edges += static_cast<int64_t>(g->edges.size());
    b.offsets.push_back(total);
  }
  b.total_nodes = total;

  std::vector<int64_t> ops(total), shape_ids(total * 4, 0), node_graph(total);
  std::vector<uint8_t> has_shape(total, 0), is_io(total, 0);
  std::vector<int64_t> src, dst;
  src.reserve(edges);
  dst.reserve(edges);
  std::vector<std::vector<int32_t>> kept(graphs.size());
  int64_t nmax = 1;
  for (size_t gi = 0; gi < graphs.size(); ++gi) {
    const ArchGraph& g = *graphs[gi];
    const int64_t off = b.offsets[gi];
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const Node& n = g.nodes[i];
      const int64_t k = off + static_cast<int64_t>(i);
      ops[k] = static_cast<int64_t>(n.op);
      node_graph[k] = static_cast<int64_t>(gi);
      is_io[k] = n.op == Op::kInput || n.op == Op::kOutput;
      if (n.shape) {
        has_shape[k] = 1;
        for (int j = 0; j < 4; ++j) shape_ids[k * 4 + j] = shape_bucket((*n.shape)[j], config);
      }
    }
    for (const Edge& e : g.edges) {
      src.push_back(off + e.src);
      dst.push_back(off + e.dst);
    }
    kept[gi] = cap_graph_nodes(g, config.max_graph_nodes);
    b.capped.push_back(kept[gi].size() < g.nodes.size());
    b.kept.push_back(static_cast<int64_t>(kept[gi].size()));
    nmax = std::max<int64_t>(nmax, static_cast<int64_t>(kept[gi].size()));
  }
  // Padded view: slot (g, j) -> global node, or `total` (a zero row appended by to_padded).
  std::vector<int64_t> pad_index(b.graphs * nmax, total);
  std::vector<uint8_t> pad_mask(b.graphs * nmax, 0);
  for (size_t gi = 0; gi < graphs.size(); ++gi) {
    for (size_t j = 0; j < kept[gi].size(); ++j) {
      pad_index[gi * nmax + j] = b.offsets[gi] + kept[gi][j];
      pad_mask[gi * nmax + j] = 1;
    }
  }
  auto lt = torch::TensorOptions().dtype(torch::kLong);
  auto bt = torch::TensorOptions().dtype(torch::kUInt8);
  b.ops = torch::from_blob(ops.data(), {total}, lt).clone();
  b.shape_ids = torch::from_blob(shape_ids.data(), {total, 4}, lt).clone();
  b.has_shape = torch::from_blob(has_shape.data(), {total}, bt).to(torch::kBool);
  b.shape_hidden = torch::zeros({total}, torch::kBool);
  b.is_io = torch::from_blob(is_io.data(), {total}, bt).to(torch::kBool);
  b.edge_src = torch::from_blob(src.data(), {static_cast<int64_t>(src.size())}, lt).clone();
  b.edge_dst = torch::from_blob(dst.data(), {static_cast<int64_t>(dst.size())}, lt).clone();
  b.node_graph = torch::from_blob(node_graph.data(), {total}, lt).clone();
  b.pad_index = torch::from_blob(pad_index.data(), {b.graphs, nmax}, lt).clone();
  b.pad_mask = torch::from_blob(pad_mask.data(), {b.graphs, nmax}, bt).to(torch::kBool);
  if (config.use_summary) add_summary(b, graphs, config);
  return b;
}

torch::Tensor to_padded(const torch::Tensor& flat, const GraphBatch& batch, double fill) {
  // flat [Nt, ...] -> [Nt + 1, ...] with a fill row, then gather [G, Nmax, ...].
  auto row_shape = flat.sizes().vec();
  row_shape[0] = 1;
  auto extended = torch::cat({flat, torch::full(row_shape, fill, flat.options())}, 0);
  auto gathered = extended.index_select(0, batch.pad_index.reshape({-1}));
  auto out_shape = flat.sizes().vec();
  out_shape[0] = batch.pad_index.size(1);
  out_shape.insert(out_shape.begin(), batch.pad_index.size(0));
  return gathered.reshape(out_shape);
}

TextBatch make_text_batch(const std::vector<std::vector<int32_t>>& ids, const ModelConfig& config) {
  const int64_t b = static_cast<int64_t>(ids.size());
  int64_t len = 1;
  for (const auto& t : ids) {
    len = std::max<int64_t>(len, std::min<int64_t>(config.max_text_len, t.size()));
  }
  std::vector<int64_t> buf(b * len, config.text_pad_id);
  std::vector<uint8_t> mask(b * len, 0);
  for (int64_t i = 0; i < b; ++i) {
    const int64_t n = std::min<int64_t>(len, ids[i].size());
    for (int64_t j = 0; j < n; ++j) {
      const int64_t id = ids[i][j];
      if (id < 0 || id >= config.text_vocab) {
        throw_bad_input("text " + std::to_string(i),
                        "token id " + std::to_string(id) + " outside the text vocabulary");
      }
      buf[i * len + j] = id;
      mask[i * len + j] = 1;
    }
    if (n == 0) mask[i * len] = 1;  // an empty text is one pad token (keeps pooling defined)
  }
  TextBatch t;
  t.ids = torch::from_blob(buf.data(), {b, len}, torch::kLong).clone();
  t.mask = torch::from_blob(mask.data(), {b, len}, torch::kUInt8).to(torch::kBool);
  return t;
}

}  // namespace archbert
