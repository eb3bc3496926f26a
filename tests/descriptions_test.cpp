// Tests of AutoNet's AR descriptions (src/data/descriptions.cpp, description_templates.cpp,
// layer_lexicon.cpp, autonet_texts.cpp): every stated fact checked against the graph re-imported
// from the network's ONNX export, label balance, template variety, that the text alone does not
// give the label away, determinism and errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "archbert/autonet.h"
#include "archbert/dataset.h"
#include "archbert/dataset_stats.h"
#include "archbert/descriptions.h"
#include "archbert/error.h"
#include "archbert/graph_io.h"
#include "archbert/importer.h"

#include "test_support.h"

namespace archbert {
namespace {

namespace fs = std::filesystem;

using testing_support::TempDir;

// Generates an AutoNet directory (graphs, optionally ONNX) and its texts.
std::string make_dataset(const TempDir& tmp, const std::string& name, DatasetSplit split,
                         int64_t count, uint64_t seed, bool onnx) {
  AutoNetOptions o;
  o.split = split;
  o.count = count;
  o.seed = seed;
  o.onnx = onnx;
  o.out_dir = tmp / name;
  generate_autonet(o);
  generate_autonet_texts(o.out_dir);
  return o.out_dir;
}

// Layer counts, kernels and parameters straight from the nodes (not from ArchGraph::stats(), so
// that the check does not share code with the generator's view of the graph).
struct NodeFacts {
  std::map<std::string, int64_t> count;
  std::map<std::string, std::set<std::pair<int64_t, int64_t>>> kernels;
  int64_t total = 0;
  int64_t params = 0;
};

NodeFacts node_facts(const ArchGraph& g) {
  NodeFacts f;
  for (const Node& n : g.nodes) {
    f.params += n.params;
    const std::string cls = n.inventory_class();
    if (cls.empty()) continue;
    ++f.count[cls];
    ++f.total;
    if (n.kernel) f.kernels[cls].insert({(*n.kernel)[0], (*n.kernel)[1]});
  }
  return f;
}

// An independent reading of a stated fact.
bool holds_on_nodes(const StatedFact& s, const NodeFacts& f) {
  const int64_t n = f.count.count(s.cls) ? f.count.at(s.cls) : 0;
  if (s.kind == "has") return n > 0;
  if (s.kind == "lacks") return n == 0;
  if (s.kind == "count") return n == s.value;
  if (s.kind == "total") return f.total == s.value;
  if (s.kind == "params")  // the parameter count rounded half up to the unit
    return s.unit > 0 && s.value % s.unit == 0 && f.params >= s.value - s.unit / 2 &&
           f.params < s.value + (s.unit + 1) / 2;
  if (s.kind == "kernel") {
    const size_t x = s.kernel.find('x');
    const std::pair<int64_t, int64_t> k = {std::stoll(s.kernel.substr(0, x)),
                                           std::stoll(s.kernel.substr(x + 1))};
    return f.kernels.count(s.cls) && f.kernels.at(s.cls).count(k);
  }
  ADD_FAILURE() << "unknown fact kind " << s.kind;
  return false;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Words that one of the names of each class contains (lower case); the text of a fact about the
// class must contain one of them.
const std::map<std::string, std::vector<std::string>> kClassWords = {
    {"Conv2d", {"conv2d", "2d convolution", "standard convolution"}},
    {"Sep_conv2d", {"sep_conv2d", "depthwise"}},
    {"Dil_conv2d", {"dil_conv2d", "dilated", "atrous"}},
    {"BatchNorm2d", {"batchnorm2d", "batch norm"}},
    {"LayerNorm", {"layernorm", "layer norm"}},
    {"MaxPool2d", {"maxpool2d", "max pooling", "max-pooling"}},
    {"AvgPool2d", {"avgpool2d", "average pooling", "average-pooling"}},
    {"AdaptiveAvgPool2d", {"adaptiveavgpool2d", "adaptive average", "global average"}},
    {"Linear", {"linear", "fully connected"}},
    {"Dropout", {"dropout"}},
    {"ReLU", {"relu", "rectified linear"}},
    {"GELU", {"gelu", "gaussian error"}},
    {"Hardswish", {"hardswish", "hard swish", "hard-swish"}},
    {"Softmax", {"softmax"}},
    {"PosEnc", {"posenc", "positional"}},
    {"Flatten", {"flatten"}},
};

// The text states the fact's class, number or kernel.
void expect_text_states(const std::string& text, const StatedFact& f) {
  const std::string t = lower(text);
  if (!f.cls.empty()) {
    bool named = false;
    for (const std::string& w : kClassWords.at(f.cls)) named |= t.find(w) != std::string::npos;
    EXPECT_TRUE(named) << f.cls << " not named in: " << text;
  }
  if (f.kind == "count" || f.kind == "total") {
    const bool one = f.value == 1 && (t.find(" one ") != std::string::npos ||
                                      t.find(" single ") != std::string::npos);
    EXPECT_TRUE(one || t.find(" " + std::to_string(f.value) + " ") != std::string::npos)
        << f.value << " not in: " << text;
  }
  if (f.kind == "kernel") EXPECT_NE(t.find(f.kernel), std::string::npos) << text;
  if (f.kind == "params") {
    // The leading significant digits of the stated value appear (2,312,456 / 2.3M / 2.31 / 312K).
    const std::string digits = std::to_string(f.value / f.unit);
    std::string text_digits;
    for (char c : t)
      if (std::isdigit(static_cast<unsigned char>(c))) text_digits += c;
    EXPECT_NE(text_digits.find(digits), std::string::npos) << f.value << " not in: " << text;
  }
}

// ---------------------------------------------------------------------------------------------

// A fact's own sentence: the description's opener, then the words the description uses for that
// fact, then a full stop; it states the fact's class and number.
void expect_claim_sentence(const std::string& description, const StatedFact& f) {
  ASSERT_GT(f.text.size(), 2u) << "no single-fact sentence for a fact of: " << description;
  EXPECT_EQ(f.text.back(), '.') << f.text;
  expect_text_states(f.text, f);
  const std::string body = f.text.substr(0, f.text.size() - 1);
  bool found = false;
  for (size_t sp = body.find(' '); sp != std::string::npos && !found; sp = body.find(' ', sp + 1))
    found = description.rfind(body.substr(0, sp + 1), 0) == 0 &&
            description.find(body.substr(sp + 1)) != std::string::npos;
  EXPECT_TRUE(found) << "'" << f.text << "' is not the opener and a predicate of: " << description;
}

TEST(Descriptions, EveryFactIsCheckedAgainstTheReimportedOnnxGraph) {
  TempDir tmp;
  const int kNetworks = 120;
  const std::string dir = make_dataset(tmp, "train", DatasetSplit::kTrain, kNetworks, 5, true);
  const std::vector<ArSample> samples = read_ar_samples(dir + "/texts.jsonl");
  ASSERT_EQ(samples.size(), 10u * kNetworks);
  auto importer = make_onnx_importer();
  std::map<int64_t, NodeFacts> facts;
  std::map<int64_t, GraphStats> stats;
  std::map<int64_t, int64_t> params;
  const GraphStore store = open_dataset_graphs(dir);
  for (int64_t i = 0; i < kNetworks; ++i) {
    const ArchGraph g =
        importer->import(dir + "/onnx/autonet-train-" + std::to_string(i) + ".onnx", {});
    facts[i] = node_facts(g);
    stats[i] = g.stats();
    params[i] = g.params;
    EXPECT_EQ(g.params, store.get(i).params) << "graph " << i;
  }
  int checked = 0, false_facts = 0, mixed = 0;
  std::map<std::string, int> kinds_true, kinds_false;
  for (const ArSample& s : samples) {
    ASSERT_EQ(s.claims.size(), s.facts.size()) << s.text;
    ASSERT_GE(s.claims.size(), 2u) << s.text;
    ASSERT_LE(s.claims.size(), 3u) << s.text;
    int wrong = 0;
    for (size_t k = 0; k < s.claims.size(); ++k) {
      const StatedFact& f = s.claims[k];
      EXPECT_EQ(s.facts[k], f.kind);
      const bool truth = holds_on_nodes(f, facts.at(s.graph));
      EXPECT_EQ(truth, f.holds) << "graph " << s.graph << " " << f.kind << " " << f.cls << " "
                                << f.value << " " << f.kernel << ": " << s.text;
      EXPECT_EQ(fact_holds(f, stats.at(s.graph), params.at(s.graph)), truth) << s.text;
      expect_text_states(s.text, f);
      expect_claim_sentence(s.text, f);
      wrong += !truth;
      ++(truth ? kinds_true : kinds_false)[f.kind];
      ++checked;
    }
    false_facts += wrong;
    if (s.label == 1) EXPECT_EQ(wrong, 0) << "positive with a false fact: " << s.text;
    if (s.label == 0) EXPECT_GE(wrong, 1) << "negative with only true facts: " << s.text;
    mixed += s.label == 0 && wrong < static_cast<int>(s.claims.size());
  }
  EXPECT_GT(checked, 2500);
  // Negatives state every kind of wrong fact, and many also state true ones.
  for (const char* kind : {"has", "lacks", "count", "total", "params", "kernel"}) {
    EXPECT_GT(kinds_true[kind], 50) << kind;
    EXPECT_GT(kinds_false[kind], 50) << kind;
  }
  EXPECT_GT(mixed, 300) << "negatives mixing true and false facts";
}

TEST(Descriptions, TenPerNetworkThreePositiveNoneDropped) {
  TempDir tmp;
  const std::string dir = make_dataset(tmp, "val", DatasetSplit::kVal, 40, 1, false);
  const auto samples = read_ar_samples(dir + "/texts.jsonl");
  std::map<int64_t, int> per_graph, positives;
  for (const ArSample& s : samples) {
    ++per_graph[s.graph];
    positives[s.graph] += s.label;
  }
  ASSERT_EQ(per_graph.size(), 40u);
  for (const auto& [g, n] : per_graph) {
    EXPECT_EQ(n, 10) << "graph " << g;  // the last text of a network is not dropped
    EXPECT_EQ(positives[g], 3) << "graph " << g;
  }
  const DatasetManifest m = read_manifest(dir);
  EXPECT_EQ(m.counts.at("texts"), 400);
  EXPECT_EQ(m.counts.at("texts_positive"), 120);
  EXPECT_EQ(m.files.at("texts"), "texts.jsonl");
  EXPECT_EQ(m.generator, "autonet");
  EXPECT_EQ(m.info.at("texts_version"), std::to_string(kAutoNetTextsVersion));
}

TEST(Descriptions, NoRepeatedFactsWithinADescriptionAndDistinctTexts) {
  const AutoNetSampler sampler(3, DatasetSplit::kTrain);
  const FactReference ref = autonet_fact_reference(3);
  for (int i = 0; i < 150; ++i) {
    const AutoNet net = sampler.sample(i);
    const auto descriptions = describe_graph(net.graph, ref, 1000 + i);
    ASSERT_EQ(descriptions.size(), 10u);
    std::set<std::string> texts;
    for (const Description& d : descriptions) {
      EXPECT_TRUE(texts.insert(d.text).second) << "repeated text: " << d.text;
      std::set<std::string> classes, scalar_kinds, templates;
      int64_t stated_counts = 0, stated_total = -1;
      for (size_t k = 0; k < d.facts.size(); ++k) {
        const StatedFact& f = d.facts[k];
        if (!f.cls.empty()) EXPECT_TRUE(classes.insert(f.cls).second) << d.text;
        if (f.cls.empty()) EXPECT_TRUE(scalar_kinds.insert(f.kind).second) << d.text;
        if (f.kind == "count") stated_counts += f.value;
        if (f.kind == "total") stated_total = f.value;
      }
      if (stated_total >= 0) EXPECT_GT(stated_total, stated_counts) << d.text;
      ASSERT_EQ(d.connectors.size() + 1, d.facts.size());
      if (d.connectors.size() == 2) EXPECT_NE(d.connectors[0], d.connectors[1]) << d.text;
      EXPECT_EQ(d.text.back(), '.');
    }
  }
}

TEST(Descriptions, TemplateVariety) {
  const TemplateCounts c = description_template_counts();
  EXPECT_GE(c.openers, 15);
  EXPECT_GE(c.connectors, 8);
  EXPECT_GE(c.min_functions_per_class, 2);
  EXPECT_GE(c.min_names_per_class, 2);
  for (const char* kind : {"has", "lacks", "count", "total", "params", "kernel"})
    EXPECT_GE(c.predicates.at(kind), 5) << kind;
  // Every class of the layer table has two phrasings of its function, and every template is used.
  const AutoNetSampler sampler(4, DatasetSplit::kTrain);
  const FactReference ref = autonet_fact_reference(4);
  std::set<int> openers, connectors;
  std::set<std::string> templates;
  for (int i = 0; i < 200; ++i)
    for (const Description& d : describe_graph(sampler.sample(i).graph, ref, 7 * i + 1)) {
      openers.insert(d.opener);
      connectors.insert(d.connectors.begin(), d.connectors.end());
      for (const std::string& t : d.templates)
        templates.insert(t.substr(0, t.find('.', t.find('.') + 1)));  // "params.3.1" -> "params.3"
    }
  EXPECT_EQ(static_cast<int>(openers.size()), c.openers);
  EXPECT_EQ(static_cast<int>(connectors.size()), c.connectors);
  int predicates = 0;
  for (const auto& [kind, n] : c.predicates) predicates += n;
  EXPECT_EQ(static_cast<int>(templates.size()), predicates);
}

// Total variation distance between two histograms.
template <typename K>
double tv_distance(const std::map<K, double>& a, const std::map<K, double>& b) {
  double sa = 0, sb = 0;
  for (const auto& [k, v] : a) sa += v;
  for (const auto& [k, v] : b) sb += v;
  std::set<K> keys;
  for (const auto& [k, v] : a) keys.insert(k);
  for (const auto& [k, v] : b) keys.insert(k);
  double d = 0;
  for (const K& k : keys) {
    const double x = a.count(k) ? a.at(k) / sa : 0, y = b.count(k) ? b.at(k) / sb : 0;
    d += std::abs(x - y);
  }
  return d / 2;
}

// Area under the ROC curve of `scores` for `labels` (ties count half).
double auc(const std::vector<double>& scores, const std::vector<int>& labels) {
  std::vector<double> pos, neg;
  for (size_t i = 0; i < scores.size(); ++i) (labels[i] ? pos : neg).push_back(scores[i]);
  std::sort(neg.begin(), neg.end());
  double a = 0;
  for (double s : pos) {
    const auto lo = std::lower_bound(neg.begin(), neg.end(), s);
    const auto hi = std::upper_bound(neg.begin(), neg.end(), s);
    a += (lo - neg.begin()) + 0.5 * (hi - lo);
  }
  return a / (double(pos.size()) * double(neg.size()));
}

// Unigrams and bigrams of a text.
std::set<std::string> bag_of_words(const std::string& text) {
  const std::vector<std::string> t = text_tokens(text);
  std::set<std::string> bag(t.begin(), t.end());
  for (size_t i = 1; i < t.size(); ++i) bag.insert(t[i - 1] + " " + t[i]);
  return bag;
}

TEST(Descriptions, TheTextAloneDoesNotGiveTheLabelAway) {
  const int kNetworks = 2000, kTrain = 1500;
  const AutoNetSampler sampler(0, DatasetSplit::kTrain);
  const FactReference ref = autonet_fact_reference(0);
  std::vector<std::pair<int, Description>> all;  // (network, description)
  for (int i = 0; i < kNetworks; ++i)
    for (Description& d : describe_graph(sampler.sample(i).graph, ref, 31 * i + 5))
      all.emplace_back(i, std::move(d));

  // Fact kinds, templates, openers and connectors: the same mix in positives and negatives.
  std::map<std::string, double> kinds[2], templates[2];
  std::map<int, double> openers[2], connectors[2];
  std::map<std::string, double> subjects[2][2];  // [truth][has/lacks vs count/kernel] by "kind:cls"
  std::vector<double> params_values[2];
  for (const auto& [i, d] : all) {
    ++openers[d.label][d.opener];
    for (int c : d.connectors) ++connectors[d.label][c];
    for (size_t k = 0; k < d.facts.size(); ++k) {
      const StatedFact& f = d.facts[k];
      ++kinds[d.label][f.kind];
      ++templates[d.label][d.templates[k]];
      if (!f.cls.empty())
        ++subjects[f.holds][f.kind == "has" || f.kind == "lacks"][f.kind + ":" + f.cls + f.kernel];
      if (f.kind == "params") params_values[f.holds].push_back(double(f.value));
    }
  }
  const double tv_kinds = tv_distance(kinds[0], kinds[1]);
  const double tv_templates = tv_distance(templates[0], templates[1]);
  const double tv_openers = tv_distance(openers[0], openers[1]);
  const double tv_connectors = tv_distance(connectors[0], connectors[1]);
  const double tv_presence = tv_distance(subjects[0][1], subjects[1][1]);
  const double tv_other = tv_distance(subjects[0][0], subjects[1][0]);
  std::printf("TV positives/negatives: kinds %.3f templates %.3f openers %.3f connectors %.3f\n",
              tv_kinds, tv_templates, tv_openers, tv_connectors);
  std::printf("TV true/false facts: has/lacks subjects %.3f, count/kernel subjects %.3f\n",
              tv_presence, tv_other);
  EXPECT_LT(tv_kinds, 0.02);
  EXPECT_LT(tv_templates, 0.06);
  EXPECT_LT(tv_openers, 0.04);
  EXPECT_LT(tv_connectors, 0.04);
  EXPECT_LT(tv_presence, 0.08);
  EXPECT_LT(tv_other, 0.08);
  // Wrong parameter counts are distributed like true ones: compare the quartiles.
  for (double q : {0.25, 0.5, 0.75}) {
    auto quantile = [&](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v[static_cast<size_t>(q * (v.size() - 1))];
    };
    const double t = quantile(params_values[1]), f = quantile(params_values[0]);
    EXPECT_LT(std::abs(t - f) / t, 0.15) << "quantile " << q << ": true " << t << " false " << f;
  }

  // A naive Bayes classifier on words and word pairs, trained on 1500 networks' texts, ranks the
  // other 500 networks' texts barely better than chance.
  std::map<std::string, double> df[2];
  double n[2] = {0, 0};
  for (const auto& [i, d] : all) {
    if (i >= kTrain) continue;
    for (const std::string& w : bag_of_words(d.text)) ++df[d.label][w];
    ++n[d.label];
  }
  std::vector<double> scores;
  std::vector<int> labels;
  for (const auto& [i, d] : all) {
    if (i < kTrain) continue;
    double s = 0;
    for (const std::string& w : bag_of_words(d.text)) {
      const double a = df[1].count(w) ? df[1].at(w) : 0, b = df[0].count(w) ? df[0].at(w) : 0;
      if (a + b == 0) continue;
      s += std::log((a + 1) / (n[1] + 2)) - std::log((b + 1) / (n[0] + 2));
    }
    scores.push_back(s);
    labels.push_back(d.label);
  }
  const double a = auc(scores, labels);
  std::printf("bag-of-words naive Bayes AUC on held-out networks: %.3f\n", a);
  EXPECT_LT(a, 0.6);
  EXPECT_GT(a, 0.4);
}

TEST(Descriptions, SameSeedSameBytesAndIndependentOfCount) {
  TempDir tmp;
  const std::string a = make_dataset(tmp, "a", DatasetSplit::kTrain, 30, 9, false);
  const std::string b = make_dataset(tmp, "b", DatasetSplit::kTrain, 30, 9, false);
  const std::string c = make_dataset(tmp, "c", DatasetSplit::kTrain, 30, 10, false);
  const std::string d = make_dataset(tmp, "d", DatasetSplit::kTrain, 20, 9, false);
  const std::string ta = read_file(a + "/texts.jsonl");
  EXPECT_EQ(ta, read_file(b + "/texts.jsonl"));
  EXPECT_EQ(read_file(a + "/manifest.json"), read_file(b + "/manifest.json"));
  EXPECT_NE(ta, read_file(c + "/texts.jsonl"));
  // Network i's texts do not depend on how many networks the split has.
  const std::string td = read_file(d + "/texts.jsonl");
  EXPECT_EQ(ta.substr(0, td.size()), td);
  // The val split draws other texts for its own networks.
  const std::string v = make_dataset(tmp, "v", DatasetSplit::kVal, 30, 9, false);
  EXPECT_NE(ta, read_file(v + "/texts.jsonl"));
}

TEST(Descriptions, FactHoldsRules) {
  GraphStats s;
  s.inventory = {{"Conv2d", 14}, {"ReLU", 3}};
  s.kernels = {{"Conv2d", {"1x7", "3x3"}}};
  auto fact = [](std::string kind, std::string cls, int64_t value, int64_t unit, std::string k) {
    StatedFact f;
    f.kind = std::move(kind);
    f.cls = std::move(cls);
    f.value = value;
    f.unit = unit;
    f.kernel = std::move(k);
    return f;
  };
  EXPECT_TRUE(fact_holds(fact("has", "ReLU", 0, 0, ""), s, 0));
  EXPECT_FALSE(fact_holds(fact("has", "GELU", 0, 0, ""), s, 0));
  EXPECT_TRUE(fact_holds(fact("lacks", "GELU", 0, 0, ""), s, 0));
  EXPECT_TRUE(fact_holds(fact("count", "Conv2d", 14, 0, ""), s, 0));
  EXPECT_FALSE(fact_holds(fact("count", "Conv2d", 13, 0, ""), s, 0));
  EXPECT_TRUE(fact_holds(fact("total", "", 17, 0, ""), s, 0));
  EXPECT_EQ(total_layers(s), 17);
  EXPECT_TRUE(fact_holds(fact("kernel", "Conv2d", 0, 0, "1x7"), s, 0));
  EXPECT_FALSE(fact_holds(fact("kernel", "Conv2d", 0, 0, "7x1"), s, 0));  // both dims matter
  // "about 2.3M": 2,250,000 <= params < 2,350,000.
  const StatedFact about = fact("params", "", 2'300'000, 100'000, "");
  EXPECT_TRUE(fact_holds(about, s, 2'250'000));
  EXPECT_TRUE(fact_holds(about, s, 2'349'999));
  EXPECT_FALSE(fact_holds(about, s, 2'350'000));
  EXPECT_FALSE(fact_holds(about, s, 2'249'999));
  EXPECT_TRUE(fact_holds(fact("params", "", 2'312'456, 1, ""), s, 2'312'456));
  EXPECT_FALSE(fact_holds(fact("params", "", 2'312'456, 1, ""), s, 2'312'457));
  EXPECT_FALSE(fact_holds(fact("bogus", "", 0, 0, ""), s, 0));
}

TEST(Descriptions, ClaimsRoundTripThroughJsonl) {
  TempDir tmp;
  ArSample s;
  s.graph = 2;
  s.text = "It has about 2.3M parameters and 4 GELU layers.";
  s.label = 1;
  s.facts = {"params", "count"};
  StatedFact p;
  p.kind = "params";
  p.value = 2'300'000;
  p.unit = 100'000;
  p.holds = true;
  StatedFact c;
  c.kind = "count";
  c.cls = "GELU";
  c.value = 4;
  c.holds = true;
  c.text = "It has 4 GELU layers.";
  s.claims = {p, c};
  write_jsonl(tmp / "t.jsonl", samples_to_jsonl(std::vector<ArSample>{s}));
  const auto back = read_ar_samples(tmp / "t.jsonl");
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].claims, s.claims);
  EXPECT_EQ(back[0].claims[0].text, "");
  EXPECT_EQ(back[0].claims[1].text, "It has 4 GELU layers.");
  EXPECT_EQ(back[0].facts, s.facts);
}

TEST(Descriptions, NonAutoNetDirectoriesAreRefused) {
  TempDir tmp;
  auto kind_and_message = [](const std::function<void()>& f) -> std::pair<ErrorKind, std::string> {
    try {
      f();
    } catch (const Error& e) {
      return {e.kind(), e.what()};
    }
    return {ErrorKind::kInternal, "no error"};
  };
  auto [k1, m1] = kind_and_message([&] { generate_autonet_texts(tmp / "missing"); });
  EXPECT_EQ(k1, ErrorKind::kBadInput);
  EXPECT_NE(m1.find("missing"), std::string::npos) << m1;

  DatasetManifest m;
  m.generator = "zoo";
  m.split = "train";
  m.counts["graphs"] = 0;
  m.files["graphs"] = "graphs.bin";
  fs::create_directories(tmp / "zoo");
  write_manifest(tmp / "zoo", m);
  auto [k2, m2] = kind_and_message([&] { generate_autonet_texts(tmp / "zoo"); });
  EXPECT_EQ(k2, ErrorKind::kBadInput);
  EXPECT_NE(m2.find("manifest.json"), std::string::npos) << m2;
  EXPECT_NE(m2.find("zoo"), std::string::npos) << m2;

  m.generator = "autonet";
  m.generator_version = kAutoNetGeneratorVersion + 1;
  write_manifest(tmp / "zoo", m);
  auto [k3, m3] = kind_and_message([&] { generate_autonet_texts(tmp / "zoo"); });
  EXPECT_EQ(k3, ErrorKind::kBadInput);
  EXPECT_NE(m3.find("generator version"), std::string::npos) << m3;
}

}  // namespace
}  // namespace archbert
