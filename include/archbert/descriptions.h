#pragma once
// AutoNet's text datasets (paper §4.2 and appendix A, SPEC §3, docs/datasets.md):
//   - AR descriptions: about 10 per network, 30% positive, each stating 2–3 checkable facts
//     taken from the canonical graph (ArchGraph::stats(): layer inventory, kernels; params);
//   - AutoNet-AQA: 35 questions per network in five kinds, multi-label answers over an answer
//     vocabulary built from the whole training split.
//
// The texts are added to a dataset directory written by generate_autonet (autonet.h). What
// `archbert data autonet` and `archbert data autonet-qa` do:
//
//   generate_autonet(opts);                                   // DIR/graphs.bin, manifest.json
//   generate_autonet_texts(opts.out_dir);                     // + DIR/texts.jsonl
//   generate_autonet_qa(train_dir);                           // + questions.jsonl, answers.json
//   generate_autonet_qa(val_dir, {train_dir + "/answers.json"});  // val: the train vocabulary
//
// Everything is deterministic: the texts of network i come from their own PRNG stream seeded with
// hash(seed, split, i, "texts") (or "questions"), so the same directory gives byte-identical files.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "archbert/dataset.h"
#include "archbert/graph.h"

namespace archbert {

// Versions of the text and question generators (templates, sampling rules). Bump whenever the
// same graph and seed would give different texts. Stored in the manifest.
constexpr int kAutoNetTextsVersion = 2;  // 2: each claim carries its own sentence
constexpr int kAutoNetQuestionsVersion = 1;

// ---------------------------------------------------------------------------------------------
// The layer table: every layer class an AutoNet network can contain and its category.

enum class LayerCategory : uint8_t { kOther, kPooling, kNormalization, kConvolution, kActivation };

// "pooling", "normalization", "convolution", "activation", "other".
std::string_view layer_category_name(LayerCategory category);
// The AutoNet layer classes in table order: Conv2d, Sep_conv2d, Dil_conv2d, BatchNorm2d,
// LayerNorm, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Linear, Dropout, ReLU, GELU, Hardswish,
// Softmax, PosEnc, Flatten.
const std::vector<std::string>& autonet_layer_classes();
// Category of a layer class (kOther for Linear, Dropout, PosEnc, Flatten and unknown classes).
LayerCategory layer_category(std::string_view cls);
// True for the classes whose layers have a kernel (convolutions and windowed pooling).
bool layer_has_kernel(std::string_view cls);

// "Total layers" of a graph: the number of nodes that have a layer class, i.e. the sum of
// stats.inventory (parameter-free arithmetic and layout nodes — sum, mul, matmul, concat, slice
// — and the input/output nodes have no class and are not layers).
int64_t total_layers(const GraphStats& stats);

// ---------------------------------------------------------------------------------------------
// Facts and descriptions (AR).

// Whether `fact` (see StatedFact in dataset.h) is true of a graph with these stats and `params`:
//   has     stats.inventory[cls] >= 1          lacks   stats.inventory[cls] == 0
//   count   stats.inventory[cls] == value      total   total_layers(stats) == value
//   params  value == params rounded half up to a multiple of unit
//   kernel  stats.kernels[cls] contains kernel ("7x1" = kH x kW)
// An unknown kind is false.
bool fact_holds(const StatedFact& fact, const GraphStats& stats, int64_t params);

// What the description generator knows about the population of networks, from a reference set
// of graphs: how often each layer class and each (class, kernel) occur, and true values of other
// networks to state as wrong counts, totals and parameter counts — so that a stated class,
// kernel or number alone does not tell whether a fact is true.
struct FactReference {
  int64_t networks = 0;
  std::map<std::string, int64_t> present;                         // class -> networks with it
  std::map<std::string, std::vector<int64_t>> counts;             // class -> count where present
  std::map<std::string, std::map<std::string, int64_t>> kernels;  // class -> kernel -> networks
  std::vector<int64_t> totals;                                    // total_layers per network
  std::vector<int64_t> params;                                    // parameters per network

  // Filled by finish(): the weight of each value above when it is stated as a wrong value,
  // 1 / P(a network's true value is far enough from it to make it wrong) — so that wrong values,
  // which must be far from the truth, are overall distributed like true ones.
  std::map<std::string, std::vector<double>> count_weights;
  std::vector<double> total_weights;
  std::vector<double> param_weights;
  bool finished = false;

