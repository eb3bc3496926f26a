// Tests of the Zoo dataset generator (src/data/zoo_dataset.cpp, zoo_texts.cpp) on a small data
// folder made here: a few real Hugging Face configs of the repo's zoo, two hand-built tv graphs
// (one with a BN-folded variant) and fixture description files. When the repo's own description
// files exist, the same invariants are checked on the real zoo.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "archbert/dataset.h"
#include "archbert/dataset_stats.h"
#include "archbert/error.h"
#include "archbert/graph_io.h"
#include "archbert/zoo_dataset.h"

namespace archbert {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A k x k convolution from `in` to `out` channels, without bias.
Node conv_node(int64_t out, int64_t in, int64_t k) {
  Node conv;
  conv.op = Op::kConv;
  conv.shape = Shape4{out, in, k, k};
  conv.kernel = Kernel2{k, k};
  conv.params = out * in * k * k;
  return conv;
}

// input -> (conv -> [bn] -> relu) x convs -> glob_avg -> linear -> output.
ArchGraph tiny_cnn(const std::string& name, int convs, bool folded) {
  GraphBuilder b(name);
  int prev = b.add(Op::kInput, "x");
  int64_t params = 0;
  int64_t c_in = 3;
  for (int i = 0; i < convs; ++i) {
    Node conv = conv_node(16, c_in, 3);
    conv.params += folded ? 16 : 0;  // the folded BatchNorm's bias
    conv.name = "features." + std::to_string(i) + ".conv";
    params += conv.params;
    int id = b.add(conv);
    b.connect(prev, id);
    prev = id;
    if (!folded) {
      Node bn;
      bn.op = Op::kBatchNorm;
      bn.shape = Shape4{16, 1, 1, 1};
      bn.params = 32;
      bn.name = "features." + std::to_string(i) + ".bn";
      params += 32;
      id = b.add(bn);
      b.connect(prev, id);
      prev = id;
    }
    id = b.add(Op::kRelu, "features." + std::to_string(i) + ".relu");
    b.connect(prev, id);
    prev = id;
    c_in = 16;
  }
  int pool = b.add(Op::kGlobalAvgPool, "avgpool");
  b.connect(prev, pool);
  Node fc;
  fc.op = Op::kLinear;
  fc.shape = Shape4{10, 16, 1, 1};
  fc.params = 170;
  fc.name = "fc";
  params += 170;
  const int f = b.add(fc), out = b.add(Op::kOutput, "y");
  b.connect(pool, f);
  b.connect(f, out);
  return b.finish(name, "json", params, folded);
}

void write_gz(const std::string& path, const std::string& text) {
  write_file_atomic(path + ".tmp", text);
  const std::string cmd = "gzip -n -c '" + path + ".tmp' > '" + path + "' && rm '" + path + ".tmp'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
}

json family(const std::string& base, const std::string& modality,
            const std::vector<std::string>& sentences) {
  const std::string task = modality == "vision" ? "image classification"
                           : base == "gpt"      ? "text generation"
                                                : "language understanding";
  return {{"base_design", base}, {"modality", modality}, {"task", task}, {"sentences", sentences}};
}

// The fixture data folder. Families: bert and distilbert share the base design "bert"; gpt2
// and gpt_neo share "gpt"; vit, tinycnn and minivgg stand alone.
json fixture_families() {
  json f = json::object();
  f["bert"] = family(
      "bert", "text",
      {"BERT was introduced by Google researchers in 2018.",
       "BERT is an encoder-only transformer pretrained with masked language modelling.",
       "It reads the whole sentence at once, so every token attends to both its left and right "
       "context.",
       "Its pretraining also used next sentence prediction.",
       "BERT is typically fine-tuned for classification, tagging and extractive question "
       "answering."});
  f["distilbert"] = family(
      "bert", "text",
      {"DistilBERT was released by Hugging Face in 2019.",
       "It is a smaller BERT trained by knowledge distillation from a larger teacher.",
       "DistilBERT keeps half of the teacher's layers and drops the token-type embeddings."});
  f["gpt2"] = family("gpt", "text",
                     {"GPT-2 was published by OpenAI in 2019.",
                      "GPT-2 is a decoder-only transformer trained to predict the next token.",
                      "Causal masking lets each position attend only to earlier positions.",
                      "It places layer normalisation before each sub-block."});
  f["gpt_neo"] =
      family("gpt", "text",
             {"GPT-Neo is an open reproduction of the GPT-3 design by EleutherAI from 2021.",
              "GPT-Neo alternates global and local attention layers.",
              "It was trained on the Pile dataset."});
  f["vit"] = family("vit", "vision",
                    {"The Vision Transformer was proposed by Google in 2020.",
                     "ViT cuts an image into fixed-size patches and treats them as tokens.",
                     "A learned class token gathers the image representation for classification.",
                     "ViT needs large pretraining datasets to beat convolutional networks."});
  f["tinycnn"] = family("tinycnn", "vision",
                        {"TinyCNN is a toy convolutional network made for tests in 2026.",
                         "It stacks three by three convolutions followed by ReLU.",
                         "A global average pool and one linear classifier end the network."});
  f["minivgg"] = family("minivgg", "vision",
                        {"MiniVGG imitates the plain VGG style with a single convolution block.",
                         "It has no residual connections.",
                         "MiniVGG was designed as a baseline for image classification."});
  const json groups = {{"image classification", {"image classification"}},
                       {"language understanding", {"language understanding"}},
                       {"text generation", {"text generation", "machine translation"}}};
  return {{"families", f}, {"task_groups", groups}};
}

json fixture_models() {
  json m = json::object();
  auto add = [&](const std::string& name, const std::string& fam,
                 const std::vector<std::string>& s) {
    m[name] = {{"family", fam}, {"sentences", s}};
  };
  add("hf:bert-base-uncased", "bert",
      {"This is the base BERT with 12 layers and a hidden size of 768.",
       "It is the uncased English variant.", "It carries a masked language modelling head."});
  add("hf:distilbert-base-uncased", "distilbert",
      {"This DistilBERT has 6 layers.", "It lower-cases its input text."});
  add("hf:gpt2", "gpt2",
      {"This is the smallest GPT-2, with 12 layers.", "It has a tied language modelling head."});
  add("hf:distilgpt2", "gpt2", {"DistilGPT2 is a distilled six-layer GPT-2."});
  add("hf:EleutherAI/gpt-neo-125M", "gpt_neo", {"This is the 125M-parameter GPT-Neo."});
  add("hf:google/vit-base-patch16-224", "vit",
      {"This ViT-Base uses 16 by 16 pixel patches at 224 pixel resolution.",
       "It was fine-tuned on ImageNet-1k."});
  add("tv:tinycnn3", "tinycnn", {"This TinyCNN has three convolution blocks."});
  add("tv:minivgg", "minivgg", {"This MiniVGG has a single convolution block."});
  return {{"models", m}};
}

// Makes the fixture data folder under a fresh temp dir; returns the data dir.
std::string make_fixture(const std::string& tag) {
  const fs::path root =
      fs::temp_directory_path() / ("archbert-zoo-" + tag + "-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "zoo/hf");
  fs::create_directories(root / "zoo/tv");
  fs::create_directories(root / "zoo/descriptions");
  const std::string repo_hf = std::string(ARCHBERT_SOURCE_DIR) + "/data/zoo/hf/";
  json index = json::array();
  const std::vector<std::pair<std::string, std::string>> hf = {
      {"bert-base-uncased", "bert"},
      {"distilbert-base-uncased", "distilbert"},
      {"gpt2", "gpt2"},
      {"distilgpt2", "gpt2"},
      {"EleutherAI/gpt-neo-125M", "gpt_neo"},
      {"google/vit-base-patch16-224", "vit"}};
  for (const auto& [id, fam] : hf) {
    std::string file = id;
    for (size_t p; (p = file.find('/')) != std::string::npos;) file.replace(p, 1, "--");
    fs::copy_file(repo_hf + file + ".json", root / "zoo/hf" / (file + ".json"));
    index.push_back({{"name", id}, {"family", fam}, {"task", "nlp"}});
  }
  write_file_atomic((root / "zoo/hf/index.json").string(), index.dump(1));
  // tinycnn3 has a MAC count (made up: 4,567,890 on a 32x32 image), minivgg none.
  json manifest = {{"tinycnn3",
                    {{"family", "tinycnn"},
                     {"task", "classification"},
                     {"macs", 4567890},
                     {"macs_input", {{1, 3, 32, 32}}}}},
                   {"minivgg", {{"family", "minivgg"}, {"task", "classification"}}},
                   {"notconverted", {{"family", "tinycnn"}, {"task", "classification"}}}};
  write_file_atomic((root / "zoo/tv/manifest.json").string(), manifest.dump(1));
  write_gz((root / "zoo/tv/tinycnn3.json.gz").string(),
           graph_to_json(tiny_cnn("tinycnn3", 3, false)));
  write_gz((root / "zoo/tv/tinycnn3.folded.json.gz").string(),
           graph_to_json(tiny_cnn("tinycnn3", 3, true)));
  write_gz((root / "zoo/tv/minivgg.json.gz").string(),
           graph_to_json(tiny_cnn("minivgg", 1, false)));
  write_file_atomic((root / "zoo/descriptions/families.json").string(), fixture_families().dump(1));
  write_file_atomic((root / "zoo/descriptions/models.json").string(), fixture_models().dump(1));
  return root.string();
}

std::string read(const std::string& path) { return read_file(path); }

// A "1.8 GMACs" / "0.17 GFLOPs" number of a text: its value in MACs or FLOPs and the unit its
// written digits resolve ("1.8" -> 0.1 G, "0.057" -> 0.001 G, "130" -> 10 G: 2 significant
// digits).
struct StatedNumber {
  std::string what;  // "MACs" or "FLOPs"
  int64_t value = 0, unit = 0;
};
std::vector<StatedNumber> giga_numbers(const std::string& text) {
  static const std::regex re(R"(([0-9]+)(?:\.([0-9]+))? G(MACs|FLOPs))");
  constexpr int64_t kGiga = 1'000'000'000;
  std::vector<StatedNumber> out;
  for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it) {
    const std::string whole = (*it)[1], frac = (*it)[2];
    StatedNumber n;
    n.what = (*it)[3];
    int64_t scale = kGiga;
    for (size_t i = 0; i < frac.size(); ++i) scale /= 10;
    n.value = std::stoll(whole) * kGiga + (frac.empty() ? 0 : std::stoll(frac) * scale);
    n.unit = scale;
    if (frac.empty())
      for (size_t i = 2; i < whole.size(); ++i) n.unit *= 10;
    out.push_back(n);
  }
  return out;
}

// Per-token FLOPs recomputed here: 2 x in x out over the linear nodes.
int64_t flops_per_token(const ArchGraph& g) {
  int64_t f = 0;
  for (const Node& n : g.nodes)
    if (n.op == Op::kLinear && n.shape) f += 2 * (*n.shape)[0] * (*n.shape)[1];
  return f;
}

// The FLOPs-sentence ground truth of model `m` (graph `g` as stored): the tv manifest's macs for
// "macs" claims (MACs), the recomputed per-token FLOPs of Hugging Face graphs; -1 when unknown.
int64_t flops_truth(const std::string& kind, const ZooModel& m, const ArchGraph& g,
                    const json& tv_manifest) {
  if (kind == "flops_per_token") return g.format == "huggingface" ? flops_per_token(g) : -1;
  if (m.name.rfind("tv:", 0) != 0) return -1;
  std::string name = m.name.substr(3);
  if (!m.variant_of.empty()) name = m.variant_of.substr(3);
  if (!tv_manifest.contains(name) || !tv_manifest[name].contains("macs")) return -1;
  return tv_manifest[name]["macs"].get<int64_t>();
}

// Checks the numbers of a FLOPs sentence against `truth` (MACs for "macs" claims, FLOPs for
// "flops_per_token"): within the written rounding for a positive, at least 3x off for a negative.
void check_flops_text(const std::string& text, const StatedFact& claim, int64_t truth,
                      bool positive, const std::string& model) {
  const std::vector<StatedNumber> nums = giga_numbers(text);
  ASSERT_EQ(nums.size(), claim.kind == "macs" ? 2u : 1u) << model << ": " << text;
  ASSERT_GT(truth, 0) << model << ": " << text;
  for (const StatedNumber& n : nums) {
    const int64_t t = n.what == "FLOPs" && claim.kind == "macs" ? 2 * truth : truth;
    if (positive) {
      EXPECT_LE(std::llabs(n.value - t) * 2, n.unit) << model << ": " << text << " (" << t << ")";
    } else {
      EXPECT_TRUE(n.value >= 3 * t || 3 * n.value <= t)
          << model << ": " << text << " (" << t << ")";
    }
    if (n.what == (claim.kind == "macs" ? "MACs" : "FLOPs")) {
      EXPECT_EQ(n.value, claim.value) << text;
      EXPECT_EQ(n.unit, claim.unit) << text;
    }
  }
}

// Every invariant of a generated directory, checked against the corpus it came from.
void check_dataset(const std::string& data, const std::string& dir, const ZooDatasetOptions& opt,
                   int64_t min_negatives_per_positive) {
  const ZooCorpus corpus = load_zoo_corpus(data);
  const auto& models = corpus.models;
  const size_t n = models.size();
  const GraphStore store = open_dataset_graphs(dir);
  ASSERT_EQ(store.size(), static_cast<int64_t>(n));

  // Positives per model, by normalised text; the IDF corpus as the generator builds it.
  std::vector<std::set<std::string>> pos(n);
  std::vector<std::string> docs;
  std::set<std::string> seen;
  for (size_t i = 0; i < n; ++i)
    for (const ZooSentence& s : models[i].positives) {
      const std::string k = normalize_sentence(s.text);
      pos[i].insert(k);
      if (seen.insert(k).second) docs.push_back(s.text);
    }
  const TfidfSimilarity sim(docs);
  const json tv_manifest = json::parse(read(data + "/zoo/tv/manifest.json"));

  // Computed sentences hold on the graph (as stored in graphs.bin), and each one carries a claim.
  // FLOPs sentences: one per model with a known count, agreeing with the ground truth.
  std::vector<ArchGraph> stored;
  int64_t flops_sentences = 0, without_flops = 0;
  for (size_t i = 0; i < n; ++i) {
    const ArchGraph g = store.get(static_cast<int64_t>(i));
    EXPECT_EQ(g.params, models[i].graph.params);
    int computed = 0, flops = 0;
    for (const ZooSentence& s : models[i].positives)
      if (s.source == "graph") {
        ++computed;
        ASSERT_TRUE(s.claim.has_value()) << s.text;
        if (s.claim->kind == "macs") {
          EXPECT_TRUE(zoo_fact_holds(*s.claim, models[i])) << models[i].name << ": " << s.text;
          EXPECT_FALSE(zoo_fact_holds(*s.claim, g)) << "a graph alone cannot check MACs";
        } else {
          EXPECT_TRUE(zoo_fact_holds(*s.claim, g)) << models[i].name << ": " << s.text;
        }
        if (s.claim->kind == "macs" || s.claim->kind == "flops_per_token") {
          ++flops;
          check_flops_text(s.text, *s.claim, flops_truth(s.claim->kind, models[i], g, tv_manifest),
                           true, models[i].name);
        }
      }
    EXPECT_GE(computed, 4) << models[i].name;
    // Purpose sentences: one for the task, one for the modality, true of the model.
    int purpose = 0;
    for (const ZooSentence& s : models[i].positives)
      if (s.source == "purpose") {
        ++purpose;
        ASSERT_TRUE(s.claim.has_value()) << s.text;
        EXPECT_TRUE(zoo_fact_holds(*s.claim, models[i])) << models[i].name << ": " << s.text;
      }
    EXPECT_EQ(purpose, !models[i].task.empty() + !models[i].modality.empty()) << models[i].name;
    const bool known = flops_truth("macs", models[i], g, tv_manifest) > 0 ||
                       flops_truth("flops_per_token", models[i], g, tv_manifest) > 0;
    EXPECT_EQ(flops, known ? 1 : 0) << models[i].name;
    flops_sentences += flops;
    without_flops += flops == 0;
    stored.push_back(g);
  }
  EXPECT_EQ(without_flops, corpus.models_without_flops);
  // A BN-folded variant's layer statements have the same truth on its model's graph.
  for (const ZooModel& m : models) {
    if (m.variant_of.empty()) continue;
    const auto base = std::find_if(models.begin(), models.end(),
                                   [&](const ZooModel& o) { return o.name == m.variant_of; });
    ASSERT_NE(base, models.end()) << m.name;
    for (const auto* list : {&m.positives, &m.layer_negatives})
      for (const ZooSentence& s : *list)
        if (s.claim && is_layer_statement(*s.claim))
          EXPECT_EQ(zoo_fact_holds(*s.claim, base->graph), s.claim->holds)
              << m.name << ": " << s.text;
  }
  const DatasetManifest manifest = read_manifest(dir);
  EXPECT_EQ(manifest.counts.at("texts_flops"), flops_sentences);
  EXPECT_EQ(manifest.counts.at("models_without_flops"), without_flops);

  // AR samples: splits disjoint by text; positives are the model's; negatives come from
  // dissimilar models, are below the threshold to every positive, and their claims are false.
  std::set<std::string> split_texts[2];
  int64_t positives = 0, negatives = 0, layer_negatives = 0;
  for (int sp = 0; sp < 2; ++sp) {
    for (const ArSample& a :
         read_ar_samples(dir + (sp ? "/texts_val.jsonl" : "/texts_train.jsonl"))) {
      const std::string k = normalize_sentence(a.text);
      split_texts[sp].insert(k);
      EXPECT_EQ(zoo_text_split(a.text, opt.seed), sp ? DatasetSplit::kVal : DatasetSplit::kTrain);
      const size_t i = static_cast<size_t>(a.graph);
      ASSERT_LT(i, n);
      for (const StatedFact& f : a.claims) {
        EXPECT_EQ(f.holds, a.label == 1) << a.text;
        EXPECT_EQ(zoo_fact_holds(f, models[i]), a.label == 1) << models[i].name << ": " << a.text;
        if (f.kind == "macs" || f.kind == "flops_per_token") {
          if (f.kind == "macs") EXPECT_EQ(f.cls, models[i].macs_input) << a.text;
          check_flops_text(a.text, f, flops_truth(f.kind, models[i], stored[i], tv_manifest),
                           a.label == 1, models[i].name);
        }
      }
      if (a.label == 1) {
        ++positives;
        EXPECT_TRUE(pos[i].count(k)) << a.text;
        continue;
      }
      ++negatives;
      EXPECT_FALSE(pos[i].count(k)) << a.text;
      // The model's false layer statements: their claim is clearly false; the same words may be
      // a positive of any model (that is their point).
      const auto& own = models[i].layer_negatives;
      if (std::any_of(own.begin(), own.end(),
                      [&](const ZooSentence& s) { return normalize_sentence(s.text) == k; })) {
        ++layer_negatives;
        ASSERT_EQ(a.claims.size(), 1u) << a.text;
        EXPECT_TRUE(is_layer_statement(a.claims[0])) << a.text;
        EXPECT_TRUE(zoo_fact_clearly_false(a.claims[0], models[i])) << a.text;
        continue;
      }
      bool from_dissimilar = false;
      for (size_t j = 0; j < n; ++j) {
        if (!pos[j].count(k)) continue;
        if (zoo_models_similar(models[i], models[j]))
          ADD_FAILURE() << models[i].name << ": negative \"" << a.text
                        << "\" is a positive of similar " << models[j].name;
        else
          from_dissimilar = true;
      }
      EXPECT_TRUE(from_dissimilar) << a.text;
      if (!a.claims.empty()) {
        for (const StatedFact& f : a.claims)
          EXPECT_TRUE(zoo_fact_clearly_false(f, models[i])) << models[i].name << ": " << a.text;
        continue;
      }
      for (const ZooSentence& p : models[i].positives)
        EXPECT_LT(sim(a.text, p.text), opt.similarity_threshold)
            << models[i].name << ": \"" << a.text << "\" vs \"" << p.text << "\"";
    }
  }
  for (const std::string& t : split_texts[0]) EXPECT_FALSE(split_texts[1].count(t)) << t;
  int64_t all_pos = 0;
  for (const auto& p : pos) all_pos += static_cast<int64_t>(p.size());
  EXPECT_EQ(positives, all_pos);
  EXPECT_GE(negatives - layer_negatives, min_negatives_per_positive * positives);  // 10 if it can
  int64_t all_layer_negatives = 0;
  for (const ZooModel& m : models)
    all_layer_negatives += static_cast<int64_t>(m.layer_negatives.size());
  EXPECT_EQ(layer_negatives, all_layer_negatives);
  EXPECT_EQ(manifest.counts.at("texts_negative_layer_statements"), layer_negatives);

  // ACD: complete, each unordered pair once, label = same family or base design per the table.
  const json table = json::parse(read(dir + "/models.json"));
  const json fams = json::parse(read(dir + "/families.json"))["families"];
  ASSERT_EQ(table.size(), n);
  std::set<std::pair<int64_t, int64_t>> pairs;
  for (const char* f : {"/acd_train.jsonl", "/acd_val.jsonl"})
    for (const AcdPair& p : read_acd_pairs(dir + f)) {
      EXPECT_LT(p.a, p.b);
      EXPECT_TRUE(pairs.insert({p.a, p.b}).second);
      const json &ma = table[p.a], &mb = table[p.b];
      const std::string fa = ma["family"], fb = mb["family"];
      ASSERT_TRUE(fams.contains(fa) && fams.contains(fb));
      EXPECT_EQ(ma["base_design"], fams[fa]["base_design"]);
      const int want = fa == fb || fams[fa]["base_design"] == fams[fb]["base_design"];
      EXPECT_EQ(p.label, want) << ma["name"] << " " << mb["name"];
      // Symmetric: the rule gives the same label with a and b swapped.
      EXPECT_EQ(zoo_models_similar(models[p.b], models[p.a]), p.label == 1);
    }
  EXPECT_EQ(pairs.size(), n * (n - 1) / 2);

  // BACD: label 1 iff similar and the text is a positive of both; splits disjoint by text.
  std::set<std::string> bacd_texts[2];
  int64_t q_pos = 0, q_neg = 0;
  for (int sp = 0; sp < 2; ++sp)
    for (const BacdQuartet& q :
         read_bacd_quartets(dir + (sp ? "/bacd_val.jsonl" : "/bacd_train.jsonl"))) {
      const std::string k = normalize_sentence(q.text);
      bacd_texts[sp].insert(k);
      const size_t a = static_cast<size_t>(q.a), b = static_cast<size_t>(q.b);
      const bool similar = zoo_models_similar(models[a], models[b]);
      const bool both = pos[a].count(k) && pos[b].count(k);
      EXPECT_EQ(q.label, similar && both ? 1 : 0) << q.text;
      (q.label ? q_pos : q_neg)++;
    }
  for (const std::string& t : bacd_texts[0]) EXPECT_FALSE(bacd_texts[1].count(t)) << t;
  EXPECT_GT(q_pos, 0);
  EXPECT_GE(q_neg, q_pos * 9 / 10);
  EXPECT_LE(q_neg, q_pos * 11 / 10 + 3);

  // Table 1 works on every sample file.
  for (const char* role :
       {"texts_train", "texts_val", "acd_train", "acd_val", "bacd_train", "bacd_val"}) {
    const DatasetStats st = dataset_stats(dir, role);
    EXPECT_GT(st.samples, 0) << role;
    EXPECT_GT(st.graphs, 0) << role;
  }
}

TEST(ZooDataset, FixtureInvariants) {
  const std::string data = make_fixture("inv");
  ZooDatasetOptions opt;
  opt.data_dir = data;
  opt.out_dir = data + "/out";
  const ZooDatasetReport r = generate_zoo_dataset(opt);
  // 6 hf + 2 tv + 1 folded (notconverted has no graph and is not in the zoo).
  EXPECT_EQ(r.graphs, 9);
  EXPECT_EQ(r.folded, 1);
  EXPECT_EQ(r.families, 7);
  // FLOPs sentences: 6 hf (per token) + tinycnn3 and its folded variant; minivgg has no count.
  EXPECT_EQ(r.flops_sentences, 8);
  EXPECT_EQ(r.models_without_flops, 1);
  check_dataset(data, opt.out_dir, opt, 1);
  const DatasetManifest m = read_manifest(opt.out_dir);
  EXPECT_EQ(m.generator, "zoo");
  EXPECT_EQ(m.counts.at("graphs"), 9);
  fs::remove_all(data);
}

// Minimal pairs of number facts (number_pairs) on a generated directory's stored graphs: each
// graph's number sentences are among its texts; a pair is a train text whose truth is its
// claim's (wrong values clearly false, in the fact's own phrasings), about a fact whose own
// sentence is a train text; the same call gives the same pairs.
TEST(ZooDataset, NumberPairs) {
  const std::string data = make_fixture("pairs");
  ZooDatasetOptions opt;
  opt.data_dir = data;
  opt.out_dir = data + "/out";
  generate_zoo_dataset(opt);
  const std::vector<ArchGraph> graphs = open_dataset_graphs(opt.out_dir).load_all();
  std::set<std::pair<int64_t, std::string>> texts[2];  // (graph, text) of positives by split
  for (int sp = 0; sp < 2; ++sp)
    for (const ArSample& a :
         read_ar_samples(opt.out_dir + (sp ? "/texts_val.jsonl" : "/texts_train.jsonl")))
      if (a.label == 1) texts[sp].insert({a.graph, a.text});
  int64_t trues = 0, wrongs = 0, skipped = 0;
  for (size_t g = 0; g < graphs.size(); ++g) {
    const int64_t gi = static_cast<int64_t>(g);
    std::set<std::string> train_facts;  // kind|cls of number facts stated by a train text
    for (const ZooSentence& z : graph_sentences(graphs[g])) {
      if (!is_number_fact(*z.claim)) continue;
      const bool train = texts[0].count({gi, z.text}) > 0;
      EXPECT_TRUE(train || texts[1].count({gi, z.text})) << graphs[g].name << ": " << z.text;
      const std::vector<std::string> ph = fact_phrasings(*z.claim);
      EXPECT_NE(std::find(ph.begin(), ph.end(), z.text), ph.end()) << z.text;
      if (train)
        train_facts.insert(z.claim->kind + "|" + z.claim->cls);
      else
        ++skipped;
    }
    const std::vector<ZooSentence> pairs = number_pairs(graphs[g], opt.seed, 4, 9);
    std::map<std::string, int> wrong_of;
    for (const ZooSentence& p : pairs) {
      const StatedFact& f = *p.claim;
      EXPECT_EQ(zoo_text_split(p.text, opt.seed), DatasetSplit::kTrain) << p.text;
      EXPECT_TRUE(train_facts.count(f.kind + "|" + f.cls)) << p.text;
      EXPECT_EQ(zoo_fact_holds(f, graphs[g]), f.holds) << p.text;
      const std::vector<std::string> ph = fact_phrasings(f);
      EXPECT_NE(std::find(ph.begin(), ph.end(), p.text), ph.end()) << p.text;
      EXPECT_FALSE(texts[0].count({gi, p.text})) << "already a text: " << p.text;
      if (f.holds) {
        ++trues;
      } else {
        EXPECT_TRUE(zoo_fact_clearly_false(f, graphs[g])) << p.text;
        EXPECT_LE(++wrong_of[f.kind + "|" + f.cls], 4) << p.text;
        ++wrongs;
      }
    }
    const std::vector<ZooSentence> again = number_pairs(graphs[g], opt.seed, 4, 9);
    ASSERT_EQ(again.size(), pairs.size());
    for (size_t i = 0; i < pairs.size(); ++i) EXPECT_EQ(again[i].text, pairs[i].text);
  }
  EXPECT_GT(trues, 0);
  EXPECT_GT(wrongs, trues);  // about 4 wrong values per fact, up to 3 other phrasings
  EXPECT_GT(skipped, 0);     // some number sentences are val texts: their facts get none
  fs::remove_all(data);
}

TEST(ZooDataset, SameSeedSameBytesOtherSeedDiffers) {
  const std::string data = make_fixture("det");
  ZooDatasetOptions opt;
  opt.data_dir = data;
  opt.out_dir = data + "/a";
  generate_zoo_dataset(opt);
  opt.out_dir = data + "/b";
  generate_zoo_dataset(opt);
  opt.seed = 7;
  opt.out_dir = data + "/c";
  generate_zoo_dataset(opt);
  int files = 0;
  for (const auto& e : fs::directory_iterator(data + "/a")) {
    const std::string f = e.path().filename().string();
    EXPECT_EQ(read(data + "/a/" + f), read(data + "/b/" + f)) << f;
    ++files;
  }
  EXPECT_EQ(files, 10);
  EXPECT_NE(read(data + "/a/texts_train.jsonl"), read(data + "/c/texts_train.jsonl"));
  EXPECT_NE(read(data + "/a/acd_train.jsonl"), read(data + "/c/acd_train.jsonl"));
  fs::remove_all(data);
}

TEST(ZooDataset, ComputedSentences) {
  const ArchGraph g = tiny_cnn("t", 3, false);
  const std::vector<ZooSentence> s = graph_sentences(g);
  std::map<std::string, std::string> by_kind;
  for (const ZooSentence& x : s) {
    ASSERT_TRUE(x.claim);
    EXPECT_TRUE(zoo_fact_holds(*x.claim, g)) << x.text;
    by_kind[x.claim->kind + ":" + x.claim->cls] += x.text;
  }
  // 3 convs (16*3*9 + 2 * 16*16*9) + 3 bn (96) + fc 170 = 5,306 -> about 5.31 thousand.
  EXPECT_EQ(g.params, 5306);
  EXPECT_NE(by_kind["params:"].find("about 5.31 thousand"), std::string::npos);
  EXPECT_NE(by_kind["count:Conv2d"].find(" 3 standard convolutions"), std::string::npos);
  EXPECT_NE(by_kind["has:BatchNorm2d"].find("batch normalisation"), std::string::npos);
  EXPECT_NE(by_kind["attention:"].find("no softmax attention"), std::string::npos);
  const std::string res = by_kind["residual:"];  // a plain chain has no shortcut
  EXPECT_TRUE(res.find("no ") != std::string::npos || res.find("No ") != std::string::npos) << res;
  // A wrong claim is caught.
  StatedFact wrong = *s[0].claim;
  wrong.value += wrong.unit * 10;
  EXPECT_FALSE(zoo_fact_holds(wrong, g));
  // Negatives must be wrong by a clear margin: 15% for parameters.
  StatedFact near = *s[0].claim;
  near.unit = 1;
  near.value = g.params * 110 / 100;
  EXPECT_FALSE(zoo_fact_holds(near, g));
  EXPECT_FALSE(zoo_fact_clearly_false(near, g));
  near.value = g.params * 120 / 100;
  EXPECT_TRUE(zoo_fact_clearly_false(near, g));
  EXPECT_FALSE(zoo_fact_clearly_false(*s[0].claim, g));
  const ArchGraph f = tiny_cnn("t", 3, true);
  bool folded_sentence = false;
  for (const ZooSentence& x : graph_sentences(f)) {
    EXPECT_TRUE(zoo_fact_holds(*x.claim, f)) << x.text;
    EXPECT_NE(x.claim->cls, "BatchNorm2d");
    folded_sentence |= x.claim->kind == "bn_folded";
    if (x.claim->kind == "norm_free" || x.claim->kind == "bn_folded")
      EXPECT_FALSE(zoo_fact_holds(*x.claim, g)) << x.text;
  }
  EXPECT_TRUE(folded_sentence);
}

// A chain of `blocks` residual blocks: x -> conv -> relu -> conv -> sum(x or its 1x1 projection,
// .). With `projection`, the shortcut is its own 1x1 convolution of x: no identity shortcut.
ArchGraph res_chain(const std::string& name, int blocks, bool projection) {
  GraphBuilder b(name);
  int x = b.add(Op::kInput, "x");
  for (int i = 0; i < blocks; ++i) {
    const Node conv = conv_node(8, 8, 3);
    const int c1 = b.add(conv), r = b.add(Op::kRelu, "relu"), c2 = b.add(conv),
              s = b.add(Op::kSum, "add");
    b.connect(x, c1);
    b.connect(c1, r);
    b.connect(r, c2);
    b.connect(c2, s);
    if (projection) {
      const Node p = conv_node(8, 8, 1);
      const int pr = b.add(p);
      b.connect(x, pr);
      b.connect(pr, s);
    } else {
      b.connect(x, s);
    }
    x = s;
  }
  const int out = b.add(Op::kOutput, "y");
  b.connect(x, out);
  return b.finish(name, "json", blocks * (projection ? 1216 : 1152), false);
}

TEST(ZooDataset, ResidualShortcuts) {
  StatedFact has;
  has.kind = "residual";
  has.value = 1;
  StatedFact none = has;
  none.value = 0;
  const ArchGraph identity = res_chain("r", 3, false), projected = res_chain("p", 3, true);
  EXPECT_TRUE(zoo_fact_holds(has, identity));
  EXPECT_FALSE(zoo_fact_holds(none, identity));
  EXPECT_TRUE(zoo_fact_clearly_false(none, identity));
  // Only projection shortcuts (both inputs of every sum are branches from x): none.
  EXPECT_FALSE(zoo_fact_holds(has, projected));
  EXPECT_TRUE(zoo_fact_holds(none, projected));
  EXPECT_TRUE(zoo_fact_holds(none, tiny_cnn("t", 2, false)));
  int sentences = 0;
  for (const ZooSentence& x : graph_sentences(identity))
    if (x.claim->kind == "residual") {
      ++sentences;
      EXPECT_EQ(x.claim->value, 1);
      EXPECT_EQ(x.text.find("no "), std::string::npos) << x.text;
      EXPECT_EQ(x.text.find("No "), std::string::npos) << x.text;
    }
  EXPECT_EQ(sentences, 1);

  // Arithmetic on a tensor and a parameter-free function of it is no block: detection
  // post-processing's boxes + idxs * (boxes.max() + 1).
  GraphBuilder b("nms");
  const Node conv = conv_node(8, 3, 3);
  const int in = b.add(Op::kInput, "x"), c = b.add(conv), mx = b.add(Op::kMinMax, "max"),
            mul = b.add(Op::kMul, "mul"), sum = b.add(Op::kSum, "add"),
            out = b.add(Op::kOutput, "y");
  b.connect(in, c);
  b.connect(c, mx);
  b.connect(mx, mul);
  b.connect(in, mul);
  b.connect(c, sum);
  b.connect(mul, sum);
  b.connect(sum, out);
  const ArchGraph nms = b.finish("nms", "json", 216, false);
  EXPECT_TRUE(zoo_fact_holds(none, nms));
  EXPECT_FALSE(zoo_fact_holds(has, nms));
}

// Counts and presence go by canonical op, whatever class the format records: a video model's
// Conv3d and BatchNorm3d are standard convolutions and batch normalisation, and a TorchScript
// depthwise convolution named "Conv2d" is a depthwise one (its ONNX export has only the op).
TEST(ZooDataset, CountsGoByOpNotByClassName) {
  GraphBuilder b("video");
  Node conv = conv_node(8, 3, 3), grouped = conv_node(8, 1, 3), bn;
  conv.layer_class = "Conv3d";
  grouped.op = Op::kSepConv;
  grouped.layer_class = "Conv2d";
  bn.op = Op::kBatchNorm;
  bn.shape = Shape4{8, 1, 1, 1};
  bn.params = 16;
  bn.layer_class = "BatchNorm3d";
  const int in = b.add(Op::kInput, "x"), c = b.add(conv), d = b.add(grouped), n = b.add(bn),
            out = b.add(Op::kOutput, "y");
  b.connect(in, c);
  b.connect(c, d);
  b.connect(d, n);
  b.connect(n, out);
  const ArchGraph g = b.finish("video", "json", 320, false);
  std::map<std::string, std::string> by_kind;
  std::map<std::string, int64_t> value;
  for (const ZooSentence& x : graph_sentences(g)) {
    ASSERT_TRUE(x.claim);
    EXPECT_TRUE(zoo_fact_holds(*x.claim, g)) << x.text;
    by_kind[x.claim->kind + ":" + x.claim->cls] += x.text;
    value[x.claim->kind + ":" + x.claim->cls] = x.claim->value;
  }
  EXPECT_EQ(value["count:Conv2d"], 1);
  EXPECT_NE(by_kind["count:Conv2d"].find("standard convolution"), std::string::npos)
      << by_kind["count:Conv2d"];
  EXPECT_EQ(value["count:Sep_conv2d"], 1);
  EXPECT_NE(by_kind["count:Sep_conv2d"].find("depthwise"), std::string::npos)
      << by_kind["count:Sep_conv2d"];
  EXPECT_NE(by_kind["has:BatchNorm2d"].find("batch normalisation"), std::string::npos);
  EXPECT_EQ(by_kind.count("count:Conv3d") + by_kind.count("has:BatchNorm3d"), 0u);
  StatedFact count;
  count.kind = "count";
  count.cls = "BatchNorm2d";
  count.value = 1;
  EXPECT_TRUE(zoo_fact_holds(count, g));
  count.value = 20;
  EXPECT_FALSE(zoo_fact_holds(count, g));
  EXPECT_TRUE(zoo_fact_clearly_false(count, g));
  count.cls = "Conv2d";
  count.value = 2;  // one standard + one depthwise: two only by class name
  EXPECT_FALSE(zoo_fact_holds(count, g));
  StatedFact has = count;
  has.kind = "has";
  has.value = 1;
  has.cls = "BatchNorm2d";
  EXPECT_TRUE(zoo_fact_holds(has, g));
  has.cls = "LayerNorm";
  EXPECT_FALSE(zoo_fact_holds(has, g));
  EXPECT_TRUE(zoo_fact_clearly_false(has, g));
}

// Layer statements: "uses" true and "does not use" false for each table kind the graph has,
// decided by op whatever the class name; for six kinds it lacks the reverse; a graph with only
// a close kind (ReLU6 for ReLU) gets neither; the lacked kinds and the wordings vary by graph.
TEST(ZooDataset, LayerStatements) {
  ArchGraph g = tiny_cnn("cnn", 3, false);  // conv, bn, relu, glob_avg, linear
  // A TorchScript graph names a grouped convolution's node "Conv2d": still a grouped one.
  Node grouped = conv_node(16, 1, 3);
  grouped.op = Op::kSepConv;
  grouped.layer_class = "Conv2d";
  g.nodes.push_back(grouped);                               // stats() only: no edges needed
  std::map<std::string, std::map<std::string, bool>> said;  // kind key -> claim kind -> holds
  for (const ZooSentence& s : layer_statements(g)) {
    ASSERT_TRUE(s.claim.has_value()) << s.text;
    const StatedFact& f = *s.claim;
    EXPECT_EQ(zoo_fact_holds(f, g), f.holds) << s.text;
    if (!f.holds) EXPECT_TRUE(zoo_fact_clearly_false(f, g)) << s.text;
    EXPECT_TRUE(said[f.cls].emplace(f.kind, f.holds).second) << "twice: " << s.text;
    const bool negated =
        s.text.find(" no ") != std::string::npos || s.text.find(" not ") != std::string::npos;
    EXPECT_EQ(negated, f.kind == "uses_no") << s.text;
    if (f.cls == "batch_norm")
      EXPECT_TRUE(s.text.find("batch normalization") != std::string::npos ||
                  s.text.find("BatchNorm") != std::string::npos)
          << s.text;
    if (f.cls == "grouped_conv") EXPECT_NE(s.text.find("grouped"), std::string::npos);
  }
  for (const char* present : {"conv", "grouped_conv", "batch_norm", "relu", "avg_pool"}) {
    ASSERT_TRUE(said.count(present)) << present;
    EXPECT_TRUE(said[present].at("uses")) << present;
    EXPECT_FALSE(said[present].at("uses_no")) << present;
  }
  int lacked = 0;
  for (const auto& [key, kinds] : said)
    if (!kinds.at("uses")) {
      ++lacked;
      EXPECT_TRUE(kinds.at("uses_no")) << key;
    }
  EXPECT_EQ(lacked, 6);
  StatedFact unknown;
  unknown.kind = "uses";
  unknown.cls = "no_such_kind";
  EXPECT_FALSE(zoo_fact_holds(unknown, g));
  EXPECT_FALSE(zoo_fact_clearly_false(unknown, g));

  // ReLU6 only: nothing about ReLU either way.
  GraphBuilder b("relu6");
  const int in = b.add(Op::kInput, "x"), c = b.add(conv_node(8, 3, 3)),
            r = b.add(Op::kRelu6, "act"), out = b.add(Op::kOutput, "y");
  b.connect(in, c);
  b.connect(c, r);
  b.connect(r, out);
  const ArchGraph r6 = b.finish("relu6", "json", 216, false);
  bool relu6 = false;
  for (const ZooSentence& s : layer_statements(r6)) {
    EXPECT_NE(s.claim->cls, "relu") << s.text;
    relu6 = relu6 || (s.claim->cls == "relu6" && s.claim->kind == "uses" && s.claim->holds);
  }
  EXPECT_TRUE(relu6);
  StatedFact relu;
  relu.kind = "uses";
  relu.cls = "relu";
  EXPECT_FALSE(zoo_fact_holds(relu, r6));
  EXPECT_FALSE(zoo_fact_clearly_false(relu, r6));

  // Across graphs the lacked kinds and the wordings vary.
  std::set<std::string> lacked_kinds, wordings;
  for (int i = 0; i < 20; ++i)
    for (const ZooSentence& s : layer_statements(tiny_cnn("cnn" + std::to_string(i), 3, false))) {
      if (s.claim->kind == "uses_no" && s.claim->holds) lacked_kinds.insert(s.claim->cls);
      if (s.claim->cls == "relu") wordings.insert(s.text);
    }
  EXPECT_GE(lacked_kinds.size(), 12u);
  EXPECT_GE(wordings.size(), 8u);  // of 16: four phrasings and two names per polarity
  bool first = false, second = false;
  for (const std::string& w : wordings) {
    first = first || w.find("ReLU activations") != std::string::npos;
    second = second || w.find("rectified linear units") != std::string::npos;
  }
  EXPECT_TRUE(first && second);
}

// Every kind of computed fact is worded in more than one way across models, each wording true;
// the claim does not depend on the wording.
TEST(ZooDataset, ComputedSentencePhrasings) {
  std::map<std::string, std::set<std::string>> texts;
  std::map<std::string, std::set<int64_t>> values;
  for (int i = 0; i < 40; ++i) {
    for (const ArchGraph& g : {tiny_cnn("m" + std::to_string(i), 3, false),
                               res_chain("m" + std::to_string(i), 2, false)}) {
      for (const ZooSentence& x : graph_sentences(g)) {
        ASSERT_TRUE(x.claim);
        EXPECT_TRUE(zoo_fact_holds(*x.claim, g)) << x.text;
        const std::string key = g.params == 5306 ? "cnn " : "res ";
        texts[key + x.claim->kind + ":" + x.claim->cls].insert(x.text);
        values[key + x.claim->kind + ":" + x.claim->cls].insert(x.claim->value);
      }
    }
  }
  for (const char* k : {"cnn params:", "cnn depth:", "cnn total:", "cnn count:Conv2d",
                        "cnn attention:", "cnn residual:", "cnn has:BatchNorm2d",
                        "res residual:", "res norm_free:", "res count:Conv2d"}) {
    EXPECT_GE(texts[k].size(), 2u) << k;
    EXPECT_EQ(values[k].size(), 1u) << k;
  }
  // The same graph name always gets the same wording.
  const auto a = graph_sentences(tiny_cnn("same", 3, false));
  const auto b = graph_sentences(tiny_cnn("same", 3, false));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].text, b[i].text);
}

