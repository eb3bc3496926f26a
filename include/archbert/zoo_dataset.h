#pragma once
// The Zoo dataset (our TVHF; issue 3 item 4, docs/datasets.md "Zoo"): every zoo graph (tv: and
// hf:, plus each torchvision model's BN-folded variant) with human-written descriptions
// (data/zoo/descriptions/{families,models}.json), sentences computed from the graphs, negatives
// drawn from other families, and ACD pairs and BACD quartets.
//
//   generate_zoo_dataset({.data_dir = "data", .out_dir = "zoo-ds", .seed = 0});
//
// writes DIR/manifest.json (generator "zoo"), graphs.bin, texts_{train,val}.jsonl (AR samples),
// acd_{train,val}.jsonl, bacd_{train,val}.jsonl, families.json (a copy of the family table) and
// models.json (graph index -> model, family, base design).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "archbert/dataset.h"
#include "archbert/graph.h"

namespace archbert {

// Bump whenever the same inputs and seed would give different files.
// 2: FLOPs sentences; 3: phrasings of computed sentences, residual, task and modality sentences;
// 4: layer statements (layer_statements), true and false, about every model; 5: two names per
// kind of layer and a fourth phrasing in them; 6: layer counts and "normalises with" by canonical
// op, not by the class name a format records.
constexpr int kZooDatasetVersion = 6;

// Negatives without a checkable claim must have a TF-IDF cosine below this to every positive of
// the model (docs/datasets.md explains the choice); negatives with a claim must be clearly false
// of the model's graph (zoo_fact_clearly_false) instead.
constexpr double kZooNegativeSimilarityThreshold = 0.20;

struct ZooDatasetOptions {
  std::string data_dir;  // folder holding zoo/tv, zoo/hf, zoo/descriptions; empty: data_dir()
  std::string out_dir;
  uint64_t seed = 0;
  int negatives_per_positive = 10;
  double similarity_threshold = kZooNegativeSimilarityThreshold;
  int bacd_positives_per_pair = 20;  // at most this many positive quartets per similar pair
};

// One positive sentence of a model.
struct ZooSentence {
  std::string text;
  std::string source;               // "family", "model", "graph" or "purpose"
  std::optional<StatedFact> claim;  // graph and purpose sentences: the fact stated
};

// One graph of the dataset with what is known about it.
struct ZooModel {
  std::string name;         // "tv:resnet18", "tv:resnet18.folded", "hf:bert-base-uncased"
  std::string variant_of;   // folded variants: the unfolded model's name
  std::string family;       // key of families.json
  std::string base_design;  // families.json base_design
  std::string task;         // families.json task ("instance segmentation"); may be empty
  std::string task_group;   // the task's group in families.json task_groups ("detection")
  // Other task groups the family serves (families.json also_task_groups): BART and T5 are
  // used for language understanding too. A task claim of these groups is not a negative.
  std::vector<std::string> other_task_groups;
  std::string modality;  // families.json modality ("vision", "text", "speech"); may be empty
  ArchGraph graph;
  std::vector<ZooSentence> positives;  // distinct (normalised) texts
  // Layer statements that are clearly false of the graph (layer_statements), each an AR
  // negative of the model beside those drawn from other models' positives.
  std::vector<ZooSentence> layer_negatives;
  // tv models: multiply-accumulates of one forward pass (data/zoo/tv/manifest.json "macs", from
  // tools/export_torchvision_zoo.py --macs-only) and the input they were counted on as a noun
  // phrase ("224x224 image", "16-frame 112x112 clip"); -1 and "" when unknown (hf models).
  int64_t macs = -1;
  std::string macs_input;
};

// Everything read from the data folder, in graph order (sorted by name, each folded variant
// right after its model).
struct ZooCorpus {
  std::vector<ZooModel> models;
  std::string families_json;             // the family table, verbatim
  int64_t models_without_sentences = 0;  // zoo models models.json does not describe
  int64_t models_without_flops = 0;      // graphs without a FLOPs sentence (no manifest macs)
};

// Reads the zoo and the description files. Throws Error(kBadInput) naming the file and the entry
// on malformed JSON, a model without a known family, or a described model absent from the zoo.
ZooCorpus load_zoo_corpus(const std::string& data_dir);

// Sentences computed from a graph, each with its claim: parameters (rounded to 3 significant
// digits), depth, total layers, counts of notable layer classes, attention, residual shortcuts
// and normalisation, each in one of 3-4 phrasings picked by a hash of (graph name, kind), so that
// every kind of fact is worded several ways across the zoo. Hugging Face graphs (format
// "huggingface") also get a FLOPs-per-token sentence (linear_flops_per_token).
std::vector<ZooSentence> graph_sentences(const ArchGraph& graph);

// Whether a claim states a number graph_sentences writes with fact_phrasings: params, depth,
// total, count, attention (value > 0).
bool is_number_fact(const StatedFact& fact);
// The phrasings of such a fact with its value (params: value rounded to 3 significant digits),
// in the order graph_sentences picks from; empty for other kinds and for counts below 1 or of a
// class without a count sentence.
std::vector<std::string> fact_phrasings(const StatedFact& fact);

// Minimal pairs for training (`train pretrain --zoo-number-pairs`): for each number fact of
// graph_sentences(graph) whose own sentence is a train text (zoo_text_split with `split_seed`,
// the dataset's seed), its other phrasings that are train texts (true), and up to `wrong`
// values 1.15-3x above or below the truth (log-uniform, up or down at random), each clearly
// false (zoo_fact_clearly_false), in a random phrasing, and a train text (claim.holds false).
// Facts whose sentence is a val text get nothing, so that no val fact is shown in other words.
// Deterministic in (seed, graph name, kind, class).
std::vector<ZooSentence> number_pairs(const ArchGraph& graph, uint64_t split_seed, int wrong,
                                      uint64_t seed);

// Short statements of whether the graph uses a kind of layer ("It uses GELU activations.", "It
// does not use layer normalization."), claim kind "uses" or "uses_no" with the kind's key
// ("gelu", "layer_norm") as cls, each with claim.holds set: the truth, and with it the
// statement's label. Presence is decided by canonical ops, on which the importers agree (not by
// class names). For every kind of the table (convolution kinds, embeddings, normalisations,
// activations, pooling, dropout) the graph uses: "uses" (true) and "does not use" (false); for
// up to six kinds it lacks, picked by a hash of (graph name, kind): the reverse. A graph with
// only an op of a close kind (ReLU6 for ReLU) gets neither. Each statement is in one of four
// phrasings, with one of two names of the kind ("layer normalization", "layer norm"), picked by
// a hash of (graph name, kind, polarity). They teach lookups on real graphs:
// the same words are true of one model and false of the next.
std::vector<ZooSentence> layer_statements(const ArchGraph& graph);
// Whether a claim is a layer statement's (kind "uses" or "uses_no").
bool is_layer_statement(const StatedFact& fact);

// A model's purpose, from its family: the task in one of four phrasings ("It is a model for
// instance segmentation."; claim kind "task", cls = the task's group, value 1) and the modality in
// one of three ("It is a computer vision model."; kind "modality", cls = the modality), picked by
// a hash of the model name. An empty task or an unknown modality gets no sentence.
std::vector<ZooSentence> purpose_sentences(const std::string& name, const std::string& task,
                                           const std::string& task_group,
                                           const std::string& modality);

// Matrix-multiply work per token of a graph: 2 x sum over `linear` nodes of in x out (node shape
// (out, in, 1, 1)): the weight multiplies one token goes through, one multiply-add = 2 FLOPs;
// attention scores (QK^T, AV), convolutions and element-wise work are not counted.
int64_t linear_flops_per_token(const ArchGraph& graph);

// The FLOPs sentence of a model with `macs` multiply-accumulates per forward pass on `input` (a
// noun phrase, ZooModel::macs_input), e.g. "It needs about 1.8 GMACs (3.6 GFLOPs) for one 224x224
// image.": MACs and FLOPs (2 x MACs) each rounded to 2 significant digits. Its claim: kind "macs",
// cls = input, value = MACs rounded half up to a multiple of unit. `phrasing` picks the template.
ZooSentence macs_sentence(int64_t macs, const std::string& input, uint64_t phrasing);

// Whether a stated fact is true of the graph: count / has by canonical op (the nodes whose op
// has inventory class cls: value of them / at least one), fact_holds (descriptions.h) for
// lacks / total / params / kernel, and
//   depth      stats.depth == value
//   attention  value == attention sites (softmax nodes feeding a matmul, plus attention nodes)
//   norm_free  no normalisation node           bn_folded  graph.bn_folded == (value != 0)
//   residual   (value != 0) == some identity shortcut: a `sum` node one of whose inputs is an
//              ancestor of another of its inputs
//   flops_per_token  a Hugging Face graph and value == linear_flops_per_token rounded half up to
//              a multiple of unit
// "macs", "task" and "modality" claims need the model's manifest count or family: false here
// (see the ZooModel overload).
bool zoo_fact_holds(const StatedFact& fact, const ArchGraph& graph);
// As above on model.graph, and "macs": model.macs >= 0, cls == model.macs_input and value ==
// model.macs rounded half up to a multiple of unit; "task": cls is model.task_group or one of
// model.other_task_groups (a sentence naming another task of such a group holds: it is neither
// a positive nor a negative of the model);
// "modality": cls == model.modality.
bool zoo_fact_holds(const StatedFact& fact, const ZooModel& model);

// Whether a fact is false of the graph by a clear margin, so that it can serve as a negative:
// a stated number at least 15% (params) or 10% (counts, totals, depth, attention sites; at least
// 1, totals and depth 2) away from the truth (data/facts.h, as AutoNet's wrong numbers); any
// other kind simply false. FLOPs claims (macs, flops_per_token) are clearly false only when the
// truth is known for the same input (a tv model counted on the same input; a Hugging Face graph)
// and the stated number is at least 3.5x above or below it (so that each number the sentence
// writes, MACs and the separately rounded FLOPs, is at least 3x off). Task and modality claims
// are clearly false of a model that serves none of the task's group or has another modality.
bool zoo_fact_clearly_false(const StatedFact& fact, const ArchGraph& graph);
bool zoo_fact_clearly_false(const StatedFact& fact, const ZooModel& model);

// Lower-cased tokens (text_tokens, dataset_stats.h) joined by single spaces.
std::string normalize_sentence(std::string_view text);
// Split of a sentence: 80% train / 20% val by a hash of (seed, normalised text).
DatasetSplit zoo_text_split(std::string_view text, uint64_t seed);
// ACD label: same family or same base design.
bool zoo_models_similar(const ZooModel& a, const ZooModel& b);

// TF-IDF-weighted cosine similarity over lower-cased word unigrams and bigrams, with the IDF
// idf(t) = ln((1 + N) / (1 + df(t))) + 1 over the N documents given (smoothed as scikit-learn's).
class TfidfSimilarity {
 public:
  explicit TfidfSimilarity(const std::vector<std::string>& documents);
  // Cosine in [0, 1]. Terms unseen in the documents get the IDF of a term seen once.
  double operator()(std::string_view a, std::string_view b) const;

