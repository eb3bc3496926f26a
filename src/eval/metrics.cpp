// Evaluation metrics and the paper's uni-modal baselines (include/archbert/metrics.h).

#include "archbert/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "archbert/error.h"

namespace archbert {

// ---------------------------------------------------------------------------------------------
// Binary classification.

double BinaryMetrics::accuracy() const {
  const int64_t n = samples();
  return n == 0 ? 0.0 : static_cast<double>(tp + tn) / static_cast<double>(n);
}

double BinaryMetrics::precision() const {
  return tp + fp == 0 ? 0.0 : static_cast<double>(tp) / static_cast<double>(tp + fp);
}

double BinaryMetrics::recall() const {
  return tp + fn == 0 ? 0.0 : static_cast<double>(tp) / static_cast<double>(tp + fn);
}

double BinaryMetrics::f1() const {
  const int64_t den = 2 * tp + fp + fn;
  return den == 0 ? 0.0 : static_cast<double>(2 * tp) / static_cast<double>(den);
}

BinaryMetrics binary_metrics(const std::vector<int>& labels, const std::vector<int>& predictions) {
  if (labels.size() != predictions.size())
    throw Error(ErrorKind::kInternal, "binary_metrics: " + std::to_string(labels.size()) +
                                          " labels but " + std::to_string(predictions.size()) +
                                          " predictions");
  BinaryMetrics m;
  for (size_t i = 0; i < labels.size(); ++i) {
    const bool y = labels[i] != 0, p = predictions[i] != 0;
    if (y && p) ++m.tp;
    if (!y && p) ++m.fp;
    if (!y && !p) ++m.tn;
    if (y && !p) ++m.fn;
  }
  return m;
}

BinaryMetrics binary_metrics_at(const std::vector<double>& scores, const std::vector<int>& labels,
                                double threshold) {
  std::vector<int> predictions(scores.size());
  for (size_t i = 0; i < scores.size(); ++i) predictions[i] = scores[i] >= threshold ? 1 : 0;
  BinaryMetrics m = binary_metrics(labels, predictions);
  m.threshold = threshold;
  return m;
}

namespace {

// True when F1 of `a` is greater than F1 of `b`, compared exactly on the integer counts
// (2tp / (2tp + fp + fn); 0 / 0 counts as 0).
bool f1_greater(const BinaryMetrics& a, const BinaryMetrics& b) {
  const int64_t an = 2 * a.tp, ad = std::max<int64_t>(1, 2 * a.tp + a.fp + a.fn);
  const int64_t bn = 2 * b.tp, bd = std::max<int64_t>(1, 2 * b.tp + b.fp + b.fn);
  // Counts are bounded by the sample count, so the products fit in 64 bits for any realistic n.
  return static_cast<__int128>(an) * bd > static_cast<__int128>(bn) * ad;
}

bool f1_equal(const BinaryMetrics& a, const BinaryMetrics& b) {
  return !f1_greater(a, b) && !f1_greater(b, a);
}

}  // namespace

BinaryMetrics best_threshold(const std::vector<double>& scores, const std::vector<int>& labels) {
  if (scores.size() != labels.size())
    throw Error(ErrorKind::kInternal, "best_threshold: " + std::to_string(labels.size()) +
                                          " labels but " + std::to_string(scores.size()) +
                                          " scores");
  BinaryMetrics current;
  if (scores.empty()) return current;  // τ = 0.5, no samples
  // NaN would break the ordering; it can never be predicted positive anyway.
  std::vector<double> s(scores);
  for (double& v : s)
    if (std::isnan(v)) v = -std::numeric_limits<double>::infinity();
  std::vector<size_t> order(s.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return s[a] > s[b]; });