TEST(ZooDataset, PurposeSentences) {
  ZooModel det;
  det.name = "tv:maskrcnn";
  det.task = "instance segmentation";
  det.task_group = "detection";
  det.modality = "vision";
  det.graph = tiny_cnn("maskrcnn", 1, false);
  ZooModel cls = det;
  cls.task = "image classification";
  cls.task_group = "image classification";
  ZooModel lm = det;
  lm.task = "text generation";
  lm.task_group = "text generation";
  lm.modality = "text";
  std::set<std::string> wordings;
  for (int i = 0; i < 30; ++i) {
    const auto s =
        purpose_sentences("tv:m" + std::to_string(i), det.task, det.task_group, det.modality);
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[0].claim->kind, "task");
    EXPECT_NE(s[0].text.find("instance segmentation"), std::string::npos) << s[0].text;
    EXPECT_EQ(s[1].claim->kind, "modality");
    for (const ZooSentence& x : s) {
      EXPECT_EQ(x.source, "purpose");
      wordings.insert(x.text);
      EXPECT_TRUE(zoo_fact_holds(*x.claim, det)) << x.text;
      EXPECT_FALSE(zoo_fact_holds(*x.claim, det.graph)) << "the graph alone cannot say";
      EXPECT_FALSE(zoo_fact_clearly_false(*x.claim, det.graph));
      EXPECT_FALSE(zoo_fact_clearly_false(*x.claim, det)) << x.text;
      EXPECT_FALSE(zoo_fact_holds(*x.claim, lm)) << x.text;
      EXPECT_TRUE(zoo_fact_clearly_false(*x.claim, lm)) << x.text;
    }
    // A classifier of the same modality: clearly false on the task, not on the modality.
    EXPECT_TRUE(zoo_fact_clearly_false(*s[0].claim, cls));
    EXPECT_FALSE(zoo_fact_clearly_false(*s[1].claim, cls));
  }
  // Another task of the same group (object detection for an instance segmentation model) holds,
  // so it is never a negative.
  ZooModel faster = det;
  faster.task = "object detection";
  const auto od = purpose_sentences("tv:faster", faster.task, faster.task_group, "vision");
  EXPECT_NE(od[0].text.find("object detection"), std::string::npos);
  EXPECT_TRUE(zoo_fact_holds(*od[0].claim, det));
  EXPECT_FALSE(zoo_fact_clearly_false(*od[0].claim, det));
  // A family serving another group too (BART: also language understanding): that group's task
  // sentences hold, a third group's are clearly false.
  ZooModel bart = lm;
  bart.other_task_groups = {"language understanding"};
  const auto lu =
      purpose_sentences("hf:bert", "language understanding", "language understanding", "text");
  EXPECT_TRUE(zoo_fact_holds(*lu[0].claim, bart));
  EXPECT_FALSE(zoo_fact_clearly_false(*lu[0].claim, bart));
  EXPECT_TRUE(zoo_fact_clearly_false(*lu[0].claim, lm));
  EXPECT_TRUE(zoo_fact_clearly_false(*od[0].claim, bart));
  EXPECT_GE(wordings.size(), 5u);
  EXPECT_TRUE(purpose_sentences("x", "", "", "").empty());
  EXPECT_EQ(purpose_sentences("x", "", "", "vision").size(), 1u);
  EXPECT_TRUE(purpose_sentences("x", "", "", "smell").empty());
}

