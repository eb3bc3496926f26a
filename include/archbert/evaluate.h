#pragma once
// Evaluation of a checkpoint on a dataset directory (paper §5, SPEC §5; `archbert eval`):
// architectural reasoning (AR), architecture clone detection (ACD), bi-modal clone detection
// (BACD) and architecture search, each beside a graph-blind control and the paper's §5.1
// baselines. No LibTorch here.
//
// Scores (embeddings are the pooled joint embeddings J; every graph and every distinct text is
// embedded once):
//   AR      cos(J_t, J_g) >= τ_ar  -> the statement is correct of the graph
//   ACD     cos(J_a, J_b) >= τ_acd -> the two architectures are similar
//   BACD    a and b are similar with respect to the text when the text is true of both graphs
//           (AR at τ_ar) and the graphs are similar (ACD at τ_acd) — the rule of clone() in
//           tasks.h. Score = the smallest margin, min(cos(J_t, J_a) - τ_ar, cos(J_t, J_b) - τ_ar,
//           cos(J_a, J_b) - τ_acd), positive when >= 0 (the weakest link decides; text-graph
//           and graph-graph cosines live on different scales, hence one τ each)
//   search  models ranked by cos(J_query, J_model)
// τ comes from the checkpoint (tuned on validation by the trainer, default 0.5) unless
// EvalOptions::threshold overrides it (BACD: it overrides τ_acd; τ_ar stays the checkpoint's).
//
// Graph-blind control: the same model and τ, with every sample's graph(s) replaced through a
// fixed-seed derangement of the graphs the samples use (graph_blind_permutation), so texts and
// labels stay and only the graph information is scrambled. A model that reads the graphs must
// beat it clearly.
//
// Baselines (paper §5.1):
//   AR      "name_match": correct when the text names the architecture
//           (architecture_name_variants of the graph's name and, on the zoo, its family)
//   ACD     "jaccard": acd_jaccard(a, b) >= 0.5; "unimodal": a graph-only checkpoint
//           (EvalOptions::unimodal; the paper's uni-modal ArchBERT trained on ACD pairs) at its
//           own τ_acd, when given
//   BACD    "jaccard" (ignores the text), "jaccard_name" (jaccard and the text names both
//           models), "unimodal" (cos of the uni-modal model's graph embeddings, text ignored)
//   search  "popularity": every query gets the same ranking, models by their number of
//           positive texts in texts_train.jsonl

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "archbert/metrics.h"
#include "archbert/tasks.h"

