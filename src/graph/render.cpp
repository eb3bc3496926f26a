// Graphviz DOT text and SVG rendering of canonical graphs (paper Fig. 3 style).
#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <mutex>
#include <sstream>

#include "archbert/error.h"
#include "archbert/format.h"
#include "archbert/graph_io.h"

namespace archbert {
namespace {

// Fill colour per op group, chosen so the kinds of layers can be told apart at a glance.
const char* group_colour(OpGroup g) {
  switch (g) {
    case OpGroup::io:
      return "#ffffff";
    case OpGroup::param:
      return "#9ecae1";
    case OpGroup::norm:
      return "#fdd49e";
    case OpGroup::act:
      return "#c7e9c0";
    case OpGroup::pool:
      return "#fcbba1";
    case OpGroup::math:
      return "#e0e0e0";
    case OpGroup::tensor:
      return "#dadaeb";
    case OpGroup::task:
      return "#f4a582";
    case OpGroup::misc:
      return "#f0f0f0";
  }
  return "#ffffff";
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string label(const Node& n) {
  std::string l(op_name(n.op));
  if (n.kernel && !n.shape)
    l += " " + std::to_string((*n.kernel)[0]) + "x" + std::to_string((*n.kernel)[1]);
  if (n.shape) {
    const Shape4& s = *n.shape;
    l += "\\n" + std::to_string(s[0]) + "x" + std::to_string(s[1]) + "x" + std::to_string(s[2]) +
         "x" + std::to_string(s[3]);
  }
  return l;
}

}  // namespace

std::string graph_to_dot(const ArchGraph& g) {
  std::ostringstream o;
  o << "digraph \"" << escape(g.name.empty() ? "graph" : g.name) << "\" {\n"
    << "  graph [rankdir=TB, fontname=\"Helvetica\", label=\"" << escape(g.name) << " (" << g.format
    << ", " << g.nodes.size() << " nodes, " << group_thousands(g.params)
    << " parameters)\", labelloc=t];\n"
    << "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10, "
       "height=0.3];\n  edge [arrowsize=0.6];\n";
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    o << "  n" << i << " [label=\"" << label(n) << "\", fillcolor=\""
      << group_colour(op_group(n.op)) << "\"";
    if (n.op == Op::kInput || n.op == Op::kOutput) o << ", shape=ellipse";
    if (n.op == Op::kOther) o << ", color=\"#d62728\", penwidth=2";
    if (!n.name.empty()) o << ", tooltip=\"" << escape(n.name) << "\"";
    o << "];\n";
  }
  for (const Edge& e : g.edges) o << "  n" << e.src << " -> n" << e.dst << ";\n";
  o << "}\n";
  return o.str();
}

std::string graph_to_svg(const ArchGraph& g, int64_t max_nodes) {
  if (static_cast<int64_t>(g.nodes.size()) > max_nodes)
    throw_bad_input(g.name, "graph has " + std::to_string(g.nodes.size()) +
                                " nodes; SVG rendering is limited to " + std::to_string(max_nodes) +
                                " (use --dot and an external viewer for larger graphs)");
  // Graphviz keeps global state: one rendering at a time.
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  static GVC_t* gvc = gvContext();
  std::string dot = graph_to_dot(g);
  Agraph_t* ag = agmemread(dot.c_str());
  if (!ag) throw Error(ErrorKind::kInternal, g.name + ": Graphviz could not parse the DOT text");
  if (gvLayout(gvc, ag, "dot") != 0) {
    agclose(ag);
    throw Error(ErrorKind::kInternal, g.name + ": Graphviz layout failed");
  }
  char* data = nullptr;
  unsigned int len = 0;
  int rc = gvRenderData(gvc, ag, "svg", &data, &len);
  std::string svg = rc == 0 && data ? std::string(data, len) : std::string();
  if (data) gvFreeRenderData(data);
  gvFreeLayout(gvc, ag);
  agclose(ag);
  if (svg.empty()) throw Error(ErrorKind::kInternal, g.name + ": Graphviz SVG rendering failed");
  return svg;
}

}  // namespace archbert
