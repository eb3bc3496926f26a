// Tests of pretraining (include/archbert/train.h) on small generated AutoNet directories:
// checkpoints and their metadata, learning, exact resume, ablation flags and bad input.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "archbert/autonet.h"
#include "archbert/dataset.h"
#include "archbert/descriptions.h"
#include "archbert/error.h"
#include "archbert/evaluate.h"
#include "archbert/metrics.h"
#include "archbert/model_torch.h"
#include "archbert/tasks.h"
#include "archbert/tokenizer.h"
#include "archbert/train.h"
#include "archbert/zoo_dataset.h"
#include "test_support.h"

namespace archbert {
namespace {

namespace fs = std::filesystem;
using testing_support::TempDir;
using testing_support::write_zoo_manifest;

// AutoNet train (24 networks) and val (8 networks) directories with descriptions.
class TrainTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    for (auto [split, count] : {std::pair{DatasetSplit::kTrain, 24}, {DatasetSplit::kVal, 8}}) {
      AutoNetOptions o;
      o.split = split;
      o.count = count;
      o.seed = 1;
      o.out_dir = (*dir_) / std::string(split_name(split));
      o.threads = 1;
      generate_autonet(o);
      generate_autonet_texts(o.out_dir);
    }
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  TrainOptions options(const std::string& out) const {
    TrainOptions o;
    o.data_dirs = {(*dir_) / "train", (*dir_) / "val"};
    o.out = out;
    o.preset = "tiny";
    o.epochs = 2;
    o.graphs_per_batch = 4;
    o.texts_per_graph = 5;
    o.val_texts = 40;
    o.save_every = 0;
    o.progress = false;
    o.seed = 3;
    o.tokenizer_vocab = 400;
    return o;
  }