TEST(ZooDataset, FlopsSentences) {
  // resnet18 at 224x224: 1,814,073,344 MACs (tools/export_torchvision_zoo.py --macs-only).
  const ZooSentence s = macs_sentence(1'814'073'344, "224x224 image", 0);
  EXPECT_EQ(s.text, "It needs about 1.8 GMACs (3.6 GFLOPs) for one 224x224 image.");
  ASSERT_TRUE(s.claim);
  EXPECT_EQ(s.claim->kind, "macs");
  EXPECT_EQ(s.claim->cls, "224x224 image");
  EXPECT_EQ(s.claim->value, 1'800'000'000);
  EXPECT_EQ(s.claim->unit, 100'000'000);
  EXPECT_EQ(macs_sentence(56'522'368, "224x224 image", 1).text,
            "Its convolutions and matrix multiplies cost about 0.11 GFLOPs (0.057 GMACs) per "
            "224x224 image.");
  EXPECT_EQ(
      macs_sentence(134'021'000'000, "320x320 image (resized to 800x800 by the model)", 2).text,
      "A forward pass on one 320x320 image (resized to 800x800 by the model) takes roughly "
      "130 GMACs, or 270 GFLOPs.");
  EXPECT_EQ(macs_sentence(2'000'000'000, "16-frame 112x112 clip", 0).text,
            "It needs about 2.0 GMACs (4.0 GFLOPs) for one 16-frame 112x112 clip.");

  ZooModel m;
  m.graph = tiny_cnn("t", 1, false);
  m.macs = 1'814'073'344;
  m.macs_input = "224x224 image";
  EXPECT_TRUE(zoo_fact_holds(*s.claim, m));
  EXPECT_FALSE(zoo_fact_holds(*s.claim, m.graph));          // needs the manifest count
  EXPECT_FALSE(zoo_fact_clearly_false(*s.claim, m.graph));  // unknown is never a negative
  // Wrong numbers: 3x off is false but not clearly (its separately rounded FLOPs could be less
  // than 3x off); 3.5x off is a fair negative.
  StatedFact f = macs_sentence(5'500'000'000, "224x224 image", 0).claim.value();
  EXPECT_FALSE(zoo_fact_holds(f, m));
  EXPECT_FALSE(zoo_fact_clearly_false(f, m));
  f = macs_sentence(6'400'000'000, "224x224 image", 0).claim.value();
  EXPECT_TRUE(zoo_fact_clearly_false(f, m));
  f = macs_sentence(600'000'000, "224x224 image", 0).claim.value();
  EXPECT_FALSE(zoo_fact_clearly_false(f, m));
  f = macs_sentence(510'000'000, "224x224 image", 0).claim.value();
  EXPECT_TRUE(zoo_fact_clearly_false(f, m));
  // Another input: neither true nor a negative.
  f = macs_sentence(18'000'000'000, "16-frame 112x112 clip", 0).claim.value();
  EXPECT_FALSE(zoo_fact_holds(f, m));
  EXPECT_FALSE(zoo_fact_clearly_false(f, m));
  m.macs = -1;
  EXPECT_FALSE(zoo_fact_holds(*s.claim, m));
  EXPECT_FALSE(zoo_fact_clearly_false(*s.claim, m));

  // Per-token FLOPs of a Hugging Face graph: linear 8 -> 24 and 24 -> 8: 2 x 384 = 768 FLOPs.
  GraphBuilder b("lin");
  Node l1, l2;
  l1.op = l2.op = Op::kLinear;
  l1.shape = Shape4{24, 8, 1, 1};
  l1.params = 216;
  l2.shape = Shape4{8, 24, 1, 1};
  l2.params = 200;
  const int in = b.add(Op::kInput, "x"), a = b.add(l1), c = b.add(l2),
            out = b.add(Op::kOutput, "y");
  b.connect(in, a);
  b.connect(a, c);
  b.connect(c, out);
  ArchGraph g = b.finish("lin", "huggingface", 416, false);
  EXPECT_EQ(linear_flops_per_token(g), 768);
  std::string text;
  for (const ZooSentence& x : graph_sentences(g))
    if (x.claim->kind == "flops_per_token") {
      text = x.text;
      EXPECT_TRUE(zoo_fact_holds(*x.claim, g));
      EXPECT_EQ(x.claim->value, 770);
      EXPECT_EQ(x.claim->unit, 10);
    }
  EXPECT_NE(text.find("0.00000077 GFLOPs"), std::string::npos) << text;
  g.format = "onnx";  // per-token FLOPs are stated of Hugging Face graphs only
  for (const ZooSentence& x : graph_sentences(g)) EXPECT_NE(x.claim->kind, "flops_per_token");
}

TEST(ZooDataset, AttentionThroughDropout) {
  // input -> linear -> matmul(q, k) -> softmax -> dropout -> matmul(., v) -> output.
  GraphBuilder b("att");
  Node qkv;
  qkv.op = Op::kLinear;
  qkv.shape = Shape4{24, 8, 1, 1};
  qkv.params = 216;
  const int in = b.add(Op::kInput, "x"), l = b.add(qkv), s1 = b.add(Op::kMatmul, "scores"),
            sm = b.add(Op::kSoftmax, "softmax"), d = b.add(Op::kDropout, "dropout"),
            m2 = b.add(Op::kMatmul, "context"), out = b.add(Op::kOutput, "y");
  b.connect(in, l);
  b.connect(l, s1);
  b.connect(s1, sm);
  b.connect(sm, d);
  b.connect(d, m2);
  b.connect(l, m2);
  b.connect(m2, out);
  const ArchGraph g = b.finish("att", "json", 216, false);
  StatedFact f;
  f.kind = "attention";
  f.value = 1;
  EXPECT_TRUE(zoo_fact_holds(f, g));
  f.value = 0;
  EXPECT_FALSE(zoo_fact_holds(f, g));
  EXPECT_TRUE(zoo_fact_holds(f, tiny_cnn("t", 1, false)));  // no attention in a CNN
}

TEST(ZooDataset, SimilarityRanksParaphrasedFactsAboveUnrelated) {
  const std::vector<std::string> docs = {
      "ResNet was introduced by Microsoft Research in 2015.",
      "Residual networks appeared in 2015 from Microsoft Research.",
      "GPT-2 was published by OpenAI in 2019.",
      "ViT cuts an image into fixed-size patches and treats them as tokens.",
      "It was trained on the Pile dataset.",
      "BERT is an encoder-only transformer pretrained with masked language modelling."};
  const TfidfSimilarity sim(docs);
  const double para = sim(docs[0], docs[1]);
  const double other = sim(docs[0], docs[2]);
  const double unrelated = sim(docs[0], docs[3]);
  EXPECT_GT(para, kZooNegativeSimilarityThreshold);
  EXPECT_GT(para, other);
  EXPECT_LT(unrelated, 0.05);
  EXPECT_NEAR(sim(docs[4], docs[4]), 1.0, 1e-9);
}

TEST(ZooDataset, BadInputsNameFileAndEntry) {
  const std::string data = make_fixture("bad");
  const std::string models = data + "/zoo/descriptions/models.json";
  const std::string families = data + "/zoo/descriptions/families.json";
  auto expect_bad = [&](const std::string& what, const std::vector<std::string>& needles) {
    try {
      load_zoo_corpus(data);
      ADD_FAILURE() << what << ": no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kBadInput) << what;
      for (const std::string& s : needles)
        EXPECT_NE(std::string(e.what()).find(s), std::string::npos) << what << ": " << e.what();
    }
  };
  json m = fixture_models();
  m["models"]["hf:no-such-model"] = {{"family", "bert"}, {"sentences", {"A sentence."}}};
  write_file_atomic(models, m.dump());
  expect_bad("unknown model", {"models.json", "hf:no-such-model"});

  m = fixture_models();
  m["models"]["tv:minivgg"]["family"] = "nofamily";
  write_file_atomic(models, m.dump());
  expect_bad("missing family", {"families.json", "nofamily", "tv:minivgg"});

  m = fixture_models();
  m["models"]["tv:minivgg"]["sentences"] = {"ok", 3};
  write_file_atomic(models, m.dump());
  expect_bad("bad sentence", {"models.json", "tv:minivgg"});

  write_file_atomic(models, fixture_models().dump());
  json f = fixture_families();
  f["families"]["vit"]["task"] = "image captioning";
  write_file_atomic(families, f.dump());
  expect_bad("task in no group", {"families.json", "vit", "image captioning", "no task group"});
  f = fixture_families();
  f["task_groups"]["text generation"].push_back("language understanding");
  write_file_atomic(families, f.dump());
  expect_bad("task in two groups", {"families.json", "language understanding", "more than one"});
  f = fixture_families();
  f["task_groups"]["text generation"].push_back("text generation");
  write_file_atomic(families, f.dump());
  expect_bad("task twice in a group", {"families.json", "text generation", "listed twice"});
  f = fixture_families();
  f["families"]["vit"]["modality"] = "visoin";
  write_file_atomic(families, f.dump());
  expect_bad("unknown modality", {"families.json", "vit", "visoin"});
  f = fixture_families();
  f["families"]["gpt2"]["also_task_groups"] = {"summarisation"};
  write_file_atomic(families, f.dump());
  expect_bad("unknown also group", {"families.json", "gpt2", "summarisation", "not a task group"});

  write_file_atomic(families, "{\"families\": {");
  expect_bad("malformed JSON", {"families.json", "JSON"});

  fs::remove(families);
  expect_bad("missing file", {"families.json"});
  fs::remove_all(data);
}

// The real zoo and descriptions of the repo, when the description files exist.
TEST(ZooDataset, RepositoryZoo) {
  // ARCHBERT_ZOO_TEST_DATA: another data folder (e.g. one restricted to the converted tv graphs).
  const char* env = std::getenv("ARCHBERT_ZOO_TEST_DATA");
  const std::string data = env && *env ? env : std::string(ARCHBERT_SOURCE_DIR) + "/data";
  if (!fs::exists(data + "/zoo/descriptions/families.json") ||
      !fs::exists(data + "/zoo/descriptions/models.json"))
    GTEST_SKIP() << "no description files yet";
  ZooDatasetOptions opt;
  opt.data_dir = data;
  // ARCHBERT_ZOO_TEST_OUT: write (and keep) the dataset there, to inspect it.
  const char* keep = std::getenv("ARCHBERT_ZOO_TEST_OUT");
  opt.out_dir =
      keep && *keep
          ? keep
          : (fs::temp_directory_path() / ("archbert-zoo-repo-" + std::to_string(::getpid())))
                .string();
  const ZooDatasetReport r = generate_zoo_dataset(opt);
  std::cout << "zoo: " << r.graphs << " graphs (" << r.folded << " folded), " << r.families
            << " families, " << r.positives << " positives, " << r.negatives << " negatives, "
            << r.texts_train << "/" << r.texts_val << " texts train/val, acd " << r.acd_train << "/"
            << r.acd_val << " (" << r.acd_positive << " positive), bacd " << r.bacd_train << "/"
            << r.bacd_val << " (" << r.bacd_positive << " positive), candidates " << r.candidates
            << ", rejected similar " << r.rejected_similar << ", true " << r.rejected_true
            << ", negatives with a claim " << r.negatives_with_claim << ", " << r.seconds << " s\n";
  const auto& v = r.best_similarity;
  std::cout << "best similarity of candidates to the model's positives:";
  for (double q : {0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99})
    std::cout << " p" << static_cast<int>(q * 100) << "="
              << (v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))]);
  std::cout << "\n";
  check_dataset(data, opt.out_dir, opt, 8);
  // BERT-base: 12 attention sites (softmax -> dropout -> matmul), 110 million parameters.
  for (const ZooModel& m : load_zoo_corpus(data).models) {
    if (m.name != "hf:bert-base-uncased") continue;
    std::set<std::string> texts;
    for (const ZooSentence& s : m.positives) texts.insert(s.text);
    std::map<std::string, int64_t> claims;
    for (const ZooSentence& s : m.positives)
      if (s.claim) claims[s.claim->kind] = s.claim->value;
    EXPECT_EQ(claims["attention"], 12);
    EXPECT_EQ(claims["params"], 110'000'000);
    EXPECT_EQ(claims["residual"], 1);
    EXPECT_EQ(claims.count("task"), 1u);
    EXPECT_EQ(claims.count("modality"), 1u);
  }
  // Identity shortcuts, hand-checked: ResNet and BERT have them; VGG, AlexNet and DenseNet
  // (which concatenates) do not.
  // SSD300's VGG backbone has none; its post-processing sums (boxes + class offsets) are none.
  const std::map<std::string, int64_t> residual = {
      {"tv:resnet18", 1},     {"tv:vgg16", 0},
      {"tv:alexnet", 0},      {"tv:densenet121", 0},
      {"tv:mobilenet_v2", 1}, {"tv:vit_b_16", 1},
      {"tv:ssd300_vgg16", 0}, {"tv:fasterrcnn_resnet50_fpn", 1},
      {"hf:gpt2", 1}};
  int checked = 0, present = 0;
  for (const ZooModel& m : load_zoo_corpus(data).models) {
    const auto it = residual.find(m.name);
    if (it == residual.end()) continue;
    ++present;
    for (const ZooSentence& s : m.positives)
      if (s.claim && s.claim->kind == "residual") {
        EXPECT_EQ(s.claim->value, it->second) << m.name << ": " << s.text;
        ++checked;
      }
  }
  EXPECT_EQ(checked, present);  // one residual sentence each
  if (!(env && *env)) EXPECT_EQ(present, static_cast<int>(residual.size()));
  // Hand-checked: resnet18 at 224x224 is 1.81 GMACs (torchvision's table: 1.81 "GFLOPS", which
  // are multiply-accumulates); our forward-pass count gives 1,814,073,344.
  const json tv = json::parse(read(data + "/zoo/tv/manifest.json"));
  if (tv.contains("resnet18") && tv["resnet18"].contains("macs")) {
    const int64_t macs = tv["resnet18"]["macs"].get<int64_t>();
    EXPECT_NEAR(static_cast<double>(macs), 1.82e9, 0.01e9);
    bool found = false;
    for (const ZooModel& m : load_zoo_corpus(data).models)
      if (m.name == "tv:resnet18")
        for (const ZooSentence& s : m.positives)
          if (s.claim && s.claim->kind == "macs") {
            found = true;
            EXPECT_NE(s.text.find("1.8 GMACs"), std::string::npos) << s.text;
            EXPECT_NE(s.text.find("3.6 GFLOPs"), std::string::npos) << s.text;
            EXPECT_NE(s.text.find("224x224 image"), std::string::npos) << s.text;
          }
    EXPECT_TRUE(found);
  }
  if (!(keep && *keep)) fs::remove_all(opt.out_dir);
}

}  // namespace
}  // namespace archbert
