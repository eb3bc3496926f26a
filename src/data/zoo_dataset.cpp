// The Zoo dataset generator (zoo_dataset.h, docs/datasets.md "Zoo"): reads the zoo and its
// descriptions, draws negatives, splits by sentence and writes AR, ACD and BACD samples.
#include "archbert/zoo_dataset.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "archbert/error.h"
#include "archbert/graph_io.h"
#include "archbert/importer.h"
#include "archbert/zoo.h"
#include "data/rng.h"

namespace archbert {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json read_json(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw_bad_input(path, "missing");
  json j = json::parse(read_file(path), nullptr, false);
  if (j.is_discarded()) throw_bad_input(path, "not valid JSON");
  return j;
}

std::string hub_file_name(std::string id) {
  for (size_t p; (p = id.find('/')) != std::string::npos;) id.replace(p, 1, "--");
  return id;
}

// A list of sentences of entry `entry` of file `path`.
std::vector<std::string> sentences_of(const json& j, const std::string& path,
                                      const std::string& entry) {
  const std::string where = path + ": \"" + entry + "\"";
  if (!j.is_object() || !j.contains("sentences") || !j["sentences"].is_array())
    throw_bad_input(where, "needs a \"sentences\" array");
  std::vector<std::string> out;
  for (const json& s : j["sentences"]) {
    if (!s.is_string() || normalize_sentence(s.get<std::string>()).empty())
      throw_bad_input(where, "has a sentence that is not a non-empty string");
    out.push_back(s.get<std::string>());
  }
  return out;
}

std::string string_field(const json& j, const char* key, const std::string& where) {
  if (!j.contains(key)) return "";
  if (!j[key].is_string()) throw_bad_input(where, std::string("\"") + key + "\" is not a string");
  return j[key].get<std::string>();
}

// A zoo model before its sentences are attached.
struct ZooSource {
  std::string name, family, path;
  bool tv = false;
  int64_t macs = -1;       // tv: manifest "macs", -1 when absent
  std::string macs_input;  // tv: macs_input_phrase of the manifest entry
};

// The input a tv model's MACs were counted on (tools/export_torchvision_zoo.py --macs-only), as a
// noun phrase, from the manifest's macs_input (shapes of the forward arguments) and
// macs_network_input (detection: the resized batch the backbone sees): "224x224 image",
// "320x320 image (resized to 800x800 by the model)", "16-frame 112x112 clip", "pair of 128x128
// frames". Empty when the shapes are not ones of these.
std::string macs_input_phrase(const json& e) {
  auto dims = [](const json& s, std::vector<int64_t>& out) {
    if (!s.is_array()) return false;
    for (const json& d : s) {
      if (!d.is_number_integer()) return false;
      out.push_back(d.get<int64_t>());
    }
    return out.size() >= 3;
  };
  auto hw = [](const std::vector<int64_t>& s) {
    return std::to_string(s[s.size() - 2]) + "x" + std::to_string(s.back());
  };
  if (!e.contains("macs_input") || !e["macs_input"].is_array()) return "";
  const json& in = e["macs_input"];
  std::vector<int64_t> s;
  if (in.empty() || in.size() > 2 || !dims(in[0], s)) return "";
  if (in.size() == 2) return "pair of " + hw(s) + " frames";                     // (1, 3, H, W) x 2
  if (s.size() == 5) return std::to_string(s[2]) + "-frame " + hw(s) + " clip";  // (1, 3, T, H, W)
  std::string out = hw(s) + " image";  // (1, 3, H, W) or, detection, (3, H, W)
  std::vector<int64_t> net;
  if (e.contains("macs_network_input") && dims(e["macs_network_input"], net) && hw(net) != hw(s))
    out += " (resized to " + hw(net) + " by the model)";
  return out;
}

bool is_flops_claim(const ZooSentence& s) {
  return s.claim && (s.claim->kind == "macs" || s.claim->kind == "flops_per_token");
}

std::vector<ZooSource> list_zoo(const std::string& data) {
  std::vector<ZooSource> out;
  const std::string tv = data + "/zoo/tv";
  std::error_code ec;
  if (fs::exists(tv + "/manifest.json", ec)) {
    const json m = read_json(tv + "/manifest.json");
    if (!m.is_object()) throw_bad_input(tv + "/manifest.json", "not a JSON object");
    for (const auto& [name, e] : m.items()) {
      const std::string path = tv + "/" + name + ".json.gz";
      if (!fs::exists(path, ec)) continue;  // exported but not converted: not in the zoo
      ZooSource z{"tv:" + name, e.is_object() ? e.value("family", "") : "", path, true, -1, ""};
      if (e.is_object() && e.contains("macs")) {
        if (!e["macs"].is_number_integer() || e["macs"].get<int64_t>() <= 0)
          throw_bad_input(tv + "/manifest.json: \"" + name + "\"",
                          "\"macs\" is not a positive integer");
        z.macs_input = macs_input_phrase(e);
        if (z.macs_input.empty())
          throw_bad_input(tv + "/manifest.json: \"" + name + "\"",
                          "\"macs\" without a known \"macs_input\"");
        z.macs = e["macs"].get<int64_t>();
      }
      out.push_back(std::move(z));
    }
  }
  const std::string hf = data + "/zoo/hf";
  if (fs::exists(hf + "/index.json", ec)) {
    json index = read_json(hf + "/index.json");
    if (index.is_object() && index.contains("models")) index = index["models"];
    if (!index.is_array()) throw_bad_input(hf + "/index.json", "not a list of models");
    for (const json& m : index) {
      if (!m.is_object() || !m.contains("name") || !m["name"].is_string())
        throw_bad_input(hf + "/index.json", "an entry without a \"name\"");
      const std::string id = m["name"].get<std::string>();
      out.push_back({"hf:" + id, m.value("family", ""), hf + "/" + hub_file_name(id) + ".json",
                     false, -1, ""});
    }
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return out;
}

// Adds `text` to `out` unless its normalised form is already there.
void add_unique(std::vector<ZooSentence>& out, ZooSentence s) {
  const std::string n = normalize_sentence(s.text);
  for (const ZooSentence& o : out)
    if (normalize_sentence(o.text) == n) return;
  out.push_back(std::move(s));
}

bool is_layer_statement(const ZooSentence& s) { return s.claim && is_layer_statement(*s.claim); }

// The graph's layer statements: the true ones join its positives, the false ones its
// layer_negatives (unless a positive has the same text). A BN-folded variant (an ONNX export)
// keeps only those whose truth is the same on its model's graph (TorchScript): the exports differ
// in batch normalization and dropout (dropped by the inference export) and in a few ops an
// export rewrites, and a statement should be about the network, not about how it was exported.
void add_layer_statements(ZooModel& m, const ArchGraph* model_graph = nullptr) {
  for (ZooSentence& s : layer_statements(m.graph)) {
    if (model_graph && zoo_fact_holds(*s.claim, *model_graph) != s.claim->holds) continue;
    if (s.claim->holds) {
      add_unique(m.positives, std::move(s));
      continue;
    }
    const std::string n = normalize_sentence(s.text);
    if (std::none_of(m.positives.begin(), m.positives.end(),
                     [&](const ZooSentence& p) { return normalize_sentence(p.text) == n; }))
      add_unique(m.layer_negatives, std::move(s));
  }
}

uint64_t name_seed(uint64_t seed, const std::string& purpose, const std::string& name) {
  return data::mix(data::mix(data::mix(0x5A6F6F4461746131ull, seed), data::tag_hash(purpose)),
                   data::tag_hash(name));
}

// Quantile q of sorted values.
double quantile(const std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

std::string fixed(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", x);
  return buf;
}

}  // namespace

ZooCorpus load_zoo_corpus(const std::string& data_dir_in) {
  const std::string data = data_dir_in.empty() ? data_dir() : data_dir_in;
  const std::string fam_path = data + "/zoo/descriptions/families.json";
  const std::string mod_path = data + "/zoo/descriptions/models.json";
  ZooCorpus corpus;
  corpus.families_json = read_file(fam_path);
  json fam = json::parse(corpus.families_json, nullptr, false);
  if (fam.is_discarded()) throw_bad_input(fam_path, "not valid JSON");
  if (!fam.is_object() || !fam.contains("families") || !fam["families"].is_object())
    throw_bad_input(fam_path, "needs a \"families\" object");
  // Task groups: group -> its tasks. A task claim is judged by group (zoo_fact_holds).
  std::map<std::string, std::string> group_of_task;
  if (fam.contains("task_groups")) {
    const json& tg = fam["task_groups"];
    if (!tg.is_object()) throw_bad_input(fam_path, "\"task_groups\" is not an object");
    for (const auto& [group, tasks] : tg.items()) {
      if (!tasks.is_array())
        throw_bad_input(fam_path + ": task group \"" + group + "\"", "needs an array of tasks");
      for (const json& t : tasks) {
        if (!t.is_string() || t.get<std::string>().empty())
          throw_bad_input(fam_path + ": task group \"" + group + "\"",
                          "has a task that is not a non-empty string");
        const auto [it, inserted] = group_of_task.emplace(t.get<std::string>(), group);
        if (!inserted)
          throw_bad_input(fam_path + ": task \"" + t.get<std::string>() + "\"",
                          it->second == group ? "is listed twice in task group \"" + group + "\""
                                              : "is in more than one task group (\"" + it->second +
                                                    "\" and \"" + group + "\")");
      }
    }
  }
  fam = fam["families"];
  const json mod_all = read_json(mod_path);
  if (!mod_all.is_object() || !mod_all.contains("models") || !mod_all["models"].is_object())
    throw_bad_input(mod_path, "needs a \"models\" object");
  const json& mods = mod_all["models"];

  // Family sentences and base designs.
  std::map<std::string, std::vector<std::string>> family_sentences;
  std::map<std::string, std::string> base_design, task, modality;
  std::map<std::string, std::vector<std::string>> also_groups;
  std::set<std::string> groups;
  for (const auto& [t, g] : group_of_task) groups.insert(g);
  for (const auto& [name, f] : fam.items()) {
    const std::string where = fam_path + ": \"" + name + "\"";
    family_sentences[name] = sentences_of(f, fam_path, name);
    base_design[name] = string_field(f, "base_design", where);
    task[name] = string_field(f, "task", where);
    modality[name] = string_field(f, "modality", where);
    if (!task[name].empty() && !group_of_task.count(task[name]))
      throw_bad_input(where, "has task \"" + task[name] + "\", which no task group lists");
    // A typo would make every sentence of the real modality a negative of the family.
    if (!modality[name].empty() && modality[name] != "vision" && modality[name] != "text" &&
        modality[name] != "speech")
      throw_bad_input(where,
                      "has modality \"" + modality[name] + "\" (known: vision, text, speech)");
    if (f.contains("also_task_groups")) {
      const json& also = f["also_task_groups"];
      if (!also.is_array()) throw_bad_input(where, "\"also_task_groups\" is not an array");
      for (const json& g : also) {
        if (!g.is_string() || !groups.count(g.get<std::string>()))
          throw_bad_input(where,
                          "\"also_task_groups\" names " + g.dump() + ", which is not a task group");
        also_groups[name].push_back(g.get<std::string>());
      }
    }
  }

  const std::vector<ZooSource> zoo = list_zoo(data);
  std::set<std::string> in_zoo;
  for (const ZooSource& z : zoo) in_zoo.insert(z.name);
  for (const auto& [name, m] : mods.items())
    if (!in_zoo.count(name)) {
      const std::string graph = data + "/zoo/tv/" + name.substr(3) + ".json.gz";
      throw_bad_input(mod_path + ": \"" + name + "\"",
                      name.rfind("tv:", 0) == 0
                          ? "describes a model whose graph " + graph + " is missing"
                          : "describes a model absent from " + data + "/zoo/hf/index.json");
    }

  const auto hf = make_huggingface_importer();
  for (const ZooSource& z : zoo) {
    ZooModel m;
    m.name = z.name;
    m.family = z.family;
    std::vector<std::string> own;
    if (mods.contains(z.name)) {
      const json& e = mods[z.name];
      const std::string where = mod_path + ": \"" + z.name + "\"";
      own = sentences_of(e, mod_path, z.name);
      const std::string f = string_field(e, "family", where);
      if (!f.empty()) m.family = f;
    } else {
      ++corpus.models_without_sentences;
    }
    if (m.family.empty() || !family_sentences.count(m.family))
      throw_bad_input(fam_path, "has no family \"" + m.family + "\" for zoo model " + z.name);
    m.base_design = base_design[m.family];
    m.task = task[m.family];
    m.task_group = m.task.empty() ? "" : group_of_task[m.task];
    m.other_task_groups = also_groups[m.family];
    m.modality = modality[m.family];
    if (z.tv) {
      m.graph = graph_from_json(read_file(z.path), z.path);
      m.graph.name = z.name.substr(3);
    } else {
      m.graph = hf->import(z.path, {});
      m.graph.name = z.name.substr(3);
    }
    for (const std::string& s : family_sentences[m.family])
      add_unique(m.positives, {s, "family", {}});
    for (const std::string& s : own) add_unique(m.positives, {s, "model", {}});
    std::vector<ZooSentence> descriptive = m.positives;
    for (ZooSentence& s : graph_sentences(m.graph)) add_unique(m.positives, std::move(s));
    add_layer_statements(m);
    for (ZooSentence& s : purpose_sentences(m.name, m.task, m.task_group, m.modality))
      add_unique(m.positives, std::move(s));
    if (z.macs > 0) {
      m.macs = z.macs;
      m.macs_input = z.macs_input;
      add_unique(m.positives, macs_sentence(m.macs, m.macs_input, data::tag_hash(z.name)));
    }
    corpus.models.push_back(std::move(m));

    // The BN-folded variant: the same descriptive texts, its own computed ones.
    std::error_code ec;
    const std::string folded = z.path.substr(0, z.path.size() - 8) + ".folded.json.gz";
    if (z.tv && fs::exists(folded, ec)) {
      const ZooModel& base = corpus.models.back();
      ZooModel f;
      f.name = z.name + ".folded";
      f.variant_of = z.name;
      f.family = base.family;
      f.base_design = base.base_design;
      f.task = base.task;
      f.task_group = base.task_group;
      f.other_task_groups = base.other_task_groups;
      f.modality = base.modality;
      f.graph = graph_from_json(read_file(folded), folded);
      f.graph.name = f.name.substr(3);
      f.positives = descriptive;
      // "Its batch normalisation has been folded ..." only when the model has some to fold.
      const bool had_bn = base.graph.stats().ops.count("bn") > 0;
      for (ZooSentence& s : graph_sentences(f.graph))
        if (had_bn || !s.claim || s.claim->kind != "bn_folded")
          add_unique(f.positives, std::move(s));
      add_layer_statements(f, &base.graph);
      // The same purpose, worded as for its model.
      for (ZooSentence& s : purpose_sentences(z.name, f.task, f.task_group, f.modality))
        add_unique(f.positives, std::move(s));
      // Folding BatchNorm changes no convolution or linear layer: the same count and sentence.
      if (z.macs > 0) {
        f.macs = z.macs;
        f.macs_input = z.macs_input;
        add_unique(f.positives, macs_sentence(f.macs, f.macs_input, data::tag_hash(z.name)));
      }
      corpus.models.push_back(std::move(f));
    }
  }
  if (corpus.models.empty()) throw_bad_input(data + "/zoo", "the zoo is empty");
  for (const ZooModel& m : corpus.models)
    corpus.models_without_flops +=
        std::none_of(m.positives.begin(), m.positives.end(), is_flops_claim);
  return corpus;
}

ZooDatasetReport generate_zoo_dataset(const ZooDatasetOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  if (opt.out_dir.empty()) throw Error(ErrorKind::kUsage, "zoo dataset: no output directory");
  const ZooCorpus corpus = load_zoo_corpus(opt.data_dir);
  const std::vector<ZooModel>& models = corpus.models;
  const size_t n = models.size();
  ZooDatasetReport report;
  report.graphs = static_cast<int64_t>(n);
  report.models_without_flops = corpus.models_without_flops;

  // The corpus of distinct positive texts (the IDF documents) and each model's positive vectors.
  std::vector<std::string> documents;
  std::map<std::string, size_t> doc_of;  // normalised text -> document
  std::vector<std::set<std::string>> pos_norm(n);
  for (size_t i = 0; i < n; ++i) {
    report.folded += !models[i].variant_of.empty();
    for (const ZooSentence& s : models[i].positives) {
      const std::string k = normalize_sentence(s.text);
      pos_norm[i].insert(k);
      if (doc_of.emplace(k, documents.size()).second) documents.push_back(s.text);
    }
  }
  const TfidfSimilarity sim(documents);
  std::vector<TfidfSimilarity::Vector> doc_vec;
  for (const std::string& d : documents) doc_vec.push_back(sim.vector(d));
  std::set<std::string> families;
  for (const ZooModel& m : models) families.insert(m.family);
  report.families = static_cast<int64_t>(families.size());

  // AR samples: positives, then negatives drawn from dissimilar models' positives.
  std::string texts[2];
  auto emit_ar = [&](size_t graph, const ZooSentence& s, int label) {
    ArSample a;
    a.graph = static_cast<int64_t>(graph);
    a.text = s.text;
    a.label = label;
    if (s.claim) {
      StatedFact f = *s.claim;
      f.holds = label == 1;
      a.facts.push_back(f.kind);
      a.claims.push_back(f);
    }
    const int sp = zoo_text_split(s.text, opt.seed) == DatasetSplit::kTrain ? 0 : 1;
    texts[sp] += to_jsonl(a);
    ++(sp == 0 ? report.texts_train : report.texts_val);
  };
  // Every model's negatives, kept for BACD's unrelated texts.
  std::vector<std::vector<const ZooSentence*>> negatives(n);
  for (size_t i = 0; i < n; ++i) {
    const ZooModel& m = models[i];
    for (const ZooSentence& s : m.positives) emit_ar(i, s, 1);
    report.positives += static_cast<int64_t>(m.positives.size());
    report.flops_sentences += std::count_if(m.positives.begin(), m.positives.end(), is_flops_claim);
    // Candidates: positives of models of another family and base design, each text once, in a
    // fixed order, then shuffled by the model's own stream.
    // A text that is a positive of a similar model (a shared computed sentence, a family
    // sentence) is never a negative, even when it happens to be false of this one.
    std::vector<const ZooSentence*> pool;
    std::set<std::string> seen;
    for (size_t j = 0; j < n; ++j)
      if (zoo_models_similar(m, models[j])) seen.insert(pos_norm[j].begin(), pos_norm[j].end());
    for (size_t j = 0; j < n; ++j) {
      if (zoo_models_similar(m, models[j])) continue;
      for (const ZooSentence& s : models[j].positives) {
        const std::string k = normalize_sentence(s.text);
        // Layer statements are negatives of their own graph only (add_layer_statements).
        if (is_layer_statement(s) || pos_norm[i].count(k) || !seen.insert(k).second) continue;
        pool.push_back(&s);
      }
    }
    data::Rng rng(name_seed(opt.seed, "negatives", m.name));
    rng.shuffle(pool);
    std::vector<const TfidfSimilarity::Vector*> mine;
    for (const ZooSentence& s : m.positives)
      mine.push_back(&doc_vec[doc_of.at(normalize_sentence(s.text))]);
    const size_t want = m.positives.size() * static_cast<size_t>(opt.negatives_per_positive);
    for (const ZooSentence* c : pool) {
      if (negatives[i].size() >= want) break;
      ++report.candidates;
      if (c->claim) {
        // A computed sentence: its truth is checked exactly, so a same-template sentence with
        // another number ("about 560 million parameters") is a fair, hard negative.
        if (!zoo_fact_clearly_false(*c->claim, m)) {
          ++report.rejected_true;
          continue;
        }
        ++report.negatives_with_claim;
      } else {
        // A written sentence: nothing checks it, so it must not paraphrase any positive.
        const auto& cv = doc_vec[doc_of.at(normalize_sentence(c->text))];
        double best = 0;
        for (const auto* p : mine) best = std::max(best, TfidfSimilarity::cosine(cv, *p));
        report.best_similarity.push_back(best);
        if (best >= opt.similarity_threshold) {
          ++report.rejected_similar;
          continue;
        }
      }
      negatives[i].push_back(c);
    }
    for (const ZooSentence* c : negatives[i]) emit_ar(i, *c, 0);
    report.negatives += static_cast<int64_t>(negatives[i].size());
    // The graph's false layer statements: the same words are positives of models that have
    // the layer, so these are what makes them a lookup.
    for (const ZooSentence& s : m.layer_negatives) emit_ar(i, s, 0);
    report.negatives += static_cast<int64_t>(m.layer_negatives.size());
    report.layer_negatives += static_cast<int64_t>(m.layer_negatives.size());
  }
  std::sort(report.best_similarity.begin(), report.best_similarity.end());

  // ACD: every unordered pair, split by a hash of the two names.
  std::string acd[2];
  std::vector<std::pair<size_t, size_t>> similar_pairs, dissimilar_pairs;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j) {
      AcdPair p{static_cast<int64_t>(i), static_cast<int64_t>(j),
                zoo_models_similar(models[i], models[j]) ? 1 : 0};
      (p.label ? similar_pairs : dissimilar_pairs).push_back({i, j});
      const int sp =
          name_seed(opt.seed, "acd", models[i].name + "|" + models[j].name) % 100 < 80 ? 0 : 1;
      acd[sp] += to_jsonl(p);
      ++(sp == 0 ? report.acd_train : report.acd_val);
      report.acd_positive += p.label;
    }

  // BACD quartets.
  std::string bacd[2];
  std::set<std::tuple<size_t, size_t, std::string>> quartets;
  auto emit_q = [&](size_t a, size_t b, const std::string& text, int label) {
    if (!quartets.insert({a, b, normalize_sentence(text)}).second) return false;
    const int sp = zoo_text_split(text, opt.seed) == DatasetSplit::kTrain ? 0 : 1;
    bacd[sp] +=
        to_jsonl(BacdQuartet{static_cast<int64_t>(a), static_cast<int64_t>(b), text, label});
    ++(sp == 0 ? report.bacd_train : report.bacd_val);
    report.bacd_positive += label;
    return true;
  };
  // false_of(s, k): s may be stated as false of model k: not one of its positives; a computed
  // sentence clearly false of its graph; a written one paraphrasing none of its positives (the
  // AR negatives' rule: "It was trained on the Pile." is not false of a sibling described as
  // "trained on the Pile for 380 billion tokens").
  auto false_of = [&](const ZooSentence& s, size_t k) {
    const std::string key = normalize_sentence(s.text);
    if (pos_norm[k].count(key)) return false;
    if (s.claim) return zoo_fact_clearly_false(*s.claim, models[k]);
    const auto& v = doc_vec[doc_of.at(key)];
    for (const ZooSentence& p : models[k].positives)
      if (TfidfSimilarity::cosine(v, doc_vec[doc_of.at(normalize_sentence(p.text))]) >=
          opt.similarity_threshold)
        return false;
    return true;
  };
  // Texts of one model false of another: its model and computed sentences (family sentences of
  // a similar pair may hold for both designs) for which false_of holds.
  auto false_of_other = [&](size_t from, size_t other) {
    std::vector<const ZooSentence*> out;
    for (const ZooSentence& s : models[from].positives)
      if (s.source != "family" && !is_layer_statement(s) && false_of(s, other)) out.push_back(&s);
    return out;
  };
  int64_t kind1 = 0;
  for (const auto& [a, b] : similar_pairs) {
    data::Rng rng(name_seed(opt.seed, "bacd", models[a].name + "|" + models[b].name));
    std::vector<const ZooSentence*> shared;
    for (const ZooSentence& s : models[a].positives)
      if (!is_layer_statement(s) && pos_norm[b].count(normalize_sentence(s.text)))
        shared.push_back(&s);
    rng.shuffle(shared);
    int positives = 0;
    for (const ZooSentence* s : shared) {
      if (positives >= opt.bacd_positives_per_pair) break;
      positives += emit_q(a, b, s->text, 1);
    }
    // Similar pair, text false of one of them: a third of the pair's positives.
    std::vector<const ZooSentence*> wrong = false_of_other(a, b);
    for (const ZooSentence* s : false_of_other(b, a)) wrong.push_back(s);
    rng.shuffle(wrong);
    const int want = (positives + 2) / 3;
    int got = 0;
    for (const ZooSentence* s : wrong) {
      if (got >= want) break;
      got += emit_q(a, b, s->text, 0);
    }
    kind1 += got;
  }
  // Dissimilar pairs: a text true of one, or a text unrelated to both, a third each.
  if (!dissimilar_pairs.empty()) {
    data::Rng rng(name_seed(opt.seed, "bacd", "dissimilar"));
    const int64_t want = std::max<int64_t>(0, report.bacd_positive - kind1);
    for (int kind = 2; kind <= 3; ++kind) {
      const int64_t target = kind == 2 ? want / 2 : want - want / 2;
      int64_t got = 0;
      for (int64_t tries = 0; got < target && tries < target * 20; ++tries) {
        const auto [a, b] = dissimilar_pairs[rng.index(dissimilar_pairs.size())];
        if (kind == 2) {
          const size_t side = rng.chance(1, 2) ? a : b;
          const auto& ps = models[side].positives;
          got += emit_q(a, b, ps[rng.index(ps.size())].text, 0);
        } else {
          const auto& ns = negatives[a];
          if (ns.empty()) continue;
          const ZooSentence* s = ns[rng.index(ns.size())];
          if (!false_of(*s, b)) continue;
          got += emit_q(a, b, s->text, 0);
        }
      }
    }
  }

  // Files.
  const std::string dir = opt.out_dir;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw_bad_input(dir, "cannot create the directory: " + ec.message());
  GraphStoreWriter store;
  json table = json::array();
  for (size_t i = 0; i < n; ++i) {
    store.add(models[i].graph);
    json e = {{"index", i},
              {"name", models[i].name},
              {"family", models[i].family},
              {"base_design", models[i].base_design},
              {"bn_folded", models[i].graph.bn_folded},
              {"params", models[i].graph.params}};
    if (!models[i].variant_of.empty()) e["variant_of"] = models[i].variant_of;
    table.push_back(std::move(e));
  }
  store.write(dir + "/graphs.bin");
  write_file_atomic(dir + "/models.json", table.dump(1) + "\n");
  write_file_atomic(dir + "/families.json", corpus.families_json);
  write_jsonl(dir + "/texts_train.jsonl", texts[0]);
  write_jsonl(dir + "/texts_val.jsonl", texts[1]);
  write_jsonl(dir + "/acd_train.jsonl", acd[0]);
  write_jsonl(dir + "/acd_val.jsonl", acd[1]);
  write_jsonl(dir + "/bacd_train.jsonl", bacd[0]);
  write_jsonl(dir + "/bacd_val.jsonl", bacd[1]);

  DatasetManifest m;
  m.generator = "zoo";
  m.generator_version = kZooDatasetVersion;
  m.seed = opt.seed;
  m.files = {{"graphs", "graphs.bin"},         {"models", "models.json"},
             {"families", "families.json"},    {"texts_train", "texts_train.jsonl"},
             {"texts_val", "texts_val.jsonl"}, {"acd_train", "acd_train.jsonl"},
             {"acd_val", "acd_val.jsonl"},     {"bacd_train", "bacd_train.jsonl"},
             {"bacd_val", "bacd_val.jsonl"}};
  m.counts = {{"graphs", report.graphs},
              {"folded", report.folded},
              {"families", report.families},
              {"texts_train", report.texts_train},
              {"texts_val", report.texts_val},
              {"texts_positive", report.positives},
              {"texts_negative", report.negatives},
              {"texts_negative_with_claim", report.negatives_with_claim},
              {"texts_negative_layer_statements", report.layer_negatives},
              {"acd_train", report.acd_train},
              {"acd_val", report.acd_val},
              {"acd_positive", report.acd_positive},
              {"bacd_train", report.bacd_train},
              {"bacd_val", report.bacd_val},
              {"bacd_positive", report.bacd_positive},
              {"models_without_sentences", corpus.models_without_sentences},
              {"texts_flops", report.flops_sentences},
              {"models_without_flops", report.models_without_flops}};
  m.info = {{"similarity", "tfidf-cosine word 1-2 grams, idf ln((1+N)/(1+df))+1"},
            {"similarity_threshold", fixed(opt.similarity_threshold)},
            {"negatives_per_positive", std::to_string(opt.negatives_per_positive)},
            {"bacd_positives_per_pair", std::to_string(opt.bacd_positives_per_pair)},
            {"split", "80/20 by hash of (seed, normalised text); acd by hash of the pair"},
            {"candidate_similarity_p50", fixed(quantile(report.best_similarity, 0.5))},
            {"candidate_similarity_p90", fixed(quantile(report.best_similarity, 0.9))},
            {"candidate_similarity_p99", fixed(quantile(report.best_similarity, 0.99))}};
  write_manifest(dir, m);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

}  // namespace archbert
