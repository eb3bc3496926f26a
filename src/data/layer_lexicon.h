#pragma once
// The words for AutoNet's layer classes, shared by the descriptions and the questions: how a
// class is named (singular / plural), what its layers do, and its category. The table itself is
// in layer_lexicon.cpp; descriptions.h exposes the parts other code needs.

#include <string_view>
#include <vector>

#include "archbert/descriptions.h"

namespace archbert::data {

struct LayerName {
  const char* singular;  // "dilated convolution"
  const char* plural;    // "dilated convolutions"
};

struct LayerEntry {
  const char* cls;  // inventory class, e.g. "Dil_conv2d"
  LayerCategory category;
  bool has_kernel;                     // its layers have a kernel (convolutions, windowed pools)
  std::vector<LayerName> names;        // >= 2; the last one is always "<cls> layer(s)"
  std::vector<const char*> functions;  // >= 2 infinitive phrases completing "... to <function>"
  const char* answer;                  // AQA: the canonical answer to "what does it do"
};

// The table, in the order of autonet_layer_classes().
const std::vector<LayerEntry>& layer_lexicon();
// The entry of `cls`, or nullptr.
const LayerEntry* find_layer(std::string_view cls);

// "a" or "an" for a word (by its first letter; the table avoids the exceptions).
const char* article(std::string_view word);

}  // namespace archbert::data