  // Start with every sample negative (τ just above the highest score), then lower τ one
  // distinct score at a time; sweeping from high τ to low and keeping only strict improvements
  // makes ties go to the larger τ.
  for (int y : labels) (y != 0 ? current.fn : current.tn) += 1;
  current.threshold = std::nextafter(s[order.front()], std::numeric_limits<double>::infinity());
  BinaryMetrics best = current;
  size_t i = 0;
  while (i < order.size()) {
    const double value = s[order[i]];
    while (i < order.size() && s[order[i]] == value) {
      if (labels[order[i]] != 0) {
        ++current.tp;
        --current.fn;
      } else {
        ++current.fp;
        --current.tn;
      }
      ++i;
    }
    double tau = value;
    if (i < order.size()) {  // midpoint to the next lower distinct score, if representable
      const double lower = s[order[i]];
      const double mid = lower + (value - lower) / 2;
      if (mid > lower && mid <= value) tau = mid;
    }
    current.threshold = tau;
    if (f1_greater(current, best) ||
        (f1_equal(current, best) && current.tp + current.tn > best.tp + best.tn))
      best = current;
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// Ranking.

int64_t first_relevant_rank(const std::vector<int64_t>& ranked,
                            const std::vector<int64_t>& relevant) {
  for (size_t r = 0; r < ranked.size(); ++r)
    if (std::binary_search(relevant.begin(), relevant.end(), ranked[r]))
      return static_cast<int64_t>(r) + 1;
  return 0;
}

RankingMetrics ranking_metrics(const std::vector<std::vector<int64_t>>& ranked,
                               const std::vector<std::vector<int64_t>>& relevant) {
  if (ranked.size() != relevant.size())
    throw Error(ErrorKind::kInternal, "ranking_metrics: " + std::to_string(ranked.size()) +
                                          " ranked lists but " + std::to_string(relevant.size()) +
                                          " relevant sets");
  RankingMetrics m;
  m.queries = static_cast<int64_t>(ranked.size());
  if (m.queries == 0) return m;
  int64_t hit1 = 0, hit5 = 0, hit10 = 0;
  double rr = 0;
  for (size_t q = 0; q < ranked.size(); ++q) {
    std::vector<int64_t> rel(relevant[q]);
    std::sort(rel.begin(), rel.end());
    const int64_t r = first_relevant_rank(ranked[q], rel);
    if (r == 0) continue;
    hit1 += r <= 1;
    hit5 += r <= 5;
    hit10 += r <= 10;
    rr += 1.0 / static_cast<double>(r);
  }
  const double n = static_cast<double>(m.queries);
  m.recall_at_1 = static_cast<double>(hit1) / n;
  m.recall_at_5 = static_cast<double>(hit5) / n;
  m.recall_at_10 = static_cast<double>(hit10) / n;
  m.mrr = rr / n;
  return m;
}

std::vector<int64_t> rank_by_score(const std::vector<double>& scores) {
  std::vector<int64_t> order(scores.size());
  std::iota(order.begin(), order.end(), int64_t{0});
  auto key = [&](int64_t i) {
    return std::isnan(scores[i]) ? -std::numeric_limits<double>::infinity() : scores[i];
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return key(a) > key(b); });
  return order;
}

// ---------------------------------------------------------------------------------------------
// ACD Jaccard baseline.

GraphOpSets graph_op_sets(const ArchGraph& graph) {
  GraphOpSets s;
  s.ops.reserve(graph.nodes.size());
  for (const Node& n : graph.nodes) s.ops.push_back(static_cast<int>(n.op));
  std::sort(s.ops.begin(), s.ops.end());
  s.ops.erase(std::unique(s.ops.begin(), s.ops.end()), s.ops.end());
  s.edge_ops.reserve(graph.edges.size());
  for (const Edge& e : graph.edges)
    s.edge_ops.emplace_back(static_cast<int>(graph.nodes.at(e.src).op),
                            static_cast<int>(graph.nodes.at(e.dst).op));
  std::sort(s.edge_ops.begin(), s.edge_ops.end());
  s.edge_ops.erase(std::unique(s.edge_ops.begin(), s.edge_ops.end()), s.edge_ops.end());
  return s;
}

namespace {

template <typename T>
double jaccard_sorted(const std::vector<T>& a, const std::vector<T>& b) {
  if (a.empty() && b.empty()) return 1.0;
  size_t i = 0, j = 0, common = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i] < b[j]) {
      ++i;
    } else if (b[j] < a[i]) {
      ++j;
    } else {
      ++common;
      ++i;
      ++j;
    }
  }
  const size_t uni = a.size() + b.size() - common;
  return static_cast<double>(common) / static_cast<double>(uni);
}

}  // namespace

