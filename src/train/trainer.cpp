// Pretraining loop (include/archbert/train.h): data loading, epoch plans, the step (SIM + MAM
// [+ ACD] [+ InfoNCE]), AdamW with warm-up and cosine decay, validation with threshold tuning,
// progress output and atomic checkpoints with resume.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include "archbert/dataset.h"
#include "archbert/error.h"
#include "archbert/graph_io.h"
#include "archbert/metrics.h"
#include "archbert/model_torch.h"
#include "archbert/synonyms.h"
#include "archbert/tokenizer.h"
#include "archbert/train.h"
#include "archbert/word_vectors.h"
#include "archbert/zoo_dataset.h"

namespace archbert {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// One description of one graph (global graph index over every loaded directory).
struct Text {
  int64_t graph = 0;
  int32_t text = 0;  // index into TrainData::texts
  float label = 0;
};

// A source of samples: one dataset directory's train or val part.
struct Source {
  std::string name;  // "autonet:train", "zoo:val", ...
  bool zoo = false;
  std::vector<Text> samples;
  std::vector<Text> claims;  // AutoNet: each stated fact alone, labelled by its truth
  int64_t number_pairs = 0;  // of the claims, --zoo-number-pairs sentences
};

// Everything the loop needs, loaded once.
struct TrainData {
  std::vector<ArchGraph> graphs;          // all graphs of all directories
  std::vector<std::string> texts;         // distinct description strings
  std::vector<std::vector<int32_t>> ids;  // token ids per text (after the tokenizer exists)
  std::vector<Source> train, val;
  std::map<std::pair<int64_t, int64_t>, int> acd_train;  // (a < b) -> label, Zoo graphs
  std::vector<AcdPair> acd_val;                          // global indices
  std::unordered_set<uint64_t> positives;  // pair_key(text, graph) of every true training pair
  std::vector<int64_t> zoo_graphs;         // global indices of the Zoo graphs
  // What was read, per --data directory: its manifest's generator, version, seed, split and
  // counts (the checkpoint's "data"; tools/table2.py compares it between ablation rows).
  nlohmann::json provenance = nlohmann::json::array();
};

uint64_t pair_key(int32_t text, int64_t graph) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(text)) << 32) |
         static_cast<uint64_t>(static_cast<uint32_t>(graph));
}

int32_t intern(TrainData& d, std::unordered_map<std::string, int32_t>& index,
               const std::string& text) {
  auto [it, fresh] = index.emplace(text, static_cast<int32_t>(d.texts.size()));
  if (fresh) d.texts.push_back(text);
  return it->second;
}

std::vector<Text> to_texts(TrainData& d, std::unordered_map<std::string, int32_t>& index,
                           const std::vector<ArSample>& samples, int64_t offset, int64_t graphs,
                           const std::string& file) {
  std::vector<Text> out;
  out.reserve(samples.size());
  for (const ArSample& s : samples) {
    if (s.graph < 0 || s.graph >= graphs)
      throw_bad_input(file, "sample refers to graph " + std::to_string(s.graph) + " of " +
                                std::to_string(graphs));
    out.push_back({offset + s.graph, intern(d, index, s.text), static_cast<float>(s.label)});
  }
  return out;
}

// --zoo-number-pairs: number_pairs (zoo_dataset.h) of every graph of a Zoo directory, as claims.
// A graph whose number facts (as graph_sentences words them) are not among its dataset texts is
// refused: the texts were generated from other graphs or by another version, and the pairs
// could then restate facts the val split holds.
std::vector<ArSample> zoo_number_pairs(const std::vector<ArchGraph>& graphs,
                                       const std::vector<ArSample>& train,
                                       const std::vector<ArSample>& val, uint64_t split_seed,
                                       int wrong, uint64_t seed, const std::string& dir) {
  std::unordered_set<std::string> texts;  // "graph|text" of every positive
  for (const auto* list : {&train, &val})
    for (const ArSample& a : *list)
      if (a.label == 1) texts.insert(std::to_string(a.graph) + "|" + a.text);
  std::vector<ArSample> out;
  for (size_t g = 0; g < graphs.size(); ++g) {
    for (const ZooSentence& z : graph_sentences(graphs[g]))
      if (z.claim && is_number_fact(*z.claim) && !texts.count(std::to_string(g) + "|" + z.text))
        throw_bad_input(dir, "--zoo-number-pairs: graph " + std::to_string(g) + " (" +
                                 graphs[g].name + ") lacks its computed sentence \"" + z.text +
                                 "\" (a Zoo dataset of another version: regenerate it)");
    for (const ZooSentence& z : number_pairs(graphs[g], split_seed, wrong, seed)) {
      ArSample a;
      a.graph = static_cast<int64_t>(g);
      a.text = z.text;
      a.label = z.claim->holds ? 1 : 0;
      a.facts = {z.claim->kind};
      a.claims = {*z.claim};
      out.push_back(std::move(a));
    }
  }
  return out;
}

