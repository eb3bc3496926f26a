#pragma once
// The inference API (SPEC §1, §6): a loaded checkpoint with its tokenizer and thresholds, and
// the tasks built on it — reason (AR), clone (ACD / BACD), embed, search. No LibTorch here.
//
// Checkpoint metadata keys (CheckpointMeta::extra, written by the trainer):
//   "ar_threshold"   τ for AR (cosine >= τ -> "correct"), tuned on validation; default 0.5
//   "acd_threshold"  τ for ACD/BACD (cosine of two graph embeddings >= τ -> "similar"); 0.5
//   "recipe"         the command line that produced the checkpoint
//   "data"           JSON array, per --data directory: generator, generator_version, seed,
//                    split and counts of its manifest
//   "train_report"   JSON summary of training (steps, losses, validation metrics)

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "archbert/graph.h"
#include "archbert/importer.h"
#include "archbert/model.h"
#include "archbert/tokenizer.h"

namespace archbert {

// A checkpoint ready for inference.
struct LoadedModel {
  std::string path;
  ArchBertModel model;
  Tokenizer tokenizer;
  double ar_threshold = 0.5;
  double acd_threshold = 0.5;
};

// $ARCHBERT_CHECKPOINT when set, else the shipped checkpoint models/small/archbert-small.ckpt.
std::string default_checkpoint_path();

// Loads a checkpoint (path "" = default_checkpoint_path()). Throws Error(kBadInput) naming the
// file when it is missing, corrupt or has no tokenizer.
LoadedModel load_model(const std::string& path = "");

// How well a text fits what the model knows.
struct TextCheck {
  int words = 0;
  int unknown_words = 0;  // words with an [UNK] piece
  bool truncated = false;
  int spelled_words = 0;  // words of 4+ letters the vocabulary only spells letter by letter
};

// Token ids of each text for the model (cut to the model's max_text_len). Empty or
// whitespace-only text and invalid UTF-8 throw Error(kBadInput) naming `input_name`.
std::vector<std::vector<int32_t>> encode_texts(const LoadedModel& m,
                                               const std::vector<std::string>& texts,
                                               std::vector<TextCheck>* checks = nullptr,
                                               const std::string& input_name = "text");

// --- Out-of-distribution checks (warnings travel with every answer) -------------------------
//
// A graph warns when more than 10% of its nodes are `other` (ops the model has no token for) or
// when it has more nodes than the cross encoder reads (config max_graph_nodes: it is capped).
// A text warns when more than 20% of its words are unknown ([UNK] or spelled letter by letter)
// or when it was cut to max_text_len tokens.
std::vector<std::string> graph_warnings(const LoadedModel& m, const ArchGraph& graph);
std::vector<std::string> text_warnings(const LoadedModel& m, const TextCheck& check,
                                       const std::string& input_name = "text");

// --- Tasks ----------------------------------------------------------------------------------

// Architectural reasoning (AR): is `statement` true of the graph?
struct ReasonResult {
  double score = 0;      // cos(J_t, J_g)
  bool correct = false;  // score >= threshold
  double threshold = 0.5;
  std::vector<std::string> warnings;
};
ReasonResult reason(const LoadedModel& m, const ArchGraph& graph, const std::string& statement);

// Architecture clone detection: ACD without a text, bi-modal ACD (BACD) with one.
struct CloneResult {
  double score = 0;      // cos(J_a, J_b)
  bool similar = false;  // ACD: score >= threshold; BACD: that and the text is true of both
  double threshold = 0.5;
  // BACD only: the text checked against each graph (at the AR threshold).
  std::optional<ReasonResult> text_a, text_b;
  std::vector<std::string> warnings;
};
CloneResult clone(const LoadedModel& m, const ArchGraph& a, const ArchGraph& b,
                  const std::optional<std::string>& text = std::nullopt);

// Joint embeddings (J_g / J_t, d_model floats); warnings are appended when given.
std::vector<float> embed_graph(const LoadedModel& m, const ArchGraph& graph,
                               std::vector<std::string>* warnings = nullptr);
std::vector<float> embed_text(const LoadedModel& m, const std::string& text,
                              std::vector<std::string>* warnings = nullptr);

// --- Search ---------------------------------------------------------------------------------

struct SearchOptions {
  ImportOptions import;   // for candidate files and zoo graphs
  bool use_cache = true;  // keep the zoo's graph embeddings on disk between runs
  std::string cache_dir;  // "" = default_cache_dir()
  int graph_batch = 8;    // graphs per forward pass
};

// How the zoo embeddings were obtained.
enum class CacheUse {
  kOff,         // no cache (disabled, explicit candidates, or no cache folder)
  kHit,         // read from a valid cache file
  kWritten,     // computed and written (missing, stale or corrupt file)
  kUnwritable,  // computed; the cache file could not be written
};
const char* cache_use_name(CacheUse use);

// Graph embeddings of a set of named graphs.
struct NamedEmbeddings {
  std::vector<std::string> names;
  std::vector<std::vector<float>> vectors;  // [names][d_model]
  std::vector<std::string> warnings;        // e.g. zoo entries that could not be read
  CacheUse cache = CacheUse::kOff;
  std::string cache_path;  // the cache file consulted ("" when none)
  double seconds = 0;
};

// $XDG_CACHE_HOME/archbert, else $HOME/.cache/archbert ("" when neither is set).
std::string default_cache_dir();

// The cache file of the zoo embeddings of `m` under `cache_dir` (named by the checkpoint's
// content checksum; the zoo data version is stored inside and checked on read).
std::string zoo_cache_path(const LoadedModel& m, const std::string& cache_dir);

// Embeddings of every zoo graph (zoo_list()), from the cache when it is valid for this
// checkpoint and this zoo, else computed and cached (written atomically). A cache file that
// fails any check (size, checksum, checkpoint, zoo version, dimension, names) is ignored and
// rebuilt. Zoo entries that cannot be read are skipped with a warning.
NamedEmbeddings zoo_embeddings(const LoadedModel& m, const SearchOptions& options = {});

struct SearchHit {
  std::string name;  // zoo name or the file as given
  double score = 0;  // cos(J_query, J_g)
};
struct SearchResult {
  std::vector<SearchHit> results;  // best first (ties by name), at most top_k
  int64_t candidates = 0;
  std::vector<std::string> warnings;
  CacheUse cache = CacheUse::kOff;
  std::string cache_path;
  double seconds = 0;  // time spent getting the candidate embeddings
};

// Ranks `candidates` (anything load_graph reads; empty = the whole zoo, cached) by cos(J_query,
// J_g). top_k < 1 throws Error(kUsage); an unreadable explicit candidate throws Error(kBadInput).
SearchResult search(const LoadedModel& m, const std::string& query, int top_k,
                    const std::vector<std::string>& candidates = {},
                    const SearchOptions& options = {});

}  // namespace archbert
