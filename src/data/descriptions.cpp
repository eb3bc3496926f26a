// Facts about a canonical graph and the AR descriptions that state them (descriptions.h).
//
// How a description is drawn (label first, then facts, then words):
//   1. 2 or 3 facts; a positive makes every fact true, a negative a uniformly drawn non-empty
//      subset false (so negatives mix true and false facts);
//   2. each fact's kind is drawn from fixed weights that do not depend on its truth; then a
//      subject and value that make it true or false:
//        has / lacks  a class whose presence varies across networks, drawn uniformly and kept
//                     with probability m / P(present) (or m / P(absent); m the smallest such
//                     share, P from the reference), else the kind is drawn again: so every class
//                     is named equally often in true and in false facts, and the kind is kept
//                     equally often (m) for both;
//        count        a present class whose count varies, uniformly; false: the count of that
//                     class in a reference network, at least 10% (and 1) away from the truth;
//        total        false: a reference network's total, at least 10% (and 2) away;
//        params       in one of three roundings; false: a reference network's parameter count,
//                     at least 15% away; reference values are weighted (FactReference::finish)
//                     so that wrong numbers follow the distribution of true ones;
//        kernel       a (class, kernel) pair whose use varies, drawn and kept like has / lacks;
//      classes and kernels present in (nearly) every or no network are never stated: such facts
//      could only be true, or only false, and would give the label away;
//   3. one opener, a connector between facts and a predicate template per fact, all uniform and
//      drawn the same way for true and false facts.
// Each fact also carries its own sentence (the opener and its predicate alone), a training text
// whose label is that fact's truth; it draws nothing, so descriptions do not depend on it.
// No two facts of a description share a class or a scalar kind (total, params); a stated total
// exceeds the stated class counts; the texts of a network are distinct.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>

#include "archbert/descriptions.h"
#include "archbert/error.h"
#include "archbert/format.h"
#include "data/description_templates.h"
#include "data/facts.h"
#include "data/layer_lexicon.h"
#include "data/rng.h"

namespace archbert {
namespace {

using data::count_margin;
using data::inventory_count;
using data::param_margin;
using data::Rng;
using data::round_to;
using data::total_margin;
using data::uses_kernel;

constexpr double kMinRate = 0.03;  // rarer (or more common than 1 - this) is not informative

// Weights of the fact kinds (drawn independently of the fact's truth). has / lacks / kernel
// facts are kept with probability m (about 1/4, see above), hence their larger weights: the
// stated mix is about has 24%, lacks 10%, count 24%, total 10%, params 14%, kernel 18%.
struct KindWeight {
  const char* kind;
  uint64_t weight;
};
constexpr KindWeight kKindWeights[] = {{"has", 100},  {"lacks", 40},  {"count", 24},
                                       {"total", 10}, {"params", 14}, {"kernel", 60}};

bool informative(double rate) { return rate > kMinRate && rate < 1 - kMinRate; }
// True with probability p (in steps of 1e-6).
bool accept(data::Rng& rng, double p) {
  return rng.below(1'000'000) < static_cast<uint64_t>(p * 1'000'000);
}

// How a parameter count is written. The unit depends on the stated number's magnitude.
enum class ParamFormat { kExact, kAbout, kRoughly };
constexpr int kParamFormats = 3;

int64_t param_unit(ParamFormat f, int64_t p) {
  switch (f) {
    case ParamFormat::kExact:
      return 1;
    case ParamFormat::kAbout:
      return p >= 1'000'000 ? 100'000 : 1'000;
    case ParamFormat::kRoughly:
      return p >= 100'000 ? 10'000 : 1'000;
  }
  return 1;
}

// "2,312,456", "about 2.3M", "about 312K", "roughly 2.31 million", "roughly 85 thousand".
std::string param_phrase(ParamFormat f, int64_t value, int64_t unit) {
  char buf[64];
  switch (f) {
    case ParamFormat::kExact:
      return group_thousands(value);
    case ParamFormat::kAbout:
      if (unit == 100'000) {
        const long long tenths = value / 100'000;
        std::snprintf(buf, sizeof buf, "about %lld.%lldM", tenths / 10, tenths % 10);
      } else {
        std::snprintf(buf, sizeof buf, "about %lldK", static_cast<long long>(value / 1000));
      }
      return buf;
    case ParamFormat::kRoughly:
      if (unit == 10'000) {
        const long long hundredths = value / 10'000;
        std::snprintf(buf, sizeof buf, "roughly %lld.%02lld million", hundredths / 100,
                      hundredths % 100);
      } else {
        std::snprintf(buf, sizeof buf, "roughly %lld thousand",
                      static_cast<long long>(value / 1000));
      }
      return buf;
  }
  return group_thousands(value);
}

// A fact with the rendering choices it needs.
struct DrawnFact {
  StatedFact fact;
  ParamFormat format = ParamFormat::kExact;
};

// Draws facts of one network.
class FactDrawer {
 public:
  FactDrawer(const ArchGraph& graph, const FactReference& ref)
      : stats_(graph.stats()), params_(graph.params), total_(total_layers(stats_)), ref_(ref) {
    for (const data::LayerEntry& e : data::layer_lexicon()) {
      const double rate = ref_.presence(e.cls);
      if (!informative(rate)) continue;
      classes_.emplace_back(e.cls);
      min_class_share_ = std::min({min_class_share_, rate, 1 - rate});
    }
    for (const auto& [cls, kernels] : ref_.kernels) {
      if (!data::find_layer(cls)) continue;
      for (const auto& [k, networks] : kernels) {
        const double rate = ref_.kernel_rate(cls, k);
        if (!informative(rate)) continue;
        kernel_items_.emplace_back(cls, k);
        min_kernel_share_ = std::min({min_kernel_share_, rate, 1 - rate});
      }
    }
  }

