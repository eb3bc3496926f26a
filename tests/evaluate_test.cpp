// The evaluation runner (include/archbert/evaluate.h) with a tiny untrained model: on a small
// generated AutoNet directory (counts, metrics in range, graph-blind uses permuted graphs,
// determinism, options, errors) and on a hand-made zoo directory whose baselines are computed by
// hand. Also `archbert eval` end to end.

#include "archbert/evaluate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include <sys/wait.h>

#include "archbert/autonet.h"
#include "archbert/dataset.h"
#include "archbert/descriptions.h"
#include "archbert/error.h"
#include "archbert/metrics.h"
#include "archbert/model_torch.h"
#include "archbert/tokenizer.h"
#include "test_support.h"

namespace archbert {
namespace {

using nlohmann::json;
using testing_support::TempDir;
using testing_support::write_zoo_manifest;

// A tiny untrained model whose tokenizer is trained on `corpus`.
LoadedModel tiny_model(const std::vector<std::string>& corpus, uint64_t seed = 1,
                       int head_layers = 0) {
  TokenizerTrainOptions to;
  to.vocab_size = 300;
  to.min_frequency = 1;
  Tokenizer tok = train_tokenizer(corpus, to);
  ModelConfig c = ModelConfig::from_preset("tiny");
  c.text_vocab = tok.size();
  c.text_pad_id = Tokenizer::kPad;
  c.ar_head_layers = head_layers;
  LoadedModel m{"tiny", ArchBertModel::create(c, seed), tok, 0.5, 0.5};
  m.model.meta().tokenizer_json = tok.to_json();
  return m;
}

// One small AutoNet val directory of 20 networks with texts, shared by the tests.
class AutoNetEval : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    AutoNetOptions o;
    o.split = DatasetSplit::kVal;
    o.count = 20;
    o.seed = 5;
    o.out_dir = dir_->str();
    generate_autonet(o);
    generate_autonet_texts(dir_->str());
    std::vector<std::string> corpus;
    for (const ArSample& s : read_ar_samples(dir_->file("texts.jsonl"))) corpus.push_back(s.text);
    model_ = new LoadedModel(tiny_model(corpus));
  }
  static void TearDownTestSuite() {
    delete model_;
    delete dir_;
  }
  static TempDir* dir_;
  static LoadedModel* model_;
};
TempDir* AutoNetEval::dir_ = nullptr;
LoadedModel* AutoNetEval::model_ = nullptr;

void expect_in_unit_range(const BinaryMetrics& b) {
  for (double v : {b.accuracy(), b.precision(), b.recall(), b.f1()}) {
    EXPECT_GE(v, 0.0);
    EXPECT_LE(v, 1.0);
  }
}

TEST_F(AutoNetEval, ArCountsAndRanges) {
  const BinaryEvalReport r = evaluate_ar(*model_, dir_->str());
  EXPECT_EQ(r.task, "ar");
  EXPECT_EQ(r.dataset, "autonet");
  EXPECT_EQ(r.split, "val");
  EXPECT_EQ(r.file, "texts.jsonl");
  EXPECT_EQ(r.model.samples(), 200);   // 10 texts per network
  EXPECT_EQ(r.model.positives(), 60);  // 3 positive per network
  EXPECT_EQ(r.graphs, 20);
  EXPECT_GT(r.texts, 100);
  EXPECT_LE(r.texts, 200);
  EXPECT_DOUBLE_EQ(r.model.threshold, 0.5);
  expect_in_unit_range(r.model);
  expect_in_unit_range(r.graph_blind);
  EXPECT_EQ(r.graph_blind.samples(), 200);
  // AutoNet names ("autonet-val-3") never appear in a description: name matching says
  // "incorrect" for everything.
  ASSERT_EQ(r.baselines.count("name_match"), 1u);
  const BinaryMetrics& nm = r.baselines.at("name_match");
  EXPECT_EQ(nm.tp + nm.fp, 0);
  EXPECT_EQ(nm.tn, 140);
  EXPECT_DOUBLE_EQ(nm.f1(), 0.0);
  // The metrics are those of the scores at τ.
  ASSERT_EQ(r.scores.size(), 200u);
  const BinaryMetrics again = binary_metrics_at(r.scores, r.labels, 0.5);
  EXPECT_EQ(again.tp, r.model.tp);
  EXPECT_EQ(again.fp, r.model.fp);
  // Per fact kind: every positive states facts, every negative has a false one; a positive
  // stating two kinds counts in both, so the subsets cover all 60 positives and 140 negatives.
  ASSERT_FALSE(r.by_fact.empty());
  EXPECT_EQ(r.by_fact.count("written"), 0u);  // AutoNet texts all carry claims
  int64_t pos = 0, neg = 0;
  for (const auto& [kind, b] : r.by_fact) {
    EXPECT_LE(b.positives(), 60) << kind;
    EXPECT_LE(b.samples() - b.positives(), 140) << kind;
    pos += b.positives();
    neg += b.samples() - b.positives();
  }
  EXPECT_GE(pos, 60);
  EXPECT_GE(neg, 140);
}

