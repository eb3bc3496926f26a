// The graph JSON format (docs/graph-format.md).
#include <nlohmann/json.hpp>

#include "archbert/error.h"
#include "archbert/graph_io.h"

namespace archbert {

using nlohmann::json;

namespace {

nlohmann::ordered_json node_to_json(const Node& n) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["op"] = op_name(n.op);
  j["shape"] = n.shape ? json(*n.shape) : json(nullptr);
  if (n.kernel) j["kernel"] = *n.kernel;
  if (n.params) j["params"] = n.params;
  if (!n.name.empty()) j["name"] = n.name;
  if (!n.layer_class.empty()) j["class"] = n.layer_class;
  if (!n.source_op.empty()) j["source_op"] = n.source_op;
  return j;
}

template <size_t N>
std::array<int64_t, N> int_tuple(const json& v, const std::string& src, const std::string& what) {
  if (!v.is_array() || v.size() != N)
    throw_bad_input(src, what + " must be an array of " + std::to_string(N) + " integers");
  std::array<int64_t, N> out{};
  for (size_t i = 0; i < N; ++i) {
    if (!v[i].is_number_integer()) throw_bad_input(src, what + " must hold integers");
    out[i] = v[i].get<int64_t>();
    if (out[i] <= 0) throw_bad_input(src, what + " must hold positive integers");
  }
  return out;
}

const json& field(const json& obj, const char* key, const std::string& src) {
  auto it = obj.find(key);
  if (it == obj.end()) throw_bad_input(src, std::string("missing field '") + key + "'");
  return *it;
}

}  // namespace

std::string graph_to_json(const ArchGraph& g, int indent) {
  // Hand-laid so a pretty document stays readable: header fields first, one node per line,
  // edges wrapped in rows. Keys keep this order in every document.
  nlohmann::ordered_json head = nlohmann::ordered_json::object();
  head["schema_version"] = ArchGraph::kSchemaVersion;
  head["op_vocabulary_version"] = kOpVocabularyVersion;
  head["name"] = g.name;
  head["format"] = g.format;
  head["params"] = g.params;
  head["bn_folded"] = g.bn_folded;
  head["fingerprint"] = g.fingerprint();
  const bool pretty = indent >= 0;
  const std::string nl = pretty ? "\n" : "";
  const std::string pad = pretty ? std::string(static_cast<size_t>(std::max(indent, 1)), ' ') : "";
  std::string out = "{" + nl;
  for (auto it = head.begin(); it != head.end(); ++it)
    out += pad + json(it.key()).dump() + (pretty ? ": " : ":") + it.value().dump() + "," + nl;
  out += pad + "\"nodes\":" + (pretty ? " " : "") + "[" + nl;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    out += pad + pad + node_to_json(g.nodes[i]).dump() + (i + 1 < g.nodes.size() ? "," : "") + nl;
  out += pad + "]," + nl + pad + "\"edges\":" + (pretty ? " " : "") + "[";
  for (size_t i = 0; i < g.edges.size(); ++i) {
    if (pretty && i % 10 == 0) out += "\n" + pad + pad;
    out += "[" + std::to_string(g.edges[i].src) + "," + std::to_string(g.edges[i].dst) + "]";
    if (i + 1 < g.edges.size()) out += pretty && i % 10 != 9 ? ", " : ",";
  }
  out += (pretty && !g.edges.empty() ? "\n" + pad : std::string()) + "]" + nl + "}\n";
  return out;
}