TrainData load_data(const std::vector<std::string>& dirs, bool claim_texts, int number_pairs = 0,
                    uint64_t seed = 0) {
  TrainData d;
  std::unordered_map<std::string, int32_t> index;
  for (const std::string& dir : dirs) {
    const DatasetManifest m = read_manifest(dir);
    d.provenance.push_back({{"generator", m.generator},
                            {"generator_version", m.generator_version},
                            {"seed", m.seed},
                            {"split", m.split},
                            {"counts", m.counts}});
    const auto path = [&](const std::string& f) { return (fs::path(dir) / f).string(); };
    const int64_t offset = static_cast<int64_t>(d.graphs.size());
    std::vector<ArchGraph> graphs = open_dataset_graphs(dir).load_all();
    const int64_t n = static_cast<int64_t>(graphs.size());
    for (ArchGraph& g : graphs) d.graphs.push_back(std::move(g));
    if (m.generator == "autonet") {
      if (!fs::exists(path("texts.jsonl")))
        throw_bad_input(dir, "AutoNet directory without texts.jsonl (descriptions)");
      const std::vector<ArSample> samples = read_ar_samples(path("texts.jsonl"));
      Source s{"autonet:" + m.split,
               false,
               to_texts(d, index, samples, offset, n, path("texts.jsonl")),
               {}};
      if (m.split != "val" && claim_texts)
        s.claims = to_texts(d, index, single_fact_samples(samples), offset, n, path("texts.jsonl"));
      (m.split == "val" ? d.val : d.train).push_back(std::move(s));
    } else if (m.generator == "zoo") {
      const std::vector<ArSample> val_samples = read_ar_samples(path("texts_val.jsonl"));
      for (const char* split : {"train", "val"}) {
        const std::string f = path(std::string("texts_") + split + ".jsonl");
        const std::vector<ArSample> samples =
            std::string(split) == "val" ? val_samples : read_ar_samples(f);
        Source s{std::string("zoo:") + split, true, to_texts(d, index, samples, offset, n, f), {}};
        if (std::string(split) == "train" && claim_texts) {
          // Computed sentences state one fact each (layer statements, counts, totals, ...):
          // they also come as single-fact sentences, as AutoNet's do.
          std::vector<ArSample> single;
          for (const ArSample& a : samples)
            if (a.claims.size() == 1) single.push_back(a);
          s.claims = to_texts(d, index, single, offset, n, f);
          if (number_pairs > 0) {
            const std::vector<ArchGraph> zoo(d.graphs.begin() + offset, d.graphs.end());
            const std::vector<Text> pairs = to_texts(
                d, index,
                zoo_number_pairs(zoo, samples, val_samples, m.seed, number_pairs, seed, dir),
                offset, n, f);
            s.claims.insert(s.claims.end(), pairs.begin(), pairs.end());
            s.number_pairs = static_cast<int64_t>(pairs.size());
          }
        }
        (std::string(split) == "val" ? d.val : d.train).push_back(std::move(s));
      }
      for (int64_t g = 0; g < n; ++g) d.zoo_graphs.push_back(offset + g);
      for (const AcdPair& p : read_acd_pairs(path("acd_train.jsonl")))
        d.acd_train[{offset + std::min(p.a, p.b), offset + std::max(p.a, p.b)}] = p.label;
      for (AcdPair p : read_acd_pairs(path("acd_val.jsonl"))) {
        p.a += offset;
        p.b += offset;
        d.acd_val.push_back(p);
      }
    } else {
      throw_bad_input(dir, "generator '" + m.generator +
                               "' has no descriptions to pretrain on (use autonet or zoo)");
    }
  }
  if (d.train.empty()) throw Error(ErrorKind::kUsage, "no training split among --data");
  for (const Source& src : d.train)
    for (const std::vector<Text>* list : {&src.samples, &src.claims})
      for (const Text& t : *list)
        if (t.label > 0.5f) d.positives.insert(pair_key(t.text, t.graph));
  return d;
}

// ---------------------------------------------------------------------------------------------
// Epoch plan: units (a graph and some of its descriptions) shuffled into batches.

struct Unit {
  int64_t graph = 0;
  std::vector<Text> texts;
};

std::vector<std::vector<Unit>> plan_epoch(const TrainData& d, const TrainOptions& o, int epoch) {
  std::mt19937_64 rng(o.seed * 1000003 + static_cast<uint64_t>(epoch) * 7919 + 17);
  std::vector<Unit> units;
  for (const Source& src : d.train) {
    std::map<int64_t, std::vector<Text>> by_graph;  // ordered: deterministic
    for (const Text& t : src.samples) by_graph[t.graph].push_back(t);
    std::map<int64_t, std::vector<Text>> claims_of;  // --claim-texts: single-fact sentences
    for (const Text& t : src.claims) claims_of[t.graph].push_back(t);
    for (auto& [g, texts] : by_graph) {
      std::vector<Text>& claims = claims_of[g];
      size_t next_claim = 0;
      // --zoo-repeat: a Zoo model's positives come R times per epoch, each time with a fresh
      // draw of negatives (AutoNet descriptions come once).
      const int repeats = src.zoo ? o.zoo_repeat : 1;
      for (int rep = 0; rep < repeats; ++rep) {
        std::vector<Text> chosen;
        if (src.zoo && o.zoo_negatives >= 0) {
          std::vector<Text> pos, neg;
          for (const Text& t : texts) (t.label > 0.5f ? pos : neg).push_back(t);
          std::shuffle(neg.begin(), neg.end(), rng);
          const size_t keep = std::min(
              neg.size(), std::max<size_t>(1, pos.size()) * static_cast<size_t>(o.zoo_negatives));
          chosen = pos;
          chosen.insert(chosen.end(), neg.begin(), neg.begin() + keep);
        } else {
          chosen = texts;
        }
        std::shuffle(chosen.begin(), chosen.end(), rng);
        if (rep == 0) std::shuffle(claims.begin(), claims.end(), rng);
        for (size_t i = 0; i < chosen.size(); i += o.texts_per_graph) {
          Unit u;
          u.graph = g;
          u.texts.assign(chosen.begin() + i,
                         chosen.begin() + std::min(chosen.size(), i + o.texts_per_graph));
          // Up to --claim-texts single-fact sentences of the graph beside its descriptions.
          for (int k = 0; k < o.claim_texts && next_claim < claims.size(); ++k)
            u.texts.push_back(claims[next_claim++]);
          units.push_back(std::move(u));
        }
      }
    }
  }
  std::shuffle(units.begin(), units.end(), rng);
  std::vector<std::vector<Unit>> batches;
  for (size_t i = 0; i < units.size(); i += o.graphs_per_batch) {
    batches.emplace_back(
        std::make_move_iterator(units.begin() + i),
        std::make_move_iterator(units.begin() + std::min(units.size(), i + o.graphs_per_batch)));
  }
  return batches;
}

