#pragma once
// Evaluation metrics and the paper's uni-modal baselines (paper §5, §5.1; SPEC §5). Torch-free.
//
// - Binary classification (AR, ACD, BACD): confusion counts, accuracy, precision, recall and F1
//   of the positive class at a threshold τ (score >= τ -> positive), and the search for τ on
//   validation scores.
// - Ranking (architecture search): recall@k and MRR of per-query ranked lists.
// - Baselines: ACD Jaccard (mean of the Jaccard indices of the node op-type sets and of the
//   (op, op) edge-pair sets), AR name matching (the statement is "correct" when the
//   architecture's name appears in it), search popularity (models ranked by their training
//   positives).

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "archbert/graph.h"

namespace archbert {

// ---------------------------------------------------------------------------------------------
// Binary classification.

// Confusion counts and the metrics derived from them. Precision, recall and F1 are 0 when their
// denominator is 0 (no predicted / no actual positives), accuracy is 0 for no samples.
struct BinaryMetrics {
  int64_t tp = 0, fp = 0, tn = 0, fn = 0;
  double threshold = 0.5;  // the τ the predictions were made at (informational)

  int64_t samples() const { return tp + fp + tn + fn; }
  int64_t positives() const { return tp + fn; }  // actual positives
  double accuracy() const;
  double precision() const;
  double recall() const;
  double f1() const;  // 2PR / (P + R) = 2tp / (2tp + fp + fn)
};

// Metrics of hard predictions (non-zero = positive) against labels (non-zero = positive).
// Throws Error(kInternal) when the sizes differ.
BinaryMetrics binary_metrics(const std::vector<int>& labels, const std::vector<int>& predictions);

// Metrics of scores at threshold τ: a sample is predicted positive when score >= τ.
BinaryMetrics binary_metrics_at(const std::vector<double>& scores, const std::vector<int>& labels,
                                double threshold);

// The τ that maximises F1 of `scores` against `labels` (ties: higher accuracy, then the larger
// τ). Candidates are one τ per distinct score s: the midpoint between s and the next lower
// distinct score (the lowest score itself for the lowest), so that every sample scoring >= s is
// positive; plus "all negative" (just above the highest score). Deterministic; O(n log n).
// Returns the metrics at that τ (its `threshold` is τ). No samples: τ = 0.5, all counts 0.
BinaryMetrics best_threshold(const std::vector<double>& scores, const std::vector<int>& labels);

// ---------------------------------------------------------------------------------------------
// Ranking.

// Recall@k (share of queries with a relevant item in the top k) and mean reciprocal rank (mean
// over queries of 1 / rank of the first relevant item, 0 when none is ranked).
struct RankingMetrics {
  int64_t queries = 0;
  double recall_at_1 = 0, recall_at_5 = 0, recall_at_10 = 0;
  double mrr = 0;
};

// 1-based rank of the first item of `ranked` that is in `relevant` (sorted ascending), 0 if none.
int64_t first_relevant_rank(const std::vector<int64_t>& ranked,
                            const std::vector<int64_t>& relevant);

// Metrics of per-query ranked lists (best first) against per-query relevant sets (any order).
// A query with an empty relevant set counts as a miss. Throws Error(kInternal) when the two
// lists differ in length.
RankingMetrics ranking_metrics(const std::vector<std::vector<int64_t>>& ranked,
                               const std::vector<std::vector<int64_t>>& relevant);

// Item indices sorted by descending score; ties keep the lower index first (deterministic).
std::vector<int64_t> rank_by_score(const std::vector<double>& scores);

// ---------------------------------------------------------------------------------------------
// ACD Jaccard baseline (paper §5.3).

// The sets the Jaccard baseline compares: the distinct canonical ops of the nodes (V) and the
// distinct (op of source, op of destination) pairs of the edges (A), both sorted.
struct GraphOpSets {
  std::vector<int> ops;
  std::vector<std::pair<int, int>> edge_ops;
};
GraphOpSets graph_op_sets(const ArchGraph& graph);

// |a ∩ b| / |a ∪ b| of two sorted, duplicate-free vectors; 1 when both are empty.
double jaccard_index(const std::vector<int>& a, const std::vector<int>& b);
double jaccard_index(const std::vector<std::pair<int, int>>& a,
                     const std::vector<std::pair<int, int>>& b);

// The baseline's similarity: (J(ops) + J(edge pairs)) / 2, in [0, 1]. Pairs scoring >= 0.5 are
// "similar" (the paper's threshold).
double acd_jaccard(const GraphOpSets& a, const GraphOpSets& b);
double acd_jaccard(const ArchGraph& a, const ArchGraph& b);

// ---------------------------------------------------------------------------------------------
// AR name-matching baseline (paper §5.1) and the name-free subset of search.

// The lower-case spellings under which an architecture may be named in a text. `model_name` is
// a dataset graph name ("hf:EleutherAI/gpt-neo-1.3B", "tv:resnet18.folded"): the zoo prefix
// ("hf:", "tv:"), the organisation ("EleutherAI/") and the ".folded" suffix are dropped; `family`
// is its family ("gpt_neo"; may be empty). Each name is given with its separators ('-', '_',
// ' ') written each of the ways '-', '_', ' ' and none: "gpt-neo", "gpt_neo", "gpt neo",
// "gptneo"; a word of two or more letters followed by digits is also split before the digits
// ("resnet18" -> "resnet-18", "gpt2" -> "gpt 2"; "v2", "t5" stay). Sorted, unique, no empty
// strings.
std::vector<std::string> architecture_name_variants(std::string_view model_name,
                                                    std::string_view family = {});

// True when `text` names one of `names` (lower-case spellings, as above), case-insensitively and
// as a whole word: the character before the match is not a letter or digit, the one after is
// not a letter (digits may follow: "ResNet50" names "resnet"), except a plural "s" ("ResNets").
bool text_names_architecture(std::string_view text, const std::vector<std::string>& names);

// ---------------------------------------------------------------------------------------------
// Search popularity baseline.

// Score of each of `models` items: how many (graph, label 1) training samples refer to it.
// `positive_graphs` lists the graph index of every positive training sample; indices outside
// [0, models) are ignored.
std::vector<double> popularity_scores(const std::vector<int64_t>& positive_graphs, int64_t models);

}  // namespace archbert