  const GraphStats& stats() const { return stats_; }

  // A fact of `kind` that holds iff `holds`, about a class not in `used`; nullopt when this
  // network has none.
  std::optional<DrawnFact> draw(const std::string& kind, bool holds,
                                const std::set<std::string>& used, Rng& rng) const {
    if (kind == "has" || kind == "lacks") return presence(kind, holds, used, rng);
    if (kind == "count") return count(holds, used, rng);
    if (kind == "total") return total(holds, rng);
    if (kind == "params") return parameters(holds, rng);
    if (kind == "kernel") return kernel(holds, used, rng);
    return std::nullopt;
  }

 private:
  std::optional<DrawnFact> presence(const std::string& kind, bool holds,
                                    const std::set<std::string>& used, Rng& rng) const {
    const std::string& cls = classes_[rng.index(classes_.size())];
    if (used.count(cls)) return std::nullopt;
    const bool want_present = (kind == "has") == holds;
    const bool present = inventory_count(stats_, cls) > 0;
    if (present != want_present) return std::nullopt;
    const double rate = ref_.presence(cls);
    if (!accept(rng, min_class_share_ / (present ? rate : 1 - rate))) return std::nullopt;
    DrawnFact d;
    d.fact.kind = kind;
    d.fact.cls = cls;
    d.fact.holds = holds;
    return d;
  }

  // A reference value at least `margin` away from `truth`, drawn with the pool's weights, or
  // nullopt when there is none.
  static std::optional<int64_t> wrong_value(const std::vector<int64_t>& pool,
                                            const std::vector<double>& pool_weights, int64_t truth,
                                            int64_t margin, Rng& rng) {
    std::vector<uint64_t> weights(pool.size(), 0);
    bool any = false;
    for (size_t i = 0; i < pool.size(); ++i)
      if (std::llabs(pool[i] - truth) >= margin) {
        weights[i] = static_cast<uint64_t>(pool_weights[i] * 1'000'000) + 1;
        any = true;
      }
    if (!any) return std::nullopt;
    return pool[rng.weighted(weights)];
  }

  std::optional<DrawnFact> count(bool holds, const std::set<std::string>& used, Rng& rng) const {
    std::vector<std::string> classes;
    for (const data::LayerEntry& e : data::layer_lexicon()) {
      const std::string cls = e.cls;
      if (used.count(cls) || inventory_count(stats_, cls) == 0) continue;
      const auto it = ref_.counts.find(cls);
      if (it == ref_.counts.end()) continue;
      const auto [lo, hi] = std::minmax_element(it->second.begin(), it->second.end());
      if (*lo == *hi) continue;  // the same count in every network: no information
      classes.push_back(cls);
    }
    if (classes.empty()) return std::nullopt;
    DrawnFact d;
    d.fact.kind = "count";
    d.fact.cls = classes[rng.index(classes.size())];
    d.fact.holds = holds;
    const int64_t n = inventory_count(stats_, d.fact.cls);
    if (holds) {
      d.fact.value = n;
    } else {
      const auto v = wrong_value(ref_.counts.at(d.fact.cls), ref_.count_weights.at(d.fact.cls), n,
                                 count_margin(n), rng);
      if (!v) return std::nullopt;
      d.fact.value = *v;
    }
    return d;
  }