ArchGraph graph_from_json(const std::string& text, const std::string& src,
                          const GraphLimits& limits) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    // Re-parse with exceptions for the position of the error.
    try {
      json discard = json::parse(text);
      (void)discard;
    } catch (const json::exception& e) {
      std::string what = e.what();
      auto pos = what.find("] ");
      throw_bad_input(src,
                      "invalid JSON: " + (pos == std::string::npos ? what : what.substr(pos + 2)));
    }
    throw_bad_input(src, "invalid JSON");
  }
  if (!j.is_object()) throw_bad_input(src, "not an archbert graph (top level is not an object)");
  if (!j.contains("nodes") || !j.contains("edges"))
    throw_bad_input(src, "not an archbert graph (needs 'nodes' and 'edges')");
  if (j.contains("schema_version")) {
    const json& v = j["schema_version"];
    if (!v.is_number_integer() || v.get<int>() > ArchGraph::kSchemaVersion)
      throw_bad_input(src, "unsupported schema_version " + v.dump() + " (this build reads up to " +
                               std::to_string(ArchGraph::kSchemaVersion) + ")");
  }
  const json& nodes = field(j, "nodes", src);
  const json& edges = field(j, "edges", src);
  if (!nodes.is_array()) throw_bad_input(src, "'nodes' must be an array");
  if (!edges.is_array()) throw_bad_input(src, "'edges' must be an array");
  if (static_cast<int64_t>(nodes.size()) > limits.max_nodes)
    throw_bad_input(src, "graph has " + std::to_string(nodes.size()) +
                             " nodes, over the limit of " + std::to_string(limits.max_nodes) +
                             " (see --max-nodes)");
  if (static_cast<int64_t>(edges.size()) > limits.max_edges)
    throw_bad_input(src, "graph has " + std::to_string(edges.size()) +
                             " edges, over the limit of " + std::to_string(limits.max_edges));

  GraphBuilder b(src);
  int64_t i = 0;
  for (const json& jn : nodes) {
    const std::string where = "node " + std::to_string(i++);
    if (!jn.is_object()) throw_bad_input(src, where + " is not an object");
    const json& op = field(jn, "op", src);
    if (!op.is_string()) throw_bad_input(src, where + ": 'op' must be a string");
    auto known = op_from_name(op.get<std::string>());
    if (!known) throw_bad_input(src, where + ": unknown op '" + op.get<std::string>() + "'");
    Node n;
    n.op = *known;
    auto sh = jn.find("shape");
    if (sh != jn.end() && !sh->is_null()) n.shape = int_tuple<4>(*sh, src, where + " shape");
    auto k = jn.find("kernel");
    if (k != jn.end() && !k->is_null()) n.kernel = int_tuple<2>(*k, src, where + " kernel");
    if (auto p = jn.find("params"); p != jn.end()) {
      if (!p->is_number_integer() || p->get<int64_t>() < 0)
        throw_bad_input(src, where + ": 'params' must be a non-negative integer");
      n.params = p->get<int64_t>();
    }
    if (auto s = jn.find("name"); s != jn.end() && s->is_string()) n.name = s->get<std::string>();
    if (auto s = jn.find("class"); s != jn.end() && s->is_string())
      n.layer_class = s->get<std::string>();
    if (auto s = jn.find("source_op"); s != jn.end() && s->is_string())
      n.source_op = s->get<std::string>();
    b.add(std::move(n));
  }
  const int64_t n_nodes = static_cast<int64_t>(nodes.size());
  for (const json& je : edges) {
    if (!je.is_array() || je.size() != 2 || !je[0].is_number_integer() ||
        !je[1].is_number_integer())
      throw_bad_input(src, "each edge must be [source, target] with integer node ids");
    int64_t s = je[0].get<int64_t>(), t = je[1].get<int64_t>();
    if (s < 0 || s >= n_nodes || t < 0 || t >= n_nodes)
      throw_bad_input(src, "edge [" + std::to_string(s) + ", " + std::to_string(t) +
                               "] refers to a node outside 0.." + std::to_string(n_nodes - 1));
    b.connect(static_cast<int>(s), static_cast<int>(t));
  }
  auto str = [&](const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  int64_t params = 0;
  if (auto p = j.find("params"); p != j.end()) {
    if (!p->is_number_integer() || p->get<int64_t>() < 0)
      throw_bad_input(src, "'params' must be a non-negative integer");
    params = p->get<int64_t>();
  }
  bool bn_folded = j.value("bn_folded", false);
  std::string format = str("format");
  ArchGraph g = b.finish(str("name"), format.empty() ? "json" : format, params, bn_folded, limits);
  return g;
}

std::string graph_stats_json(const ArchGraph& g, int indent) {
  GraphStats s = g.stats();
  json j = json::object();
  j["name"] = g.name;
  j["format"] = g.format;
  j["nodes"] = s.nodes;
  j["edges"] = s.edges;
  j["params"] = g.params;
  j["bn_folded"] = g.bn_folded;
  j["depth"] = s.depth;
  j["other_nodes"] = s.other_nodes;
  j["ops"] = s.ops;
  j["inventory"] = s.inventory;
  j["kernels"] = s.kernels;
  j["fingerprint"] = g.fingerprint();
  return j.dump(indent) + "\n";
}

}  // namespace archbert
