#pragma once
// The dataset generators' PRNG: splitmix64 seeding a xoshiro256** stream, with our own integer
// helpers. No std::*_distribution: their output is implementation-defined, and the datasets must
// be byte-identical on every platform. Shared by every generator in src/data/.

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <utility>
#include <vector>

#include "archbert/dataset.h"

namespace archbert::data {

inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline uint64_t mix(uint64_t a, uint64_t b) {
  uint64_t s = a ^ (b * 0xD6E8FEB86659FD93ull);
  return splitmix64(s);
}

// 64-bit FNV-1a of a purpose tag ("texts", "questions").
inline uint64_t tag_hash(std::string_view tag) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : tag) h = (h ^ c) * 0x100000001B3ull;
  return h;
}

// Stream seed of sample set `purpose` of network `index`: hash(seed, split, index, purpose).
inline uint64_t stream_seed(uint64_t seed, DatasetSplit split, int64_t index,
                            std::string_view purpose) {
  const uint64_t split_tag =
      split == DatasetSplit::kTrain ? 0x747261696E000001ull : 0x76616C0000000002ull;
  return mix(mix(mix(mix(0x4172636854787431ull, seed), split_tag), static_cast<uint64_t>(index)),
             tag_hash(purpose));
}

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& w : s_) w = splitmix64(seed);
  }
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n) by rejection (no modulo bias). n > 0.
  uint64_t below(uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t v;
    do v = next();
    while (v >= limit);
    return v % n;
  }
  // Uniform index into a container of `n` elements.
  size_t index(size_t n) { return static_cast<size_t>(below(n)); }
  // Uniform in [lo, hi].
  int64_t range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo + 1)));
  }
  // True with probability num/den.
  bool chance(uint64_t num, uint64_t den) { return below(den) < num; }
  // An index drawn with probability proportional to `weights` (integers, not all zero).
  size_t weighted(const std::vector<uint64_t>& weights) {
    uint64_t total = 0;
    for (uint64_t w : weights) total += w;
    uint64_t r = below(total);
    for (size_t i = 0; i < weights.size(); ++i) {
      if (r < weights[i]) return i;
      r -= weights[i];
    }
    return weights.size() - 1;  // unreachable
  }
  template <typename T>
  T pick(std::initializer_list<T> items) {
    return *(items.begin() + below(items.size()));
  }
  // Fisher-Yates shuffle.
  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[index(i)]);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace archbert::data
