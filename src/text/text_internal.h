#pragma once
// Internals shared by the tokenizer, its trainer and the synonym code: UTF-8 decoding and the
// pre-tokeniser that cuts normalised text into segments.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace archbert::text {

// Decodes one UTF-8 codepoint at s[i]; returns its length in bytes, or 0 if malformed
// (truncated, overlong, surrogate, > U+10FFFF).
size_t decode_utf8(std::string_view s, size_t i, uint32_t* cp);
// Appends codepoint `cp` to `out` as UTF-8.
void append_utf8(uint32_t cp, std::string* out);
// Number of codepoints in valid UTF-8 `s`.
size_t utf8_length(std::string_view s);

enum class CharClass { kSpace, kLetter, kDigit, kPunct, kIsolated };
// Class of a normalised codepoint: kIsolated is a CJK ideograph (its own word, like BERT).
CharClass classify(uint32_t cp);

// One pre-tokenised segment of normalised text.
enum class SegmentKind { kLetters, kDigit, kPunct };
struct Segment {
  std::string_view text;  // a run of letters, one digit, or one punctuation/CJK character
  SegmentKind kind;
  bool continuation;  // not the first segment of its word: its pieces carry "##"
  bool word_start;    // first segment of a word (whitespace or punctuation before it)
};

// Calls fn(segment) for each segment of normalised text in order; stops when fn returns false.
template <typename Fn>
void pretokenize(std::string_view s, Fn&& fn) {
  size_t i = 0;
  bool in_word = false;  // inside a run of letters/digits
  while (i < s.size()) {
    uint32_t cp = 0;
    size_t n = decode_utf8(s, i, &cp);
    if (n == 0) n = 1, cp = 0xFFFD;  // normalised text is valid; be safe anyway
    CharClass c = classify(cp);
    if (c == CharClass::kSpace) {
      in_word = false;
      i += n;
      continue;
    }
    if (c == CharClass::kPunct || c == CharClass::kIsolated) {
      in_word = false;
      if (!fn(Segment{s.substr(i, n), SegmentKind::kPunct, false, true})) return;
      i += n;
      continue;
    }
    const bool cont = in_word;
    in_word = true;
    if (c == CharClass::kDigit) {
      if (!fn(Segment{s.substr(i, n), SegmentKind::kDigit, cont, !cont})) return;
      i += n;
      continue;
    }
    size_t j = i + n;  // extend the letter run
    while (j < s.size()) {
      uint32_t cp2 = 0;
      size_t m = decode_utf8(s, j, &cp2);
      if (m == 0 || classify(cp2) != CharClass::kLetter) break;
      j += m;
    }
    if (!fn(Segment{s.substr(i, j - i), SegmentKind::kLetters, cont, !cont})) return;
    i = j;
  }
}

}  // namespace archbert::text