  static inline TempDir* dir_ = nullptr;
};

// Every parameter of two checkpoints, max absolute difference.
double max_weight_difference(const std::string& a, const std::string& b) {
  auto na = load_checkpoint(a, nullptr), nb = load_checkpoint(b, nullptr);
  auto pa = na->named_parameters(true), pb = nb->named_parameters(true);
  EXPECT_EQ(pa.size(), pb.size());
  double diff = 0;
  for (const auto& p : pa) {
    diff = std::max(diff, (p.value() - pb[p.key()]).abs().max().item<double>());
  }
  return diff;
}

TEST_F(TrainTest, WritesACheckpointWithTokenizerThresholdsAndHistory) {
  TempDir out;
  const TrainReport r = train_pretrain(options(out / "m.ckpt"));
  // 24 networks x 10 descriptions in units of 5 -> 48 units -> 12 steps per epoch.
  EXPECT_EQ(r.steps, 24);
  EXPECT_EQ(r.samples, 2 * 240);
  ASSERT_TRUE(fs::exists(out / "m.ckpt"));
  ASSERT_TRUE(fs::exists(out / "m.ckpt.optim"));
  for (const auto& e : fs::directory_iterator(out.path()))  // no temporary files left behind
    EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << e.path();

  ArchBertModel m = ArchBertModel::load(out / "m.ckpt");
  const Tokenizer tok = Tokenizer::from_json(m.meta().tokenizer_json);
  EXPECT_EQ(m.config().text_vocab, tok.size());
  EXPECT_EQ(m.config().preset, "tiny");
  const double tau = std::stod(m.meta().extra.at("ar_threshold"));
  EXPECT_GE(tau, -1.0);
  EXPECT_LE(tau, 1.0);
  EXPECT_NEAR(tau, r.ar_threshold, 1e-6);
  const auto report = nlohmann::json::parse(m.meta().extra.at("train_report"));
  EXPECT_EQ(report.at("step"), 24);
  ASSERT_EQ(report.at("history").size(), 2u);  // one validation per epoch
  const auto& last = report.at("history")[1];
  EXPECT_EQ(last.at("ar").at("autonet:val").at("samples"), 40);
  const double f1 = last.at("ar").at("autonet:val").at("f1");
  EXPECT_GE(f1, 0.0);
  EXPECT_LE(f1, 1.0);
}

TEST_F(TrainTest, LossFallsWhenTrainingLonger) {
  for (const char* loss : {"mse", "bce"}) {  // paper eq. 3, and its cross-entropy form
    TempDir out;
    TrainOptions o = options(out / "m.ckpt");
    o.sim_loss = loss;
    o.epochs = 8;
    o.lr = 3e-3;
    train_pretrain(o);
    ArchBertModel m = ArchBertModel::load(out / "m.ckpt");
    const auto history = nlohmann::json::parse(m.meta().extra.at("train_report")).at("history");
    ASSERT_EQ(history.size(), 8u) << loss;
    EXPECT_LT(history[7].at("loss").get<double>(), 0.8 * history[0].at("loss").get<double>())
        << loss;
  }
}

// Training with `o` is refused as a usage error whose message contains `needle`, and o.out is
// not written.
void expect_usage_error(const TrainOptions& o, const std::string& needle) {
  try {
    train_pretrain(o);
    ADD_FAILURE() << "expected an error mentioning " << needle;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(o.out));
}

TEST_F(TrainTest, ResumeContinuesExactlyWhereARunStopped) {
  TempDir out;
  train_pretrain(options(out / "full.ckpt"));

  TrainOptions first = options(out / "part.ckpt");
  first.stop_after = 7;  // mid-epoch
  const TrainReport r1 = train_pretrain(first);
  EXPECT_EQ(r1.steps, 7);
  TrainOptions second = options(out / "part.ckpt");
  second.resume = out / "part.ckpt";
  const TrainReport r2 = train_pretrain(second);
  EXPECT_EQ(r2.steps, 24);
  EXPECT_LT(max_weight_difference(out / "full.ckpt", out / "part.ckpt"), 1e-4);
}

TEST_F(TrainTest, AblationFlagsAreStoredInTheConfig) {
  TempDir out;
  TrainOptions o = options(out / "m.ckpt");
  o.epochs = 1;
  o.max_steps = 2;
  o.use_shape = false;
  o.use_edges = false;
  o.use_cross = false;
  o.use_mam = false;
  o.use_summary = false;
  o.use_numbers = false;
  train_pretrain(o);
  ArchBertModel m = ArchBertModel::load(out / "m.ckpt");
  EXPECT_FALSE(m.config().use_shape);
  EXPECT_FALSE(m.config().use_edges);
  EXPECT_FALSE(m.config().use_cross);
  EXPECT_FALSE(m.config().use_summary);
  EXPECT_FALSE(m.config().use_numbers);
  EXPECT_FALSE(m.config().use_text_kernels);
  // --text-kernels is stored too; without summary tokens or number values it is refused.
  o = options(out / "k.ckpt");
  o.epochs = 1;
  o.max_steps = 2;
  o.text_kernels = true;
  train_pretrain(o);
  EXPECT_TRUE(ArchBertModel::load(out / "k.ckpt").config().use_text_kernels);
  for (int k = 0; k < 2; ++k) {
    TrainOptions bad = options(out / "bad.ckpt");
    bad.text_kernels = true;
    (k == 0 ? bad.use_summary : bad.use_numbers) = false;
    expect_usage_error(bad, "--text-kernels");
  }
}

// The uni-modal ACD baseline: no description reaches the loss, so the text side keeps its
// initial weights while the graph side trains (here through MAM; AutoNet has no ACD pairs).
TEST_F(TrainTest, GraphOnlyLeavesTheTextSideUntouched) {
  TempDir out;
  TrainOptions o = options(out / "m.ckpt");
  o.epochs = 1;
  o.graph_only = true;
  EXPECT_THROW(train_pretrain(o), Error);  // needs the ACD term
  o.acd_weight = 1.0;
  o.lr = 3e-3;
  const TrainReport r = train_pretrain(o);
  EXPECT_EQ(r.samples, 0);  // no descriptions
  auto net = load_checkpoint(out / "m.ckpt", nullptr);
  torch::manual_seed(o.seed);
  ArchBertNet fresh(net->config());
  auto start = fresh->named_parameters(true);
  for (const auto& p : net->named_parameters(true)) {
    const bool text_side =
        p.key() == "tok.weight" || p.key() == "pos.weight" || p.key().rfind("text_norm.", 0) == 0;
    if (text_side) {
      EXPECT_TRUE(torch::equal(p.value(), start[p.key()])) << p.key();
    }
  }
  EXPECT_FALSE(torch::equal(net->named_parameters(true)["gat.layers.0.proj.weight"],
                            start["gat.layers.0.proj.weight"]));
  ArchBertModel m = ArchBertModel::load(out / "m.ckpt");
  const auto report = nlohmann::json::parse(m.meta().extra.at("train_report"));
  EXPECT_FALSE(report.at("history").back().contains("ar"));
}

TEST_F(TrainTest, NumberRolesComeFromTheTrainedTokenizer) {
  TempDir out;
  TrainOptions o = options(out / "m.ckpt");
  o.epochs = 1;
  o.max_steps = 1;
  train_pretrain(o);
  ArchBertModel m = ArchBertModel::load(out / "m.ckpt");
  ASSERT_TRUE(m.config().use_numbers);
  const Tokenizer tok = Tokenizer::from_json(m.meta().tokenizer_json);
  auto& net = torch_net(m);
  torch::Tensor roles;
  for (const auto& b : net->named_buffers()) {
    if (b.key() == "number_roles") roles = b.value();
  }
  ASSERT_TRUE(roles.defined());
  const auto want = number_roles(tok);
  ASSERT_EQ(roles.numel(), static_cast<int64_t>(want.size()));
  int digits = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(roles[i].item<int64_t>(), want[i]) << tok.piece(static_cast<int32_t>(i));
    digits += want[i] >= 1 && want[i] <= 20;
  }
  EXPECT_EQ(digits, 20);  // "0".."9" and "##0".."##9"
}

