// Numbers in token-id sequences: which pieces are digits, separators or magnitude words, and the
// value each number token stands for ("6,601,274", "2.85 million", "3.5M", "39").

#include <array>
#include <cmath>

#include "archbert/tokenizer.h"

namespace archbert {
namespace {

// Roles of number_roles(); digits store their value in the role.
constexpr int8_t kNone = 0;
constexpr int8_t kDigit = 1;       // kDigit + d: a digit starting a word ("6")
constexpr int8_t kDigitCont = 11;  // kDigitCont + d: a digit inside a word ("##0")
constexpr int8_t kComma = 21;
constexpr int8_t kPoint = 22;
constexpr int8_t kScaleWord = 23;  // + 0/1/2/3: thousand, million, billion, trillion (own word)
constexpr int8_t kScaleCont = 27;  // + 0/1/2: "##k", "##m", "##b" glued to the digits ("3.5m")
constexpr int8_t kTimes = 30;      // "x" / "##x" between two sizes ("7x1", "3 x 3"; "×" reads "x")

bool is_digit(int8_t r) { return r >= kDigit && r < kDigit + 10; }
bool is_digit_cont(int8_t r) { return r >= kDigitCont && r < kDigitCont + 10; }
bool is_any_digit(int8_t r) { return is_digit(r) || is_digit_cont(r); }
int digit_of(int8_t r) { return is_digit(r) ? r - kDigit : r - kDigitCont; }

// An id sequence seen through the roles; ids outside the role table have no role.
struct Pieces {
  const std::vector<int32_t>& ids;
  const std::vector<int8_t>& roles;
  size_t size() const { return ids.size(); }
  int8_t role(size_t i) const {
    const int32_t id = ids[i];
    return id >= 0 && static_cast<size_t>(id) < roles.size() ? roles[id] : kNone;
  }
  // A thousands group at i: "," followed by a word of exactly three digits.
  bool thousands_group_at(size_t i) const {
    const size_t n = size();
    return i + 3 < n && role(i) == kComma && is_digit(role(i + 1)) && is_digit_cont(role(i + 2)) &&
           is_digit_cont(role(i + 3)) && (i + 4 >= n || !is_digit_cont(role(i + 4)));
  }
  // A decimal part at i: "." followed by a digit word.
  bool decimal_at(size_t i) const {
    return i + 1 < size() && role(i) == kPoint && is_digit(role(i + 1));
  }
};

}  // namespace

std::vector<int8_t> number_roles(const Tokenizer& tok) {
  std::vector<int8_t> roles(tok.size(), kNone);
  for (int32_t id = 0; id < tok.size(); ++id) {
    const std::string& p = tok.piece(id);
    if (p.size() == 1 && p[0] >= '0' && p[0] <= '9') roles[id] = kDigit + (p[0] - '0');
    if (p.size() == 3 && p[0] == '#' && p[1] == '#' && p[2] >= '0' && p[2] <= '9')
      roles[id] = kDigitCont + (p[2] - '0');
    if (p == ",") roles[id] = kComma;
    if (p == ".") roles[id] = kPoint;
    if (p == "thousand") roles[id] = kScaleWord;
    if (p == "million") roles[id] = kScaleWord + 1;
    if (p == "billion") roles[id] = kScaleWord + 2;
    if (p == "trillion") roles[id] = kScaleWord + 3;
    if (p == "##k") roles[id] = kScaleCont;
    if (p == "##m") roles[id] = kScaleCont + 1;
    if (p == "##b" || p == "##bn") roles[id] = kScaleCont + 2;
    if (p == "x" || p == "##x") roles[id] = kTimes;
  }
  return roles;
}

std::vector<double> number_values(const std::vector<int32_t>& ids,
                                  const std::vector<int8_t>& roles) {
  const Pieces pieces{ids, roles};
  const size_t n = pieces.size();
  std::vector<double> values(n, -1.0);
  auto role = [&](size_t i) { return pieces.role(i); };
  size_t i = 0;
  while (i < n) {
    if (!is_any_digit(role(i))) {
      ++i;
      continue;
    }
    const size_t first = i;
    double value = 0.0;
    // Integer part: this digit and the digits glued to it ("6" "##0" "##1").
    value = digit_of(role(i++));
    while (i < n && is_digit_cont(role(i))) value = value * 10 + digit_of(role(i++));
    while (pieces.thousands_group_at(i)) {
      value = value * 1000 + digit_of(role(i + 1)) * 100 + digit_of(role(i + 2)) * 10 +
              digit_of(role(i + 3));
      i += 4;
    }
    if (pieces.decimal_at(i)) {
      double scale = 0.1;
      value += digit_of(role(i + 1)) * scale;
      i += 2;
      while (i < n && is_digit_cont(role(i))) {
        scale /= 10;
        value += digit_of(role(i++)) * scale;
      }
    }
    // Magnitude: "3.5m" / "12k" glued, or "2.85 million" as the next word.
    if (i < n && role(i) >= kScaleCont && role(i) < kScaleCont + 3) {
      value *= std::pow(1000.0, role(i) - kScaleCont + 1);
      ++i;
    } else if (i < n && role(i) >= kScaleWord && role(i) < kScaleWord + 4) {
      value *= std::pow(1000.0, role(i) - kScaleWord + 1);
      ++i;
    }
    for (size_t k = first; k < i; ++k) values[k] = value;
  }
  return values;
}

std::vector<std::array<int64_t, 2>> kernel_sizes(const std::vector<int32_t>& ids,
                                                 const std::vector<int8_t>& roles) {
  const Pieces pieces{ids, roles};
  const size_t n = pieces.size();
  std::vector<std::array<int64_t, 2>> out(n, {-1, -1});
  auto role = [&](size_t i) { return pieces.role(i); };
  // A whole number at i: digits without separators, the first starting a word or glued to the
  // "x" before it. Returns one past its end (i when there is none) and its value.
  auto integer_at = [&](size_t i, bool glued_ok, int64_t* value) {
    if (i >= n || !(is_digit(role(i)) || (glued_ok && is_digit_cont(role(i))))) return i;
    int64_t v = digit_of(role(i++));
    while (i < n && is_digit_cont(role(i)) && v < 100000000) v = v * 10 + digit_of(role(i++));
    if (i < n && is_digit_cont(role(i))) return static_cast<size_t>(0);  // absurdly long
    *value = v;
    return i;
  };
  // Where number_values reads on past a separator at j.
  auto continues_at = [&](size_t j) {
    return pieces.decimal_at(j) || pieces.thousands_group_at(j);
  };
  size_t i = 0;
  while (i < n) {
    // A size starts a word and is not the decimal part or thousands group of a number before.
    const bool starts = is_digit(role(i)) &&
                        (i == 0 || (!is_any_digit(role(i - 1)) && role(i - 1) != kTimes &&
                                    !(i >= 2 && is_any_digit(role(i - 2)) && continues_at(i - 1))));
    int64_t h = 0, w = 0;
    const size_t e1 = starts ? integer_at(i, false, &h) : 0;
    if (e1 <= i || e1 >= n || role(e1) != kTimes) {
      ++i;
      continue;
    }
    const size_t e2 = integer_at(e1 + 1, true, &w);
    // The second size must end its number ("3x2.5" and "3x1,024" are no kernels); a sentence's
    // "." or a list's "," after it is fine.
    if (e2 <= e1 + 1 || (e2 < n && continues_at(e2))) {
      i = e1 + 1;
      continue;
    }
    for (size_t k = i; k < e2; ++k) out[k] = {h, w};
    i = e2;
  }
  return out;
}

}  // namespace archbert
