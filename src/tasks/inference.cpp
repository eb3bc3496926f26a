// The single-answer tasks over a loaded checkpoint (include/archbert/tasks.h): reason (AR),
// clone (ACD / BACD), embed, and the out-of-distribution warnings that travel with them.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "archbert/error.h"
#include "archbert/tasks.h"

namespace archbert {
namespace {

// Thresholds of the out-of-distribution warnings (see tasks.h).
constexpr double kMaxOtherShare = 0.10;
constexpr double kMaxUnknownShare = 0.20;

std::string percent(double share) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f%%", 100.0 * share);
  return buf;
}

std::string graph_label(const ArchGraph& g) { return g.name.empty() ? "graph" : g.name; }

void append(std::vector<std::string>& to, const std::vector<std::string>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

// The token ids of one text ([1][tokens]), with its warnings.
std::vector<std::vector<int32_t>> text_ids(const LoadedModel& m, const std::string& text,
                                           const std::string& input_name,
                                           std::vector<std::string>* warnings) {
  std::vector<TextCheck> checks;
  auto ids = encode_texts(m, {text}, &checks, input_name);
  if (warnings) append(*warnings, text_warnings(m, checks[0], input_name));
  return ids;
}

// J_t of one text, with its warnings.
std::vector<float> text_vector(const LoadedModel& m, const std::string& text,
                               const std::string& input_name, std::vector<std::string>* warnings) {
  return m.model.embed_texts(text_ids(m, text, input_name, warnings)).at(0);
}

}  // namespace

std::vector<std::string> graph_warnings(const LoadedModel& m, const ArchGraph& graph) {
  std::vector<std::string> w;
  const int64_t nodes = static_cast<int64_t>(graph.nodes.size());
  if (nodes == 0) return w;
  int64_t other = 0;
  for (const Node& n : graph.nodes) other += n.op == Op::kOther;
  const double share = static_cast<double>(other) / static_cast<double>(nodes);
  if (share > kMaxOtherShare)
    w.push_back(graph_label(graph) + ": " + percent(share) + " of the nodes (" +
                std::to_string(other) + " of " + std::to_string(nodes) +
                ") are `other`, operations the model has no token for; the answer may be "
                "unreliable");
  const int64_t cap = m.model.config().max_graph_nodes;
  if (nodes > cap)
    w.push_back(graph_label(graph) + ": " + std::to_string(nodes) + " nodes, more than the " +
                std::to_string(cap) +
                " the model reads; the graph was capped to its inputs, outputs and parametric "
                "nodes");
  return w;
}

std::vector<std::string> text_warnings(const LoadedModel& m, const TextCheck& check,
                                       const std::string& input_name) {
  std::vector<std::string> w;
  const int unknown = check.unknown_words + check.spelled_words;
  const int words = std::max(check.words, unknown);
  if (words > 0 && static_cast<double>(unknown) > kMaxUnknownShare * words)
    w.push_back(input_name + ": " + std::to_string(unknown) + " of " + std::to_string(words) +
                " words are unknown to the model's vocabulary; the answer may be unreliable");
  if (check.truncated)
    w.push_back(input_name + ": longer than the model's " +
                std::to_string(m.model.config().max_text_len) +
                " tokens; the rest of the text was ignored");
  return w;
}

std::vector<float> embed_graph(const LoadedModel& m, const ArchGraph& graph,
                               std::vector<std::string>* warnings) {
  if (warnings) append(*warnings, graph_warnings(m, graph));
  return m.model.embed_graphs({&graph}).at(0);
}

std::vector<float> embed_text(const LoadedModel& m, const std::string& text,
                              std::vector<std::string>* warnings) {
  return text_vector(m, text, "text", warnings);
}

ReasonResult reason(const LoadedModel& m, const ArchGraph& graph, const std::string& statement) {
  ReasonResult r;
  r.threshold = m.ar_threshold;
  // Text first: a bad statement is reported before any graph work.
  const auto ids = text_ids(m, statement, "statement", &r.warnings);
  append(r.warnings, graph_warnings(m, graph));
  r.score = m.model.statement_scores(ids, {&graph}, {0}).at(0);
  r.correct = r.score >= r.threshold;
  return r;
}

CloneResult clone(const LoadedModel& m, const ArchGraph& a, const ArchGraph& b,
                  const std::optional<std::string>& text) {
  CloneResult r;
  r.threshold = m.acd_threshold;
  std::vector<std::vector<int32_t>> ids;
  if (text) ids = text_ids(m, *text, "text", &r.warnings);
  append(r.warnings, graph_warnings(m, a));
  if (&a != &b) append(r.warnings, graph_warnings(m, b));
  // One forward pass for both graphs; the batch masks padding, so each row is the graph's own J_g.
  auto jg = m.model.embed_graphs({&a, &b});
  r.score = cosine_similarity(jg[0], jg[1]);
  r.similar = r.score >= r.threshold;
  if (text) {
    // BACD: the pair is similar with respect to the text when the text is true of both graphs
    // (AR at τ_ar) and the graphs are similar (ACD at τ_acd).
    const std::vector<float> s = m.model.statement_scores({ids[0], ids[0]}, {&a, &b}, {0, 1});
    for (int i = 0; i < 2; ++i) {
      ReasonResult t;
      t.threshold = m.ar_threshold;
      t.score = s[static_cast<size_t>(i)];
      t.correct = t.score >= t.threshold;
      (i == 0 ? r.text_a : r.text_b) = t;
    }
    r.similar = r.similar && r.text_a->correct && r.text_b->correct;
  }
  return r;
}

}  // namespace archbert