TEST_F(TrainTest, ClaimTextsJoinEveryUnitOfAnAutoNetGraph) {
  TempDir out;
  TrainOptions o = options(out / "a.ckpt");
  const TrainReport plain = train_pretrain(o);
  o.out = out / "b.ckpt";
  o.claim_texts = 3;
  const TrainReport with = train_pretrain(o);
  // 24 networks x 10 descriptions in units of 5: two units per network, each with 3 of the
  // network's (about 25) single-fact sentences, every epoch.
  EXPECT_EQ(with.samples - plain.samples, o.epochs * 24 * 2 * 3);
  EXPECT_EQ(with.steps, plain.steps);

  // Texts written before single-fact sentences existed cannot serve the option.
  TempDir old;
  fs::copy((*dir_) / "train", old / "train", fs::copy_options::recursive);
  std::string lines;
  for (ArSample s : read_ar_samples(old / "train/texts.jsonl")) {
    for (StatedFact& f : s.claims) f.text.clear();
    lines += to_jsonl(s);
  }
  write_jsonl(old / "train/texts.jsonl", lines);
  o.data_dirs = {old / "train"};
  o.out = out / "c.ckpt";
  expect_usage_error(o, "--claim-texts");
}

// A Zoo directory over four of the AutoNet train graphs: each model has 2 true and 10 false
// training descriptions, and one of each for validation.
// With `computed`, each graph's computed sentences (graph_sentences) join its texts as positives,
// in the split zoo_text_split gives them at seed 0, as the Zoo generator writes them.
void write_small_zoo(const fs::path& from, const fs::path& to, bool with_claims = false,
                     bool computed = false) {
  fs::create_directories(to);
  std::vector<ArchGraph> graphs = read_graph_store(from / "graphs.bin");
  graphs.resize(4);
  write_graph_store(to / "graphs.bin", graphs);
  std::vector<ArSample> train, val;
  for (int64_t g = 0; g < 4; ++g) {
    const std::string model = "model " + std::to_string(g);
    for (int i = 0; i < 2; ++i)
      train.push_back(
          {g, "A true sentence " + std::to_string(i) + " of " + model + ".", 1, {}, {}});
    for (int i = 0; i < 10; ++i)
      train.push_back(
          {g, "A false sentence " + std::to_string(i) + " of " + model + ".", 0, {}, {}});
    if (with_claims) {
      // One true and two false sentences state a single fact each (as computed ones do).
      for (int i : {0, 2, 3}) {
        ArSample& a = train[train.size() - 12 + i];
        StatedFact f;
        f.kind = a.label ? "has" : "lacks";
        f.cls = "Conv2d";
        f.holds = a.label == 1;
        a.facts = {f.kind};
        a.claims = {f};
      }
    }
    val.push_back({g, "Held out, true of " + model + ".", 1, {}, {}});
    val.push_back({g, "Held out, false of " + model + ".", 0, {}, {}});
    if (computed)
      for (const ZooSentence& z : graph_sentences(graphs[static_cast<size_t>(g)]))
        (zoo_text_split(z.text, 0) == DatasetSplit::kTrain ? train : val)
            .push_back({g, z.text, 1, {z.claim->kind}, {*z.claim}});
  }
  write_jsonl((to / "texts_train.jsonl").string(), samples_to_jsonl(train));
  write_jsonl((to / "texts_val.jsonl").string(), samples_to_jsonl(val));
  const std::vector<AcdPair> acd = {{0, 1, 1}, {2, 3, 0}};
  write_jsonl((to / "acd_train.jsonl").string(), samples_to_jsonl(acd));
  write_jsonl((to / "acd_val.jsonl").string(), samples_to_jsonl(acd));
  write_zoo_manifest(to.string(), 4,
                     {{"graphs", "graphs.bin"},
                      {"texts_train", "texts_train.jsonl"},
                      {"texts_val", "texts_val.jsonl"},
                      {"acd_train", "acd_train.jsonl"},
                      {"acd_val", "acd_val.jsonl"}});
}