// ---------------------------------------------------------------------------------------------
// Validation.

// Validation scores and labels as the metrics want them.
std::vector<double> as_doubles(const std::vector<float>& v) { return {v.begin(), v.end()}; }
std::vector<int> as_labels(const std::vector<float>& y) {
  std::vector<int> out;
  for (float v : y) out.push_back(v > 0.5f);
  return out;
}

// J_g of the given dataset graphs [graphs, d] (eval mode, no autograd: the caller's guard).
torch::Tensor embed_graph_rows(ArchBertNet& net, const TrainData& d,
                               const std::vector<int64_t>& graphs) {
  std::vector<const ArchGraph*> ptrs;
  for (int64_t g : graphs) ptrs.push_back(&d.graphs[g]);
  return net->pooled_graphs(ptrs, 32);
}

// The statement head's probability for every sample (its text about its graph), graphs taken
// 32 at a time with every sample about them.
std::vector<float> head_scores(ArchBertNet& net, const TrainData& d,
                               const std::vector<Text>& samples) {
  std::map<int64_t, std::vector<size_t>> by_graph;
  for (size_t i = 0; i < samples.size(); ++i) by_graph[samples[i].graph].push_back(i);
  std::vector<float> s(samples.size());
  for (auto it = by_graph.begin(); it != by_graph.end();) {
    std::vector<const ArchGraph*> ptrs;
    std::vector<std::vector<int32_t>> ids;
    std::vector<int64_t> text_graph;
    std::vector<size_t> rows;
    for (; it != by_graph.end() && ptrs.size() < 32; ++it) {
      for (size_t i : it->second) {
        ids.push_back(d.ids[samples[i].text]);
        text_graph.push_back(static_cast<int64_t>(ptrs.size()));
        rows.push_back(i);
      }
      ptrs.push_back(&d.graphs[it->first]);
    }
    auto out = net->forward_pairs(make_graph_batch(ptrs, net->config()), ids,
                                  torch::tensor(text_graph), 256);
    auto p = torch::sigmoid(out.ar_logits).contiguous();
    for (size_t k = 0; k < rows.size(); ++k) s[rows[k]] = p.data_ptr<float>()[k];
  }
  return s;
}

// cos(J_t, J_g) of every sample (its text about its graph), each graph embedded once.
std::vector<float> cosine_scores(ArchBertNet& net, const TrainData& d,
                                 const std::vector<Text>& samples) {
  std::vector<int64_t> graphs;
  std::map<int64_t, int64_t> row;
  std::vector<std::vector<int32_t>> ids;
  for (const Text& t : samples) {
    if (row.emplace(t.graph, static_cast<int64_t>(graphs.size())).second) graphs.push_back(t.graph);
    ids.push_back(d.ids[t.text]);
  }
  auto jg = embed_graph_rows(net, d, graphs);
  auto jt = net->pooled_texts(ids, 256);
  std::vector<int64_t> idx;
  for (const Text& t : samples) idx.push_back(row[t.graph]);
  auto cos = torch::cosine_similarity(jt, jg.index_select(0, torch::tensor(idx)), 1, 1e-8);
  return std::vector<float>(cos.data_ptr<float>(), cos.data_ptr<float>() + cos.numel());
}

struct Validation {
  nlohmann::json json;
  double ar_threshold = 0.5, acd_threshold = 0.5;
};

Validation validate(ArchBertNet& net, const TrainData& d, const TrainOptions& o) {
  torch::NoGradGuard no_grad;
  net->eval();
  Validation v;
  std::vector<float> all_s, all_y;
  std::vector<std::pair<std::string, std::pair<std::vector<float>, std::vector<float>>>> per;
  for (const Source& src : d.val) {
    if (o.graph_only) break;  // no text side was trained
    std::vector<Text> samples = src.samples;
    if (o.val_texts > 0 && samples.size() > static_cast<size_t>(o.val_texts)) {
      std::mt19937_64 rng(12345);  // the same subset every epoch
      std::shuffle(samples.begin(), samples.end(), rng);
      samples.resize(o.val_texts);
    }
    const std::vector<float> s =
        net->has_ar_head() ? head_scores(net, d, samples) : cosine_scores(net, d, samples);
    std::vector<float> y;
    for (const Text& t : samples) y.push_back(t.label);
    all_s.insert(all_s.end(), s.begin(), s.end());
    all_y.insert(all_y.end(), y.begin(), y.end());
    per.push_back({src.name, {s, y}});
  }
  if (!all_s.empty()) {
    // One τ for every source (the checkpoint has one), the F1-best on their union.
    const double tau = best_threshold(as_doubles(all_s), as_labels(all_y)).threshold;
    v.ar_threshold = tau;
    for (auto& [name, sy] : per) {
      const BinaryMetrics at = binary_metrics_at(as_doubles(sy.first), as_labels(sy.second), tau);
      const BinaryMetrics half = binary_metrics_at(as_doubles(sy.first), as_labels(sy.second), 0.5);
      v.json["ar"][name] = {{"samples", sy.first.size()},
                            {"accuracy", at.accuracy()},
                            {"f1", at.f1()},
                            {"f1_at_0.5", half.f1()}};
    }
    v.json["ar_threshold"] = tau;
  }
  if (!d.acd_val.empty()) {
    std::vector<int64_t> graphs;
    std::map<int64_t, int64_t> row;
    for (const AcdPair& p : d.acd_val) {
      for (int64_t g : {p.a, p.b})
        if (row.emplace(g, static_cast<int64_t>(graphs.size())).second) graphs.push_back(g);
    }
    auto jg = embed_graph_rows(net, d, graphs);
    std::vector<int64_t> ia, ib;
    std::vector<float> y;
    for (const AcdPair& p : d.acd_val) {
      ia.push_back(row[p.a]);
      ib.push_back(row[p.b]);
      y.push_back(static_cast<float>(p.label));
    }
    auto cos = torch::cosine_similarity(jg.index_select(0, torch::tensor(ia)),
                                        jg.index_select(0, torch::tensor(ib)), 1, 1e-8);
    std::vector<float> s(cos.data_ptr<float>(), cos.data_ptr<float>() + cos.numel());
    const BinaryMetrics t = best_threshold(as_doubles(s), as_labels(y));
    v.acd_threshold = t.threshold;
    v.json["acd"] = {{"pairs", s.size()},
                     {"accuracy", t.accuracy()},
                     {"f1", t.f1()},
                     {"f1_at_0.5", binary_metrics_at(as_doubles(s), as_labels(y), 0.5).f1()}};
    v.json["acd_threshold"] = t.threshold;
  }
  net->train();
  return v;
}