TEST_F(AutoNetEval, ClaimsScoreEachStatedFactsOwnSentence) {
  // Expected samples from the file: distinct (network, sentence) pairs, labelled by truth.
  std::map<std::pair<int64_t, std::string>, int> expected;
  for (const ArSample& s : read_ar_samples(dir_->file("texts.jsonl")))
    for (const StatedFact& f : s.claims) expected[{s.graph, f.text}] = f.holds;
  int64_t positives = 0;
  for (const auto& [key, label] : expected) positives += label;
  EvalOptions o;
  o.claims = true;
  const BinaryEvalReport r = evaluate_ar(*model_, dir_->str(), o);
  EXPECT_EQ(r.model.samples(), static_cast<int64_t>(expected.size()));
  EXPECT_GT(r.model.samples(), 200);  // 2-3 facts per description, some shared
  EXPECT_EQ(r.model.positives(), positives);
  EXPECT_GT(positives, 0);
  EXPECT_LT(positives, r.model.samples());
  // Each sample states one fact: the per-kind subsets partition the samples.
  int64_t n = 0;
  for (const auto& [kind, b] : r.by_fact) n += b.samples();
  EXPECT_EQ(n, r.model.samples());
}

TEST_F(AutoNetEval, ScoresAreCosinesAndGraphBlindUsesPermutedGraphs) {
  const BinaryEvalReport r = evaluate_ar(*model_, dir_->str(), {});
  // Every sample's graph is replaced (a derangement of the 20 graphs).
  EXPECT_EQ(r.graph_blind_changed, 200);
  const std::vector<ArSample> samples = read_ar_samples(dir_->file("texts.jsonl"));
  const std::vector<ArchGraph> graphs = read_graph_store(dir_->file("graphs.bin"));
  const std::vector<int64_t> perm = graph_blind_permutation(20, 0);  // graphs 0..19 are all used
  int differ = 0;
  for (size_t i = 0; i < samples.size(); i += 17) {
    const auto ids = encode_texts(*model_, {samples[i].text});
    const int64_t g = samples[i].graph, gb = perm[static_cast<size_t>(g)];
    ASSERT_NE(g, gb);
    const auto s = model_->model.similarity(ids, {&graphs[g], &graphs[gb]});
    EXPECT_NEAR(r.scores[i], s[0][0], 1e-4) << i;
    EXPECT_NEAR(r.graph_blind_scores[i], s[0][1], 1e-4) << i;
    differ += std::abs(r.scores[i] - r.graph_blind_scores[i]) > 1e-6;
  }
  EXPECT_GT(differ, 0);
}

TEST_F(AutoNetEval, Deterministic) {
  EvalOptions o;
  o.seed = 3;
  const BinaryEvalReport a = evaluate_ar(*model_, dir_->str(), o);
  const BinaryEvalReport b = evaluate_ar(*model_, dir_->str(), o);
  EXPECT_EQ(a.scores, b.scores);
  EXPECT_EQ(a.graph_blind_scores, b.graph_blind_scores);
  json ja = json::parse(eval_report_to_json(a)), jb = json::parse(eval_report_to_json(b));
  ja.erase("seconds");
  jb.erase("seconds");
  EXPECT_EQ(ja, jb);
  // Another permutation seed changes the control only.
  o.seed = 4;
  const BinaryEvalReport c = evaluate_ar(*model_, dir_->str(), o);
  EXPECT_EQ(c.scores, a.scores);
  EXPECT_NE(c.graph_blind_scores, a.graph_blind_scores);
}