// With --claim-texts, a Zoo model's training texts that state one fact also come as
// single-fact sentences beside its drawn texts.
TEST_F(TrainTest, ClaimTextsTakeZooSentencesWithOneClaim) {
  TempDir out;
  write_small_zoo((*dir_) / "train", out / "plain");
  write_small_zoo((*dir_) / "train", out / "claims", true);
  TrainOptions o = options(out / "a.ckpt");
  o.claim_texts = 2;
  o.data_dirs.push_back(out / "plain");
  const TrainReport plain = train_pretrain(o);
  o.data_dirs.back() = out / "claims";
  o.out = out / "b.ckpt";
  const TrainReport with = train_pretrain(o);
  // Each model draws 2 positives and 6 negatives per epoch: two units of up to 5 texts, room
  // for 4 single-fact sentences; it has 3.
  EXPECT_EQ(with.samples - plain.samples, o.epochs * 4 * 3);
  EXPECT_EQ(with.steps, plain.steps);
}

// --zoo-number-pairs adds minimal pairs of the Zoo's number facts as single-fact sentences; it
// needs --claim-texts, and a Zoo directory whose texts hold the graphs' computed sentences.
TEST_F(TrainTest, ZooNumberPairsAddClaimsOfGeneratedZoos) {
  TempDir out;
  write_small_zoo((*dir_) / "train", out / "zoo", false, true);
  TrainOptions o = options(out / "a.ckpt");
  o.claim_texts = 16;
  o.data_dirs.push_back(out / "zoo");
  const TrainReport plain = train_pretrain(o);
  o.out = out / "b.ckpt";
  o.zoo_number_pairs = 3;
  const TrainReport with = train_pretrain(o);
  EXPECT_GT(with.samples, plain.samples);
  EXPECT_EQ(with.steps, plain.steps);

  o.out = out / "c.ckpt";
  o.claim_texts = 0;
  expect_usage_error(o, "--claim-texts");
  // Texts without the graphs' computed sentences: another generator or version.
  write_small_zoo((*dir_) / "train", out / "plain", true);
  o.claim_texts = 16;
  o.data_dirs.back() = out / "plain";
  try {
    train_pretrain(o);
    ADD_FAILURE() << "a Zoo without computed sentences was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_NE(std::string(e.what()).find("--zoo-number-pairs"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("plain"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(o.out));
}

TEST_F(TrainTest, ZooRepeatBringsEachZooModelRTimesPerEpoch) {
  TempDir out;
  write_small_zoo((*dir_) / "train", out / "zoo");
  TrainOptions o = options(out / "a.ckpt");
  o.data_dirs.push_back(out / "zoo");
  const TrainReport once = train_pretrain(o);
  o.out = out / "b.ckpt";
  o.zoo_repeat = 3;
  const TrainReport thrice = train_pretrain(o);
  // Per epoch and repetition each Zoo model brings its 2 positives and 3 x 2 of its 10
  // negatives: 4 x 8 descriptions; AutoNet descriptions come once whatever the option.
  EXPECT_EQ(thrice.samples - once.samples, o.epochs * 2 * 4 * 8);
  EXPECT_GT(thrice.steps, once.steps);

  o.out = out / "c.ckpt";
  o.zoo_repeat = 0;
  expect_usage_error(o, "--zoo-repeat");
}

TEST_F(TrainTest, ContrastiveTermTrainsAndNeedsItsWeight) {
  TempDir out;
  TrainOptions o = options(out / "plain.ckpt");
  o.epochs = 1;
  train_pretrain(o);
  o.out = out / "nce.ckpt";
  o.contrastive_weight = 1.0;
  const TrainReport r = train_pretrain(o);
  EXPECT_TRUE(std::isfinite(r.last_loss));
  EXPECT_GT(max_weight_difference(out / "plain.ckpt", out / "nce.ckpt"), 1e-4);
  // Extra Zoo candidates only make sense with the term itself.
  o.out = out / "bad.ckpt";
  o.contrastive_weight = 0;
  o.contrastive_graphs = 8;
  expect_usage_error(o, "--contrastive-weight");
}

// The inventory head's loss on the train split's graphs, for a checkpoint.
double inventory_loss_of(const std::string& ckpt, const std::string& data_dir) {
  torch::NoGradGuard no_grad;
  auto net = load_checkpoint(ckpt, nullptr);
  net->eval();
  const std::vector<ArchGraph> graphs = read_graph_store(data_dir + "/graphs.bin");
  std::vector<const ArchGraph*> ptrs;
  for (const ArchGraph& g : graphs) ptrs.push_back(&g);
  return inventory_loss(net->inventory_logits(net->pooled_graphs(ptrs, 8)), op_presence(ptrs))
      .item<double>();
}

TEST_F(TrainTest, InventoryTermTeachesJgTheGraphsOps) {
  TempDir out;
  TrainOptions o = options(out / "short.ckpt");
  o.inventory_weight = 1.0;
  o.lr = 3e-3;
  o.max_steps = 1;
  train_pretrain(o);
  o.out = out / "long.ckpt";
  o.max_steps = 0;
  o.epochs = 6;
  const TrainReport r = train_pretrain(o);
  EXPECT_TRUE(std::isfinite(r.last_loss));
  CheckpointMeta meta;
  EXPECT_TRUE(load_checkpoint(out / "long.ckpt", &meta)->config().inventory_head);
  // Longer training with the term lowers it (0.69 -> 0.45 here; a head left out of the
  // optimiser or the loss would stay at ln 2).
  const std::string train_dir = (*dir_) / "train";
  const double after_one = inventory_loss_of(out / "short.ckpt", train_dir);
  const double after_all = inventory_loss_of(out / "long.ckpt", train_dir);
  EXPECT_LT(after_all, 0.75 * after_one) << after_one << " -> " << after_all;
  // Without the term there is no head; a resumed run cannot add one, and the weight is >= 0.
  o.out = out / "plain.ckpt";
  o.inventory_weight = 0;
  o.epochs = 1;
  train_pretrain(o);
  EXPECT_FALSE(load_checkpoint(out / "plain.ckpt", nullptr)->config().inventory_head);
  o.out = out / "resumed.ckpt";
  o.resume = out / "plain.ckpt";
  o.inventory_weight = 1.0;
  o.epochs = 2;
  expect_usage_error(o, "inventory head");
  o.resume.clear();
  o.inventory_weight = -1;
  expect_usage_error(o, "--inventory-weight");
}

// --balanced-summary and --balanced-numbers: stored in the config, refused on resume of a
// checkpoint trained without them, and refused without the tokens they change.
TEST_F(TrainTest, BalancedTokensAreStoredAndCannotBeAddedOnResume) {
  struct Case {
    bool TrainOptions::*flag;
    bool ModelConfig::*key;
    bool TrainOptions::*needs;
    const char* without;
  };
  for (const Case& k : {Case{&TrainOptions::balanced_summary, &ModelConfig::balanced_summary,
                             &TrainOptions::use_summary, "--no-summary"},
                        Case{&TrainOptions::balanced_numbers, &ModelConfig::balanced_numbers,
                             &TrainOptions::use_numbers, "--no-numbers"}}) {
    SCOPED_TRACE(k.without);
    TempDir out;
    TrainOptions o = options(out / "balanced.ckpt");
    o.*k.flag = true;
    o.max_steps = 2;
    EXPECT_TRUE(std::isfinite(train_pretrain(o).last_loss));
    EXPECT_TRUE(load_checkpoint(out / "balanced.ckpt", nullptr)->config().*k.key);
    o.out = out / "plain.ckpt";
    o.*k.flag = false;
    train_pretrain(o);
    EXPECT_FALSE(load_checkpoint(out / "plain.ckpt", nullptr)->config().*k.key);
    o.out = out / "resumed.ckpt";
    o.resume = out / "plain.ckpt";
    o.*k.flag = true;
    o.max_steps = 3;
    expect_usage_error(o, "not balanced");
    o.resume.clear();
    o.*k.needs = false;
    expect_usage_error(o, k.without);
  }
}

TEST_F(TrainTest, StatementHeadIsTrainedStoredAndAnswersAr) {
  TempDir out;
  TrainOptions o = options(out / "head.ckpt");
  o.ar_head_weight = 1;
  o.ar_head_layers = 1;
  o.epochs = 1;
  const TrainReport r = train_pretrain(o);
  EXPECT_TRUE(std::isfinite(r.last_loss));
  EXPECT_EQ(load_checkpoint(out / "head.ckpt", nullptr)->config().ar_head_layers, 1);
  // τ_AR was tuned on the head's probabilities.
  EXPECT_GT(r.ar_threshold, 0.0);
  EXPECT_LT(r.ar_threshold, 1.0);
  // `eval ar` and `reason` read the head: scores are probabilities, the graph-blind control
  // scores other pairs.
  const std::string val = (*dir_) / "val";
  const LoadedModel m = load_model(out / "head.ckpt");
  const BinaryEvalReport e = evaluate_ar(m, val);
  EXPECT_NE(e.score.find("statement head"), std::string::npos) << e.score;
  ASSERT_FALSE(e.scores.empty());
  for (size_t i = 0; i < e.scores.size(); ++i) {
    EXPECT_GT(e.scores[i], 0.0);
    EXPECT_LT(e.scores[i], 1.0);
  }
  EXPECT_NE(e.scores, e.graph_blind_scores);
  const GraphStore store = open_dataset_graphs(val);
  const std::vector<ArSample> samples = read_ar_samples(val + "/texts.jsonl");
  const ArchGraph g = store.get(samples[0].graph);
  const ReasonResult rr = reason(m, g, samples[0].text);
  EXPECT_NEAR(rr.score, e.scores[0], 1e-5);
  EXPECT_EQ(rr.correct, rr.score >= m.ar_threshold);

  // A run without the option has no head, and cannot gain one on resume.
  o.out = out / "plain.ckpt";
  o.ar_head_weight = 0;
  o.max_steps = 2;
  train_pretrain(o);
  EXPECT_EQ(load_checkpoint(out / "plain.ckpt", nullptr)->config().ar_head_layers, 0);
  o.out = out / "resumed.ckpt";
  o.resume = out / "plain.ckpt";
  o.ar_head_weight = 1;
  o.max_steps = 3;
  expect_usage_error(o, "no statement head");
  o.resume.clear();
  o.ar_head_weight = -1;
  expect_usage_error(o, "--ar-head-weight");
  o.ar_head_weight = 1;
  o.graph_only = true;
  o.acd_weight = 1;
  expect_usage_error(o, "--ar-head-weight");
}

TEST_F(TrainTest, HeadOnlyTrainsANewHeadOverAFrozenNetwork) {
  TempDir out;
  TrainOptions o = options(out / "plain.ckpt");
  o.max_steps = 2;
  train_pretrain(o);
  CheckpointMeta plain_meta;
  auto plain = load_checkpoint(out / "plain.ckpt", &plain_meta);
  ASSERT_FALSE(plain->has_ar_head());

  o.out = out / "head.ckpt";
  o.init = out / "plain.ckpt";
  o.ar_head_weight = 1;
  o.head_only = true;
  o.max_steps = 3;
  const TrainReport r = train_pretrain(o);
  EXPECT_EQ(r.steps, 3);  // a new run: it starts at step 0, not at the base's step 2
  EXPECT_GT(r.ar_threshold, 0.0);
  EXPECT_LT(r.ar_threshold, 1.0);
  CheckpointMeta meta;
  auto head = load_checkpoint(out / "head.ckpt", &meta);
  ASSERT_TRUE(head->has_ar_head());
  EXPECT_EQ(meta.tokenizer_json, plain_meta.tokenizer_json);
  EXPECT_EQ(meta.extra["init"], out / "plain.ckpt");
  EXPECT_EQ(meta.extra["init_recipe"], plain_meta.extra["recipe"]);
  // Everything but the head is the base network's, bit for bit; the head has learned.
  const auto base = plain->named_parameters(true);
  int64_t head_params = 0;
  for (const auto& p : head->named_parameters(true)) {
    if (p.key().rfind("ar_head.", 0) == 0) {
      ++head_params;
      continue;
    }
    ASSERT_NE(base.find(p.key()), nullptr) << p.key();
    EXPECT_TRUE(torch::equal(p.value(), base[p.key()])) << p.key();
  }
  EXPECT_GT(head_params, 0);
  EXPECT_NE(head->named_parameters(true)["ar_head.cos_scale"].item<double>(), 10.0);
  for (const auto& b : plain->named_buffers(true))
    EXPECT_TRUE(torch::equal(b.value(), head->named_buffers(true)[b.key()])) << b.key();

  // Without --head-only a run from --init trains the whole network.
  o.out = out / "whole.ckpt";
  o.head_only = false;
  o.ar_head_weight = 0;
  o.max_steps = 2;
  train_pretrain(o);
  auto whole = load_checkpoint(out / "whole.ckpt", nullptr);
  EXPECT_FALSE(whole->has_ar_head());
  EXPECT_FALSE(torch::equal(whole->named_parameters(true)["tok.weight"], base["tok.weight"]));

  // Inconsistent options are refused before anything is written.
  o.out = out / "refused.ckpt";
  o.head_only = true;
  expect_usage_error(o, "--ar-head-weight");
  o.ar_head_weight = 1;
  o.acd_weight = 1;
  expect_usage_error(o, "--head-only trains the statement head alone");
  o.acd_weight = 0;
  o.init.clear();
  expect_usage_error(o, "--init");
  o.init = out / "plain.ckpt";
  o.resume = out / "plain.ckpt";
  expect_usage_error(o, "give one");
  o.resume.clear();
  o.word_vectors = out / "vectors.json";
  expect_usage_error(o, "--word-vectors");
}

TEST_F(TrainTest, BadSimilarityLossOptionsAreRefused) {
  TempDir out;
  TrainOptions o = options(out / "bad.ckpt");
  for (auto [loss, t] : {std::pair{"mae", 0.1}, {"bce", 0.0}}) {
    SCOPED_TRACE(std::string(loss) + " " + std::to_string(t));
    o.sim_loss = loss;
    o.sim_temperature = t;
    expect_usage_error(o, "--sim-");
  }
}

TEST_F(TrainTest, BadInputNamesTheProblem) {
  TempDir out;
  // Not a dataset directory.
  TrainOptions o = options(out / "m.ckpt");
  o.data_dirs = {out.str()};
  try {
    train_pretrain(o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_NE(std::string(e.what()).find("manifest.json"), std::string::npos) << e.what();
  }
  // Only a val split: nothing to train on.
  o.data_dirs = {(*dir_) / "val"};
  EXPECT_THROW(train_pretrain(o), Error);

  // Resume needs the optimizer state; a corrupt one is refused by name.
  o = options(out / "m.ckpt");
  o.epochs = 1;
  o.max_steps = 2;
  train_pretrain(o);
  o.resume = out / "m.ckpt";
  o.out = out / "m2.ckpt";
  {
    std::ofstream f(out / "m.ckpt.optim", std::ios::binary | std::ios::trunc);
    f << "not an archive";
  }
  try {
    train_pretrain(o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_NE(std::string(e.what()).find("m.ckpt.optim"), std::string::npos) << e.what();
  }
  fs::remove(out / "m.ckpt.optim");
  EXPECT_THROW(train_pretrain(o), Error);
  EXPECT_FALSE(fs::exists(out / "m2.ckpt"));  // nothing half-written
}

TEST_F(TrainTest, CommandLineTrainsAndStoresItsRecipe) {
  TempDir out;
  const std::string data = (*dir_) / "train";
  const std::string args = "train pretrain --preset tiny --data " + data + " --out " +
                           (out / "m.ckpt") + " --max-steps 2 --vocab 400 --quiet";
  const testing_support::CliRun r = testing_support::run_cli(args, out.path());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("trained 2 steps"), std::string::npos) << r.out;
  ArchBertModel m = ArchBertModel::load(out / "m.ckpt");
  EXPECT_EQ(m.meta().extra.at("recipe"), "archbert " + args);
  // The data it was trained on: the directory's manifest.
  const auto data_json = nlohmann::json::parse(m.meta().extra.at("data"));
  const DatasetManifest dm = read_manifest(data);
  ASSERT_EQ(data_json.size(), 1u);
  EXPECT_EQ(data_json[0]["generator"], dm.generator);
  EXPECT_EQ(data_json[0]["generator_version"], dm.generator_version);
  EXPECT_EQ(data_json[0]["counts"]["graphs"], dm.counts.at("graphs"));
  // Bad input: exit 2, the directory named; usage errors: exit 1.
  const testing_support::CliRun bad = testing_support::run_cli(
      "train pretrain --data " + (out / "nope") + " --out " + (out / "x.ckpt"), out.path());
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("nope"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(out / "x.ckpt"));
  EXPECT_EQ(testing_support::run_cli("train pretrain --out x.ckpt", out.path()).code, 1);
}

TEST_F(TrainTest, TuneThresholdSetsTheF1BestTau) {
  TempDir out;
  TrainOptions o = options(out / "m.ckpt");
  o.epochs = 1;
  train_pretrain(o);
  const std::string val = (*dir_) / "val";
  const testing_support::CliRun r =
      testing_support::run_cli("train tune-threshold --ckpt " + (out / "m.ckpt") + " --data " +
                                   val + " --out " + (out / "tuned.ckpt"),
                               out.path());
  ASSERT_EQ(r.code, 0) << r.err;
  const LoadedModel tuned = load_model(out / "tuned.ckpt");
  const BinaryEvalReport e = evaluate_ar(tuned, val);
  const BinaryMetrics best = best_threshold(e.scores, e.labels);
  EXPECT_NEAR(tuned.ar_threshold, best.threshold, 1e-5);
  EXPECT_NEAR(e.model.f1(), best.f1(), 1e-9);
  // The weights are untouched.
  EXPECT_EQ(max_weight_difference(out / "m.ckpt", out / "tuned.ckpt"), 0.0);
}

}  // namespace
}  // namespace archbert
