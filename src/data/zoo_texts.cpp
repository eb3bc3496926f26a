// The Zoo dataset's texts (zoo_dataset.h): sentences computed from a graph and checked against
// it, sentence normalisation and splitting, and the TF-IDF similarity used to reject negatives
// that paraphrase a positive.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>

#include "archbert/dataset_stats.h"
#include "archbert/descriptions.h"
#include "archbert/format.h"
#include "archbert/zoo_dataset.h"
#include "data/facts.h"
#include "data/rng.h"

namespace archbert {
namespace {

// Layer classes worth a count sentence, with singular and plural wording.
struct NotableClass {
  const char* cls;
  const char* one;
  const char* many;
};
constexpr NotableClass kNotable[] = {
    {"Conv2d", "standard convolution", "standard convolutions"},
    {"Sep_conv2d", "depthwise (grouped) convolution", "depthwise (grouped) convolutions"},
    {"Dil_conv2d", "dilated convolution", "dilated convolutions"},
    {"ConvTranspose2d", "transposed convolution", "transposed convolutions"},
    {"Linear", "linear (fully connected) layer", "linear (fully connected) layers"},
    {"Embedding", "embedding table", "embedding tables"},
    {"BatchNorm2d", "batch normalisation layer", "batch normalisation layers"},
    {"LayerNorm", "layer normalisation layer", "layer normalisation layers"},
    {"GroupNorm", "group normalisation layer", "group normalisation layers"},
    {"RMSNorm", "RMS normalisation layer", "RMS normalisation layers"},
    {"MaxPool2d", "max-pooling layer", "max-pooling layers"},
};

// Normalisation ops (by inventory class) for the "normalises with" sentence, in order of
// preference.
constexpr NotableClass kNorms[] = {
    {"BatchNorm2d", "batch normalisation", ""},       {"LayerNorm", "layer normalisation", ""},
    {"GroupNorm", "group normalisation", ""},         {"RMSNorm", "RMS normalisation", ""},
    {"InstanceNorm2d", "instance normalisation", ""},
};

// Parameters as a person says them: three significant digits, "11.7 million", "1.1 billion",
// "560 thousand". Returns the text and sets the rounded value and unit.
std::string spoken_params(int64_t params, int64_t& value, int64_t& unit) {
  int digits = 1;
  for (int64_t p = params; p >= 10; p /= 10) ++digits;
  unit = 1;
  for (int i = 0; i < digits - 3; ++i) unit *= 10;
  value = data::round_to(params, unit);
  if (value < 1000) return group_thousands(value);
  const int64_t scale = value >= 1'000'000'000 ? 1'000'000'000
                        : value >= 1'000'000   ? 1'000'000
                                               : 1000;
  const char* word = scale == 1'000'000'000 ? "billion"
                     : scale == 1'000'000   ? "million"
                                            : "thousand";
  const int64_t whole = value / scale;
  std::string frac = std::to_string(value % scale + scale).substr(1);  // zero-padded
  // Keep the digits the unit resolves, then drop trailing zeros.
  int decimals = 0;
  for (int64_t u = unit; u < scale; u *= 10) ++decimals;
  frac = frac.substr(0, decimals);
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  return group_thousands(whole) + (frac.empty() ? "" : "." + frac) + " " + word;
}

// Attention sites: `attention` nodes, and softmax nodes whose output reaches a matmul directly
// or through at most 3 dropout / mul / div nodes (attention dropout, head masks: BERT's
// softmax -> dropout -> matmul).
int64_t attention_sites(const ArchGraph& g) {
  std::vector<std::vector<int32_t>> succ(g.nodes.size());
  for (const Edge& e : g.edges) succ[e.src].push_back(e.dst);
  auto reaches_matmul = [&](int32_t from) {
    std::vector<int32_t> frontier = {from};
    for (int hop = 0; hop < 4 && !frontier.empty(); ++hop) {
      std::vector<int32_t> next;
      for (int32_t v : frontier)
        for (int32_t w : succ[v]) {
          const Op op = g.nodes[w].op;
          if (op == Op::kMatmul) return true;
          if (op == Op::kDropout || op == Op::kMul || op == Op::kDiv) next.push_back(w);
        }
      frontier = std::move(next);
    }
    return false;
  };
  int64_t n = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    n += g.nodes[i].op == Op::kAttention ||
         (g.nodes[i].op == Op::kSoftmax && reaches_matmul(static_cast<int32_t>(i)));
  return n;
}

int64_t norm_nodes(const ArchGraph& g) {
  int64_t n = 0;
  for (const Node& node : g.nodes) n += op_group(node.op) == OpGroup::norm;
  return n;
}

// Identity shortcuts: `sum` nodes with an input x that is an ancestor of another input y
// through a path with a weighted node on it (x -> conv ... -> y, sum(x, y)): a block that adds
// its input to its output. A strided 1x1 shortcut (its own branch from x) or an FPN's top-down
// sum (lateral convolution + upsampled coarser level) is not one, and neither is arithmetic on
// a tensor with parameter-free derivatives of itself (detection post-processing offsets boxes
// by `boxes + idxs * (boxes.max() + 1)`). Nodes are in topological order, so the backward
// search from y only visits nodes numbered above x.
int64_t residual_adds(const ArchGraph& g) {
  const size_t n = g.nodes.size();
  std::vector<std::vector<int32_t>> pred(n);
  for (const Edge& e : g.edges) pred[e.dst].push_back(e.src);
  // seen[2u + w] == mark: u reached in this search with (w = 1) or without (0) a weighted node
  // on the path from y.
  std::vector<int64_t> seen(2 * n, -1);
  int64_t mark = 0;
  int64_t count = 0;
  auto weighted = [&](int32_t u) { return g.nodes[u].params > 0; };
  for (size_t v = 0; v < n; ++v) {
    if (g.nodes[v].op != Op::kSum || pred[v].size() < 2) continue;
    bool found = false;
    for (size_t a = 0; a < pred[v].size() && !found; ++a)
      for (size_t b = 0; b < pred[v].size() && !found; ++b) {
        const int32_t x = pred[v][a], y = pred[v][b];
        if (x >= y) continue;  // an ancestor has a lower number
        ++mark;
        std::vector<std::pair<int32_t, bool>> stack = {{y, weighted(y)}};
        while (!stack.empty() && !found) {
          const auto [u, w] = stack.back();
          stack.pop_back();
          int64_t& s = seen[2 * static_cast<size_t>(u) + (w ? 1 : 0)];
          if (s == mark) continue;
          s = mark;
          for (int32_t p : pred[u]) {
            if (p == x)
              found = found || w;
            else if (p > x)
              stack.push_back({p, w || weighted(p)});
          }
        }
      }
    count += found;
  }
  return count;
}

// The number of nodes whose canonical op has inventory class `cls` ("Sep_conv2d" -> sep_conv).
// Zoo counts and presence go by op, not by the class a format records: a TorchScript
// MobileNetV2 calls its 17 depthwise convolutions Conv2d modules, its ONNX export has only the
// ops, and both are the same network. A video model's Conv3d is a `conv` and its BatchNorm3d a
// `bn`: the sentences say "standard convolutions" and "batch normalisation", not "2-D".
int64_t class_op_count(const GraphStats& st, const std::string& cls) {
  for (int i = 0; i < op_count(); ++i) {
    const Op op = static_cast<Op>(i);
    if (op_class(op) != cls) continue;
    const auto it = st.ops.find(std::string(op_name(op)));
    return it == st.ops.end() ? 0 : it->second;
  }
  return 0;
}

bool serves_task_group(const ZooModel& m, const std::string& group) {
  return !m.task_group.empty() &&
         (group == m.task_group || std::find(m.other_task_groups.begin(), m.other_task_groups.end(),
                                             group) != m.other_task_groups.end());
}

StatedFact fact(std::string kind, std::string cls, int64_t value, int64_t unit = 0) {
  StatedFact f;
  f.kind = std::move(kind);
  f.cls = std::move(cls);
  f.value = value;
  f.unit = unit;
  f.holds = true;
  return f;
}

// A count in units of 10^9 with 2 significant digits, as written: 1,814,073,344 -> "1.8",
// 56,522,368 -> "0.057", 134,021,000,000 -> "130". Sets the rounded value and its unit.
std::string giga_2digits(int64_t v, int64_t& value, int64_t& unit) {
  constexpr int64_t kGiga = 1'000'000'000;
  int digits = 1;
  for (int64_t p = v; p >= 10; p /= 10) ++digits;
  unit = 1;
  for (int i = 0; i < digits - 2; ++i) unit *= 10;
  value = data::round_to(v, unit);
  std::string text = std::to_string(value / kGiga);
  int decimals = 0;
  for (int64_t u = unit; u < kGiga; u *= 10) ++decimals;
  // Trailing zeros stay: "2.0" states the rounding as "2.3" does.
  if (decimals > 0)
    text += "." + std::to_string(value % kGiga + kGiga).substr(1, static_cast<size_t>(decimals));
  return text;
}

// A stated FLOPs number is clearly wrong when it is at least 3.5x above or below the truth: then
// every number the sentence writes is at least 3x off, the FLOPs of a MACs sentence included
// (rounded on its own from the other model's count, within 5% of 2x the stated MACs).
bool clearly_off(int64_t stated, int64_t truth) {
  return truth > 0 && (2 * stated >= 7 * truth || 7 * stated <= 2 * truth);
}

// Word unigrams and bigrams of a text.
std::vector<std::string> terms(std::string_view text) {
  const std::vector<std::string> toks = text_tokens(text);
  std::vector<std::string> out = toks;
  for (size_t i = 1; i < toks.size(); ++i) out.push_back(toks[i - 1] + " " + toks[i]);
  return out;
}

}  // namespace

bool is_number_fact(const StatedFact& f) {
  return f.kind == "params" || f.kind == "depth" || f.kind == "total" || f.kind == "count" ||
         (f.kind == "attention" && f.value > 0);
}

std::vector<std::string> fact_phrasings(const StatedFact& f) {
  if (!is_number_fact(f)) return {};
  if (f.kind == "params") {
    int64_t value = 0, unit = 1;
    const std::string p = spoken_params(f.value, value, unit);
    return {"The model has about " + p + " trainable parameters.",
            "It has roughly " + p + " parameters.", "Its parameter count is about " + p + ".",
            "There are about " + p + " trainable parameters in it."};
  }
  if (f.kind == "depth") {
    const std::string d = std::to_string(f.value);
    return {"Its longest path from input to output runs through " + d + " operations.",
            "The longest input-to-output path passes through " + d + " operations.",
            "Measured along its longest path, the network is " + d + " operations deep."};
  }
  if (f.kind == "total") {
    const std::string t = group_thousands(f.value);
    return {
        "Counting activations, normalisations and pooling, it is built from " + t + " layers.",
        "It has " + t + " layers in all, activations, normalisations and pooling included.",
        "With activations, normalisations and pooling counted, the network has " + t + " layers."};
  }
  if (f.kind == "attention") {
    const std::string a = group_thousands(f.value) + (f.value == 1 ? " place" : " places");
    return {"It computes attention in " + a + ", each a softmax over matrix-product scores.",
            "Attention, a softmax over matrix-product scores, is computed in " + a + ".",
            "In " + a + " it applies attention: a softmax over matrix-product scores."};
  }
  for (const NotableClass& c : kNotable) {  // count
    if (f.cls != c.cls || f.value < 1) continue;
    const std::string one = c.one, many = group_thousands(f.value) + " " + c.many;
    if (f.value == 1)
      return {"It contains a single " + one + ".", "It has just one " + one + ".",
              "There is a single " + one + " in it."};
    return {"It contains " + many + ".", "It has " + many + ".", "There are " + many + " in it."};
  }
  return {};
}

std::vector<ZooSentence> graph_sentences(const ArchGraph& g) {
  const GraphStats st = g.stats();
  std::vector<ZooSentence> out;
  // Each fact in one of several phrasings, picked by a hash of (model name, kind): the wording
  // varies across models, so that no fact is worded one way only (a sentence falls into the
  // train or the val split as a whole, by its text).
  auto pick = [&](const std::string& kind, const std::vector<std::string>& texts) {
    const uint64_t h = data::tag_hash(g.name + "|" + kind);
    return texts[h % texts.size()];
  };
  auto add = [&](std::string text, StatedFact f) {
    out.push_back({std::move(text), "graph", std::move(f)});
  };
  int64_t value = 0, unit = 1;
  spoken_params(g.params, value, unit);
  auto add_number = [&](const std::string& key, StatedFact f) {
    std::string text = pick(key, fact_phrasings(f));  // before f is moved from
    add(std::move(text), std::move(f));
  };
  add_number("params", fact("params", "", value, unit));
  add_number("depth", fact("depth", "", st.depth));
  add_number("total", fact("total", "", total_layers(st)));
  for (const NotableClass& c : kNotable) {
    const int64_t n = class_op_count(st, c.cls);
    if (n > 0) add_number(std::string("count:") + c.cls, fact("count", c.cls, n));
  }
  const int64_t att = attention_sites(g);
  if (att > 0) {
    add_number("attention", fact("attention", "", att));
  } else {
    // "softmax": squeeze-and-excitation gates are called channel attention by some families'
    // own sentences.
    add(pick("attention", {"The network uses no softmax attention.",
                           "It computes no softmax attention anywhere.",
                           "There is no softmax attention in it."}),
        fact("attention", "", 0));
  }
  const int64_t res = residual_adds(g);
  add(res > 0 ? pick("residual",
                     {"It uses residual connections: blocks add their input to their output.",
                      "Identity shortcuts add a block's input back to its result.",
                      "It has skip connections that add a block's input to its output."})
              : pick("residual", {"It has no residual connections.",
                                  "No block adds its input back to its output.",
                                  "There are no identity shortcuts in it."}),
      fact("residual", "", res > 0 ? 1 : 0));
  bool normed = false;
  for (const NotableClass& c : kNorms)
    if (class_op_count(st, c.cls) > 0) {
      const std::string x = c.one;
      add(pick("has", {"It normalises activations with " + x + ".", "It uses " + x + ".",
                       "Its activations are normalised with " + x + "."}),
          fact("has", c.cls, 1));
      normed = true;
      break;
    }
  if (!normed && norm_nodes(g) == 0)
    // About layers only: a BN-folded export has no normalisation layer, but its model has
    // normalisation folded into the convolutions.
    add(pick("norm_free",
             {"It has no normalisation layers.", "There are no normalisation layers in it.",
              "None of its layers is a normalisation layer."}),
        fact("norm_free", "", 1));
  if (g.bn_folded)
    add(pick("bn_folded", {"Its batch normalisation has been folded into the preceding "
                           "convolutions, as inference exports do.",
                           "Batch norm is folded into the convolutions before it, as in "
                           "exported inference graphs.",
                           "Its convolutions have absorbed the batch normalisation layers, as "
                           "inference exports do."}),
        fact("bn_folded", "", 1));
  if (g.format == "huggingface") {
    const int64_t flops = linear_flops_per_token(g);
    if (flops > 0) {
      int64_t fv = 0, fu = 1;
      const std::string f = giga_2digits(flops, fv, fu) + " GFLOPs";
      // Several phrasings, picked by the model's name (the same for every run).
      const std::string texts[] = {
          "Its linear layers need about " + f + " per token, attention scores not included.",
          "Per token, its weight matrix multiplies cost roughly " + f +
              " (two FLOPs per multiply-add, attention scores excluded).",
          "Each token takes about " + f +
              " in the model's linear layers, leaving out the attention-score products.",
      };
      add(texts[data::tag_hash(g.name) % 3], fact("flops_per_token", "token", fv, fu));
    }
  }
  return out;
}

namespace {

// The kinds of layer of layer_statements, by canonical op (ops.def): the importers agree on ops,
// not on class names (a TorchScript graph names a grouped convolution's node "Conv2d", an ONNX
// export "Sep_conv2d"). `ops`: the kind is used when any of them is in the graph. `near`: ops of
// a close kind that make "uses" and "does not use" both debatable (ReLU6 for ReLU; an ONNX
// export writes GroupNorm as instance_norm), so a graph with one of them and none of `ops` gets
// no statement of the kind.
struct LayerKind {
  const char* key;                 // the claim's cls
  std::vector<const char*> nouns;  // each reads after "uses" and "does not use"
  std::vector<std::string_view> ops, near;
};
const std::vector<LayerKind>& layer_kinds() {
  static const std::vector<LayerKind> kinds = {
      {"conv", {"standard convolutions", "plain convolution layers"}, {"conv"}, {}},
      {"grouped_conv",
       {"grouped or depthwise convolutions", "depthwise or grouped convolution layers"},
       {"sep_conv"},
       {}},
      {"dilated_conv", {"dilated convolutions", "atrous convolutions"}, {"dil_conv"}, {}},
      {"transposed_conv",
       {"transposed convolutions", "deconvolution layers"},
       {"conv_transpose"},
       {}},
      {"embedding", {"embedding layers", "embedding tables"}, {"embedding"}, {}},
      {"batch_norm", {"batch normalization", "BatchNorm layers"}, {"bn"}, {}},
      {"layer_norm", {"layer normalization", "layer norm"}, {"ln"}, {"rms_norm"}},
      {"group_norm", {"group normalization", "GroupNorm layers"}, {"gn"}, {"instance_norm"}},
      {"rms_norm", {"RMS normalization", "RMSNorm layers"}, {"rms_norm"}, {}},
      {"relu",
       {"ReLU activations", "rectified linear units"},
       {"relu"},
       {"relu6", "leaky_relu", "prelu", "clip"}},
      {"relu6", {"ReLU6 activations", "ReLU6 units"}, {"relu6"}, {"clip"}},
      {"gelu", {"GELU activations", "GELU units"}, {"gelu"}, {}},
      {"silu", {"SiLU (swish) activations", "swish units"}, {"silu"}, {}},
      {"hardswish", {"hard-swish activations", "Hardswish units"}, {"hardswish"}, {}},
      {"sigmoid", {"sigmoid activations", "sigmoid gates"}, {"sigmoid"}, {}},
      {"tanh", {"tanh activations", "tanh units"}, {"tanh"}, {}},
      {"max_pool", {"max pooling", "max-pooling layers"}, {"max_pool", "glob_max"}, {}},
      {"avg_pool", {"average pooling", "average-pooling layers"}, {"avg_pool", "glob_avg"}, {}},
      {"dropout", {"dropout", "dropout layers"}, {"dropout"}, {}},
  };
  return kinds;
}

const LayerKind* find_layer_kind(const std::string& key) {
  for (const LayerKind& k : layer_kinds())
    if (key == k.key) return &k;
  return nullptr;
}

bool any_op(const GraphStats& st, const std::vector<std::string_view>& ops) {
  for (std::string_view o : ops)
    if (st.ops.count(std::string(o))) return true;
  return false;
}

// Whether the graph uses the kind: 1 yes, 0 no, -1 debatable (a near op only) or unknown key.
int uses_kind(const GraphStats& st, const std::string& key) {
  const LayerKind* k = find_layer_kind(key);
  if (!k) return -1;
  if (any_op(st, k->ops)) return 1;
  return any_op(st, k->near) ? -1 : 0;
}

constexpr size_t kLackedStatements = 6;  // per graph, kinds it lacks that get a statement

}  // namespace

std::vector<ZooSentence> number_pairs(const ArchGraph& g, uint64_t split_seed, int wrong,
                                      uint64_t seed) {
  std::vector<ZooSentence> out;
  auto in_train = [&](const std::string& t) {
    return zoo_text_split(t, split_seed) == DatasetSplit::kTrain;
  };
  for (const ZooSentence& s : graph_sentences(g)) {
    if (!s.claim || !is_number_fact(*s.claim) || !in_train(s.text)) continue;
    const StatedFact& truth = *s.claim;
    for (const std::string& t : fact_phrasings(truth))
      if (t != s.text && in_train(t)) out.push_back({t, "graph", truth});
    // Wrong values 1.15-3x above or below the truth (log-uniform), each clearly false and in a
    // random phrasing; the true value of params is the raw count, of the others the value.
    data::Rng rng(data::mix(data::mix(seed, data::tag_hash(g.name)),
                            data::tag_hash(truth.kind + "|" + truth.cls)));
    const double raw =
        truth.kind == "params" ? static_cast<double>(g.params) : static_cast<double>(truth.value);
    std::set<int64_t> used = {truth.value};
    int kept = 0;
    for (int attempt = 0; attempt < 20 * wrong && kept < wrong; ++attempt) {
      const double x = static_cast<double>(rng.below(1000000)) / 1e6;
      double factor = std::exp(std::log(1.15) + x * (std::log(3.0) - std::log(1.15)));
      if (rng.chance(1, 2)) factor = 1.0 / factor;
      const auto v = static_cast<int64_t>(std::llround(raw * factor));
      if (v < 1) continue;
      StatedFact f = truth;
      f.holds = false;
      if (f.kind == "params")
        spoken_params(v, f.value, f.unit);
      else
        f.value = v;
      if (used.count(f.value) || !zoo_fact_clearly_false(f, g)) continue;
      const std::vector<std::string> texts = fact_phrasings(f);
      const std::string& t = texts[rng.index(texts.size())];
      if (!in_train(t)) continue;
      used.insert(f.value);
      out.push_back({t, "graph", f});
      ++kept;
    }
  }
  return out;
}

std::vector<ZooSentence> layer_statements(const ArchGraph& g) {
  const GraphStats st = g.stats();
  std::vector<ZooSentence> out;
  auto say = [&](const LayerKind& k, bool uses, bool holds) {
    const uint64_t h = data::tag_hash(g.name + "|" + k.key + (uses ? "|uses" : "|lacks"));
    const std::string n = k.nouns[(h / 4) % k.nouns.size()];
    const std::string texts[] = {
        uses ? "It uses " + n + "." : "It does not use " + n + ".",
        uses ? "The network uses " + n + "." : "It uses no " + n + ".",
        uses ? "Its layers include " + n + "." : "The network has no " + n + ".",
        uses ? "It contains " + n + "." : "It contains no " + n + ".",
    };
    StatedFact f = fact(uses ? "uses" : "uses_no", k.key, uses ? 1 : 0);
    f.holds = holds;
    out.push_back({texts[h % 4], "graph", std::move(f)});
  };
  std::vector<std::pair<uint64_t, const LayerKind*>> lacked;
  for (const LayerKind& k : layer_kinds()) {
    const int u = uses_kind(st, k.key);
    if (u == 1) {
      say(k, true, true);
      say(k, false, false);
    } else if (u == 0) {
      lacked.push_back({data::tag_hash(g.name + "|lacks|" + k.key), &k});
    }
  }
  std::sort(lacked.begin(), lacked.end());
  for (size_t i = 0; i < lacked.size() && i < kLackedStatements; ++i) {
    say(*lacked[i].second, false, true);
    say(*lacked[i].second, true, false);
  }
  return out;
}

bool is_layer_statement(const StatedFact& f) { return f.kind == "uses" || f.kind == "uses_no"; }

std::vector<ZooSentence> purpose_sentences(const std::string& name, const std::string& task,
                                           const std::string& task_group,
                                           const std::string& modality) {
  std::vector<ZooSentence> out;
  const uint64_t h = data::tag_hash(name + "|purpose");
  if (!task.empty()) {
    const std::string texts[] = {
        "It is a model for " + task + ".",
        "The network was designed for " + task + ".",
        "Its task is " + task + ".",
        "This architecture is used for " + task + ".",
    };
    out.push_back({texts[h % 4], "purpose", fact("task", task_group, 1)});
  }
  // The modality in words; an unknown one gets no sentence.
  struct Words {
    const char* modality;
    const char* field;
    const char* input;
    const char* adjective;
  };
  constexpr Words kWords[] = {
      {"vision", "computer vision", "images", "visual"},
      {"text", "natural language processing", "text", "textual"},
      {"speech", "speech processing", "audio", "spoken"},
  };
  for (const Words& w : kWords)
    if (modality == w.modality) {
      const std::string texts[] = {
          std::string("It is a ") + w.field + " model.",
          std::string("It is built to process ") + w.input + ".",
          std::string("It works on ") + w.adjective + " input.",
      };
      out.push_back({texts[(h >> 8) % 3], "purpose", fact("modality", modality, 1)});
    }
  return out;
}

int64_t linear_flops_per_token(const ArchGraph& g) {
  int64_t macs = 0;
  for (const Node& n : g.nodes)
    if (n.op == Op::kLinear && n.shape) macs += (*n.shape)[0] * (*n.shape)[1];
  return 2 * macs;
}

ZooSentence macs_sentence(int64_t macs, const std::string& input, uint64_t phrasing) {
  int64_t mv = 0, mu = 1, fv = 0, fu = 1;
  const std::string m = giga_2digits(macs, mv, mu) + " GMACs";
  const std::string f = giga_2digits(2 * macs, fv, fu) + " GFLOPs";
  const std::string texts[] = {
      "It needs about " + m + " (" + f + ") for one " + input + ".",
      "Its convolutions and matrix multiplies cost about " + f + " (" + m + ") per " + input + ".",
      "A forward pass on one " + input + " takes roughly " + m + ", or " + f + ".",
  };
  return {texts[phrasing % 3], "graph", fact("macs", input, mv, mu)};
}

bool zoo_fact_holds(const StatedFact& f, const ArchGraph& g) {
  if (is_layer_statement(f)) return uses_kind(g.stats(), f.cls) == (f.kind == "uses" ? 1 : 0);
  if (f.kind == "count") return class_op_count(g.stats(), f.cls) == f.value;
  if (f.kind == "has") return class_op_count(g.stats(), f.cls) > 0;
  if (f.kind == "depth") return g.stats().depth == f.value;
  if (f.kind == "attention") return attention_sites(g) == f.value;
  if (f.kind == "norm_free") return norm_nodes(g) == 0;
  if (f.kind == "residual") return (residual_adds(g) > 0) == (f.value != 0);
  if (f.kind == "bn_folded") return g.bn_folded == (f.value != 0);
  if (f.kind == "flops_per_token")
    return g.format == "huggingface" && f.unit > 0 &&
           data::round_to(linear_flops_per_token(g), f.unit) == f.value;
  // The count is the model's (manifest), the purpose its family's: not the graph's.
  if (f.kind == "macs" || f.kind == "task" || f.kind == "modality") return false;
  return fact_holds(f, g.stats(), g.params);
}

bool zoo_fact_holds(const StatedFact& f, const ZooModel& m) {
  if (f.kind == "task") return serves_task_group(m, f.cls);
  if (f.kind == "modality") return !m.modality.empty() && f.cls == m.modality;
  if (f.kind == "macs")
    return m.macs >= 0 && f.cls == m.macs_input && f.unit > 0 &&
           data::round_to(m.macs, f.unit) == f.value;
  return zoo_fact_holds(f, m.graph);
}

bool zoo_fact_clearly_false(const StatedFact& f, const ZooModel& m) {
  if (f.kind == "task") return !m.task_group.empty() && !serves_task_group(m, f.cls);
  if (f.kind == "modality") return !m.modality.empty() && f.cls != m.modality;
  if (f.kind == "macs")
    return m.macs > 0 && f.cls == m.macs_input && !zoo_fact_holds(f, m) &&
           clearly_off(f.value, m.macs);
  return zoo_fact_clearly_false(f, m.graph);
}

bool zoo_fact_clearly_false(const StatedFact& f, const ArchGraph& g) {
  if (zoo_fact_holds(f, g)) return false;
  const GraphStats st = g.stats();
  if (is_layer_statement(f)) return uses_kind(st, f.cls) >= 0;
  int64_t truth = 0, margin = 0;
  if (f.kind == "params") {
    truth = g.params;
    margin = data::param_margin(truth);
  } else if (f.kind == "count") {
    truth = class_op_count(st, f.cls);
    margin = data::count_margin(truth);
  } else if (f.kind == "attention") {
    truth = attention_sites(g);
    margin = data::count_margin(truth);
  } else if (f.kind == "macs" || f.kind == "task" || f.kind == "modality") {
    return false;  // unknown without the model's count or family
  } else if (f.kind == "flops_per_token") {
    return g.format == "huggingface" && clearly_off(f.value, linear_flops_per_token(g));
  } else if (f.kind == "total" || f.kind == "depth") {
    truth = f.kind == "total" ? total_layers(st) : st.depth;
    margin = data::total_margin(truth);
  } else {
    return true;  // has / norm_free / bn_folded / residual: false is false
  }
  return std::llabs(f.value - truth) >= margin;
}

std::string normalize_sentence(std::string_view text) {
  std::string out;
  for (const std::string& t : text_tokens(text)) out += (out.empty() ? "" : " ") + t;
  return out;
}

DatasetSplit zoo_text_split(std::string_view text, uint64_t seed) {
  const uint64_t h =
      data::mix(data::mix(0x5A6F6F5465787431ull, seed), data::tag_hash(normalize_sentence(text)));
  return h % 100 < 80 ? DatasetSplit::kTrain : DatasetSplit::kVal;
}

bool zoo_models_similar(const ZooModel& a, const ZooModel& b) {
  return a.family == b.family || (!a.base_design.empty() && a.base_design == b.base_design);
}

TfidfSimilarity::TfidfSimilarity(const std::vector<std::string>& documents) {
  std::vector<int64_t> df;
  for (const std::string& d : documents) {
    std::vector<std::string> ts = terms(d);
    std::sort(ts.begin(), ts.end());
    ts.erase(std::unique(ts.begin(), ts.end()), ts.end());
    for (const std::string& t : ts) {
      auto [it, inserted] = ids_.emplace(t, static_cast<int32_t>(df.size()));
      if (inserted) df.push_back(0);
      ++df[it->second];
    }
  }
  const double n = static_cast<double>(documents.size());
  for (int64_t d : df) idf_.push_back(std::log((1 + n) / (1 + static_cast<double>(d))) + 1);
  unseen_idf_ = std::log((1 + n) / 2) + 1;
}

int32_t TfidfSimilarity::term_id(const std::string& term) const {
  const auto it = ids_.find(term);
  return it == ids_.end() ? -1 : it->second;
}

TfidfSimilarity::Vector TfidfSimilarity::vector(std::string_view text) const {
  // Term frequency x IDF; unseen terms get negative ids (distinct per term within this text,
  // so they never match another text's unseen terms: they are absent from the corpus).
  std::map<int64_t, double> w;
  std::map<std::string, int32_t> unseen;
  for (const std::string& t : terms(text)) {
    const int32_t id = term_id(t);
    if (id >= 0) {
      w[id] += idf_[id];
    } else {
      auto [it, ins] = unseen.emplace(t, -1 - static_cast<int32_t>(unseen.size()));
      w[it->second] += unseen_idf_;
    }
  }
  double norm = 0;
  for (const auto& [id, x] : w) norm += x * x;
  norm = std::sqrt(norm);
  Vector v;
  for (const auto& [id, x] : w)
    if (id >= 0) v.push_back({static_cast<int32_t>(id), x / norm});
  return v;
}

double TfidfSimilarity::cosine(const Vector& a, const Vector& b) {
  double s = 0;
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i].first == b[j].first)
      s += a[i++].second * b[j++].second;
    else if (a[i].first < b[j].first)
      ++i;
    else
      ++j;
  }
  return std::min(1.0, s);
}

double TfidfSimilarity::operator()(std::string_view a, std::string_view b) const {
  return cosine(vector(a), vector(b));
}

}  // namespace archbert
