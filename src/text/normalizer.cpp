// Text normalisation without ICU: UTF-8 validation, lower-casing, accent stripping, space and
// punctuation unification; plus the character classes the pre-tokeniser uses.

#include <string>

#include "archbert/error.h"
#include "archbert/tokenizer.h"
#include "text/text_internal.h"

namespace archbert {
namespace text {

size_t decode_utf8(std::string_view s, size_t i, uint32_t* cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  size_t n;
  uint32_t v, min;
  if ((b0 & 0xE0) == 0xC0)
    n = 2, v = b0 & 0x1F, min = 0x80;
  else if ((b0 & 0xF0) == 0xE0)
    n = 3, v = b0 & 0x0F, min = 0x800;
  else if ((b0 & 0xF8) == 0xF0)
    n = 4, v = b0 & 0x07, min = 0x10000;
  else
    return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    v = (v << 6) | (b & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return n;
}

void append_utf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

CharClass classify(uint32_t cp) {
  if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r') return CharClass::kSpace;
  if (cp >= '0' && cp <= '9') return CharClass::kDigit;
  if (cp < 0x80) {
    const bool alpha = (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
    return alpha ? CharClass::kLetter : CharClass::kPunct;
  }
  // Latin-1 symbols (¡ … ¿, ×, ÷) except the letter-like ª µ º.
  if (cp >= 0xA1 && cp <= 0xBF) {
    return (cp == 0xAA || cp == 0xB5 || cp == 0xBA) ? CharClass::kLetter : CharClass::kPunct;
  }
  if (cp == 0xD7 || cp == 0xF7) return CharClass::kPunct;
  // General punctuation, currency, letter-like symbols, arrows, math, technical, box drawing,
  // shapes, dingbats, misc symbols; CJK punctuation; full-width ASCII punctuation; emoji.
  if ((cp >= 0x2010 && cp <= 0x2BFF) || (cp >= 0x3000 && cp <= 0x303F) ||
      (cp >= 0xFF01 && cp <= 0xFF0F) || (cp >= 0x1F000 && cp <= 0x1FAFF)) {
    return CharClass::kPunct;
  }
  if ((cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
      (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x2FFFF)) {
    return CharClass::kIsolated;
  }
  return CharClass::kLetter;
}

}  // namespace text

namespace {

// ASCII spelling (lower-case, no accent) of U+00C0..U+017F; "" keeps the character as is.
// clang-format off
const char* const kLatin[] = {
    // U+00C0
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    // U+00D0
    "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "ss",
    // U+00E0
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    // U+00F0
    "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "y",
    // U+0100 Latin Extended-A
    "a", "a", "a", "a", "a", "a", "c", "c", "c", "c", "c", "c", "c", "c", "d", "d",
    "d", "d", "e", "e", "e", "e", "e", "e", "e", "e", "e", "e", "g", "g", "g", "g",
    "g", "g", "g", "g", "h", "h", "h", "h", "i", "i", "i", "i", "i", "i", "i", "i",
    "i", "i", "ij", "ij", "j", "j", "k", "k", "k", "l", "l", "l", "l", "l", "l", "l",
    "l", "l", "l", "n", "n", "n", "n", "n", "n", "n", "n", "n", "o", "o", "o", "o",
    "o", "o", "oe", "oe", "r", "r", "r", "r", "r", "r", "s", "s", "s", "s", "s", "s",
    "s", "s", "t", "t", "t", "t", "t", "t", "u", "u", "u", "u", "u", "u", "u", "u",
    "u", "u", "u", "u", "w", "w", "y", "y", "y", "z", "z", "z", "z", "z", "z", "s",
};
// clang-format on

// Appends the normalised form of `cp` to `out`.
void normalize_cp(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    if (cp >= 'A' && cp <= 'Z') cp += 32;
    if (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') return;  // control characters
    if (cp == 0x7F) return;
    out->push_back(cp == '\t' || cp == '\n' || cp == '\r' ? ' ' : static_cast<char>(cp));
    return;
  }
  if (cp < 0xA0) return;  // C1 controls
  if (cp >= 0xC0 && cp <= 0x17F && kLatin[cp - 0xC0][0] != '\0') {
    out->append(kLatin[cp - 0xC0]);
    return;
  }
  if (cp >= 0x300 && cp <= 0x36F) return;  // combining accents: stripped
  if (cp == 0xAD || cp == 0x200B || cp == 0x200C || cp == 0x200D || cp == 0x2060 || cp == 0xFEFF) {
    return;  // soft hyphen, zero-width characters, BOM
  }
  if (cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
      cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000) {
    out->push_back(' ');
    return;
  }
  switch (cp) {
    case 0x2018:
    case 0x2019:
    case 0x201A:
    case 0x201B:
    case 0x2032:
      out->push_back('\'');
      return;
    case 0x201C:
    case 0x201D:
    case 0x201E:
    case 0x201F:
    case 0x2033:
      out->push_back('"');
      return;
    case 0x2010:
    case 0x2011:
    case 0x2012:
    case 0x2013:
    case 0x2014:
    case 0x2015:
    case 0x2212:
      out->push_back('-');
      return;
    case 0x2026:
      out->append("...");
      return;
    case 0xD7:
      out->push_back('x');  // "7×7" reads as "7x7"
      return;
    default:
      break;
  }
  if (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2)
    cp += 0x20;  // Greek capitals
  else if (cp >= 0x410 && cp <= 0x42F)
    cp += 0x20;  // Cyrillic capitals
  else if (cp >= 0x400 && cp <= 0x40F)
    cp += 0x50;
  else if (cp >= 0xFF21 && cp <= 0xFF3A)
    cp = cp - 0xFF21 + 'a';  // full-width Latin
  else if (cp >= 0xFF41 && cp <= 0xFF5A)
    cp = cp - 0xFF41 + 'a';
  else if (cp >= 0xFF10 && cp <= 0xFF19)
    cp = cp - 0xFF10 + '0';
  text::append_utf8(cp, out);
}

}  // namespace

std::string normalize_text(std::string_view s, const std::string& input_name) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    uint32_t cp = 0;
    const size_t n = text::decode_utf8(s, i, &cp);
    if (n == 0) throw_bad_input(input_name, "invalid UTF-8 at byte " + std::to_string(i));
    normalize_cp(cp, &out);
    i += n;
  }
  return out;
}

}  // namespace archbert
