// Weisfeiler–Lehman fingerprint of a canonical graph (docs/graph-format.md, "Fingerprint").
#include <algorithm>
#include <cstdio>

#include "archbert/graph.h"

namespace archbert {
namespace {

// 64-bit mixing (splitmix64 finaliser); stable across platforms and runs.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t combine(uint64_t h, uint64_t v) { return mix(h ^ mix(v)); }

uint64_t hash_text(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return mix(h);
}

constexpr int kIterations = 3;

}  // namespace

std::string ArchGraph::fingerprint() const {
  const size_t n = nodes.size();
  // Initial label: canonical op name and the 4-tuple shape ("none" when absent).
  std::vector<uint64_t> label(n);
  for (size_t i = 0; i < n; ++i) {
    uint64_t h = hash_text(op_name(nodes[i].op));
    if (nodes[i].shape)
      for (int64_t d : *nodes[i].shape) h = combine(h, static_cast<uint64_t>(d));
    else
      h = combine(h, hash_text("none"));
    label[i] = h;
  }
  std::vector<std::vector<uint32_t>> preds(n), succs(n);
  for (const Edge& e : edges) {
    succs[e.src].push_back(e.dst);
    preds[e.dst].push_back(e.src);
  }
  std::vector<uint64_t> all(label);
  std::vector<uint64_t> next(n), buf;
  for (int it = 0; it < kIterations; ++it) {
    for (size_t i = 0; i < n; ++i) {
      uint64_t h = combine(label[i], 0x70726564ULL);  // predecessors (in-edges) first
      buf.clear();
      for (uint32_t p : preds[i]) buf.push_back(label[p]);
      std::sort(buf.begin(), buf.end());
      for (uint64_t b : buf) h = combine(h, b);
      h = combine(h, 0x73756363ULL);  // then successors (out-edges)
      buf.clear();
      for (uint32_t s : succs[i]) buf.push_back(label[s]);
      std::sort(buf.begin(), buf.end());
      for (uint64_t b : buf) h = combine(h, b);
      next[i] = h;
    }
    label.swap(next);
    all.insert(all.end(), label.begin(), label.end());
  }
  std::sort(all.begin(), all.end());
  uint64_t h = combine(hash_text("archbert-wl-v1"), n);
  h = combine(h, edges.size());
  for (uint64_t v : all) h = combine(h, v);
  char out[17];
  std::snprintf(out, sizeof(out), "%016llx", static_cast<unsigned long long>(h));
  return out;
}

}  // namespace archbert
