// Trains the WordPiece vocabulary by BPE merges ranked by pair frequency (see tokenizer.h for why
// frequency rather than the WordPiece likelihood score). Deterministic: unique words are sorted
// before symbols get ids, and ties between equally frequent pairs go to the smallest (left, right)
// id pair, so hash-map iteration order never matters.

#include <algorithm>
#include <map>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "archbert/error.h"
#include "archbert/tokenizer.h"
#include "text/text_internal.h"

namespace archbert {
namespace {

// Every ASCII punctuation character is always in the vocabulary (no [UNK] for ASCII text).
const char kAsciiPunct[] = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

uint64_t pair_key(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

struct HeapEntry {
  int64_t count;
  uint64_t key;
  // std::priority_queue pops the largest: highest count first, then the smallest key.
  bool operator<(const HeapEntry& o) const {
    return count != o.count ? count < o.count : key > o.key;
  }
};

// Splits a piece body (the text after an optional "##") into codepoint strings.
std::vector<std::string> chars_of(std::string_view s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    size_t n = text::decode_utf8(s, i, &cp);
    if (n == 0) n = 1;
    out.emplace_back(s.substr(i, n));
    i += n;
  }
  return out;
}

}  // namespace

Tokenizer train_tokenizer(const std::vector<std::string>& corpus,
                          const TokenizerTrainOptions& options) {
  if (options.vocab_size < 5) throw Error(ErrorKind::kUsage, "vocab_size must be >= 5");
  // 1. Count letter runs (keyed with their "##" prefix when word-internal) and punctuation.
  std::unordered_map<std::string, int64_t> word_counts;
  std::unordered_map<std::string, int64_t> punct_counts;
  std::string key;
  for (size_t i = 0; i < corpus.size(); ++i) {
    const std::string norm = normalize_text(corpus[i], "corpus[" + std::to_string(i) + "]");
    text::pretokenize(norm, [&](const text::Segment& seg) {
      if (seg.kind == text::SegmentKind::kPunct) {
        ++punct_counts[std::string(seg.text)];
      } else if (seg.kind == text::SegmentKind::kLetters) {
        key.assign(seg.continuation ? "##" : "");
        key.append(seg.text);
        ++word_counts[key];
      }
      return true;
    });
  }
  for (size_t i = 0; i < options.extra_words.size(); ++i) {
    const std::string norm =
        normalize_text(options.extra_words[i], "extra_words[" + std::to_string(i) + "]");
    text::pretokenize(norm, [&](const text::Segment& seg) {
      if (seg.kind == text::SegmentKind::kLetters) {
        key.assign(seg.continuation ? "##" : "");
        key.append(seg.text);
        word_counts[key] += std::max(1, options.extra_word_weight);
      }
      return true;
    });
  }
  std::vector<std::pair<std::string, int64_t>> words(word_counts.begin(), word_counts.end());
  std::sort(words.begin(), words.end());
  word_counts.clear();

  // 2. Fixed part of the vocabulary: specials, digits, ASCII letters and punctuation.
  std::vector<std::string> vocab = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  std::unordered_map<std::string, int32_t> index;
  auto add = [&](const std::string& p) -> int32_t {
    auto [it, fresh] = index.emplace(p, static_cast<int32_t>(vocab.size()));
    if (fresh) vocab.push_back(p);
    return it->second;
  };
  for (const auto& s : vocab) index.emplace(s, static_cast<int32_t>(index.size()));
  for (char d = '0'; d <= '9'; ++d) add(std::string(1, d));
  for (char d = '0'; d <= '9'; ++d) add(std::string("##") + d);
  for (const char* p = kAsciiPunct; *p; ++p) add(std::string(1, *p));
  for (char c = 'a'; c <= 'z'; ++c) add(std::string(1, c));
  for (char c = 'a'; c <= 'z'; ++c) add(std::string("##") + c);

  // 3. Other characters seen at least min_frequency times, most frequent first.
  std::map<std::string, int64_t> char_counts;  // ordered: deterministic ties
  for (const auto& [w, c] : words) {
    const bool cont = w.compare(0, 2, "##") == 0;
    const auto chars = chars_of(std::string_view(w).substr(cont ? 2 : 0));
    for (size_t k = 0; k < chars.size(); ++k) {
      if (static_cast<unsigned char>(chars[k][0]) < 0x80) continue;
      char_counts[(cont || k > 0 ? "##" : "") + chars[k]] += c;
    }
  }
  for (const auto& [p, c] : punct_counts) {
    if (static_cast<unsigned char>(p[0]) >= 0x80) char_counts[p] += c;
  }
  std::vector<std::pair<std::string, int64_t>> extra(char_counts.begin(), char_counts.end());
  std::stable_sort(extra.begin(), extra.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  int taken = 0;
  for (const auto& [p, c] : extra) {
    if (c < options.min_frequency || taken >= options.limit_alphabet) break;
    add(p);
    ++taken;
  }

  // 4. Words as symbol sequences; -1 marks a character outside the alphabet (a merge barrier).
  std::vector<std::vector<int32_t>> syms(words.size());
  std::vector<int64_t> freq(words.size());
  for (size_t w = 0; w < words.size(); ++w) {
    const std::string& s = words[w].first;
    freq[w] = words[w].second;
    const bool cont = s.compare(0, 2, "##") == 0;
    const auto chars = chars_of(std::string_view(s).substr(cont ? 2 : 0));
    for (size_t k = 0; k < chars.size(); ++k) {
      auto it = index.find((cont || k > 0 ? "##" : "") + chars[k]);
      syms[w].push_back(it == index.end() ? -1 : it->second);
    }
  }
  std::unordered_map<uint64_t, int64_t> pair_counts;
  std::unordered_map<uint64_t, std::vector<int32_t>> where;  // pair -> words (may repeat)
  for (size_t w = 0; w < syms.size(); ++w) {
    for (size_t k = 0; k + 1 < syms[w].size(); ++k) {
      if (syms[w][k] < 0 || syms[w][k + 1] < 0) continue;
      const uint64_t pk = pair_key(syms[w][k], syms[w][k + 1]);
      pair_counts[pk] += freq[w];
      where[pk].push_back(static_cast<int32_t>(w));
    }
  }
  std::priority_queue<HeapEntry> heap;
  {
    std::vector<HeapEntry> init;
    init.reserve(pair_counts.size());
    for (const auto& [k, c] : pair_counts) init.push_back({c, k});
    std::sort(init.begin(), init.end());  // deterministic heap construction
    for (const auto& e : init) heap.push(e);
  }

  // 5. Merge the most frequent pair until the vocabulary is full.
  std::vector<int32_t> stamp(syms.size(), -1);
  int32_t merge_no = 0;
  std::vector<uint64_t> touched;
  auto bump = [&](int32_t a, int32_t b, int64_t delta, int32_t w) {
    if (a < 0 || b < 0) return;
    const uint64_t pk = pair_key(a, b);
    pair_counts[pk] += delta;
    if (delta > 0) {
      where[pk].push_back(w);
      touched.push_back(pk);
    }
  };
  while (static_cast<int>(vocab.size()) < options.vocab_size && !heap.empty()) {
    const HeapEntry top = heap.top();
    heap.pop();
    auto pc = pair_counts.find(top.key);
    const int64_t current = pc == pair_counts.end() ? 0 : pc->second;
    if (current != top.count) {
      if (current > 0) heap.push({current, top.key});
      continue;
    }
    if (current < options.min_frequency) break;
    const int32_t a = static_cast<int32_t>(top.key >> 32);
    const int32_t b = static_cast<int32_t>(top.key & 0xFFFFFFFFu);
    const std::string merged = vocab[a] + vocab[b].substr(2);  // b always starts with "##"
    const int32_t m = add(merged);
    ++merge_no;
    touched.clear();
    std::vector<int32_t> ws = std::move(where[top.key]);
    where.erase(top.key);
    for (int32_t w : ws) {
      if (stamp[w] == merge_no) continue;
      stamp[w] = merge_no;
      auto& s = syms[w];
      const int64_t f = freq[w];
      for (size_t k = 0; k + 1 < s.size();) {
        if (s[k] != a || s[k + 1] != b) {
          ++k;
          continue;
        }
        const int32_t left = k > 0 ? s[k - 1] : -1;
        const int32_t right = k + 2 < s.size() ? s[k + 2] : -1;
        bump(left, a, -f, w);
        bump(b, right, -f, w);
        bump(a, b, -f, w);
        s[k] = m;
        s.erase(s.begin() + k + 1);
        bump(left, m, f, w);
        bump(m, right, f, w);
        ++k;
      }
    }
    pair_counts.erase(top.key);
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    for (uint64_t pk : touched) heap.push({pair_counts[pk], pk});
  }
  return Tokenizer(std::move(vocab), options.max_length, "trained tokenizer");
}

}  // namespace archbert
