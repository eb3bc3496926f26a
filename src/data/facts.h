#pragma once
// Shared by the fact checker and reference (facts.cpp) and the description generator
// (descriptions.cpp): how a stated number is rounded and how far a wrong number must be from the
// truth.

#include <algorithm>
#include <cstdint>
#include <string>

#include "archbert/graph.h"

namespace archbert::data {

// `v` rounded half up to a multiple of `unit` (> 0).
inline int64_t round_to(int64_t v, int64_t unit) { return (v + unit / 2) / unit * unit; }

// How far a wrong number must be from the truth `t`.
inline int64_t count_margin(int64_t t) { return std::max<int64_t>(1, (t + 9) / 10); }
inline int64_t total_margin(int64_t t) { return std::max<int64_t>(2, (t + 9) / 10); }
inline int64_t param_margin(int64_t t) { return std::max<int64_t>(1, t * 15 / 100); }

// Layers of class `cls` in `s` (0 when absent).
int64_t inventory_count(const GraphStats& s, const std::string& cls);
// Some `cls` layer of `s` has kernel `kernel` ("7x1").
bool uses_kernel(const GraphStats& s, const std::string& cls, const std::string& kernel);

}  // namespace archbert::data