double jaccard_index(const std::vector<int>& a, const std::vector<int>& b) {
  return jaccard_sorted(a, b);
}

double jaccard_index(const std::vector<std::pair<int, int>>& a,
                     const std::vector<std::pair<int, int>>& b) {
  return jaccard_sorted(a, b);
}

double acd_jaccard(const GraphOpSets& a, const GraphOpSets& b) {
  return (jaccard_index(a.ops, b.ops) + jaccard_index(a.edge_ops, b.edge_ops)) / 2.0;
}

double acd_jaccard(const ArchGraph& a, const ArchGraph& b) {
  return acd_jaccard(graph_op_sets(a), graph_op_sets(b));
}

// ---------------------------------------------------------------------------------------------
// AR name matching.

namespace {

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_alnum(char c) { return is_alpha(c) || (c >= '0' && c <= '9'); }
bool is_separator(char c) { return c == '-' || c == '_' || c == ' '; }

// Adds `name` (lower-cased) with its separators written as '-', '_', ' ' and none.
void add_spellings(std::string name, std::vector<std::string>& out) {
  for (char& c : name) c = ascii_lower(c);
  // Words between separators; empty words (doubled separators) are dropped.
  std::vector<std::string> words(1);
  for (char c : name) {
    if (is_separator(c)) {
      if (!words.back().empty()) words.emplace_back();
    } else {
      words.back() += c;
    }
  }
  if (words.back().empty()) words.pop_back();
  if (words.empty()) return;
  // Also with a trailing number split off a word of two or more letters: "resnet18" is written
  // "ResNet-18", "gpt2" "GPT-2" (but "v2" and "t5" stay whole).
  std::vector<std::string> split_words;
  for (const std::string& w : words) {
    size_t letters = 0;
    while (letters < w.size() && is_alpha(w[letters])) ++letters;
    const bool digits_after =
        letters < w.size() &&
        std::all_of(w.begin() + letters, w.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (letters >= 2 && digits_after) {
      split_words.push_back(w.substr(0, letters));
      split_words.push_back(w.substr(letters));
    } else {
      split_words.push_back(w);
    }
  }
  for (const auto* list : {&words, &split_words})
    for (const char* sep : {"-", "_", " ", ""}) {
      std::string joined = (*list)[0];
      for (size_t i = 1; i < list->size(); ++i) joined += sep + (*list)[i];
      out.push_back(joined);
    }
}

}  // namespace

std::vector<std::string> architecture_name_variants(std::string_view model_name,
                                                    std::string_view family) {
  std::string name(model_name);
  if (const size_t colon = name.find(':'); colon != std::string::npos) name.erase(0, colon + 1);
  if (const size_t slash = name.rfind('/'); slash != std::string::npos) name.erase(0, slash + 1);
  const std::string folded = ".folded";
  if (name.size() > folded.size() &&
      name.compare(name.size() - folded.size(), folded.size(), folded) == 0)
    name.resize(name.size() - folded.size());
  std::vector<std::string> out;
  add_spellings(name, out);
  add_spellings(std::string(family), out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool text_names_architecture(std::string_view text, const std::vector<std::string>& names) {
  std::string lower(text);
  for (char& c : lower) c = ascii_lower(c);
  for (const std::string& name : names) {
    if (name.empty()) continue;
    for (size_t pos = lower.find(name); pos != std::string::npos; pos = lower.find(name, pos + 1)) {
      if (pos > 0 && is_alnum(lower[pos - 1])) continue;
      const size_t end = pos + name.size();
      if (end == lower.size() || !is_alpha(lower[end])) return true;
      if (lower[end] == 's' && (end + 1 == lower.size() || !is_alpha(lower[end + 1]))) return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Search popularity.

std::vector<double> popularity_scores(const std::vector<int64_t>& positive_graphs, int64_t models) {
  std::vector<double> score(static_cast<size_t>(std::max<int64_t>(0, models)), 0.0);
  for (int64_t g : positive_graphs)
    if (g >= 0 && g < models) score[static_cast<size_t>(g)] += 1.0;
  return score;
}

}  // namespace archbert
