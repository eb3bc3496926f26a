// Model configuration: presets, JSON, validation, shape buckets and the node cap.

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "archbert/error.h"
#include "archbert/model.h"
#include "archbert/ops.h"

namespace archbert {

int64_t ModelConfig::node_vocab() { return op_count() + 2; }
int64_t ModelConfig::node_pad_id() { return op_count(); }
int64_t ModelConfig::node_mask_id() { return op_count() + 1; }

ModelConfig ModelConfig::from_preset(const std::string& name) {
  ModelConfig c;
  if (name == "small") {
    return c;  // the defaults are the small preset
  }
  if (name == "tiny") {  // tests only
    c.preset = "tiny";
    c.d_model = 32;
    c.heads = 2;
    c.layers = 1;
    c.gat_layers = 1;
    c.gat_heads = 2;
    c.ffn_dim = 64;
    c.text_vocab = 64;
    c.max_text_len = 16;
    return c;
  }
  if (name == "base") {
    c.preset = "base";
    c.d_model = 768;
    c.heads = 12;
    c.layers = 12;
    c.gat_layers = 2;
    c.gat_heads = 12;
    c.ffn_dim = 3072;
    c.text_vocab = 30522;
    c.max_text_len = 128;
    return c;
  }
  throw Error(ErrorKind::kUsage,
              "unknown model preset '" + name + "' (use small or base; tiny is for tests)");
}

namespace {

template <typename T>
void read_key(const nlohmann::json& j, const char* key, T& out, const std::string& source) {
  auto it = j.find(key);
  if (it == j.end()) return;
  try {
    out = it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw_bad_input(source, std::string("config key '") + key + "' has the wrong type");
  }
}

}  // namespace

ModelConfig ModelConfig::from_json(const std::string& json_text, const std::string& source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {
    throw_bad_input(source, std::string("invalid config JSON: ") + e.what());
  }
  if (!j.is_object()) throw_bad_input(source, "config JSON is not an object");
  std::string preset = "small";
  read_key(j, "preset", preset, source);
  ModelConfig c;
  try {
    c = from_preset(preset);
  } catch (const Error& e) {
    throw_bad_input(source, e.what());
  }
  static const char* kKeys[] = {"preset",         "d_model",           "heads",
                                "layers",         "gat_layers",        "gat_heads",
                                "ffn_dim",        "text_vocab",        "text_pad_id",
                                "max_text_len",   "max_graph_nodes",   "shape_buckets",
                                "shape_exact",    "shape_max_dim",     "aqa_answers",
                                "dropout",        "use_shape",         "use_edges",
                                "use_cross",      "node_vocab",        "use_summary",
                                "use_numbers",    "value_frequencies", "use_text_kernels",
                                "inventory_head", "balanced_summary",  "balanced_numbers",
                                "ar_head_layers"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (std::find_if(std::begin(kKeys), std::end(kKeys),
                     [&](const char* k) { return it.key() == k; }) == std::end(kKeys)) {
      throw_bad_input(source, "unknown config key '" + it.key() + "'");
    }
  }
  read_key(j, "d_model", c.d_model, source);
  read_key(j, "heads", c.heads, source);
  read_key(j, "layers", c.layers, source);
  read_key(j, "gat_layers", c.gat_layers, source);
  read_key(j, "gat_heads", c.gat_heads, source);
  read_key(j, "ffn_dim", c.ffn_dim, source);
  read_key(j, "text_vocab", c.text_vocab, source);
  read_key(j, "text_pad_id", c.text_pad_id, source);
  read_key(j, "max_text_len", c.max_text_len, source);
  read_key(j, "max_graph_nodes", c.max_graph_nodes, source);
  read_key(j, "shape_buckets", c.shape_buckets, source);
  read_key(j, "shape_exact", c.shape_exact, source);
  read_key(j, "shape_max_dim", c.shape_max_dim, source);
  read_key(j, "aqa_answers", c.aqa_answers, source);
  read_key(j, "dropout", c.dropout, source);
  read_key(j, "use_shape", c.use_shape, source);
  read_key(j, "use_edges", c.use_edges, source);
  read_key(j, "use_cross", c.use_cross, source);
  // A config written by to_json (it carries node_vocab) before summary tokens and number values
  // existed describes a network without them.
  if (j.contains("node_vocab") && !j.contains("use_summary")) c.use_summary = false;
  if (j.contains("node_vocab") && !j.contains("use_numbers")) c.use_numbers = false;
  read_key(j, "use_summary", c.use_summary, source);
  read_key(j, "use_numbers", c.use_numbers, source);
  read_key(j, "use_text_kernels", c.use_text_kernels, source);
  read_key(j, "inventory_head", c.inventory_head, source);
  read_key(j, "balanced_summary", c.balanced_summary, source);
  read_key(j, "balanced_numbers", c.balanced_numbers, source);
  read_key(j, "ar_head_layers", c.ar_head_layers, source);
  read_key(j, "value_frequencies", c.value_frequencies, source);
  // node_vocab is informational (written by to_json); a checkpoint made with another op
  // vocabulary cannot be used.
  if (j.contains("node_vocab")) {
    int64_t nv = 0;
    read_key(j, "node_vocab", nv, source);
    if (nv != node_vocab()) {
      throw_bad_input(source, "config node_vocab " + std::to_string(nv) +
                                  " does not match this build's op vocabulary (" +
                                  std::to_string(node_vocab()) + ")");
    }
  }
  c.validate(source);
  return c;
}

std::string ModelConfig::to_json(int indent) const {
  nlohmann::json j;
  j["preset"] = preset;
  j["d_model"] = d_model;
  j["heads"] = heads;
  j["layers"] = layers;
  j["gat_layers"] = gat_layers;
  j["gat_heads"] = gat_heads;
  j["ffn_dim"] = ffn_dim;
  j["text_vocab"] = text_vocab;
  j["text_pad_id"] = text_pad_id;
  j["max_text_len"] = max_text_len;
  j["max_graph_nodes"] = max_graph_nodes;
  j["shape_buckets"] = shape_buckets;
  j["shape_exact"] = shape_exact;
  j["shape_max_dim"] = shape_max_dim;
  j["aqa_answers"] = aqa_answers;
  j["dropout"] = dropout;
  j["use_shape"] = use_shape;
  j["use_edges"] = use_edges;
  j["use_cross"] = use_cross;
  j["use_summary"] = use_summary;
  j["use_numbers"] = use_numbers;
  j["use_text_kernels"] = use_text_kernels;
  j["inventory_head"] = inventory_head;
  j["balanced_summary"] = balanced_summary;
  j["balanced_numbers"] = balanced_numbers;
  j["ar_head_layers"] = ar_head_layers;
  j["value_frequencies"] = value_frequencies;
  j["node_vocab"] = node_vocab();
  return j.dump(indent);
}

void ModelConfig::validate(const std::string& source) const {
  auto fail = [&](const std::string& what) { throw_bad_input(source, "invalid config: " + what); };
  if (d_model <= 0 || d_model % 4 != 0) fail("d_model must be a positive multiple of 4");
  if (heads <= 0 || d_model % heads != 0) fail("heads must divide d_model");
  if (gat_heads <= 0 || d_model % gat_heads != 0) fail("gat_heads must divide d_model");
  if (layers < 0 || gat_layers < 0) fail("layers and gat_layers must be >= 0");
  if (ffn_dim <= 0) fail("ffn_dim must be > 0");
  if (text_vocab <= 0) fail("text_vocab must be > 0");
  if (text_pad_id < 0 || text_pad_id >= text_vocab) fail("text_pad_id out of range");
  if (max_text_len <= 0) fail("max_text_len must be > 0");
  if (max_graph_nodes <= 0) fail("max_graph_nodes must be > 0");
  if (shape_exact < 1 || shape_buckets < shape_exact + 2) {
    fail("shape_buckets must exceed shape_exact + 1");
  }
  if (shape_max_dim <= shape_exact) fail("shape_max_dim must exceed shape_exact");
  if (aqa_answers < 0) fail("aqa_answers must be >= 0");
  if (value_frequencies < 1 || value_frequencies > 256)
    fail("value_frequencies must be in [1, 256]");
  if (!(dropout >= 0.0 && dropout < 1.0)) fail("dropout must be in [0, 1)");
  if (use_text_kernels && !(use_summary && use_numbers))
    fail("use_text_kernels needs use_summary and use_numbers");
  if (balanced_summary && !use_summary) fail("balanced_summary needs use_summary");
  if (balanced_numbers && !use_numbers) fail("balanced_numbers needs use_numbers");
  if (ar_head_layers < 0 || ar_head_layers > 12) fail("ar_head_layers must be in [0, 12]");
}

int64_t shape_bucket(int64_t value, const ModelConfig& c) {
  if (value <= 1) return 0;
  if (value <= c.shape_exact) return value - 1;
  // (shape_exact, shape_max_dim] maps log-spaced onto buckets [shape_exact, shape_buckets).
  const int64_t log_buckets = c.shape_buckets - c.shape_exact;
  const double span = std::log2(static_cast<double>(c.shape_max_dim) / c.shape_exact);
  const double t = std::log2(static_cast<double>(value) / c.shape_exact) / span;  // (0, ...]
  int64_t b = static_cast<int64_t>(std::ceil(t * log_buckets)) - 1;
  b = std::clamp<int64_t>(b, 0, log_buckets - 1);
  return c.shape_exact + b;
}

std::vector<int32_t> cap_graph_nodes(const ArchGraph& graph, int64_t max_nodes) {
  const int32_t n = static_cast<int32_t>(graph.nodes.size());
  std::vector<int32_t> all(n);
  for (int32_t i = 0; i < n; ++i) all[i] = i;
  if (n <= max_nodes) return all;

  std::vector<int32_t> degree(n, 0);
  for (const Edge& e : graph.edges) {
    ++degree[e.src];
    ++degree[e.dst];
  }
  std::vector<int32_t> io, param, rest;
  for (int32_t i = 0; i < n; ++i) {
    const Op op = graph.nodes[i].op;
    if (op == Op::kInput || op == Op::kOutput) {
      io.push_back(i);
    } else if (graph.nodes[i].shape.has_value()) {
      param.push_back(i);
    } else {
      rest.push_back(i);
    }
  }
  std::vector<int32_t> keep;
  auto take_evenly = [&](const std::vector<int32_t>& from, int64_t budget) {
    // budget < from.size(): evenly spaced along the topological order.
    for (int64_t k = 0; k < budget; ++k) {
      keep.push_back(from[static_cast<size_t>(k * static_cast<int64_t>(from.size()) / budget)]);
    }
  };
  int64_t budget = max_nodes;
  if (static_cast<int64_t>(io.size()) >= budget) {
    take_evenly(io, budget);
  } else {
    keep = io;
    budget -= static_cast<int64_t>(io.size());
    if (static_cast<int64_t>(param.size()) >= budget) {
      take_evenly(param, budget);
    } else {
      keep.insert(keep.end(), param.begin(), param.end());
      budget -= static_cast<int64_t>(param.size());
      std::stable_sort(rest.begin(), rest.end(),
                       [&](int32_t a, int32_t b) { return degree[a] > degree[b]; });
      keep.insert(keep.end(), rest.begin(), rest.begin() + budget);
    }
  }
  std::sort(keep.begin(), keep.end());
  return keep;
}

}  // namespace archbert