  std::optional<DrawnFact> total(bool holds, Rng& rng) const {
    DrawnFact d;
    d.fact.kind = "total";
    d.fact.holds = holds;
    if (holds) {
      d.fact.value = total_;
    } else {
      const auto v =
          wrong_value(ref_.totals, ref_.total_weights, total_, total_margin(total_), rng);
      if (!v) return std::nullopt;
      d.fact.value = *v;
    }
    return d;
  }

  std::optional<DrawnFact> parameters(bool holds, Rng& rng) const {
    DrawnFact d;
    d.fact.kind = "params";
    d.fact.holds = holds;
    d.format = static_cast<ParamFormat>(rng.below(kParamFormats));
    int64_t p = params_;
    if (!holds) {
      const auto v =
          wrong_value(ref_.params, ref_.param_weights, params_, param_margin(params_), rng);
      if (!v) return std::nullopt;
      p = *v;
    }
    d.fact.unit = param_unit(d.format, p);
    d.fact.value = round_to(p, d.fact.unit);
    if (!holds && round_to(params_, d.fact.unit) == d.fact.value) return std::nullopt;
    return d;
  }

  std::optional<DrawnFact> kernel(bool holds, const std::set<std::string>& used, Rng& rng) const {
    if (kernel_items_.empty()) return std::nullopt;
    const auto& [cls, k] = kernel_items_[rng.index(kernel_items_.size())];
    if (used.count(cls) || uses_kernel(stats_, cls, k) != holds) return std::nullopt;
    const double rate = ref_.kernel_rate(cls, k);
    if (!accept(rng, min_kernel_share_ / (holds ? rate : 1 - rate))) return std::nullopt;
    DrawnFact d;
    d.fact.kind = "kernel";
    d.fact.cls = cls;
    d.fact.kernel = k;
    d.fact.holds = holds;
    return d;
  }

  GraphStats stats_;
  int64_t params_;
  int64_t total_;
  const FactReference& ref_;
  std::vector<std::string> classes_;  // informative classes of the lexicon (has / lacks)
  std::vector<std::pair<std::string, std::string>> kernel_items_;  // informative (class, kernel)
  double min_class_share_ = 1, min_kernel_share_ = 1;
};

// The predicate of one fact, with its template id.
std::pair<std::string, std::string> render_predicate(const DrawnFact& d, Rng& rng) {
  const StatedFact& f = d.fact;
  const auto& templates = data::description_predicates(f.kind);
  const size_t t = rng.index(templates.size());
  std::vector<std::pair<std::string_view, std::string>> slots;
  if (const data::LayerEntry* e = data::find_layer(f.cls)) {
    const data::LayerName& name = e->names[rng.index(e->names.size())];
    slots.emplace_back("a", std::string(data::article(name.singular)) + " " + name.singular);
    slots.emplace_back("sg", name.singular);
    slots.emplace_back("pl", name.plural);
    slots.emplace_back("cls", f.cls);
    slots.emplace_back("fn", e->functions[rng.index(e->functions.size())]);
  }
  slots.emplace_back("n", std::to_string(f.value));
  slots.emplace_back("k", f.kernel);
  std::string id = f.kind + "." + std::to_string(t);
  if (f.kind == "params") {
    slots.emplace_back("p", param_phrase(d.format, f.value, f.unit));
    id += "." + std::to_string(static_cast<int>(d.format));
  }
  const data::Predicate& p = templates[t];
  const bool singular = f.kind == "count" && f.value == 1 && p.singular;
  return {data::fill_template(singular ? p.singular : p.text, slots), id};
}

// Stated counts never exceed a stated total (a contradiction inside the text would tell).
bool consistent(const std::vector<DrawnFact>& facts) {
  int64_t counted = 0, total = -1;
  for (const DrawnFact& d : facts) {
    if (d.fact.kind == "count") counted += d.fact.value;
    if (d.fact.kind == "total") total = d.fact.value;
  }
  return total < 0 || total > counted;
}

Description draw_description(const FactDrawer& drawer, int label, Rng& rng) {
  std::vector<uint64_t> kind_weights;
  for (const KindWeight& k : kKindWeights) kind_weights.push_back(k.weight);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const int n = 2 + static_cast<int>(rng.below(2));
    // Negatives: a uniformly drawn non-empty subset of the facts is false.
    const uint64_t false_mask = label ? 0 : 1 + rng.below((uint64_t{1} << n) - 1);
    std::vector<DrawnFact> facts;
    std::set<std::string> used_classes, used_kinds;
    for (int i = 0; i < n; ++i) {
      const bool holds = !((false_mask >> i) & 1);
      std::optional<DrawnFact> d;
      for (int tries = 0; tries < 50 && !d; ++tries) {
        const std::string kind = kKindWeights[rng.weighted(kind_weights)].kind;
        if ((kind == "total" || kind == "params") && used_kinds.count(kind)) continue;
        d = drawer.draw(kind, holds, used_classes, rng);
      }
      if (!d) break;
      used_kinds.insert(d->fact.kind);
      if (!d->fact.cls.empty()) used_classes.insert(d->fact.cls);
      facts.push_back(std::move(*d));
    }
    if (static_cast<int>(facts.size()) != n || !consistent(facts)) continue;

    Description out;
    out.label = label;
    out.opener = static_cast<int>(rng.index(data::description_openers().size()));
    out.text = data::description_openers()[out.opener];
    out.text += ' ';
    for (int i = 0; i < n; ++i) {
      if (i > 0) {
        int c;  // connectors differ within a description
        do c = static_cast<int>(rng.index(data::description_connectors().size()));
        while (std::find(out.connectors.begin(), out.connectors.end(), c) != out.connectors.end());
        out.connectors.push_back(c);
        out.text += data::description_connectors()[c];
      }
      auto [predicate, id] = render_predicate(facts[i], rng);
      out.text += predicate;
      out.templates.push_back(std::move(id));
      out.facts.push_back(facts[i].fact);
      // The fact alone, in the same words: the description's opener and this predicate.
      out.facts.back().text = data::description_openers()[out.opener] + (" " + predicate) + ".";
    }
    out.text += '.';
    return out;
  }
  throw Error(ErrorKind::kInternal,
              "descriptions: cannot draw a description (label " + std::to_string(label) + ")");
}

// A key that identifies a description's facts regardless of wording.
std::string fact_key(const Description& d) {
  std::vector<std::string> parts;
  for (const StatedFact& f : d.facts)
    parts.push_back(f.kind + "|" + f.cls + "|" + std::to_string(f.value) + "|" +
                    std::to_string(f.unit) + "|" + f.kernel);
  std::sort(parts.begin(), parts.end());
  std::string key;
  for (const std::string& p : parts) key += p + ";";
  return key;
}

}  // namespace