// ---------------------------------------------------------------------------------------------
// Optimizer, schedule, checkpoints.

// A copy of `net` with a new statement head of `layers` layers (drawn from `seed`); every other
// parameter and buffer is the network's own.
ArchBertNet with_statement_head(ArchBertNet& net, int layers, uint64_t seed) {
  ModelConfig config = net->config();
  config.ar_head_layers = layers;
  config.validate("--init network with a statement head");
  torch::manual_seed(seed);
  ArchBertNet out(config);
  torch::NoGradGuard no_grad;
  const auto params = net->named_parameters(true);
  const auto buffers = net->named_buffers(true);
  for (auto& p : out->named_parameters(true))
    if (const torch::Tensor* src = params.find(p.key())) p.value().copy_(*src);
  for (auto& b : out->named_buffers(true))
    if (const torch::Tensor* src = buffers.find(b.key())) b.value().copy_(*src);
  return out;
}

// Parameters of the statement head: named "ar_head.*".
bool is_head_parameter(const std::string& name) { return name.rfind("ar_head.", 0) == 0; }

torch::optim::AdamW make_optimizer(ArchBertNet& net, const TrainOptions& o) {
  std::vector<torch::Tensor> decay, no_decay;
  for (const auto& p : net->named_parameters(true)) {
    if (!p.value().requires_grad()) continue;  // frozen (--head-only)
    // Biases, LayerNorm gains and the learned single vectors are not decayed.
    (p.value().dim() >= 2 ? decay : no_decay).push_back(p.value());
  }
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(
                                 torch::optim::AdamWOptions(o.lr).weight_decay(o.weight_decay)));
  groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamWOptions>(
                                    torch::optim::AdamWOptions(o.lr).weight_decay(0.0)));
  return torch::optim::AdamW(std::move(groups));
}

double lr_at(int64_t step, int64_t total, const TrainOptions& o) {
  const int64_t warm = std::max<int64_t>(1, static_cast<int64_t>(o.warmup * total));
  if (step < warm) return o.lr * (step + 1) / warm;
  const double t =
      std::min(1.0, static_cast<double>(step - warm) / std::max<int64_t>(1, total - warm));
  return o.lr * (o.min_lr_ratio + (1 - o.min_lr_ratio) * 0.5 * (1 + std::cos(M_PI * t)));
}

// The optimizer state beside the checkpoint: OUT.optim (torch archive), written atomically.
void save_optimizer(const std::string& path, torch::optim::AdamW& opt) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  try {
    torch::serialize::OutputArchive ar;
    opt.save(ar);
    ar.save_to(tmp);
    fs::rename(tmp, path);
  } catch (const std::exception& e) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw_bad_input(path, std::string("cannot write optimizer state: ") + e.what());
  }
}
void load_optimizer(const std::string& path, torch::optim::AdamW& opt) {
  if (!fs::exists(path))
    throw_bad_input(path, "optimizer state missing (written beside every checkpoint as .optim)");
  try {
    torch::serialize::InputArchive ar;
    ar.load_from(path);
    opt.load(ar);
  } catch (const std::exception& e) {
    throw_bad_input(path, std::string("unreadable optimizer state: ") + e.what());
  }
}

std::string format_eta(double s) {
  char buf[32];
  const int t = static_cast<int>(std::max(0.0, s));
  std::snprintf(buf, sizeof(buf), "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
  return buf;
}

}  // namespace

