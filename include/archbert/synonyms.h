#pragma once
// WordNet synonyms (Debian's wordnet-base, /usr/share/wordnet/data.{noun,verb,adj,adv}) and a
// paraphraser for training-time text augmentation.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace archbert {

// Synsets and, per lower-case word, the synsets containing it (in file order).
struct SynonymTable {
  std::vector<std::vector<std::string>> synsets;  // words with '_' replaced by ' ', lower-case
  std::unordered_map<std::string, std::vector<int32_t>> word_synsets;
  // Synonyms of `word` (other words of its synsets, first synset first, no duplicates).
  std::vector<std::string> synonyms(const std::string& word) const;
};

// Reads data.noun, data.verb, data.adj and data.adv from `dir` (those present; at least one
// must be). Format per line: synset_offset lex_filenum ss_type w_cnt(hex) {word lex_id} p_cnt
// ... | gloss; lines starting with two spaces are the licence header.
// Throws Error(kBadInput, "<file>:<line>: <problem>") on a malformed line.
SynonymTable load_wordnet(const std::string& dir);

// Replaces about `rate` of the content words of `text` by a synonym from one of their synsets.
// Keeps everything else byte for byte; skips stop words, words with digits or inner capitals,
// words shorter than 3 letters and our protected domain terms (layer names, "convolution",
// "pooling", "normalization", "attention", "layer", model names, ...). Deterministic for a seed.
std::string paraphrase(const std::string& text, const SynonymTable& table, uint64_t seed,
                       double rate);

// True for a protected domain term (lower-case input).
bool is_protected_term(const std::string& lower_word);

}  // namespace archbert