std::vector<Description> describe_graph(const ArchGraph& graph, const FactReference& reference,
                                        uint64_t stream, const DescriptionOptions& options) {
  if (options.per_network < 0 || options.positives < 0 || options.positives > options.per_network)
    throw Error(ErrorKind::kUsage, "descriptions: need 0 <= positives <= per_network");
  if (!reference.finished)
    throw Error(ErrorKind::kInternal, "descriptions: FactReference::finish() was not called");
  Rng rng(stream);
  std::vector<int> labels(options.per_network, 0);
  std::fill(labels.begin(), labels.begin() + options.positives, 1);
  rng.shuffle(labels);
  const FactDrawer drawer(graph, reference);
  std::vector<Description> out;
  std::set<std::string> texts, keys;
  for (int label : labels) {
    for (int attempt = 0;; ++attempt) {
      Description d = draw_description(drawer, label, rng);
      const std::string key = fact_key(d);
      if (!texts.count(d.text) && !keys.count(key)) {
        texts.insert(d.text);
        keys.insert(key);
        out.push_back(std::move(d));
        break;
      }
      if (attempt > 1000)
        throw Error(ErrorKind::kInternal, graph.name + ": cannot draw " +
                                              std::to_string(options.per_network) +
                                              " distinct descriptions");
    }
  }
  return out;
}

TemplateCounts description_template_counts() {
  TemplateCounts c;
  c.openers = static_cast<int>(data::description_openers().size());
  c.connectors = static_cast<int>(data::description_connectors().size());
  for (const std::string& kind : data::description_fact_kinds())
    c.predicates[kind] = static_cast<int>(data::description_predicates(kind).size());
  c.min_functions_per_class = c.min_names_per_class = 1 << 30;
  for (const data::LayerEntry& e : data::layer_lexicon()) {
    c.min_functions_per_class =
        std::min(c.min_functions_per_class, static_cast<int>(e.functions.size()));
    c.min_names_per_class = std::min(c.min_names_per_class, static_cast<int>(e.names.size()));
  }
  return c;
}

}  // namespace archbert