  using Vector = std::vector<std::pair<int32_t, double>>;  // sorted term ids, unit length
  Vector vector(std::string_view text) const;
  static double cosine(const Vector& a, const Vector& b);

 private:
  int32_t term_id(const std::string& term) const;
  std::unordered_map<std::string, int32_t> ids_;
  std::vector<double> idf_;
  double unseen_idf_ = 1;
};

struct ZooDatasetReport {
  int64_t graphs = 0, folded = 0, families = 0;
  int64_t positives = 0, negatives = 0;  // AR samples
  int64_t texts_train = 0, texts_val = 0;
  int64_t acd_train = 0, acd_val = 0, acd_positive = 0;
  int64_t bacd_train = 0, bacd_val = 0, bacd_positive = 0;
  int64_t candidates = 0;        // negative candidates examined
  int64_t rejected_similar = 0;  // of which (no claim) too similar to a positive
  int64_t rejected_true = 0;     // of which (a claim) not clearly false of the model
  int64_t negatives_with_claim = 0;
  int64_t layer_negatives = 0;          // false layer statements (part of `negatives`)
  int64_t flops_sentences = 0;          // positives stating FLOPs (macs, flops_per_token)
  int64_t models_without_flops = 0;     // graphs with none (tv models without a manifest macs)
  std::vector<double> best_similarity;  // of every examined candidate without a claim, sorted
  double seconds = 0;
};

// Writes the dataset directory (see the top of this file). Deterministic: the same inputs and
// seed give byte-identical files.
ZooDatasetReport generate_zoo_dataset(const ZooDatasetOptions& options);

}  // namespace archbert