namespace archbert {

struct EvalOptions {
  // Zoo: "train" or "val" (empty: "val"). AutoNet directories hold one split (the manifest's);
  // a different non-empty value is refused with Error(kUsage).
  std::string split;
  std::optional<double> threshold;        // overrides the checkpoint's τ
  int64_t limit = 0;                      // only the first N samples (search: queries); 0 = all
  uint64_t seed = 0;                      // seed of the graph-blind derangement
  int graph_batch = 16;                   // graphs per forward pass
  int text_batch = 64;                    // texts per forward pass
  const LoadedModel* unimodal = nullptr;  // ACD / BACD uni-modal baseline, optional
  // AR on AutoNet: the samples are the stated facts' own sentences (StatedFact::text, once per
  // graph and sentence, label = the fact's truth) instead of the descriptions.
  bool claims = false;
  // Search with a statement head: the head's probability reorders each query's first `rerank`
  // graphs by cosine (retrieve, then rerank); the graph-blind control is reranked the same way.
  // 0: the cosine ranking alone. Error(kUsage) when > 0 and the network has no head.
  int rerank = 0;
};

// AR, ACD or BACD.
struct BinaryEvalReport {
  std::string task;                    // "ar", "acd", "bacd"
  std::string data;                    // the dataset directory
  std::string dataset;                 // manifest generator: "autonet", "autonet-qa", "zoo"
  std::string split;                   // "train" / "val"
  std::string file;                    // the sample file read
  std::string score;                   // how the model's score is made (for the report)
  std::optional<double> ar_threshold;  // BACD: τ_ar of the text checks (model.threshold: τ_acd)
  int64_t graphs = 0;                  // distinct graphs embedded
  int64_t texts = 0;                   // distinct texts embedded
  BinaryMetrics model;
  BinaryMetrics graph_blind;
  int64_t graph_blind_changed = 0;  // samples whose graph(s) the permutation replaced
  std::map<std::string, BinaryMetrics> baselines;
  // AR: the model's metrics per kind of stated fact ("count", "params", "kernel", ...; "written"
  // for hand-written Zoo sentences, which carry no structured claims): over the positives that
  // state such a fact and the negatives where such a fact is the false one.
  std::map<std::string, BinaryMetrics> by_fact;
  // Per sample, in file order (not in the JSON): label, the model's score and the graph-blind
  // score (for threshold tuning and checks).
  std::vector<int> labels;
  std::vector<double> scores, graph_blind_scores;
  // Per sample, in file order (for eval_scores_to_jsonl): the sample as its dataset line
  // (to_jsonl) and the graph indices it scores (AR one; ACD and BACD two). graph_names: index ->
  // name of every graph scored (the Zoo's model names, AutoNet's graph names).
  std::vector<std::string> sample_lines;
  std::vector<std::vector<int64_t>> sample_graphs;
  std::map<int64_t, std::string> graph_names;
  double seconds = 0;
};

// Architecture search.
struct SearchEvalReport {
  std::string data, split, file;
  int64_t models = 0;  // models searched (every graph of the dataset)
  int64_t name_free_queries = 0;
  RankingMetrics model, model_name_free;
  RankingMetrics graph_blind, graph_blind_name_free;
  RankingMetrics popularity, popularity_name_free;
  int rerank = 0;                           // EvalOptions::rerank
  RankingMetrics cosine, cosine_name_free;  // with rerank > 0: the cosine ranking before it
  double seconds = 0;
};

// Each throws Error(kBadInput) naming the directory or file when it is not a dataset of the
// right kind (AR: AutoNet or zoo; ACD, BACD, search: zoo) or a file is missing or malformed.
BinaryEvalReport evaluate_ar(const LoadedModel& m, const std::string& dir,
                             const EvalOptions& options = {});
BinaryEvalReport evaluate_acd(const LoadedModel& m, const std::string& dir,
                              const EvalOptions& options = {});
BinaryEvalReport evaluate_bacd(const LoadedModel& m, const std::string& dir,
                               const EvalOptions& options = {});
SearchEvalReport evaluate_search(const LoadedModel& m, const std::string& dir,
                                 const EvalOptions& options = {});

// JSON: accuracy, f1, precision, recall, threshold, samples, positives, tp, fp, tn, fn, task,
// data, dataset, split, file, score, graphs, texts, seconds, graph_blind {metrics, changed},
// baselines {name: metrics}; BACD also ar_threshold.
std::string eval_report_to_json(const BinaryEvalReport& report, int indent = 2);
// JSON: recall@1, recall@5, recall@10, mrr, queries, models, data, split, file, seconds,
// name_free {metrics}, graph_blind {metrics, name_free}, popularity {metrics, name_free}.
std::string eval_report_to_json(const SearchEvalReport& report, int indent = 2);
// JSON Lines, one object per sample in file order: the sample's own fields as in the dataset
// file (graph or a/b, text, label, claims, ...) plus sample (its index), names (of its graphs),
// score, decision (score >= threshold; BACD: every check passes), correct (decision == label)
// and graph_blind_score.
std::string eval_scores_to_jsonl(const BinaryEvalReport& report);
// A readable table.
std::string eval_report_to_text(const BinaryEvalReport& report);
std::string eval_report_to_text(const SearchEvalReport& report);

// A derangement of 0..n-1 (no i maps to itself when n >= 2), the same for the same (n, seed):
// Sattolo's shuffle with a splitmix64 stream.
std::vector<int64_t> graph_blind_permutation(int64_t n, uint64_t seed);

}  // namespace archbert