TrainReport train_pretrain(const TrainOptions& o) {
  if (o.out.empty()) throw Error(ErrorKind::kUsage, "--out is required");
  if (o.data_dirs.empty()) throw Error(ErrorKind::kUsage, "--data needs at least one directory");
  if (o.graphs_per_batch < 1 || o.texts_per_graph < 1 || o.epochs < 1)
    throw Error(ErrorKind::kUsage, "batch sizes and epochs must be positive");
  if (o.zoo_repeat < 1) throw Error(ErrorKind::kUsage, "--zoo-repeat must be at least 1");
  if (o.text_kernels && !(o.use_summary && o.use_numbers))
    throw Error(ErrorKind::kUsage,
                "--text-kernels needs the summary tokens and number values "
                "(drop --no-summary / --no-numbers)");
  if (o.balanced_summary && !o.use_summary)
    throw Error(ErrorKind::kUsage,
                "--balanced-summary changes the summary tokens: drop --no-summary");
  if (o.balanced_numbers && !o.use_numbers)
    throw Error(ErrorKind::kUsage,
                "--balanced-numbers changes the number values in text: drop --no-numbers");
  if (o.sim_loss != "mse" && o.sim_loss != "bce")
    throw Error(ErrorKind::kUsage, "--sim-loss must be mse or bce, not '" + o.sim_loss + "'");
  if (!(o.sim_temperature > 0))
    throw Error(ErrorKind::kUsage, "--sim-temperature must be positive");
  if (o.inventory_weight < 0)
    throw Error(ErrorKind::kUsage, "--inventory-weight must not be negative");
  if (o.ar_head_weight < 0) throw Error(ErrorKind::kUsage, "--ar-head-weight must not be negative");
  if (o.ar_head_weight > 0 && o.graph_only)
    throw Error(ErrorKind::kUsage, "--graph-only reads no descriptions: drop --ar-head-weight");
  if (o.ar_head_layers < 1 || o.ar_head_layers > 12)
    throw Error(ErrorKind::kUsage, "--ar-head-layers must be in [1, 12]");
  if (o.graph_only && !(o.acd_weight > 0))
    throw Error(ErrorKind::kUsage, "--graph-only learns from the ACD term: give --acd-weight");
  if (o.contrastive_graphs > 0 && !(o.contrastive_weight > 0))
    throw Error(ErrorKind::kUsage,
                "--contrastive-graphs adds candidates to the InfoNCE term: give "
                "--contrastive-weight");
  if (!o.init.empty() && !o.resume.empty())
    throw Error(ErrorKind::kUsage,
                "--init starts a new run from a checkpoint, --resume continues one: give one");
  if (!o.init.empty() && (!o.word_vectors.empty() || !o.config_path.empty()))
    throw Error(ErrorKind::kUsage,
                "--init takes the network and tokenizer from its checkpoint: drop --word-vectors "
                "and --config");
  if (o.head_only) {
    if (!(o.ar_head_weight > 0))
      throw Error(ErrorKind::kUsage,
                  "--head-only trains the statement head: give --ar-head-weight");
    if (o.init.empty() && o.resume.empty())
      throw Error(ErrorKind::kUsage,
                  "--head-only trains a head over a trained network: give --init CKPT");
    if (o.acd_weight > 0 || o.contrastive_weight > 0 || o.inventory_weight > 0)
      throw Error(ErrorKind::kUsage,
                  "--head-only trains the statement head alone: drop --acd-weight, "
                  "--contrastive-weight and --inventory-weight");
  }
  if (o.zoo_number_pairs > 0 && o.claim_texts == 0)
    throw Error(ErrorKind::kUsage,
                "--zoo-number-pairs adds single-fact sentences: give --claim-texts too");
  const auto t_start = Clock::now();
  const bool tty = o.progress && ::isatty(STDERR_FILENO);

  TrainData d = load_data(o.data_dirs, o.claim_texts > 0, o.zoo_number_pairs, o.seed);
  if (o.progress) {
    size_t ntrain = 0, nval = 0, nclaims = 0, npairs = 0;
    for (auto& s : d.train)
      ntrain += s.samples.size(), nclaims += s.claims.size(), npairs += s.number_pairs;
    for (auto& s : d.val) nval += s.samples.size();
    std::fprintf(stderr,
                 "train: %zu graphs, %zu train / %zu val descriptions, %zu single-fact "
                 "sentences (%zu Zoo number pairs), %zu ACD train pairs (%.1f s)\n",
                 d.graphs.size(), ntrain, nval, nclaims, npairs, d.acd_train.size(),
                 seconds_since(t_start));
  }
  if (o.claim_texts > 0 && std::none_of(d.train.begin(), d.train.end(),
                                        [](const Source& s) { return !s.claims.empty(); }))
    throw Error(ErrorKind::kUsage,
                "--claim-texts: no training texts with single-fact sentences among --data "
                "(AutoNet texts_version 2 or later, or a Zoo dataset: regenerate them with "
                "`archbert data autonet` or `archbert data zoo`)");

  // Tokenizer and network: from the checkpoint when resuming, else trained / created here.
  CheckpointMeta meta;
  ArchBertNet net{nullptr};
  Tokenizer tok;
  nlohmann::json state = {{"step", 0}};
  if (!o.resume.empty()) {
    net = load_checkpoint(o.resume, &meta);
    tok = Tokenizer::from_json(meta.tokenizer_json, o.resume + " (tokenizer)");
    if (auto it = meta.extra.find("train_state"); it != meta.extra.end())
      state = nlohmann::json::parse(it->second);
  } else if (!o.init.empty()) {
    CheckpointMeta base;
    net = load_checkpoint(o.init, &base);
    tok = Tokenizer::from_json(base.tokenizer_json, o.init + " (tokenizer)");
    meta.tokenizer_json = base.tokenizer_json;
    // Where the network came from, for the record; τ are tuned again by this run's validation.
    meta.extra["init"] = o.init;
    if (auto it = base.extra.find("recipe"); it != base.extra.end())
      meta.extra["init_recipe"] = it->second;
    for (const char* k : {"ar_threshold", "acd_threshold"})
      if (auto it = base.extra.find(k); it != base.extra.end()) meta.extra[k] = it->second;
    if (o.ar_head_weight > 0 && !net->has_ar_head())
      net = with_statement_head(net, o.ar_head_layers, o.seed);
  } else {
    std::vector<std::string> corpus;
    for (const Source& s : d.train)
      for (const Text& t : s.samples) corpus.push_back(d.texts[t.text]);
    std::sort(corpus.begin(), corpus.end());
    corpus.erase(std::unique(corpus.begin(), corpus.end()), corpus.end());
    TokenizerTrainOptions topt;
    topt.vocab_size = o.tokenizer_vocab;
    topt.max_length = 128;
    WordVectors vectors;
    if (!o.word_vectors.empty()) {
      vectors = load_word_vectors(o.word_vectors, nullptr, 100000);
      for (const std::string& w : vectors.words) {
        if (topt.extra_words.size() >= 20000) break;
        if (!w.empty() &&
            std::all_of(w.begin(), w.end(), [](char c) { return c >= 'a' && c <= 'z'; }))
          topt.extra_words.push_back(w);
      }
      topt.extra_word_weight = 5;
    }
    tok = train_tokenizer(corpus, topt);
    ModelConfig config = o.config_path.empty()
                             ? ModelConfig::from_preset(o.preset)
                             : ModelConfig::from_json(read_file(o.config_path), o.config_path);
    config.text_vocab = tok.size();
    config.text_pad_id = Tokenizer::kPad;
    config.use_shape = config.use_shape && o.use_shape;
    config.use_edges = config.use_edges && o.use_edges;
    config.use_cross = config.use_cross && o.use_cross;
    config.use_summary = config.use_summary && o.use_summary;
    config.use_numbers = config.use_numbers && o.use_numbers;
    config.use_text_kernels = config.use_text_kernels || o.text_kernels;
    config.inventory_head = config.inventory_head || o.inventory_weight > 0;
    if (o.ar_head_weight > 0) config.ar_head_layers = o.ar_head_layers;
    config.balanced_summary = config.balanced_summary || o.balanced_summary;
    config.balanced_numbers = config.balanced_numbers || o.balanced_numbers;
    config.validate(o.config_path.empty() ? "preset " + o.preset : o.config_path);
    torch::manual_seed(o.seed);
    net = ArchBertNet(config);
    net->set_number_roles(number_roles(tok));
    if (!o.word_vectors.empty()) {
      EmbeddingCoverage cov;
      std::vector<float> init =
          initial_embeddings(tok, vectors, static_cast<int>(config.d_model), o.seed, &cov, 1.0f);
      torch::NoGradGuard no_grad;
      net->token_embedding()->weight.copy_(
          torch::from_blob(init.data(), {tok.size(), config.d_model}, torch::kFloat));
      if (o.progress)
        std::fprintf(stderr,
                     "train: token embeddings from word vectors: %d whole words, %d sub-pieces, %d "
                     "random of %d\n",
                     cov.whole_words, cov.sub_pieces, cov.random, cov.vocab);
    }
    meta.tokenizer_json = tok.to_json();
  }
  const ModelConfig& config = net->config();
  const std::string& from = o.resume.empty() ? o.init : o.resume;
  if (o.balanced_summary && !config.balanced_summary)
    throw Error(ErrorKind::kUsage,
                from +
                    ": the checkpoint's summary tokens are not balanced; --balanced-summary needs "
                    "a run started with it");
  if (o.balanced_numbers && !config.balanced_numbers)
    throw Error(ErrorKind::kUsage,
                from +
                    ": the checkpoint's number tokens are not balanced; --balanced-numbers needs "
                    "a run started with it");
  if (o.ar_head_weight > 0 && config.ar_head_layers == 0)
    throw Error(ErrorKind::kUsage,
                from +
                    ": the checkpoint has no statement head; --ar-head-weight needs a run "
                    "started with it");
  if (o.inventory_weight > 0 && !config.inventory_head)
    throw Error(ErrorKind::kUsage,
                from +
                    ": the checkpoint has no inventory head; --inventory-weight needs a "
                    "run started with it");

  // Token ids of every distinct text (paraphrases are re-encoded per step).
  d.ids.resize(d.texts.size());
  for (size_t i = 0; i < d.texts.size(); ++i)
    d.ids[i] = tok.encode(d.texts[i], static_cast<int>(config.max_text_len)).ids;
  SynonymTable synonyms;
  if (o.paraphrase_rate > 0) synonyms = load_wordnet(o.wordnet_dir);

  std::vector<std::pair<int64_t, int64_t>> acd_pos, acd_neg;  // Zoo ACD training pairs
  for (const auto& [ab, label] : d.acd_train) (label ? acd_pos : acd_neg).push_back(ab);

  // --head-only: everything but the statement head stays as it is (no autograd through it).
  if (o.head_only)
    for (auto& p : net->named_parameters(true))
      if (!is_head_parameter(p.key())) p.value().set_requires_grad(false);
  const bool mam = o.use_mam && !o.head_only;  // a frozen encoder reads whole graphs
  auto opt = make_optimizer(net, o);
  if (!o.resume.empty()) load_optimizer(o.resume + ".optim", opt);

  const int64_t steps_per_epoch = static_cast<int64_t>(plan_epoch(d, o, 0).size());
  int64_t total = steps_per_epoch * o.epochs;
  if (o.max_steps > 0) total = std::min(total, o.max_steps);
  int64_t step = state.value("step", int64_t{0});
  if (o.progress)
    std::fprintf(stderr, "train: %s, %lld parameters, %lld steps/epoch, %lld steps%s\n",
                 config.preset.c_str(), static_cast<long long>([&] {
                   int64_t n = 0;
                   for (auto& p : net->parameters()) n += p.numel();
                   return n;
                 }()),
                 static_cast<long long>(steps_per_epoch), static_cast<long long>(total),
                 step ? (" (resuming at " + std::to_string(step) + ")").c_str() : "");

  TrainReport report;
  nlohmann::json history = state.value("history", nlohmann::json::array());
  double ar_tau = 0.5, acd_tau = 0.5;
  if (auto it = meta.extra.find("ar_threshold"); it != meta.extra.end())
    ar_tau = std::stod(it->second);
  if (auto it = meta.extra.find("acd_threshold"); it != meta.extra.end())
    acd_tau = std::stod(it->second);
  std::string last_validation = state.value("validation", std::string());

  auto write_checkpoint = [&](bool final_write) {
    nlohmann::json st = {
        {"step", step}, {"total", total}, {"history", history}, {"validation", last_validation}};
    meta.extra["train_state"] = st.dump();
    meta.extra["ar_threshold"] = std::to_string(ar_tau);
    meta.extra["acd_threshold"] = std::to_string(acd_tau);
    if (!o.recipe.empty() && !meta.extra.count("recipe")) meta.extra["recipe"] = o.recipe;
    if (!meta.extra.count("data")) meta.extra["data"] = d.provenance.dump();
    if (final_write) meta.extra["train_report"] = st.dump();
    save_checkpoint(o.out, net, meta);
    save_optimizer(o.out + ".optim", opt);
  };

  net->train();
  auto window_start = Clock::now();
  int64_t window_samples = 0, window_steps = 0;
  double loss_avg = 0, sim_avg = 0, mam_avg = 0, acd_avg = 0, inv_avg = 0, head_avg = 0;
  const double run_start_step = static_cast<double>(step);
  const auto run_start = Clock::now();

  const int64_t first_step = step;
  while (step < total && !(o.stop_after > 0 && step - first_step >= o.stop_after)) {
    const int epoch = static_cast<int>(step / steps_per_epoch);
    std::vector<std::vector<Unit>> batches = plan_epoch(d, o, epoch);
    for (int64_t b = step % steps_per_epoch;
         b < static_cast<int64_t>(batches.size()) && step < total; ++b) {
      const std::vector<Unit>& units = batches[b];
      std::vector<const ArchGraph*> ptrs;
      std::vector<std::vector<int32_t>> ids;
      std::vector<int64_t> text_graph;
      std::vector<int32_t> text_ids;
      std::vector<float> labels;
      for (size_t u = 0; u < units.size(); ++u) {
        ptrs.push_back(&d.graphs[units[u].graph]);
        for (const Text& t : units[u].texts) {
          if (o.graph_only) break;  // the graph is in the batch; its descriptions are not
          if (o.paraphrase_rate > 0) {
            const uint64_t seed =
                o.seed ^ (static_cast<uint64_t>(step) << 20) ^ static_cast<uint64_t>(t.text);
            ids.push_back(tok.encode(paraphrase(d.texts[t.text], synonyms, seed, o.paraphrase_rate),
                                     static_cast<int>(config.max_text_len))
                              .ids);
          } else {
            ids.push_back(d.ids[t.text]);
          }
          text_graph.push_back(static_cast<int64_t>(u));
          text_ids.push_back(t.text);
          labels.push_back(t.label);
        }
      }
      // Extra Zoo ACD pairs (balanced similar / not similar), drawn deterministically per step;
      // their graphs join the batch (no descriptions) and feed only the ACD term.
      std::vector<std::pair<int64_t, int64_t>> pair_rows;  // rows of the graph batch
      std::vector<float> pair_labels;
      if (o.acd_weight > 0 && o.acd_pairs > 0 && !acd_pos.empty() && !acd_neg.empty()) {
        std::mt19937_64 prng(o.seed * 7777 + static_cast<uint64_t>(step));
        for (int k = 0; k < o.acd_pairs; ++k) {
          const auto& pool = k % 2 ? acd_neg : acd_pos;
          const auto& p = pool[prng() % pool.size()];
          pair_rows.push_back(
              {static_cast<int64_t>(ptrs.size()), static_cast<int64_t>(ptrs.size()) + 1});
          ptrs.push_back(&d.graphs[p.first]);
          ptrs.push_back(&d.graphs[p.second]);
          pair_labels.push_back(k % 2 ? 0.0f : 1.0f);
        }
      }
      // --contrastive-graphs: Zoo graphs that join the batch (no descriptions) as further
      // candidates of the InfoNCE term, so that a Zoo description competes with other real
      // models and not only with the AutoNet graphs of its batch. Drawn per step.
      if (o.contrastive_weight > 0 && o.contrastive_graphs > 0 && !d.zoo_graphs.empty()) {
        std::mt19937_64 crng(o.seed * 9973 + static_cast<uint64_t>(step));
        for (int k = 0; k < o.contrastive_graphs; ++k)
          ptrs.push_back(&d.graphs[d.zoo_graphs[crng() % d.zoo_graphs.size()]]);
      }
      GraphBatch gb = make_graph_batch(ptrs, config);
      auto gen = at::detail::createCPUGenerator(o.seed * 31 + static_cast<uint64_t>(step));
      torch::Tensor targets;
      if (mam) targets = mask_nodes(gb, gen);
      auto tg = torch::tensor(text_graph);
      // Texts in length-sorted chunks of 64: padding to the batch's longest text (up to 96
      // tokens against ~42 on average) nearly doubled a step (bench/README.md).
      PairOutput out = net->forward_pairs(gb, ids, tg, 64);
      auto y = torch::tensor(labels);
      // Graph-only: no descriptions, no L_SIM (a zero that keeps the sum defined).
      auto l_sim = o.graph_only          ? out.graphs.pooled.sum() * 0.0
                   : o.sim_loss == "bce" ? sim_loss_bce(out.cosine, y, o.sim_temperature)
                                         : sim_loss(out.cosine, y);
      auto loss = o.head_only ? torch::zeros({}) : l_sim;  // --head-only: L_SIM is shown only
      torch::Tensor l_mam, l_acd, l_inv, l_head;
      if (o.ar_head_weight > 0 && !o.graph_only) {
        l_head = ar_head_loss(out.ar_logits, y);
        loss = loss + o.ar_head_weight * l_head;
      }
      if (mam) {
        l_mam = mam_loss(out.mam_logits, targets, gb);
        loss = loss + o.mam_weight * l_mam;
      }
      if (o.inventory_weight > 0) {
        l_inv = inventory_loss(net->inventory_logits(out.graphs.pooled), op_presence(ptrs));
        loss = loss + o.inventory_weight * l_inv;
      }
      if (o.acd_weight > 0) {
        // In-batch ACD: every pair of units whose graphs form a Zoo training pair; positives and
        // negatives weighted equally.
        std::vector<int64_t> ia, ib;
        std::vector<float> ya = pair_labels;
        for (auto [a, c] : pair_rows) {
          ia.push_back(a);
          ib.push_back(c);
        }
        for (size_t i = 0; i < units.size(); ++i)
          for (size_t j = i + 1; j < units.size(); ++j) {
            const int64_t a = std::min(units[i].graph, units[j].graph),
                          c = std::max(units[i].graph, units[j].graph);
            auto it = d.acd_train.find({a, c});
            if (it == d.acd_train.end()) continue;
            ia.push_back(static_cast<int64_t>(i));
            ib.push_back(static_cast<int64_t>(j));
            ya.push_back(static_cast<float>(it->second));
          }
        if (!ia.empty()) {
          auto jg = out.graphs.pooled;
          auto cos = torch::cosine_similarity(jg.index_select(0, torch::tensor(ia)),
                                              jg.index_select(0, torch::tensor(ib)), 1, 1e-8);
          auto yt = torch::tensor(ya);
          auto err = (cos - yt).pow(2);
          auto pos = yt.sum(), neg = (1 - yt).sum();
          auto w = torch::where(yt > 0.5, 0.5 / pos.clamp_min(1), 0.5 / neg.clamp_min(1));
          l_acd = (err * w).sum();
          loss = loss + o.acd_weight * l_acd;
        }
      }
      if (o.contrastive_weight > 0) {
        // InfoNCE over true descriptions: each must pick, among every graph of the batch, its
        // own graph or another graph it is a true training pair of.
        std::vector<int64_t> rows;
        for (size_t i = 0; i < labels.size(); ++i)
          if (labels[i] > 0.5f) rows.push_back(static_cast<int64_t>(i));
        if (!rows.empty()) {
          const auto graphs = static_cast<int64_t>(ptrs.size());
          auto positive = torch::zeros({static_cast<int64_t>(rows.size()), graphs}, torch::kBool);
          auto acc = positive.accessor<bool, 2>();
          for (size_t r = 0; r < rows.size(); ++r) {
            const int64_t own = units[static_cast<size_t>(text_graph[rows[r]])].graph;
            for (int64_t g = 0; g < graphs; ++g) {
              const int64_t id = ptrs[g] - d.graphs.data();
              acc[r][g] = id == own || d.positives.count(pair_key(text_ids[rows[r]], id));
            }
          }
          loss = loss + o.contrastive_weight *
                            contrastive_loss(out.texts.pooled.index_select(0, torch::tensor(rows)),
                                             out.graphs.pooled, positive, 0.1);
        }
      }
      opt.zero_grad();
      loss.backward();
      if (o.clip > 0) torch::nn::utils::clip_grad_norm_(net->parameters(), o.clip);
      const double lr = lr_at(step, total, o);
      for (auto& g : opt.param_groups())
        static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
      opt.step();
      ++step;

      const double lv = loss.item<double>();
      if (!std::isfinite(lv))
        throw Error(ErrorKind::kInternal, "training diverged at step " + std::to_string(step) +
                                              " (loss " + std::to_string(lv) + "); lower --lr");
      const double k = window_steps ? 0.9 : 0.0;
      loss_avg = k * loss_avg + (1 - k) * lv;
      sim_avg = k * sim_avg + (1 - k) * l_sim.item<double>();
      if (l_mam.defined()) mam_avg = k * mam_avg + (1 - k) * l_mam.item<double>();
      if (l_acd.defined()) acd_avg = k * acd_avg + (1 - k) * l_acd.item<double>();
      if (l_inv.defined()) inv_avg = k * inv_avg + (1 - k) * l_inv.item<double>();
      if (l_head.defined()) head_avg = k * head_avg + (1 - k) * l_head.item<double>();
      // Throughput in descriptions; a --graph-only run has none, so it counts graphs.
      window_samples += static_cast<int64_t>(o.graph_only ? ptrs.size() : labels.size());
      report.samples += static_cast<int64_t>(labels.size());
      ++window_steps;
      report.last_loss = loss_avg;
      if (o.progress && (tty || step % 20 == 0 || step == total)) {
        const double rate = window_samples / std::max(1e-9, seconds_since(window_start));
        const double per_step = seconds_since(run_start) / std::max(1.0, step - run_start_step);
        const int width = 20, filled = static_cast<int>(width * step / std::max<int64_t>(1, total));
        std::string bar(filled, '#');
        bar.resize(width, '.');
        char inv[64] = "";
        int used = 0;
        if (l_inv.defined()) used = std::snprintf(inv, sizeof inv, " inv %.4f", inv_avg);
        if (l_head.defined()) std::snprintf(inv + used, sizeof inv - used, " head %.4f", head_avg);
        std::fprintf(stderr,
                     "%sepoch %d/%d step %lld/%lld [%s] loss %.4f (sim %.4f mam %.3f acd %.4f%s) "
                     "%.1f %s/s lr %.2e ETA %s%s",
                     tty ? "\r" : "", epoch + 1, o.epochs, static_cast<long long>(step),
                     static_cast<long long>(total), bar.c_str(), loss_avg, sim_avg, mam_avg,
                     acd_avg, inv, rate, o.graph_only ? "graphs" : "samples", lr,
                     format_eta(per_step * (total - step)).c_str(), tty ? "\033[K" : "\n");
        std::fflush(stderr);
        if (!tty || step % 50 == 0) {
          window_start = Clock::now();
          window_samples = 0;
        }
      }
      const bool epoch_end = step % steps_per_epoch == 0 || step == total;
      if (epoch_end) {
        if (tty) std::fprintf(stderr, "\n");
        const auto tv = Clock::now();
        Validation v = validate(net, d, o);
        ar_tau = v.ar_threshold;
        acd_tau = v.acd_threshold;
        v.json["step"] = step;
        v.json["epoch"] = static_cast<double>(step) / steps_per_epoch;
        v.json["loss"] = loss_avg;
        v.json["elapsed_s"] = seconds_since(t_start);
        last_validation = v.json.dump();
        history.push_back(v.json);
        if (o.progress)
          std::fprintf(stderr, "validation (%.0f s): %s\n", seconds_since(tv),
                       last_validation.c_str());
        write_checkpoint(step == total);
      } else if (o.stop_after > 0 && step - first_step >= o.stop_after) {
        write_checkpoint(false);
      } else if (o.save_every > 0 && step % o.save_every == 0) {
        write_checkpoint(false);
      }
      if (o.stop_after > 0 && step - first_step >= o.stop_after) break;
    }
  }
  report.steps = step;
  report.seconds = seconds_since(t_start);
  report.ar_threshold = ar_tau;
  report.acd_threshold = acd_tau;
  report.validation_json = last_validation;
  return report;
}

}  // namespace archbert
