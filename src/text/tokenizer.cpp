// WordPiece encoding and decoding, and the tokenizer's JSON form.

#include "archbert/tokenizer.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "archbert/error.h"
#include "text/text_internal.h"

namespace archbert {
namespace {

constexpr const char* kFormat = "archbert-wordpiece";
constexpr int kVersion = 1;
constexpr const char* kNormalizer = "lowercase+strip-accents+digits-split/v1";
// Letter runs longer than this become a single [UNK] (BERT's max_input_chars_per_word).
constexpr size_t kMaxWordChars = 100;
const char* const kSpecials[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};

bool is_special(int32_t id) { return id >= 0 && id <= Tokenizer::kMask; }

// Calls emit(id) for the WordPiece ids of one segment; returns true if an [UNK] was emitted.
template <typename Emit>
bool encode_segment(const Tokenizer& tok, const std::unordered_map<std::string, int32_t>& index,
                    int max_piece_chars, const text::Segment& seg, std::string* buf, Emit&& emit) {
  auto lookup = [&](std::string_view piece, bool cont) -> int32_t {
    buf->assign(cont ? "##" : "");
    buf->append(piece);
    auto it = index.find(*buf);
    return it == index.end() ? -1 : it->second;
  };
  if (seg.kind != text::SegmentKind::kLetters) {
    const int32_t id = lookup(seg.text, seg.continuation);
    emit(id < 0 ? Tokenizer::kUnk : id);
    return id < 0;
  }
  const std::string_view w = seg.text;
  if (text::utf8_length(w) > kMaxWordChars) {
    emit(Tokenizer::kUnk);
    return true;
  }
  bool unk = false;
  size_t start = 0;
  while (start < w.size()) {
    // Candidate ends on codepoint boundaries, at most max_piece_chars codepoints ahead.
    size_t ends[256];
    int n_ends = 0;
    size_t e = start;
    while (e < w.size() && n_ends < max_piece_chars && n_ends < 256) {
      uint32_t cp;
      size_t n = text::decode_utf8(w, e, &cp);
      e += n == 0 ? 1 : n;
      ends[n_ends++] = e;
    }
    const bool cont = seg.continuation || start > 0;
    int32_t found = -1;
    size_t found_end = n_ends > 0 ? ends[0] : w.size();
    for (int k = n_ends - 1; k >= 0; --k) {
      const int32_t id = lookup(w.substr(start, ends[k] - start), cont);
      if (id >= 0) {
        found = id;
        found_end = ends[k];
        break;
      }
    }
    if (found < 0) {
      unk = true;
      emit(Tokenizer::kUnk);  // one [UNK] per unknown character; the rest is still encoded
    } else {
      emit(found);
    }
    start = found_end;
  }
  (void)tok;
  return unk;
}

}  // namespace

Tokenizer::Tokenizer(std::vector<std::string> vocab, int max_length, const std::string& input)
    : vocab_(std::move(vocab)), max_length_(max_length) {
  if (vocab_.size() < 5) throw_bad_input(input, "vocabulary has fewer than 5 entries");
  for (int i = 0; i < 5; ++i) {
    if (vocab_[i] != kSpecials[i]) {
      throw_bad_input(input, "vocabulary entry " + std::to_string(i) + " must be " + kSpecials[i] +
                                 ", found \"" + vocab_[i] + "\"");
    }
  }
  if (max_length < 2) throw_bad_input(input, "max_length must be >= 2");
  index_.reserve(vocab_.size() * 2);
  for (size_t i = 0; i < vocab_.size(); ++i) {
    const std::string& p = vocab_[i];
    if (p.empty() || p == "##") {
      throw_bad_input(input, "vocabulary entry " + std::to_string(i) + " is empty");
    }
    for (size_t k = 0; k < p.size();) {
      uint32_t cp;
      size_t n = text::decode_utf8(p, k, &cp);
      if (n == 0) {
        throw_bad_input(input, "vocabulary entry " + std::to_string(i) + ": invalid UTF-8");
      }
      k += n;
    }
    if (!index_.emplace(p, static_cast<int32_t>(i)).second) {
      throw_bad_input(input, "duplicate vocabulary entry \"" + p + "\"");
    }
    const bool cont = p.size() > 2 && p.compare(0, 2, "##") == 0;
    max_piece_chars_ =
        std::max<int>(max_piece_chars_, static_cast<int>(text::utf8_length(p) - (cont ? 2 : 0)));
  }
  for (char d = '0'; d <= '9'; ++d) {
    if (!index_.count(std::string(1, d)) || !index_.count(std::string("##") + d)) {
      throw_bad_input(input, std::string("vocabulary lacks digit piece ") + d + " or ##" + d);
    }
  }
}

const std::string& Tokenizer::piece(int32_t id) const {
  if (id < 0 || id >= size()) return vocab_.at(kUnk);
  return vocab_[id];
}

int32_t Tokenizer::id(std::string_view piece) const {
  auto it = index_.find(std::string(piece));
  return it == index_.end() ? kUnk : it->second;
}

bool Tokenizer::contains(std::string_view piece) const {
  return index_.count(std::string(piece)) > 0;
}

Encoding Tokenizer::encode(std::string_view text, int max_length,
                           const std::string& input_name) const {
  if (max_length <= 0) max_length = max_length_;
  if (max_length < 2) max_length = 2;
  const std::string norm = normalize_text(text, input_name);
  Encoding enc;
  enc.ids.reserve(std::min<size_t>(max_length, norm.size() / 2 + 2));
  enc.ids.push_back(kCls);
  const size_t room = static_cast<size_t>(max_length) - 1;  // keep one slot for [SEP]
  std::string buf;
  text::pretokenize(norm, [&](const text::Segment& seg) {
    if (enc.ids.size() >= room) {
      enc.truncated = true;
      return false;
    }
    if (seg.word_start) ++enc.words;
    bool cut = false;
    const bool unk = encode_segment(*this, index_, max_piece_chars_, seg, &buf, [&](int32_t id) {
      if (enc.ids.size() < room)
        enc.ids.push_back(id);
      else
        cut = true;
    });
    if (unk) ++enc.unknown_words;
    if (cut) enc.truncated = true;
    return !cut;
  });
  enc.ids.push_back(kSep);
  enc.attention_mask.assign(enc.ids.size(), 1);
  return enc;
}

BatchEncoding Tokenizer::encode_batch(const std::vector<std::string>& texts, int max_length,
                                      bool pad_to_max) const {
  if (max_length <= 0) max_length = max_length_;
  std::vector<Encoding> rows;
  rows.reserve(texts.size());
  BatchEncoding out;
  out.batch = static_cast<int>(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    rows.push_back(encode(texts[i], max_length, "texts[" + std::to_string(i) + "]"));
    out.length = std::max<int>(out.length, static_cast<int>(rows.back().ids.size()));
  }
  if (pad_to_max) out.length = max_length;
  out.ids.assign(static_cast<size_t>(out.batch) * out.length, kPad);
  out.attention_mask.assign(out.ids.size(), 0);
  for (int b = 0; b < out.batch; ++b) {
    std::copy(rows[b].ids.begin(), rows[b].ids.end(), out.ids.begin() + b * out.length);
    std::fill_n(out.attention_mask.begin() + b * out.length, rows[b].ids.size(), 1);
  }
  return out;
}

std::vector<std::string> Tokenizer::tokenize(std::string_view text,
                                             const std::string& input_name) const {
  const std::string norm = normalize_text(text, input_name);
  std::vector<std::string> out;
  std::string buf;
  text::pretokenize(norm, [&](const text::Segment& seg) {
    encode_segment(*this, index_, max_piece_chars_, seg, &buf,
                   [&](int32_t id) { out.push_back(vocab_[id]); });
    return true;
  });
  return out;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special) const {
  // Prose spacing: no space before closing punctuation, none after opening punctuation,
  // '-', '/' and '\'' glue on both sides, and "digit , digit" / "digit . digit" stay together.
  auto no_space_before = [](const std::string& p) {
    return p == "," || p == "." || p == ";" || p == ":" || p == "!" || p == "?" || p == ")" ||
           p == "]" || p == "}" || p == "%" || p == "-" || p == "/" || p == "'";
  };
  auto no_space_after = [](const std::string& p) {
    return p == "(" || p == "[" || p == "{" || p == "-" || p == "/" || p == "'" || p == "$" ||
           p == "#";
  };
  auto is_digit_piece = [](const std::string& p) {
    const char c = p.size() >= 3 && p[0] == '#' ? p[2] : p[0];
    return !p.empty() && c >= '0' && c <= '9';
  };
  std::string out;
  std::string prev, prev2;  // the last two pieces emitted
  bool prev2_digit_end = false, prev_digit_end = false;
  for (int32_t id : ids) {
    if (skip_special && is_special(id) && id != kUnk) continue;
    const std::string& p = piece(id);
    const bool cont = p.size() > 2 && p[0] == '#' && p[1] == '#';
    const std::string body = cont ? p.substr(2) : p;
    if (!out.empty() && !cont) {
      const bool digit_group = (prev == "," || prev == ".") && prev2_digit_end && is_digit_piece(p);
      if (!no_space_before(p) && !no_space_after(prev) && !digit_group) out.push_back(' ');
    }
    out += body;
    if (cont) {
      prev += body;  // the word grows; prev2 stays the piece before the word
    } else {
      prev2 = prev;
      prev2_digit_end = prev_digit_end;
      prev = body;
    }
    prev_digit_end = !body.empty() && body.back() >= '0' && body.back() <= '9';
  }
  return out;
}

std::string Tokenizer::to_json() const {
  nlohmann::ordered_json j;
  j["format"] = kFormat;
  j["version"] = kVersion;
  j["normalizer"] = kNormalizer;
  j["max_length"] = max_length_;
  j["vocab_size"] = vocab_.size();
  j["vocab"] = vocab_;
  return j.dump();
}

Tokenizer Tokenizer::from_json(const std::string& json, const std::string& input) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json);
  } catch (const nlohmann::json::exception& e) {
    throw_bad_input(input, std::string("tokenizer JSON does not parse: ") + e.what());
  }
  if (!j.is_object()) throw_bad_input(input, "tokenizer JSON is not an object");
  auto str_field = [&](const char* key) -> std::string {
    if (!j.contains(key) || !j[key].is_string()) {
      throw_bad_input(input, std::string("tokenizer JSON lacks string field \"") + key + "\"");
    }
    return j[key].get<std::string>();
  };
  auto int_field = [&](const char* key) -> int64_t {
    if (!j.contains(key) || !j[key].is_number_integer()) {
      throw_bad_input(input, std::string("tokenizer JSON lacks integer field \"") + key + "\"");
    }
    return j[key].get<int64_t>();
  };
  if (str_field("format") != kFormat) {
    throw_bad_input(input, "not an archbert tokenizer (format \"" + str_field("format") + "\")");
  }
  const int64_t version = int_field("version");
  if (version != kVersion) {
    throw_bad_input(input, "tokenizer version " + std::to_string(version) +
                               " is not supported (this build reads version " +
                               std::to_string(kVersion) + ")");
  }
  if (str_field("normalizer") != kNormalizer) {
    throw_bad_input(input, "tokenizer normalizer \"" + str_field("normalizer") +
                               "\" is not supported (expected \"" + kNormalizer + "\")");
  }
  const int64_t max_length = int_field("max_length");
  if (max_length < 2 || max_length > (1 << 20)) {
    throw_bad_input(input, "tokenizer max_length " + std::to_string(max_length) + " out of range");
  }
  if (!j.contains("vocab") || !j["vocab"].is_array()) {
    throw_bad_input(input, "tokenizer JSON lacks array field \"vocab\"");
  }
  std::vector<std::string> vocab;
  vocab.reserve(j["vocab"].size());
  for (const auto& v : j["vocab"]) {
    if (!v.is_string()) throw_bad_input(input, "tokenizer vocab holds a non-string entry");
    vocab.push_back(v.get<std::string>());
  }
  if (int_field("vocab_size") != static_cast<int64_t>(vocab.size())) {
    throw_bad_input(input, "tokenizer vocab_size " + std::to_string(int_field("vocab_size")) +
                               " does not match its " + std::to_string(vocab.size()) +
                               " vocab entries");
  }
  return Tokenizer(std::move(vocab), static_cast<int>(max_length), input);
}

}  // namespace archbert
