#pragma once
// The text tokenizer: a small WordPiece tokenizer (BERT-style), trained on our own corpus and
// serialised to JSON so that it travels inside checkpoints.
//
// Why our own: Debian's libsentencepiece cannot share a process with LibTorch (its bundled
// protobuf 3.14 clashes with LibTorch's 3.21: abort or segfault in both link orders), and we have
// no pretrained BERT vocabulary here. So archbert has its own small, tested subword tokenizer.
//
// Design (docs/tokenizer.md has the details and the measurements):
// - Normalisation (no ICU): invalid UTF-8 is an error; ASCII, Latin-1/Latin Extended-A, Greek and
//   Cyrillic letters are lower-cased; accents ARE stripped (é -> e, combining marks dropped, so
//   composed and decomposed forms agree — the "NFC-ish" part); typographic quotes/dashes map to
//   ASCII, × maps to x; control characters are dropped and Unicode spaces become ' '.
// - Pre-tokenisation: split on whitespace; every punctuation/symbol character is its own token;
//   a run of letters and digits is one "word" whose pieces after the first carry "##".
//   Every digit is its own piece ("11,689,512" -> 1 ##1 , 6 ##8 ##9 , 5 ##1 ##2; "7x7" -> 7 ##x
//   ##7; "3.5M" -> 3 . 5 ##m), so the model reads magnitudes from digit counts and never meets
//   an unseen number.
// - Pieces: greedy longest-match-first with "##" continuation pieces (WordPiece encoding). The
//   vocabulary is trained by BPE merges ranked by pair frequency, then exported as a WordPiece
//   vocabulary (what Hugging Face's WordPieceTrainer does): frequency merges give pieces that are
//   reused across many words, which suits a small templated corpus better than the likelihood
//   score count(ab)/(count(a)count(b)), which favours merging rare pairs.
// - A character missing from the vocabulary becomes one [UNK] and encoding goes on.
// - Special tokens: [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace archbert {

// One encoded text: [CLS] pieces... [SEP], truncated to max_length.
struct Encoding {
  std::vector<int32_t> ids;             // token ids, size <= max_length
  std::vector<int32_t> attention_mask;  // 1 per real token (same size as ids)
  bool truncated = false;               // true when pieces were cut to fit max_length
  int words = 0;                        // pre-tokenised words seen (before truncation stops)
  int unknown_words = 0;                // words containing at least one [UNK]
};

// A padded batch, row-major: ids[b * length + t], shape [batch, length].
struct BatchEncoding {
  int batch = 0;
  int length = 0;                       // longest row (or max_length when padding to max)
  std::vector<int32_t> ids;             // [batch, length], [PAD]=0 after each row's [SEP]
  std::vector<int32_t> attention_mask;  // [batch, length], 1 real token, 0 padding
};

// Options of train_tokenizer.
struct TokenizerTrainOptions {
  int vocab_size = 6000;      // target size including specials, digits and the alphabet
  int min_frequency = 2;      // a merge needs a pair seen this often; rarer chars are left out
  int limit_alphabet = 1000;  // at most this many non-ASCII characters enter the alphabet
  int max_length = 128;       // default max_length of encode() stored with the tokenizer
  // General-English words (e.g. the most frequent GloVe words) counted `extra_word_weight` times
  // each on top of the corpus, so that words users type but our templates never use still get
  // whole-word pieces (and pretrained vectors) instead of falling apart into letters.
  std::vector<std::string> extra_words;
  int extra_word_weight = 1;
};

// A trained WordPiece tokenizer. Immutable after construction; encode/decode are thread-safe.
class Tokenizer {
 public:
  static constexpr int32_t kPad = 0, kUnk = 1, kCls = 2, kSep = 3, kMask = 4;

  Tokenizer() = default;
  // Builds from a vocabulary whose first five entries are the special tokens in order.
  // Throws Error(kBadInput) naming `input` when the vocabulary is invalid.
  Tokenizer(std::vector<std::string> vocab, int max_length, const std::string& input = "tokenizer");

