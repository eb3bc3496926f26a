#pragma once
// Serialising and rendering canonical graphs.

#include <string>

#include "archbert/graph.h"

namespace archbert {

// The versioned JSON document (docs/graph-format.md). `indent` < 0 writes one line.
std::string graph_to_json(const ArchGraph& graph, int indent = -1);
// Parses a graph JSON document; `source` names it in errors. Validates the result.
ArchGraph graph_from_json(const std::string& text, const std::string& source,
                          const GraphLimits& limits = default_graph_limits());

// The stats object of `archbert graph --stats --json`.
std::string graph_stats_json(const ArchGraph& graph, int indent = -1);

// Graphviz DOT text.
std::string graph_to_dot(const ArchGraph& graph);
// A standalone SVG document laid out by Graphviz's dot. Throws Error(kBadInput) when the graph
// has more than `max_nodes` nodes (layout time grows super-linearly).
std::string graph_to_svg(const ArchGraph& graph, int64_t max_nodes = 5000);

// Writes `content` to `path` atomically: a temporary file in the same folder, then rename.
// Nothing is left behind on failure. Throws Error(kBadInput) naming `path`.
void write_file_atomic(const std::string& path, const std::string& content);
// Reads a whole file; transparently gunzips files ending in ".gz". Throws Error(kBadInput).
std::string read_file(const std::string& path, int64_t max_bytes = int64_t(4) << 30);

}  // namespace archbert
