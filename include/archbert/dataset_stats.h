#pragma once
// The paper's Table 1 for a dataset directory (`archbert data stats DIR`, docs/datasets.md).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace archbert {

// Mean, population standard deviation (divides by n) and median (the mean of the two middle
// values for even n) of a list of numbers; all 0 for an empty list.
struct Summary {
  double mean = 0;
  double sigma = 0;
  double median = 0;
};
Summary summarize(std::vector<double> values);

// Table 1 of one sample file of a dataset.
struct DatasetStats {
  std::string role;               // the manifest's file role summarized ("texts", "questions")
  int64_t samples = 0;            // lines of the sample file
  int64_t graphs = 0;             // distinct graphs the samples refer to
  int64_t unique_archs = 0;       // distinct graph fingerprints among them
  int64_t unique_node_types = 0;  // distinct canonical ops among their nodes
  Summary nodes, edges;           // per distinct graph
  int64_t unique_tokens = 0;      // distinct tokens over all texts
  Summary tokens, characters;     // per text (characters = Unicode code points)
};

// Tokens of a text as Table 1 counts them: lower-cased words split on white space and
// punctuation, i.e. maximal runs of ASCII letters and digits and non-ASCII letters (UTF-8; the
// Latin-1 symbols, general punctuation — dashes, quotes, ellipsis — and CJK punctuation separate
// words). Only ASCII letters are lower-cased.
// "Sep_conv2d has 2,312 params." -> sep, conv2d, has, 2, 312, params.
std::vector<std::string> text_tokens(std::string_view text);

// Table 1 for sample file `role` of dataset directory `dir` (a manifest files entry ending in
// ".jsonl"; the text of a sample is its "text" or "question" (ACD pairs have none: text columns
// stay 0), its graphs "graph" or "a" and "b").
// An empty role picks the only sample file; a directory without one gives the graph columns over
// all its graphs and zero samples. Throws Error(kBadInput) naming the directory when `role` is
// ambiguous or absent, and naming the file on a malformed line or graph index.
DatasetStats dataset_stats(const std::string& dir, const std::string& role = "");

// The stats as one JSON object (keys as in DatasetStats; summaries as {mean, sigma, median}).
std::string dataset_stats_json(const DatasetStats& stats, int indent = 2);

}  // namespace archbert
