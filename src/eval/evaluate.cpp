// Evaluation of a checkpoint on a dataset directory (include/archbert/evaluate.h).

#include "archbert/evaluate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>
#include <sstream>
#include <unordered_map>

#include "archbert/dataset.h"
#include "archbert/error.h"

namespace archbert {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// The dataset directory.

struct Dataset {
  std::string dir;
  DatasetManifest manifest;
  bool zoo = false;
};

Dataset open_dataset(const std::string& dir) {
  Dataset d;
  d.dir = dir;
  d.manifest = read_manifest(dir);  // names the directory / manifest on any problem
  const std::string& gen = d.manifest.generator;
  d.zoo = gen == "zoo";
  if (!d.zoo && gen != "autonet" && gen != "autonet-qa")
    throw_bad_input(dir, "a '" + gen + "' dataset; archbert eval reads AutoNet and zoo datasets");
  return d;
}

// DIR/<file of `role`>, which must exist.
std::string dataset_file(const Dataset& d, const std::string& role, const std::string& fallback) {
  const auto it = d.manifest.files.find(role);
  const std::string path =
      (fs::path(d.dir) / (it != d.manifest.files.end() ? it->second : fallback)).string();
  if (!fs::is_regular_file(path))
    throw_bad_input(path, "missing: the " + d.manifest.generator + " dataset " + d.dir +
                              " has no " + role + " file");
  return path;
}

void require_zoo(const Dataset& d, const std::string& task) {
  if (!d.zoo)
    throw_bad_input(d.dir, "an " + d.manifest.generator + " dataset; " + task +
                               " needs a zoo dataset (archbert data zoo)");
}

// The split a zoo evaluation reads.
std::string zoo_split(const EvalOptions& o) {
  const std::string s = o.split.empty() ? "val" : o.split;
  if (s != "train" && s != "val")
    throw Error(ErrorKind::kUsage, "--split must be train or val, not '" + s + "'");
  return s;
}

// An AutoNet directory is one split; a different requested split is a usage error.
std::string autonet_split(const Dataset& d, const EvalOptions& o) {
  if (!o.split.empty() && o.split != d.manifest.split)
    throw Error(ErrorKind::kUsage, d.dir + " is the AutoNet '" + d.manifest.split +
                                       "' split; --split " + o.split + " does not apply");
  return d.manifest.split;
}

// Zoo models.json: name and family of each graph index.
struct ModelName {
  std::string name, family;
};

std::vector<ModelName> read_zoo_models(const Dataset& d, int64_t graphs) {
  const std::string path = dataset_file(d, "models", "models.json");
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::vector<ModelName> out(static_cast<size_t>(graphs));
  try {
    const json j = json::parse(ss.str());
    if (!j.is_array()) throw_bad_input(path, "not a JSON array of models");
    for (const json& e : j) {
      const int64_t i = e.at("index").get<int64_t>();
      if (i < 0 || i >= graphs)
        throw_bad_input(path, "model index " + std::to_string(i) + " outside the " +
                                  std::to_string(graphs) + " graphs");
      out[static_cast<size_t>(i)] = {e.at("name").get<std::string>(),
                                     e.value("family", std::string())};
    }
  } catch (const json::exception& e) {
    throw_bad_input(path, std::string("malformed: ") + e.what());
  }
  return out;
}

template <typename T>
void apply_limit(std::vector<T>& v, int64_t limit) {
  if (limit > 0 && static_cast<int64_t>(v.size()) > limit) v.resize(static_cast<size_t>(limit));
}

void check_graph_index(int64_t g, int64_t count, const std::string& file, size_t sample) {
  if (g < 0 || g >= count)
    throw_bad_input(file, "sample " + std::to_string(sample + 1) + " refers to graph " +
                              std::to_string(g) + ", but graphs.bin has " + std::to_string(count) +
                              " graphs");
}

// ---------------------------------------------------------------------------------------------
// Embeddings, unit-normalised so that a dot product is the cosine.

void normalize(std::vector<float>& v) {
  double n = 0;
  for (float x : v) n += static_cast<double>(x) * x;
  if (n <= 0) return;  // a zero vector stays zero: cosine 0, as cosine_similarity says
  const float inv = static_cast<float>(1.0 / std::sqrt(n));
  for (float& x : v) x *= inv;
}

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

// Embeddings of a set of graphs of the store, keyed by graph index.
struct GraphEmbeddings {
  std::vector<int64_t> indices;  // sorted, distinct
  std::unordered_map<int64_t, size_t> row;
  std::vector<std::vector<float>> vectors;
  const std::vector<float>& operator[](int64_t g) const { return vectors[row.at(g)]; }
};

// Embeds graphs `indices` (sorted, distinct) `batch` at a time, loading each from the store
// once; `visit` sees every loaded graph (names, op sets) before it is dropped.
GraphEmbeddings embed_graph_set(const LoadedModel& m, const GraphStore& store,
                                std::vector<int64_t> indices, int batch,
                                const std::function<void(int64_t, const ArchGraph&)>& visit) {
  GraphEmbeddings e;
  e.indices = std::move(indices);
  e.vectors.reserve(e.indices.size());
  const size_t step = static_cast<size_t>(std::max(1, batch));
  for (size_t start = 0; start < e.indices.size(); start += step) {
    const size_t end = std::min(e.indices.size(), start + step);
    std::vector<ArchGraph> graphs;
    graphs.reserve(end - start);
    for (size_t i = start; i < end; ++i) {
      graphs.push_back(store.get(e.indices[i]));
      if (visit) visit(e.indices[i], graphs.back());
    }
    std::vector<const ArchGraph*> ptrs;
    for (const ArchGraph& g : graphs) ptrs.push_back(&g);
    for (auto& v : m.model.embed_graphs(ptrs, static_cast<int>(step))) {
      normalize(v);
      e.vectors.push_back(std::move(v));
    }
  }
  for (size_t i = 0; i < e.indices.size(); ++i) e.row[e.indices[i]] = i;
  return e;
}

// Distinct texts in first-appearance order and their embeddings.
struct TextEmbeddings {
  std::vector<std::string> texts;
  std::unordered_map<std::string, size_t> row;
  std::vector<std::vector<float>> vectors;
  size_t add(const std::string& t) {
    const auto [it, inserted] = row.emplace(t, texts.size());
    if (inserted) texts.push_back(t);
    return it->second;
  }
};

void embed_text_set(const LoadedModel& m, TextEmbeddings& t, int batch, const std::string& file) {
  const size_t step = static_cast<size_t>(std::max(1, batch));
  t.vectors.reserve(t.texts.size());
  for (size_t start = 0; start < t.texts.size(); start += step) {
    const size_t end = std::min(t.texts.size(), start + step);
    const std::vector<std::string> chunk(t.texts.begin() + static_cast<std::ptrdiff_t>(start),
                                         t.texts.begin() + static_cast<std::ptrdiff_t>(end));
    for (auto& v : m.model.embed_texts(encode_texts(m, chunk, nullptr, file + " text"))) {
      normalize(v);
      t.vectors.push_back(std::move(v));
    }
  }
}

// The statement head's score (ArchBertModel::statement_scores) of each (text, graph) pair,
// texts[pair.first] about store graph pair.second; graphs are loaded `batch` at a time with every
// pair about them.
std::vector<double> statement_pair_scores(const LoadedModel& m, const GraphStore& store,
                                          const std::vector<std::string>& texts,
                                          const std::vector<std::pair<size_t, int64_t>>& pairs,
                                          int batch, const std::string& file) {
  std::map<int64_t, std::vector<size_t>> by_graph;
  for (size_t i = 0; i < pairs.size(); ++i) by_graph[pairs[i].second].push_back(i);
  std::vector<double> out(pairs.size());
  const size_t step = static_cast<size_t>(std::max(1, batch));
  for (auto it = by_graph.begin(); it != by_graph.end();) {
    std::vector<ArchGraph> graphs;
    std::vector<std::string> chunk;
    std::vector<int64_t> text_graph;
    std::vector<size_t> rows;
    for (; it != by_graph.end() && graphs.size() < step; ++it) {
      graphs.push_back(store.get(it->first));
      for (size_t i : it->second) {
        chunk.push_back(texts[pairs[i].first]);
        text_graph.push_back(static_cast<int64_t>(graphs.size()) - 1);
        rows.push_back(i);
      }
    }
    std::vector<const ArchGraph*> ptrs;
    for (const ArchGraph& g : graphs) ptrs.push_back(&g);
    const std::vector<float> sc =
        m.model.statement_scores(encode_texts(m, chunk, nullptr, file + " text"), ptrs, text_graph);
    for (size_t k = 0; k < rows.size(); ++k) out[rows[k]] = sc[k];
  }
  return out;
}

bool has_statement_head(const LoadedModel& m) { return m.model.config().ar_head_layers > 0; }

// Orders the first n graphs of each query's ranking by the statement head's probability of
// (query, graph); ties keep the cosine order. Candidate g is scored against graph_of[g] when
// graph_of is given (the graph-blind control), else against g itself.
void rerank_by_head(const LoadedModel& m, const GraphStore& store,
                    const std::vector<std::string>& queries,
                    std::vector<std::vector<int64_t>>& ranked, const std::vector<int64_t>* graph_of,
                    size_t n, int batch, const std::string& file) {
  std::vector<std::pair<size_t, int64_t>> pairs;
  for (size_t q = 0; q < ranked.size(); ++q)
    for (size_t k = 0; k < std::min(n, ranked[q].size()); ++k) {
      const int64_t g = ranked[q][k];
      pairs.emplace_back(q, graph_of ? (*graph_of)[static_cast<size_t>(g)] : g);
    }
  const std::vector<double> p = statement_pair_scores(m, store, queries, pairs, batch, file);
  size_t at = 0;
  for (auto& list : ranked) {
    const size_t k = std::min(n, list.size());
    std::vector<size_t> idx(k);
    std::iota(idx.begin(), idx.end(), size_t{0});
    std::stable_sort(idx.begin(), idx.end(),
                     [&](size_t a, size_t b) { return p[at + a] > p[at + b]; });
    std::vector<int64_t> head(k);
    for (size_t i = 0; i < k; ++i) head[i] = list[idx[i]];
    std::copy(head.begin(), head.end(), list.begin());
    at += k;
  }
}

std::vector<int64_t> sorted_unique(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// The graph-blind replacement of each used graph: used[perm[position]].
std::unordered_map<int64_t, int64_t> blind_map(const std::vector<int64_t>& used, uint64_t seed) {
  const std::vector<int64_t> perm =
      graph_blind_permutation(static_cast<int64_t>(used.size()), seed);
  std::unordered_map<int64_t, int64_t> out;
  for (size_t i = 0; i < used.size(); ++i) out[used[i]] = used[static_cast<size_t>(perm[i])];
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Names of each graph for the name-matching baseline: models.json on the zoo, else the graph's.
std::vector<std::vector<std::string>> name_variants(const std::vector<ModelName>& models) {
  std::vector<std::vector<std::string>> out;
  out.reserve(models.size());
  for (const ModelName& n : models) out.push_back(architecture_name_variants(n.name, n.family));
  return out;
}

BinaryEvalReport start_report(const std::string& task, const Dataset& d, const std::string& split,
                              const std::string& file) {
  BinaryEvalReport r;
  r.task = task;
  r.data = d.dir;
  r.dataset = d.manifest.generator;
  r.split = split;
  r.file = fs::path(file).filename().string();
  return r;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::vector<int64_t> graph_blind_permutation(int64_t n, uint64_t seed) {
  std::vector<int64_t> p(static_cast<size_t>(std::max<int64_t>(0, n)));
  for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<int64_t>(i);
  uint64_t state = seed ^ 0x6772617068626C64ull;  // "graphbld"
  auto next = [&state] {                          // splitmix64
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  // Sattolo: j < i strictly, so the result is one cycle through every element (no fixed point).
  for (size_t i = p.size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(next() % (i - 1));
    std::swap(p[i - 1], p[j]);
  }
  return p;
}

BinaryEvalReport evaluate_ar(const LoadedModel& m, const std::string& dir, const EvalOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  const Dataset d = open_dataset(dir);
  std::string split, path;
  if (d.zoo) {
    split = zoo_split(o);
    path = dataset_file(d, "texts_" + split, "texts_" + split + ".jsonl");
  } else {
    split = autonet_split(d, o);
    path = dataset_file(d, "texts", "texts.jsonl");
  }
  BinaryEvalReport r = start_report("ar", d, split, path);
  r.score = "cos(J_text, J_graph) >= threshold";
  std::vector<ArSample> samples = read_ar_samples(path);
  if (o.claims) {
    if (d.zoo) throw Error(ErrorKind::kUsage, dir + ": --claims applies to AutoNet texts");
    samples = single_fact_samples(samples);
    if (samples.empty())
      throw_bad_input(path,
                      "no single-fact sentences (texts_version 2 or later: regenerate them "
                      "with `archbert data autonet`)");
    r.file += " (single-fact sentences)";
  }
  apply_limit(samples, o.limit);
  const GraphStore store = open_dataset_graphs(dir);

  std::vector<int64_t> used;
  TextEmbeddings texts;
  std::vector<size_t> text_row;
  std::vector<int> labels;
  for (size_t i = 0; i < samples.size(); ++i) {
    check_graph_index(samples[i].graph, store.size(), path, i);
    used.push_back(samples[i].graph);
    text_row.push_back(texts.add(samples[i].text));
    labels.push_back(samples[i].label != 0);
  }
  used = sorted_unique(std::move(used));

  // Names: the zoo's model and family names, AutoNet's graph names.
  std::vector<ModelName> models;
  if (d.zoo)
    models = read_zoo_models(d, store.size());
  else
    models.resize(static_cast<size_t>(store.size()));
  const GraphEmbeddings graphs =
      embed_graph_set(m, store, used, o.graph_batch, [&](int64_t g, const ArchGraph& graph) {
        if (!d.zoo) models[static_cast<size_t>(g)].name = graph.name;
      });
  // With a statement head the texts' vectors are not read: the head scores the pairs below.
  const bool head = has_statement_head(m);
  if (!head) embed_text_set(m, texts, o.text_batch, path);
  const auto names = name_variants(models);
  const auto blind = blind_map(used, o.seed);

  std::vector<double> score, blind_score;
  std::vector<int> name_match;
  for (size_t i = 0; i < samples.size(); ++i) {
    const int64_t g = samples[i].graph, gb = blind.at(g);
    if (!head) {
      const auto& t = texts.vectors[text_row[i]];
      score.push_back(dot(t, graphs[g]));
      blind_score.push_back(dot(t, graphs[gb]));
    }
    r.graph_blind_changed += gb != g;
    name_match.push_back(
        text_names_architecture(samples[i].text, names[static_cast<size_t>(g)]) ? 1 : 0);
    r.sample_graphs.push_back({g});
    r.sample_lines.push_back(to_jsonl(samples[i]));
  }
  for (const int64_t g : used) r.graph_names[g] = models[static_cast<size_t>(g)].name;
  if (head) {
    // The checkpoint's AR score is its statement head's probability.
    r.score = "statement head probability >= threshold";
    std::vector<std::pair<size_t, int64_t>> pairs, blind_pairs;
    for (size_t i = 0; i < samples.size(); ++i) {
      pairs.push_back({text_row[i], samples[i].graph});
      blind_pairs.push_back({text_row[i], blind.at(samples[i].graph)});
    }
    score = statement_pair_scores(m, store, texts.texts, pairs, o.graph_batch, path);
    blind_score = statement_pair_scores(m, store, texts.texts, blind_pairs, o.graph_batch, path);
  }
  const double tau = o.threshold.value_or(m.ar_threshold);
  r.model = binary_metrics_at(score, labels, tau);
  r.graph_blind = binary_metrics_at(blind_score, labels, tau);
  r.labels = labels;
  r.scores = std::move(score);
  r.graph_blind_scores = std::move(blind_score);
  r.baselines["name_match"] = binary_metrics(labels, name_match);
  r.baselines["name_match"].threshold = 0.5;
  std::map<std::string, std::pair<std::vector<double>, std::vector<int>>> kinds;
  for (size_t i = 0; i < samples.size(); ++i) {
    std::set<std::string> ks;
    for (const StatedFact& f : samples[i].claims)
      if (labels[i] ? f.holds : !f.holds) ks.insert(f.kind);
    if (samples[i].claims.empty()) ks.insert("written");
    for (const std::string& k : ks) {
      kinds[k].first.push_back(r.scores[i]);
      kinds[k].second.push_back(labels[i]);
    }
  }
  for (const auto& [k, sl] : kinds) r.by_fact[k] = binary_metrics_at(sl.first, sl.second, tau);
  r.graphs = static_cast<int64_t>(used.size());
  r.texts = static_cast<int64_t>(texts.texts.size());
  r.seconds = seconds_since(t0);
  return r;
}

namespace {

// What ACD and BACD share: the pairs' graphs, embedded by the model (and the uni-modal model),
// their op sets for Jaccard and their names.
struct PairContext {
  GraphEmbeddings graphs, unimodal;
  std::unordered_map<int64_t, GraphOpSets> op_sets;
  std::unordered_map<int64_t, int64_t> blind;
};

PairContext embed_pairs(const LoadedModel& m, const GraphStore& store, std::vector<int64_t> used,
                        const EvalOptions& o) {
  PairContext c;
  used = sorted_unique(std::move(used));
  c.graphs = embed_graph_set(m, store, used, o.graph_batch, [&](int64_t g, const ArchGraph& graph) {
    c.op_sets[g] = graph_op_sets(graph);
  });
  if (o.unimodal) c.unimodal = embed_graph_set(*o.unimodal, store, used, o.graph_batch, nullptr);
  c.blind = blind_map(used, o.seed);
  return c;
}

}  // namespace

BinaryEvalReport evaluate_acd(const LoadedModel& m, const std::string& dir, const EvalOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  const Dataset d = open_dataset(dir);
  require_zoo(d, "ACD");
  const std::string split = zoo_split(o);
  const std::string path = dataset_file(d, "acd_" + split, "acd_" + split + ".jsonl");
  BinaryEvalReport r = start_report("acd", d, split, path);
  r.score = "cos(J_a, J_b) >= threshold";
  std::vector<AcdPair> pairs = read_acd_pairs(path);
  apply_limit(pairs, o.limit);
  const GraphStore store = open_dataset_graphs(dir);
  std::vector<int64_t> used;
  std::vector<int> labels;
  for (size_t i = 0; i < pairs.size(); ++i) {
    check_graph_index(pairs[i].a, store.size(), path, i);
    check_graph_index(pairs[i].b, store.size(), path, i);
    used.push_back(pairs[i].a);
    used.push_back(pairs[i].b);
    labels.push_back(pairs[i].label != 0);
  }
  const PairContext c = embed_pairs(m, store, used, o);

  std::vector<double> score, blind_score, jaccard, uni;
  const std::vector<ModelName> names = read_zoo_models(d, store.size());
  for (const int64_t g : c.graphs.indices) r.graph_names[g] = names[static_cast<size_t>(g)].name;
  for (const AcdPair& p : pairs) {
    r.sample_graphs.push_back({p.a, p.b});
    r.sample_lines.push_back(to_jsonl(p));
    const int64_t ba = c.blind.at(p.a), bb = c.blind.at(p.b);
    score.push_back(dot(c.graphs[p.a], c.graphs[p.b]));
    blind_score.push_back(dot(c.graphs[ba], c.graphs[bb]));
    r.graph_blind_changed += ba != p.a || bb != p.b;
    jaccard.push_back(acd_jaccard(c.op_sets.at(p.a), c.op_sets.at(p.b)));
    if (o.unimodal) uni.push_back(dot(c.unimodal[p.a], c.unimodal[p.b]));
  }
  const double tau = o.threshold.value_or(m.acd_threshold);
  r.model = binary_metrics_at(score, labels, tau);
  r.graph_blind = binary_metrics_at(blind_score, labels, tau);
  r.labels = labels;
  r.scores = std::move(score);
  r.graph_blind_scores = std::move(blind_score);
  r.baselines["jaccard"] = binary_metrics_at(jaccard, labels, 0.5);
  if (o.unimodal)
    r.baselines["unimodal"] = binary_metrics_at(uni, labels, o.unimodal->acd_threshold);
  r.graphs = static_cast<int64_t>(c.graphs.indices.size());
  r.seconds = seconds_since(t0);
  return r;
}

BinaryEvalReport evaluate_bacd(const LoadedModel& m, const std::string& dir, const EvalOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  const Dataset d = open_dataset(dir);
  require_zoo(d, "BACD");
  const std::string split = zoo_split(o);
  const std::string path = dataset_file(d, "bacd_" + split, "bacd_" + split + ".jsonl");
  BinaryEvalReport r = start_report("bacd", d, split, path);
  r.score =
      "cos(J_text, J_a) >= tau_ar and cos(J_text, J_b) >= tau_ar and cos(J_a, J_b) >= threshold";
  std::vector<BacdQuartet> quartets = read_bacd_quartets(path);
  apply_limit(quartets, o.limit);
  const GraphStore store = open_dataset_graphs(dir);
  std::vector<int64_t> used;
  std::vector<int> labels;
  TextEmbeddings texts;
  std::vector<size_t> text_row;
  for (size_t i = 0; i < quartets.size(); ++i) {
    check_graph_index(quartets[i].a, store.size(), path, i);
    check_graph_index(quartets[i].b, store.size(), path, i);
    used.push_back(quartets[i].a);
    used.push_back(quartets[i].b);
    labels.push_back(quartets[i].label != 0);
    text_row.push_back(texts.add(quartets[i].text));
  }
  const std::vector<ModelName> models = read_zoo_models(d, store.size());  // before the slow part
  const auto names = name_variants(models);
  const PairContext c = embed_pairs(m, store, used, o);

  const double tau = o.threshold.value_or(m.acd_threshold);
  const double tau_ar = m.ar_threshold;
  // The AR score of each quartet's text about a, about b, and about the graph-blind a and b:
  // the statement head's probabilities when the checkpoint has one, else cos(J_text, J_graph).
  std::vector<double> ar_a, ar_b, ar_blind_a, ar_blind_b;
  if (has_statement_head(m)) {
    r.score = "head(text, a) >= tau_ar and head(text, b) >= tau_ar and cos(J_a, J_b) >= threshold";
    std::vector<std::pair<size_t, int64_t>> pa, pb, pba, pbb;
    for (size_t i = 0; i < quartets.size(); ++i) {
      pa.push_back({text_row[i], quartets[i].a});
      pb.push_back({text_row[i], quartets[i].b});
      pba.push_back({text_row[i], c.blind.at(quartets[i].a)});
      pbb.push_back({text_row[i], c.blind.at(quartets[i].b)});
    }
    ar_a = statement_pair_scores(m, store, texts.texts, pa, o.graph_batch, path);
    ar_b = statement_pair_scores(m, store, texts.texts, pb, o.graph_batch, path);
    ar_blind_a = statement_pair_scores(m, store, texts.texts, pba, o.graph_batch, path);
    ar_blind_b = statement_pair_scores(m, store, texts.texts, pbb, o.graph_batch, path);
  } else {
    embed_text_set(m, texts, o.text_batch, path);
    for (size_t i = 0; i < quartets.size(); ++i) {
      const auto& t = texts.vectors[text_row[i]];
      const BacdQuartet& q = quartets[i];
      ar_a.push_back(dot(t, c.graphs[q.a]));
      ar_b.push_back(dot(t, c.graphs[q.b]));
      ar_blind_a.push_back(dot(t, c.graphs[c.blind.at(q.a)]));
      ar_blind_b.push_back(dot(t, c.graphs[c.blind.at(q.b)]));
    }
  }
  // The smallest margin of the three checks; >= 0 exactly when all three pass (the sign of a
  // difference of two finite doubles is exact).
  auto bacd_score = [&](double text_a, double text_b, int64_t a, int64_t b) {
    return std::min({text_a - tau_ar, text_b - tau_ar, dot(c.graphs[a], c.graphs[b]) - tau});
  };
  std::vector<double> score, blind_score, jaccard, uni;
  std::vector<int> jaccard_name;
  for (size_t i = 0; i < quartets.size(); ++i) {
    const BacdQuartet& q = quartets[i];
    r.sample_graphs.push_back({q.a, q.b});
    r.sample_lines.push_back(to_jsonl(q));
    r.graph_names[q.a] = models[static_cast<size_t>(q.a)].name;
    r.graph_names[q.b] = models[static_cast<size_t>(q.b)].name;
    const int64_t ba = c.blind.at(q.a), bb = c.blind.at(q.b);
    score.push_back(bacd_score(ar_a[i], ar_b[i], q.a, q.b));
    blind_score.push_back(bacd_score(ar_blind_a[i], ar_blind_b[i], ba, bb));
    r.graph_blind_changed += ba != q.a || bb != q.b;
    const double j = acd_jaccard(c.op_sets.at(q.a), c.op_sets.at(q.b));
    jaccard.push_back(j);
    jaccard_name.push_back(j >= 0.5 &&
                           text_names_architecture(q.text, names[static_cast<size_t>(q.a)]) &&
                           text_names_architecture(q.text, names[static_cast<size_t>(q.b)]));
    if (o.unimodal) uni.push_back(dot(c.unimodal[q.a], c.unimodal[q.b]));
  }
  r.model = binary_metrics_at(score, labels, 0.0);
  r.graph_blind = binary_metrics_at(blind_score, labels, 0.0);
  r.model.threshold = r.graph_blind.threshold = tau;
  r.ar_threshold = tau_ar;
  char tau_text[64];
  std::snprintf(tau_text, sizeof tau_text, " (tau_ar %.4f)", tau_ar);
  r.score += tau_text;
  r.labels = labels;
  r.scores = std::move(score);
  r.graph_blind_scores = std::move(blind_score);
  r.baselines["jaccard"] = binary_metrics_at(jaccard, labels, 0.5);
  r.baselines["jaccard_name"] = binary_metrics(labels, jaccard_name);
  r.baselines["jaccard_name"].threshold = 0.5;
  if (o.unimodal)
    r.baselines["unimodal"] = binary_metrics_at(uni, labels, o.unimodal->acd_threshold);
  r.graphs = static_cast<int64_t>(c.graphs.indices.size());
  r.texts = static_cast<int64_t>(texts.texts.size());
  r.seconds = seconds_since(t0);
  return r;
}

SearchEvalReport evaluate_search(const LoadedModel& m, const std::string& dir,
                                 const EvalOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  const Dataset d = open_dataset(dir);
  require_zoo(d, "search");
  if (o.rerank > 0 && !has_statement_head(m))
    throw Error(ErrorKind::kUsage, "--rerank needs a checkpoint with a statement head");
  const std::string split = zoo_split(o);
  const std::string train_path = dataset_file(d, "texts_train", "texts_train.jsonl");
  const std::string val_path = dataset_file(d, "texts_val", "texts_val.jsonl");
  const std::string& path = split == "train" ? train_path : val_path;
  SearchEvalReport r;
  r.data = d.dir;
  r.split = split;
  r.file = fs::path(path).filename().string();

  const GraphStore store = open_dataset_graphs(dir);
  r.models = store.size();
  const std::vector<ArSample> train = read_ar_samples(train_path);
  const std::vector<ArSample> val = read_ar_samples(val_path);

  // Relevant set of a text: every graph it is a positive of, in either split, and, for a text
  // stating one computed fact, every graph with that fact as a positive in any wording (the
  // Zoo words each fact in one of several phrasings per model). Not for task claims: their
  // claim is the task group, and "instance segmentation" is not relevant to Faster R-CNN.
  // Popularity: positives per graph in the train split.
  std::unordered_map<std::string, std::vector<int64_t>> relevant;
  std::unordered_map<std::string, std::vector<int64_t>> by_fact;
  std::unordered_map<std::string, std::string> fact_of_text;
  auto fact_key = [](const ArSample& s) {
    if (s.claims.size() != 1 || s.claims[0].kind == "task") return std::string();
    const StatedFact& f = s.claims[0];
    return f.kind + "|" + f.cls + "|" + std::to_string(f.value) + "|" + std::to_string(f.unit) +
           "|" + f.kernel;
  };
  std::vector<int64_t> train_positive_graphs;
  for (const auto* file : {&train, &val}) {
    const std::string& fp = file == &train ? train_path : val_path;
    for (size_t i = 0; i < file->size(); ++i) {
      const ArSample& s = (*file)[i];
      check_graph_index(s.graph, store.size(), fp, i);
      if (s.label == 0) continue;
      relevant[s.text].push_back(s.graph);
      if (const std::string k = fact_key(s); !k.empty()) {
        by_fact[k].push_back(s.graph);
        fact_of_text[s.text] = k;
      }
      if (file == &train) train_positive_graphs.push_back(s.graph);
    }
  }
  // Queries: the distinct positive texts of the split, in file order.
  TextEmbeddings queries;
  for (const ArSample& s : split == "train" ? train : val)
    if (s.label != 0) queries.add(s.text);
  apply_limit(queries.texts, o.limit);
  queries.row.clear();
  for (size_t i = 0; i < queries.texts.size(); ++i) queries.row[queries.texts[i]] = i;

  std::vector<int64_t> all(static_cast<size_t>(store.size()));
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int64_t>(i);
  const auto names = name_variants(read_zoo_models(d, store.size()));  // before the slow part
  const GraphEmbeddings graphs = embed_graph_set(m, store, all, o.graph_batch, nullptr);
  embed_text_set(m, queries, o.text_batch, path);
  const std::vector<int64_t> perm = graph_blind_permutation(store.size(), o.seed);
  const std::vector<int64_t> popular =
      rank_by_score(popularity_scores(train_positive_graphs, store.size()));

  std::vector<std::vector<int64_t>> ranked, ranked_blind, ranked_pop, rel;
  std::vector<char> name_free;
  for (size_t q = 0; q < queries.texts.size(); ++q) {
    const std::string& text = queries.texts[q];
    std::vector<int64_t> relevant_set = relevant.at(text);
    if (const auto f = fact_of_text.find(text); f != fact_of_text.end()) {
      const std::vector<int64_t>& same = by_fact.at(f->second);
      relevant_set.insert(relevant_set.end(), same.begin(), same.end());
    }
    relevant_set = sorted_unique(std::move(relevant_set));
    bool named = false;
    for (int64_t g : relevant_set)
      named = named || text_names_architecture(text, names[static_cast<size_t>(g)]);
    std::vector<double> score(all.size()), blind_score(all.size());
    for (size_t g = 0; g < all.size(); ++g) {
      score[g] = dot(queries.vectors[q], graphs.vectors[g]);
      blind_score[g] = dot(queries.vectors[q], graphs.vectors[static_cast<size_t>(perm[g])]);
    }
    ranked.push_back(rank_by_score(score));
    ranked_blind.push_back(rank_by_score(blind_score));
    ranked_pop.push_back(popular);
    rel.push_back(std::move(relevant_set));
    name_free.push_back(!named);
  }
  auto subset = [&](const std::vector<std::vector<int64_t>>& lists) {
    std::vector<std::vector<int64_t>> a, b;
    for (size_t q = 0; q < lists.size(); ++q)
      if (name_free[q]) {
        a.push_back(lists[q]);
        b.push_back(rel[q]);
      }
    return ranking_metrics(a, b);
  };
  if (o.rerank > 0) {
    r.rerank = o.rerank;
    r.cosine = ranking_metrics(ranked, rel);
    r.cosine_name_free = subset(ranked);
    const size_t n = static_cast<size_t>(o.rerank);
    rerank_by_head(m, store, queries.texts, ranked, nullptr, n, o.graph_batch, path);
    rerank_by_head(m, store, queries.texts, ranked_blind, &perm, n, o.graph_batch, path);
  }
  r.model = ranking_metrics(ranked, rel);
  r.model_name_free = subset(ranked);
  r.graph_blind = ranking_metrics(ranked_blind, rel);
  r.graph_blind_name_free = subset(ranked_blind);
  r.popularity = ranking_metrics(ranked_pop, rel);
  r.popularity_name_free = subset(ranked_pop);
  r.name_free_queries = r.model_name_free.queries;
  r.seconds = seconds_since(t0);
  return r;
}

// ---------------------------------------------------------------------------------------------
// Reports.

namespace {

json binary_json(const BinaryMetrics& b) {
  return json{{"accuracy", b.accuracy()},
              {"f1", b.f1()},
              {"precision", b.precision()},
              {"recall", b.recall()},
              {"threshold", b.threshold},
              {"samples", b.samples()},
              {"positives", b.positives()},
              {"tp", b.tp},
              {"fp", b.fp},
              {"tn", b.tn},
              {"fn", b.fn}};
}

json ranking_json(const RankingMetrics& r) {
  return json{{"recall@1", r.recall_at_1},
              {"recall@5", r.recall_at_5},
              {"recall@10", r.recall_at_10},
              {"mrr", r.mrr},
              {"queries", r.queries}};
}

std::string task_title(const std::string& task) {
  if (task == "ar") return "AR (architectural reasoning)";
  if (task == "acd") return "ACD (architecture clone detection)";
  if (task == "bacd") return "BACD (bi-modal clone detection)";
  return task;
}

std::string binary_row(const std::string& name, const BinaryMetrics& b) {
  char line[160];
  std::snprintf(line, sizeof line, "%-16s %9.4f %10.4f %8.4f %8.4f %10.4f\n", name.c_str(),
                b.accuracy(), b.precision(), b.recall(), b.f1(), b.threshold);
  return line;
}

std::string ranking_row(const std::string& name, const RankingMetrics& r) {
  char line[160];
  std::snprintf(line, sizeof line, "%-20s %8lld %7.4f %7.4f %7.4f %7.4f\n", name.c_str(),
                static_cast<long long>(r.queries), r.recall_at_1, r.recall_at_5, r.recall_at_10,
                r.mrr);
  return line;
}

}  // namespace

std::string eval_report_to_json(const BinaryEvalReport& r, int indent) {
  json j = binary_json(r.model);
  j["task"] = r.task;
  j["data"] = r.data;
  j["dataset"] = r.dataset;
  j["split"] = r.split;
  j["file"] = r.file;
  j["score"] = r.score;
  j["graphs"] = r.graphs;
  j["texts"] = r.texts;
  j["seconds"] = r.seconds;
  if (r.ar_threshold) j["ar_threshold"] = *r.ar_threshold;
  j["graph_blind"] = binary_json(r.graph_blind);
  j["graph_blind"]["changed"] = r.graph_blind_changed;
  j["baselines"] = json::object();
  for (const auto& [name, b] : r.baselines) j["baselines"][name] = binary_json(b);
  if (!r.by_fact.empty()) {
    j["by_fact"] = json::object();
    for (const auto& [kind, b] : r.by_fact) j["by_fact"][kind] = binary_json(b);
  }
  return j.dump(indent) + "\n";
}

std::string eval_scores_to_jsonl(const BinaryEvalReport& r) {
  // BACD's score is the smallest margin of its three checks, positive when >= 0.
  const double tau = r.task == "bacd" ? 0.0 : r.model.threshold;
  std::string out;
  for (size_t i = 0; i < r.scores.size(); ++i) {
    json j = i < r.sample_lines.size() ? json::parse(r.sample_lines[i]) : json::object();
    j["sample"] = i;
    if (i < r.sample_graphs.size()) {
      json names = json::array();
      for (const int64_t g : r.sample_graphs[i]) {
        const auto it = r.graph_names.find(g);
        names.push_back(it == r.graph_names.end() ? std::string() : it->second);
      }
      j["names"] = names;
    }
    const bool decision = r.scores[i] >= tau;
    j["label"] = r.labels[i];  // as read (AutoNet --claims: the fact's truth)
    j["score"] = r.scores[i];
    j["decision"] = decision ? 1 : 0;
    j["correct"] = decision == (r.labels[i] != 0);
    if (i < r.graph_blind_scores.size()) j["graph_blind_score"] = r.graph_blind_scores[i];
    out += j.dump() + "\n";
  }
  return out;
}

std::string eval_report_to_json(const SearchEvalReport& r, int indent) {
  json j = ranking_json(r.model);
  j["task"] = "search";
  j["data"] = r.data;
  j["split"] = r.split;
  j["file"] = r.file;
  j["models"] = r.models;
  j["seconds"] = r.seconds;
  j["name_free"] = ranking_json(r.model_name_free);
  j["graph_blind"] = ranking_json(r.graph_blind);
  j["graph_blind"]["name_free"] = ranking_json(r.graph_blind_name_free);
  j["popularity"] = ranking_json(r.popularity);
  j["popularity"]["name_free"] = ranking_json(r.popularity_name_free);
  if (r.rerank > 0) {
    j["rerank"] = r.rerank;
    j["cosine"] = ranking_json(r.cosine);
    j["cosine"]["name_free"] = ranking_json(r.cosine_name_free);
  }
  return j.dump(indent) + "\n";
}

std::string eval_report_to_text(const BinaryEvalReport& r) {
  std::ostringstream out;
  char head[512];
  std::snprintf(head, sizeof head,
                "%s on %s (%s, %s split, %s)\n%lld samples (%lld positive), %lld graphs, %lld "
                "texts embedded, %.1f s\nscore: %s\n\n",
                task_title(r.task).c_str(), r.data.c_str(), r.dataset.c_str(), r.split.c_str(),
                r.file.c_str(), static_cast<long long>(r.model.samples()),
                static_cast<long long>(r.model.positives()), static_cast<long long>(r.graphs),
                static_cast<long long>(r.texts), r.seconds, r.score.c_str());
  out << head;
  out << "                  accuracy  precision   recall       f1  threshold\n";
  out << binary_row("ArchBERT", r.model);
  out << binary_row("graph-blind", r.graph_blind);
  for (const auto& [name, b] : r.baselines) out << binary_row(name, b);
  if (!r.by_fact.empty()) {
    out << "\nArchBERT by kind of stated fact (positives stating it, negatives where it is "
           "false):\n";
    for (const auto& [kind, b] : r.by_fact) out << binary_row("  " + kind, b);
  }
  return out.str();
}

std::string eval_report_to_text(const SearchEvalReport& r) {
  std::ostringstream out;
  char head[512];
  std::snprintf(
      head, sizeof head,
      "Architecture search on %s (%s split, queries: positive texts of %s)\n%lld "
      "queries (%lld name-free) over %lld models, %.1f s\n\n",
      r.data.c_str(), r.split.c_str(), r.file.c_str(), static_cast<long long>(r.model.queries),
      static_cast<long long>(r.name_free_queries), static_cast<long long>(r.models), r.seconds);
  out << head;
  out << "                      queries     R@1     R@5    R@10     MRR\n";
  out << ranking_row(r.rerank > 0 ? "ArchBERT (rerank)" : "ArchBERT", r.model);
  out << ranking_row("  name-free", r.model_name_free);
  if (r.rerank > 0) {
    out << ranking_row("cosine only", r.cosine);
    out << ranking_row("  name-free", r.cosine_name_free);
  }
  out << ranking_row("graph-blind", r.graph_blind);
  out << ranking_row("  name-free", r.graph_blind_name_free);
  out << ranking_row("popularity", r.popularity);
  out << ranking_row("  name-free", r.popularity_name_free);
  return out.str();
}

}  // namespace archbert