  // Encodes `text` to [CLS] pieces [SEP] with at most max_length ids (0: the stored default).
  // Throws Error(kBadInput, "<input_name>: invalid UTF-8 at byte N") on malformed UTF-8.
  // Linear in the text size; stops tokenising once max_length is reached.
  Encoding encode(std::string_view text, int max_length = 0,
                  const std::string& input_name = "text") const;
  // Encodes several texts and pads them to the longest row (or to max_length if pad_to_max).
  BatchEncoding encode_batch(const std::vector<std::string>& texts, int max_length = 0,
                             bool pad_to_max = false) const;
  // The pieces of `text` (no [CLS]/[SEP], no truncation), e.g. {"conv", "##olution", "7"}.
  std::vector<std::string> tokenize(std::string_view text,
                                    const std::string& input_name = "text") const;
  // Joins pieces back to (normalised) text: "##" pieces glue to the previous one, punctuation
  // is spaced like English prose and digit groups ("11,689,512", "3.5") are rejoined.
  // Special tokens are skipped when skip_special (except [UNK], which prints as "[UNK]").
  std::string decode(const std::vector<int32_t>& ids, bool skip_special = true) const;

  int size() const { return static_cast<int>(vocab_.size()); }
  int max_length() const { return max_length_; }
  const std::vector<std::string>& vocab() const { return vocab_; }
  const std::string& piece(int32_t id) const;
  // Id of a piece, or kUnk when absent.
  int32_t id(std::string_view piece) const;
  bool contains(std::string_view piece) const;

  // Serialises to a JSON string {"format":"archbert-wordpiece","version":1,...,"vocab":[...]}.
  std::string to_json() const;
  // Parses to_json output; throws Error(kBadInput, "<input>: <problem>") on anything malformed.
  static Tokenizer from_json(const std::string& json, const std::string& input = "tokenizer");

 private:
  std::vector<std::string> vocab_;
  std::unordered_map<std::string, int32_t> index_;
  int max_length_ = 128;
  int max_piece_chars_ = 1;  // longest piece in codepoints (bounds the longest-match search)
};

// Trains a tokenizer on `corpus` (one text per entry). Deterministic: the same corpus and options
// give the identical vocabulary (ties are broken by piece ids, never by hash-map order).
// Throws Error(kBadInput, "corpus[i]: invalid UTF-8 at byte N") on malformed text.
Tokenizer train_tokenizer(const std::vector<std::string>& corpus,
                          const TokenizerTrainOptions& options = {});

// Numbers in encoded text. number_roles gives, per vocabulary id, what the piece is to a number
// reader (digit, digit inside a word, ',' '.', a magnitude word "thousand"/"million"/"billion"/
// "trillion" or a glued magnitude "##k"/"##m"/"##b"). number_values reads every number of an id
// sequence ("6 , 6 ##0 ##1 , 2 ##7 ##4" = 6601274; "2 . 8 ##5 million" = 2850000; "3 . 5 ##m" =
// 3500000; "7 ##x ##1" = 7 and 1) and returns, per token, the value of the number it belongs to,
// or -1 for tokens outside numbers. Thousands groups need exactly three digits after the comma.
std::vector<int8_t> number_roles(const Tokenizer& tokenizer);
std::vector<double> number_values(const std::vector<int32_t>& ids,
                                  const std::vector<int8_t>& roles);
// Kernel sizes written "HxW" ("7 ##x ##1", "3 x 3"; "×" is normalised to "x"): per token, {H, W}
// for every token of such a pattern (both sizes and the "x"), {-1, -1} elsewhere. Only the first
// two sizes of a longer chain ("3x3x3") form the pair; sizes with a decimal point or a thousands
// group are no kernel.
std::vector<std::array<int64_t, 2>> kernel_sizes(const std::vector<int32_t>& ids,
                                                 const std::vector<int8_t>& roles);

// Normalises text as the tokenizer does (lower-case, accents stripped, spaces unified).
// Throws Error(kBadInput, "<input_name>: invalid UTF-8 at byte N").
std::string normalize_text(std::string_view text, const std::string& input_name = "text");

}  // namespace archbert