  void add(const GraphStats& stats, int64_t params);
  // Call after the last add(); describe_graph refuses an unfinished reference.
  void finish();
  // Share of networks whose inventory contains `cls`.
  double presence(const std::string& cls) const;
  // Share of networks in which some `cls` layer has kernel `kernel`.
  double kernel_rate(const std::string& cls, const std::string& kernel) const;
};

// The reference of AutoNet datasets of `seed`: 512 networks of a reference stream derived from
// the seed (the same for the train and val splits; about 0.4 s).
FactReference autonet_fact_reference(uint64_t seed);

// One generated description with the choices behind it (for balance checks; the JSONL keeps the
// text, the label and the facts).
struct Description {
  std::string text;
  int label = 0;                       // 1: every fact holds
  std::vector<StatedFact> facts;       // in the order stated
  int opener = 0;                      // index of the opener template
  std::vector<int> connectors;         // connector template between facts i and i+1
  std::vector<std::string> templates;  // per fact: "<kind>.<template>" (params: ".<format>" too)
};

struct DescriptionOptions {
  int per_network = 10;  // descriptions per network
  int positives = 3;     // of which positive (the rest are negative)
};

// The descriptions of one graph, drawn from the PRNG stream `stream`. Texts are distinct; no
// description states two facts about the same class or two facts of the same scalar kind.
std::vector<Description> describe_graph(const ArchGraph& graph, const FactReference& reference,
                                        uint64_t stream, const DescriptionOptions& options = {});

// Template inventory sizes (for documentation and tests).
struct TemplateCounts {
  int openers = 0;
  int connectors = 0;
  std::map<std::string, int> predicates;  // fact kind -> templates
  int min_functions_per_class = 0;        // phrasings of a layer's function (fewest over classes)
  int min_names_per_class = 0;
};
TemplateCounts description_template_counts();

// ---------------------------------------------------------------------------------------------
// Questions (AutoNet-AQA).

// Canonical answers.
std::string layer_function_answer(std::string_view cls);  // "extracting local features ..."
std::string absent_layer_answer(std::string_view cls);    // "This model does not include X"
std::string kernel_answer(std::string_view kernel);       // "7x1" -> "7*1"
constexpr std::string_view kNoneAnswer = "None";

// The 35 questions of one graph (`graph_index` is stored in each sample), paraphrases drawn from
// the PRNG stream `stream`. Kinds: "used" and "unused" (one per category), "function" (one per
// class of the layer table), "kernels" (Conv2d, Sep_conv2d, Dil_conv2d, MaxPool2d, AvgPool2d,
// convolutions, pooling, overall), "classes" (three paraphrases). Answers are sorted.
std::vector<QaSample> question_graph(const ArchGraph& graph, int64_t graph_index, uint64_t stream);

// The answer vocabulary (DIR/answers.json): every answer of the training split, sorted.
struct AnswerVocabulary {
  std::string split;  // the split it was built from
  uint64_t seed = 0;
  std::vector<std::string> answers;       // sorted, unique
  std::map<std::string, int64_t> counts;  // answer -> occurrences in that split
};
std::string answer_vocabulary_to_json(const AnswerVocabulary& vocabulary);
// Throws Error(kBadInput) naming `path` when it is missing or not an answer vocabulary.
AnswerVocabulary read_answer_vocabulary(const std::string& path);

// ---------------------------------------------------------------------------------------------
// Dataset entry points.

struct TextOptions {
  DescriptionOptions descriptions;
};

struct TextReport {
  int64_t graphs = 0;
  int64_t texts = 0;
  int64_t positives = 0;
  double seconds = 0;
};

// Adds DIR/texts.jsonl (one ArSample per description, with its facts as `claims`) to the AutoNet
// dataset directory DIR and records it in the manifest (files.texts, counts.texts,
// counts.texts_positive, info.texts_version). Throws Error(kBadInput) naming the file when DIR is
// not an AutoNet directory of this generator version.
TextReport generate_autonet_texts(const std::string& dir, const TextOptions& options = {});

struct QaOptions {
  // Path of an answers.json to use (the train split's, for val). Empty: build the vocabulary
  // from this directory's questions — allowed for the train split only.
  std::string answer_vocabulary;
};

struct QaReport {
  int64_t graphs = 0;
  int64_t questions = 0;
  int64_t vocabulary = 0;                 // answers in the vocabulary
  std::string vocabulary_source;          // "train split, seed 0" (where it was built)
  int64_t out_of_vocab_answers = 0;       // answer occurrences outside the vocabulary
  int64_t out_of_vocab_questions = 0;     // questions with at least one such answer
  std::vector<std::string> out_of_vocab;  // the distinct answers outside it, sorted
  double seconds = 0;
};

// Adds DIR/questions.jsonl (QaSample lines) and DIR/answers.json to the AutoNet dataset directory
// DIR and sets its manifest's generator to "autonet-qa" (files.questions, files.answers,
// counts.questions, counts.answers, counts.answers_out_of_vocab, counts.questions_out_of_vocab,
// info.questions_version, info.answer_vocabulary, info.answers_out_of_vocab). Answers outside a
// given vocabulary are kept in questions.jsonl and counted, never dropped. Throws Error(kUsage)
// for a val directory without answer_vocabulary, Error(kBadInput) naming the bad file.
QaReport generate_autonet_qa(const std::string& dir, const QaOptions& options = {});

// One line for the CLI to print, e.g. "autonet-qa val: 35000 questions over 1000 graphs, answer
// vocabulary 51 (train split, seed 0), 0 answers outside it".
std::string qa_report_summary(const QaReport& report, std::string_view split);

}  // namespace archbert