TEST_F(AutoNetEval, OptionsThresholdLimitSplit) {
  EvalOptions o;
  o.threshold = -1.0;  // every cosine is >= -1: all "correct"
  BinaryEvalReport r = evaluate_ar(*model_, dir_->str(), o);
  EXPECT_EQ(r.model.tp, 60);
  EXPECT_EQ(r.model.fp, 140);
  EXPECT_DOUBLE_EQ(r.model.recall(), 1.0);
  EXPECT_DOUBLE_EQ(r.model.threshold, -1.0);
  o.threshold = 1.5;  // nothing reaches it
  r = evaluate_ar(*model_, dir_->str(), o);
  EXPECT_EQ(r.model.tp + r.model.fp, 0);

  EvalOptions lim;
  lim.limit = 15;  // texts are in network order: networks 0 and 1
  r = evaluate_ar(*model_, dir_->str(), lim);
  EXPECT_EQ(r.model.samples(), 15);
  EXPECT_EQ(r.graphs, 2);

  EvalOptions train;
  train.split = "train";
  try {
    evaluate_ar(*model_, dir_->str(), train);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
  }
}

TEST_F(AutoNetEval, BadDirectoriesNameThePath) {
  const std::string missing = dir_->file("no-such-dir");
  try {
    evaluate_ar(*model_, missing);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_NE(std::string(e.what()).find("no-such-dir"), std::string::npos) << e.what();
  }
  // ACD, BACD and search need a zoo.
  for (auto* f : {&evaluate_acd, &evaluate_bacd}) {
    try {
      (*f)(*model_, dir_->str(), {});
      FAIL() << "expected an error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
      EXPECT_NE(std::string(e.what()).find("zoo"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(evaluate_search(*model_, dir_->str()), Error);
}

TEST(GraphBlindPermutation, IsADeterministicDerangement) {
  for (int64_t n = 2; n <= 40; ++n) {
    const auto p = graph_blind_permutation(n, 7);
    std::set<int64_t> seen(p.begin(), p.end());
    EXPECT_EQ(static_cast<int64_t>(seen.size()), n);
    EXPECT_EQ(*seen.begin(), 0);
    EXPECT_EQ(*seen.rbegin(), n - 1);
    for (int64_t i = 0; i < n; ++i) EXPECT_NE(p[static_cast<size_t>(i)], i);
    EXPECT_EQ(p, graph_blind_permutation(n, 7));
  }
  EXPECT_NE(graph_blind_permutation(30, 1), graph_blind_permutation(30, 2));
  EXPECT_EQ(graph_blind_permutation(1, 0), (std::vector<int64_t>{0}));
  EXPECT_TRUE(graph_blind_permutation(0, 0).empty());
}

// ---------------------------------------------------------------------------------------------
// A hand-made zoo: 4 graphs, texts, ACD pairs and BACD quartets.

Node param_node(Op op, Shape4 shape, const std::string& name) {
  Node n;
  n.op = op;
  n.shape = shape;
  n.params = shape[0] * shape[1] * shape[2] * shape[3];
  n.name = name;
  return n;
}

// input -> conv -> relu -> conv -> relu -> max_pool -> output
ArchGraph conv_graph(const std::string& name, bool folded) {
  GraphBuilder b(name);
  int prev = b.add(Op::kInput, "x");
  for (int i = 0; i < 2; ++i) {
    const int c =
        b.add(param_node(Op::kConv, {8, i == 0 ? 3 : 8, 3, 3}, "conv" + std::to_string(i)));
    const int r = b.add(Op::kRelu, "relu" + std::to_string(i));
    b.connect(prev, c);
    b.connect(c, r);
    prev = r;
  }
  Node pool;
  pool.op = Op::kMaxPool;
  pool.kernel = Kernel2{2, 2};
  const int p = b.add(pool);
  const int o = b.add(Op::kOutput, "y");
  b.connect(prev, p);
  b.connect(p, o);
  return b.finish(name, "json", 8 * 27 + 8 * 72, folded);
}

// input -> linear -> relu [-> ln] -> linear -> output
ArchGraph mlp_graph(const std::string& name, bool with_ln) {
  GraphBuilder b(name);
  const int in = b.add(Op::kInput, "x");
  const int l1 = b.add(param_node(Op::kLinear, {16, 8, 1, 1}, "fc1"));
  const int r = b.add(Op::kRelu, "act");
  const int l2 = b.add(param_node(Op::kLinear, {4, 16, 1, 1}, "fc2"));
  const int o = b.add(Op::kOutput, "y");
  b.connect(in, l1);
  b.connect(l1, r);
  int prev = r;
  int64_t params = 16 * 8 + 4 * 16;
  if (with_ln) {
    const int ln = b.add(param_node(Op::kLayerNorm, {16, 1, 1, 1}, "ln"));
    b.connect(r, ln);
    prev = ln;
    params += 16;
  }
  b.connect(prev, l2);
  b.connect(l2, o);
  return b.finish(name, "json", params, false);
}

void write_text(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

// Graphs: 0 tv:resnet18 (resnet), 1 tv:resnet18.folded (resnet, the same graph), 2
// hf:bert-base-uncased (bert), 3 hf:gpt2 (gpt2). Jaccard: J(0,1) = 1, J(2,3) = (4/5 + 3/6) / 2
// = 0.65, J(0,2) = J(1,2) = (3/6 + 0) / 2 = 0.25, J(0,3) = J(1,3) = (3/7 + 0) / 2.
struct HandZoo {
  TempDir dir;
  std::vector<std::string> corpus;
  HandZoo() {
    write_graph_store(dir.file("graphs.bin"),
                      {conv_graph("tv:resnet18", false), conv_graph("tv:resnet18.folded", true),
                       mlp_graph("hf:bert-base-uncased", false), mlp_graph("hf:gpt2", true)});
    json models = json::array();
    const char* names[] = {"tv:resnet18", "tv:resnet18.folded", "hf:bert-base-uncased", "hf:gpt2"};
    const char* families[] = {"resnet", "resnet", "bert", "gpt2"};
    for (int i = 0; i < 4; ++i)
      models.push_back({{"index", i}, {"name", names[i]}, {"family", families[i]}});
    write_text(dir.file("models.json"), models.dump(1));
    const std::vector<ArSample> train = {
        {0, "ResNet stacks residual blocks.", 1, {}, {}},
        {1, "ResNet stacks residual blocks.", 1, {}, {}},
        {0, "It has convolutions.", 1, {}, {}},
        {2, "ResNet stacks residual blocks.", 0, {}, {}},
        {2, "BERT is an encoder.", 1, {}, {}},
        {3, "GPT-2 generates text.", 1, {}, {}},
    };
    const std::vector<ArSample> val = {
        {0, "Residual connections skip two convolutions.", 1, {}, {}},
        {1, "Residual connections skip two convolutions.", 1, {}, {}},
        {2, "Residual connections skip two convolutions.", 0, {}, {}},
        {2, "The encoder reads text in both directions.", 1, {}, {}},
        {3, "The encoder reads text in both directions.", 0, {}, {}},
        {3, "GPT-2 predicts the next token.", 1, {}, {}},
        {1, "It was trained with BatchNorm folded.", 1, {}, {}},
        {0, "GPT-2 predicts the next token.", 0, {}, {}},
    };
    write_jsonl(dir.file("texts_train.jsonl"), samples_to_jsonl(train));
    write_jsonl(dir.file("texts_val.jsonl"), samples_to_jsonl(val));
    const std::vector<AcdPair> acd = {{0, 1, 1}, {0, 2, 0}, {0, 3, 0},
                                      {1, 2, 0}, {1, 3, 0}, {2, 3, 0}};
    write_jsonl(dir.file("acd_val.jsonl"), samples_to_jsonl(acd));
    write_jsonl(dir.file("acd_train.jsonl"), samples_to_jsonl(acd));
    const std::vector<BacdQuartet> bacd = {
        {0, 1, "Residual connections skip two convolutions.", 1},
        {0, 1, "ResNet is a residual network.", 1},
        {2, 3, "The encoder reads text in both directions.", 0},
        {0, 2, "Residual connections skip two convolutions.", 0},
    };
    write_jsonl(dir.file("bacd_val.jsonl"), samples_to_jsonl(bacd));
    write_zoo_manifest(dir.str(), 4,
                       {{"graphs", "graphs.bin"},
                        {"models", "models.json"},
                        {"texts_train", "texts_train.jsonl"},
                        {"texts_val", "texts_val.jsonl"},
                        {"acd_train", "acd_train.jsonl"},
                        {"acd_val", "acd_val.jsonl"},
                        {"bacd_val", "bacd_val.jsonl"}});
    for (const auto& s : train) corpus.push_back(s.text);
    for (const auto& s : val) corpus.push_back(s.text);
    for (const auto& q : bacd) corpus.push_back(q.text);
  }
};

TEST(ZooEval, ArNameMatchingByHand) {
  HandZoo z;
  const LoadedModel m = tiny_model(z.corpus);
  const BinaryEvalReport r = evaluate_ar(m, z.dir.str());
  EXPECT_EQ(r.dataset, "zoo");
  EXPECT_EQ(r.split, "val");
  EXPECT_EQ(r.model.samples(), 8);
  EXPECT_EQ(r.model.positives(), 5);
  EXPECT_EQ(r.graphs, 4);
  EXPECT_EQ(r.texts, 4);
  expect_in_unit_range(r.model);
  EXPECT_EQ(r.graph_blind_changed, 8);
  // Only "GPT-2 predicts the next token." on hf:gpt2 names its model: tp 1, fn 4, tn 3.
  const BinaryMetrics& nm = r.baselines.at("name_match");
  EXPECT_EQ(nm.tp, 1);
  EXPECT_EQ(nm.fn, 4);
  EXPECT_EQ(nm.fp, 0);
  EXPECT_EQ(nm.tn, 3);
  EXPECT_DOUBLE_EQ(nm.f1(), 1.0 / 3.0);
  EvalOptions train;
  train.split = "train";
  EXPECT_EQ(evaluate_ar(m, z.dir.str(), train).model.samples(), 6);
  EvalOptions bad;
  bad.split = "test";
  EXPECT_THROW(evaluate_ar(m, z.dir.str(), bad), Error);
  EvalOptions claims;  // the Zoo has no single-fact sentences
  claims.claims = true;
  EXPECT_THROW(evaluate_ar(m, z.dir.str(), claims), Error);
}

TEST(ZooEval, AcdAndBacdJaccardByHand) {
  HandZoo z;
  const LoadedModel m = tiny_model(z.corpus);
  const BinaryEvalReport acd = evaluate_acd(m, z.dir.str());
  EXPECT_EQ(acd.model.samples(), 6);
  EXPECT_EQ(acd.model.positives(), 1);
  EXPECT_EQ(acd.graphs, 4);
  expect_in_unit_range(acd.model);
  // Jaccard >= 0.5 for (0, 1) (1.0) and (2, 3) (0.65): tp 1, fp 1, tn 4.
  const BinaryMetrics& j = acd.baselines.at("jaccard");
  EXPECT_EQ(j.tp, 1);
  EXPECT_EQ(j.fp, 1);
  EXPECT_EQ(j.tn, 4);
  EXPECT_DOUBLE_EQ(j.f1(), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(acd.baselines.at("jaccard").accuracy(), 5.0 / 6.0);
  EXPECT_EQ(acd.baselines.count("unimodal"), 0u);
  // Identical graphs have cosine 1 under any model.
  EXPECT_NEAR(acd.scores[0], 1.0, 1e-5);

  // A uni-modal checkpoint (here: another tiny model) is evaluated when given.
  const LoadedModel uni = tiny_model(z.corpus, 9);
  EvalOptions o;
  o.unimodal = &uni;
  const BinaryEvalReport acd_uni = evaluate_acd(m, z.dir.str(), o);
  ASSERT_EQ(acd_uni.baselines.count("unimodal"), 1u);
  EXPECT_EQ(acd_uni.baselines.at("unimodal").samples(), 6);

  const BinaryEvalReport bacd = evaluate_bacd(m, z.dir.str());
  EXPECT_EQ(bacd.model.samples(), 4);
  EXPECT_EQ(bacd.model.positives(), 2);
  EXPECT_EQ(bacd.texts, 3);
  // jaccard: (0,1), (0,1), (2,3) similar -> tp 2, fp 1, tn 1.
  EXPECT_EQ(bacd.baselines.at("jaccard").tp, 2);
  EXPECT_EQ(bacd.baselines.at("jaccard").fp, 1);
  // jaccard_name: only "ResNet is a residual network." names both resnets -> tp 1, fn 1, tn 2.
  const BinaryMetrics& jn = bacd.baselines.at("jaccard_name");
  EXPECT_EQ(jn.tp, 1);
  EXPECT_EQ(jn.fn, 1);
  EXPECT_EQ(jn.tn, 2);
  EXPECT_DOUBLE_EQ(jn.f1(), 2.0 / 3.0);
  // BACD: positive exactly when the text passes AR at τ_ar on both graphs and the pair passes
  // ACD at τ_acd (the score is the smallest margin).
  EXPECT_DOUBLE_EQ(*bacd.ar_threshold, 0.5);
  for (size_t i = 0; i < bacd.scores.size(); ++i) EXPECT_LE(bacd.scores[i], 0.5 + 1e-6);
  LoadedModel lenient = tiny_model(z.corpus);
  lenient.ar_threshold = -1.0;
  EvalOptions all;
  all.threshold = -1.0;  // τ_acd
  const BinaryEvalReport every = evaluate_bacd(lenient, z.dir.str(), all);
  EXPECT_EQ(every.model.tp, 2);
  EXPECT_EQ(every.model.fp, 2);
  EXPECT_DOUBLE_EQ(every.model.threshold, -1.0);
  lenient.ar_threshold = 1.0;  // the pair check passes, the text checks cannot all pass
  const BinaryEvalReport strict = evaluate_bacd(lenient, z.dir.str(), all);
  EXPECT_EQ(strict.model.tp + strict.model.fp, 0);
  // Per-sample lines: one per sample in file order, the report's labels and scores, the
  // decision at the threshold (BACD: every check passes, score >= 0) and the graphs' names.
  for (const BinaryEvalReport* rep : {&acd, &bacd}) {
    std::istringstream lines(eval_scores_to_jsonl(*rep));
    std::string line;
    size_t i = 0;
    const double tau = rep->task == "bacd" ? 0.0 : rep->model.threshold;
    while (std::getline(lines, line)) {
      const json s = json::parse(line);
      ASSERT_LT(i, rep->scores.size());
      EXPECT_EQ(s["sample"], i);
      EXPECT_EQ(s["label"], rep->labels[i]);
      EXPECT_DOUBLE_EQ(s["score"].get<double>(), rep->scores[i]);
      EXPECT_EQ(s["decision"], rep->scores[i] >= tau ? 1 : 0);
      EXPECT_EQ(s["correct"].get<bool>(), (rep->scores[i] >= tau) == (rep->labels[i] != 0));
      // The dataset line's own fields, and the names of its two graphs.
      EXPECT_TRUE(s.contains("a") && s.contains("b"));
      ASSERT_EQ(s["names"].size(), 2u);
      EXPECT_FALSE(s["names"][0].get<std::string>().empty());
      EXPECT_EQ(s.contains("text"), rep->task == "bacd");
      ++i;
    }
    EXPECT_EQ(i, rep->scores.size());
  }
  const json jb = json::parse(eval_report_to_json(bacd));
  for (const char* key : {"accuracy", "f1", "precision", "recall", "threshold", "samples",
                          "graph_blind", "baselines"})
    EXPECT_TRUE(jb.contains(key)) << key;
}

TEST(ZooEval, SearchPopularityByHand) {
  HandZoo z;
  const LoadedModel m = tiny_model(z.corpus);
  const SearchEvalReport r = evaluate_search(m, z.dir.str());
  EXPECT_EQ(r.models, 4);
  // Queries: the 4 distinct positive val texts; "GPT-2 predicts ..." names its model.
  EXPECT_EQ(r.model.queries, 4);
  EXPECT_EQ(r.name_free_queries, 3);
  // Popularity (train positives 2, 1, 1, 1) ranks 0, 1, 2, 3. First relevant ranks: {0,1} -> 1,
  // {2} -> 3, {3} -> 4, {1} -> 2.
  EXPECT_DOUBLE_EQ(r.popularity.recall_at_1, 0.25);
  EXPECT_DOUBLE_EQ(r.popularity.recall_at_5, 1.0);
  EXPECT_DOUBLE_EQ(r.popularity.mrr, 25.0 / 48.0);
  EXPECT_DOUBLE_EQ(r.popularity_name_free.recall_at_1, 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(r.popularity_name_free.mrr, 11.0 / 18.0);
  // With 4 models every query has its relevant model in the top 5.
  EXPECT_DOUBLE_EQ(r.model.recall_at_5, 1.0);
  EXPECT_GE(r.model.mrr, 0.25);
  EXPECT_LE(r.model.mrr, 1.0);
  const json j = json::parse(eval_report_to_json(r));
  for (const char* key : {"recall@1", "recall@5", "recall@10", "mrr", "queries", "name_free",
                          "popularity", "graph_blind"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["name_free"]["queries"], 3);
  EvalOptions lim;
  lim.limit = 2;
  EXPECT_EQ(evaluate_search(m, z.dir.str(), lim).model.queries, 2);
}

// With a statement head, --rerank N orders each query's first N models by the head's
// probability. The head here is made to disagree with the cosine (its cosine term reversed), so
// a rerank that did nothing would be seen.
TEST(ZooEval, SearchRerankOrdersTheTopByTheStatementHead) {
  HandZoo z;
  EvalOptions o;
  o.rerank = 4;
  // The tiny model cannot tell ResNet-18 from its folded twin (graphs 0 and 1 score alike up to
  // rounding), so only the first two queries are used: neither has exactly one of the two
  // relevant, and their order cannot change a metric.
  o.limit = 2;
  try {
    evaluate_search(tiny_model(z.corpus), z.dir.str(), o);
    ADD_FAILURE() << "a network without a head must refuse --rerank";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    EXPECT_NE(std::string(e.what()).find("statement head"), std::string::npos) << e.what();
  }
  LoadedModel m = tiny_model(z.corpus, 1, 1);
  {
    torch::NoGradGuard ng;
    torch_net(m.model)->named_parameters()["ar_head.cos_scale"].fill_(-10.0);
  }
  // The queries (distinct positive val texts in file order) and their relevant models.
  const std::vector<std::string> queries = {"Residual connections skip two convolutions.",
                                            "The encoder reads text in both directions."};
  const std::vector<std::vector<int64_t>> rel = {{0, 1}, {2}};
  const GraphStore store = open_dataset_graphs(z.dir.str());
  std::vector<ArchGraph> graphs;
  std::vector<const ArchGraph*> ptrs;
  for (int64_t g = 0; g < 4; ++g) graphs.push_back(store.get(g));
  for (const ArchGraph& g : graphs) ptrs.push_back(&g);
  std::vector<std::vector<int32_t>> ids;
  for (const std::string& q : queries)
    ids.push_back(m.tokenizer.encode(q, static_cast<int>(m.model.config().max_text_len)).ids);
  const auto sim = m.model.similarity(ids, ptrs);  // [query][graph] cosines
  std::vector<std::vector<int64_t>> by_head, by_cosine;
  for (size_t q = 0; q < queries.size(); ++q) {
    const std::vector<float> p =
        m.model.statement_scores(std::vector<std::vector<int32_t>>(4, ids[q]), ptrs, {0, 1, 2, 3});
    std::vector<int64_t> h = {0, 1, 2, 3}, c = {0, 1, 2, 3};
    std::stable_sort(h.begin(), h.end(), [&](int64_t a, int64_t b) { return p[a] > p[b]; });
    std::stable_sort(c.begin(), c.end(),
                     [&](int64_t a, int64_t b) { return sim[q][a] > sim[q][b]; });
    by_head.push_back(h);
    by_cosine.push_back(c);
  }
  ASSERT_NE(by_head, by_cosine) << "the head must disagree with the cosine for this test";
  const RankingMetrics want = ranking_metrics(by_head, rel);
  const SearchEvalReport r = evaluate_search(m, z.dir.str(), o);
  EXPECT_EQ(r.rerank, 4);
  EXPECT_DOUBLE_EQ(r.model.mrr, want.mrr);
  EXPECT_DOUBLE_EQ(r.model.recall_at_1, want.recall_at_1);
  // The report keeps the cosine ranking beside it, the same as an evaluation without rerank.
  EvalOptions first2;
  first2.limit = 2;
  const SearchEvalReport plain = evaluate_search(m, z.dir.str(), first2);
  EXPECT_DOUBLE_EQ(r.cosine.mrr, plain.model.mrr);
  EXPECT_DOUBLE_EQ(plain.model.mrr, ranking_metrics(by_cosine, rel).mrr);
  EXPECT_NE(r.model.mrr, plain.model.mrr);  // the reversed head moved a relevant model
  const json j = json::parse(eval_report_to_json(r));
  EXPECT_EQ(j["rerank"], 4);
  EXPECT_TRUE(j["cosine"].contains("name_free"));
  EXPECT_FALSE(json::parse(eval_report_to_json(plain)).contains("rerank"));
  // Reordering a single model changes nothing.
  o.rerank = 1;
  EXPECT_DOUBLE_EQ(evaluate_search(m, z.dir.str(), o).model.mrr, plain.model.mrr);
}

// A query stating a computed fact is relevant to every model with that fact in any wording; a
// task claim (its group) is not widened.
TEST(ZooEval, SearchRelevantByFactAcrossWordings) {
  HandZoo z;
  const LoadedModel m = tiny_model(z.corpus);
  StatedFact linear;
  linear.kind = "count";
  linear.cls = "Linear";
  linear.value = 2;
  linear.holds = true;
  StatedFact task;
  task.kind = "task";
  task.cls = "image classification";
  task.value = 1;
  task.holds = true;
  const std::vector<ArSample> train = {
      {0, "It has 2 linear layers.", 1, {"count"}, {linear}},
      {0, "It is a model for image classification.", 1, {"task"}, {task}},
      {3, "GPT-2 generates text.", 1, {}, {}},
  };
  const std::vector<ArSample> val = {
      {2, "There are 2 linear layers in it.", 1, {"count"}, {linear}},
      {1, "Its task is image classification.", 1, {"task"}, {task}},
  };
  write_jsonl(z.dir.file("texts_train.jsonl"), samples_to_jsonl(train));
  write_jsonl(z.dir.file("texts_val.jsonl"), samples_to_jsonl(val));
  const SearchEvalReport r = evaluate_search(m, z.dir.str());
  EXPECT_EQ(r.model.queries, 2);
  // Popularity ranks 0 (2 train positives), 3 (1), 1, 2. The linear query's relevant set is
  // {0, 2} (first relevant at rank 1; by its text alone {2}, rank 4); the task query's is {1}
  // (rank 3), not {0, 1}.
  EXPECT_DOUBLE_EQ(r.popularity.recall_at_1, 0.5);
  EXPECT_DOUBLE_EQ(r.popularity.mrr, (1.0 + 1.0 / 3.0) / 2.0);
}

// `archbert eval` end to end with a saved tiny checkpoint.
TEST(EvalCli, JsonAndErrors) {
  HandZoo z;
  LoadedModel m = tiny_model(z.corpus);
  m.model.meta().extra["ar_threshold"] = "0.25";
  const std::string ckpt = z.dir.file("tiny.ckpt");
  m.model.save(ckpt);
  auto run = [&](const std::string& args, std::string* out) {
    const testing_support::CliRun r = testing_support::run_cli(args, z.dir.path());
    *out = r.out;
    return r.code;
  };

  std::string out;
  ASSERT_EQ(run("eval ar --data " + z.dir.str() + " --ckpt " + ckpt + " --json", &out), 0) << out;
  json j = json::parse(out);
  EXPECT_EQ(j["samples"], 8);
  EXPECT_DOUBLE_EQ(j["threshold"].get<double>(), 0.25);  // the checkpoint's τ
  EXPECT_TRUE(j["baselines"].contains("name_match"));
  // --scores: one line per sample with its statement, graph name, label and the decision at
  // the checkpoint's τ; the counts agree with the report's confusion matrix.
  const std::string scores = z.dir.file("scores.jsonl");
  ASSERT_EQ(
      run("eval ar --data " + z.dir.str() + " --ckpt " + ckpt + " --json --scores " + scores, &out),
      0)
      << out;
  {
    std::ifstream in(scores);
    std::string line;
    int lines = 0, tp = 0, fp = 0;
    while (std::getline(in, line)) {
      const json s = json::parse(line);
      ++lines;
      EXPECT_FALSE(s["text"].get<std::string>().empty());
      EXPECT_TRUE(s.contains("graph"));
      EXPECT_EQ(s["names"].size(), 1u);
      EXPECT_EQ(s["decision"], s["score"].get<double>() >= 0.25 ? 1 : 0);
      tp += s["decision"] == 1 && s["label"] == 1;
      fp += s["decision"] == 1 && s["label"] == 0;
    }
    EXPECT_EQ(lines, 8);
    EXPECT_EQ(tp, j["tp"].get<int>());
    EXPECT_EQ(fp, j["fp"].get<int>());
  }
  EXPECT_EQ(
      run("eval search --data " + z.dir.str() + " --ckpt " + ckpt + " --scores " + scores, &out),
      1);
  ASSERT_EQ(run("eval search --data " + z.dir.str() + " --ckpt " + ckpt + " --json", &out), 0);
  j = json::parse(out);
  EXPECT_EQ(j["queries"], 4);
  ASSERT_EQ(run("eval acd --data " + z.dir.str() + " --ckpt " + ckpt + " --threshold 0.9", &out),
            0);
  EXPECT_NE(out.find("jaccard"), std::string::npos) << out;
  EXPECT_NE(out.find("graph-blind"), std::string::npos) << out;
  // A bad directory: exit code 2 and the path in the message.
  const testing_support::CliRun bad = testing_support::run_cli(
      "eval ar --data " + z.dir.file("nope") + " --ckpt " + ckpt, z.dir.path());
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("nope"), std::string::npos) << bad.err;
  EXPECT_EQ(run("eval bogus --data " + z.dir.str(), &out), 1);
}

}  // namespace
}  // namespace archbert
