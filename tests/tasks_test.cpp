// Tests of the inference API (include/archbert/tasks.h) and of `archbert reason | clone | embed
// | search`, on a tiny untrained checkpoint with a tokenizer trained on a few sentences.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "archbert/error.h"
#include "archbert/graph_io.h"
#include "archbert/model.h"
#include "archbert/tasks.h"
#include "archbert/tokenizer.h"
#include "archbert/zoo.h"
#include "test_support.h"

namespace archbert {
namespace {

namespace fs = std::filesystem;
using testing_support::bad_input_message;
using testing_support::TempDir;

const std::vector<std::string>& corpus() {
  static const std::vector<std::string> c = {
      "a convolutional network with batch normalization and relu activations",
      "the model has residual connections and global average pooling",
      "a transformer encoder with multi head attention and layer normalization",
      "this network uses depthwise separable convolutions",
      "the architecture ends with a linear classifier",
      "it has twelve layers and a hidden size of 768",
      "a small network with three convolution layers",
      "the model uses max pooling after each block",
      "an embedding layer followed by attention blocks",
      "a deep residual network with bottleneck blocks",
      "the network has no attention layers",
      "dropout is applied before the final linear layer",
      "the classifier outputs one thousand classes",
      "a recurrent network with an lstm layer",
      "the model has about eleven million parameters",
      "it uses gelu activations in the feed forward blocks",
      "a vision transformer splits the image into patches",
      "the network uses dilated convolutions for a larger receptive field",
      "batch normalization follows every convolution",
      "the encoder and decoder share the embedding weights",
  };
  return c;
}

// A chain input -> (conv -> bn -> act) x blocks -> [other x extra_other] -> linear -> output.
ArchGraph chain_graph(const std::string& name, int blocks, int extra_other = 0,
                      Op act = Op::kRelu) {
  GraphBuilder b(name);
  int prev = b.add(Op::kInput, "x");
  int64_t c = 3, params = 0;
  for (int i = 0; i < blocks; ++i) {
    Node conv;
    conv.op = Op::kConv;
    conv.shape = Shape4{16, c, 3, 3};
    conv.params = 16 * c * 9;
    conv.name = "conv" + std::to_string(i);
    const int cv = b.add(conv);
    b.connect(prev, cv);
    Node bn;
    bn.op = Op::kBatchNorm;
    bn.shape = Shape4{16, 1, 1, 1};
    bn.params = 32;
    bn.name = "bn" + std::to_string(i);
    const int bi = b.add(bn);
    b.connect(cv, bi);
    const int r = b.add(act, "act" + std::to_string(i));
    b.connect(bi, r);
    prev = r;
    params += conv.params + bn.params;
    c = 16;
  }
  for (int i = 0; i < extra_other; ++i) {
    const int o = b.add(Op::kOther, "mystery" + std::to_string(i), "MysteryOp");
    b.connect(prev, o);
    prev = o;
  }
  Node fc;
  fc.op = Op::kLinear;
  fc.shape = Shape4{10, c, 1, 1};
  fc.params = 10 * c + 10;
  fc.name = "fc";
  const int l = b.add(fc);
  b.connect(prev, l);
  const int o = b.add(Op::kOutput, "y");
  b.connect(l, o);
  return b.finish(name, "json", params + fc.params, false);
}

// Shared fixtures: a tokenizer, a tiny checkpoint, graph files and a three-model zoo.
struct World {
  TempDir dir;
  Tokenizer tok;
  std::string ckpt;
  std::vector<std::string> graph_files;
  std::string data;  // an ARCHBERT_DATA folder holding a small zoo

  World() {
    TokenizerTrainOptions to;
    to.vocab_size = 1000;
    to.min_frequency = 1;
    to.max_length = 16;
    tok = train_tokenizer(corpus(), to);
    ckpt = save_checkpoint("model.ckpt", "0.25", "0.75");
    const std::vector<ArchGraph> gs = {chain_graph("net_a", 2), chain_graph("net_b", 4),
                                       chain_graph("net_c", 3, 0, Op::kGelu),
                                       chain_graph("net_d", 1, 2, Op::kSigmoid)};
    for (const ArchGraph& g : gs) {
      graph_files.push_back(dir / (g.name + ".json"));
      write_file_atomic(graph_files.back(), graph_to_json(g, 2));
    }
    // The zoo: three committed torchvision graphs and a manifest naming them.
    data = dir / "data";
    fs::create_directories(data + "/zoo/tv");
    nlohmann::json manifest = nlohmann::json::object();
    for (const char* n : {"alexnet", "resnet18", "mobilenet_v2"}) {
      fs::copy_file(std::string(ARCHBERT_SOURCE_DIR) + "/data/zoo/tv/" + n + ".json.gz",
                    data + "/zoo/tv/" + n + ".json.gz");
      manifest[n] = {{"family", n}, {"task", "classification"}};
    }
    write_file_atomic(data + "/zoo/tv/manifest.json", manifest.dump(1));
  }

  // A tiny checkpoint with our tokenizer; thresholds as given ("" = not stored).
  std::string save_checkpoint(const std::string& file, const std::string& ar,
                              const std::string& acd, bool with_tokenizer = true) {
    ModelConfig c = ModelConfig::from_preset("tiny");
    c.text_vocab = tok.size();
    c.text_pad_id = Tokenizer::kPad;
    c.max_graph_nodes = 24;
    ArchBertModel model = ArchBertModel::create(c, 7);
    if (with_tokenizer) model.meta().tokenizer_json = tok.to_json();
    if (!ar.empty()) model.meta().extra["ar_threshold"] = ar;
    if (!acd.empty()) model.meta().extra["acd_threshold"] = acd;
    const std::string path = dir / file;
    model.save(path);
    return path;
  }
};

World& world() {
  static World w;
  return w;
}

const LoadedModel& model() {
  static LoadedModel m = load_model(world().ckpt);
  return m;
}

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::optional<std::string>& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      ::setenv(name, value->c_str(), 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

bool contains(const std::vector<std::string>& ws, const std::string& needle) {
  for (const std::string& w : ws)
    if (w.find(needle) != std::string::npos) return true;
  return false;
}

// --- load_model / encode_texts ----------------------------------------------------------------

TEST(TasksLoadModel, RoundTripsThresholdsAndTokenizer) {
  const LoadedModel& m = model();
  EXPECT_EQ(m.path, world().ckpt);
  EXPECT_DOUBLE_EQ(m.ar_threshold, 0.25);
  EXPECT_DOUBLE_EQ(m.acd_threshold, 0.75);
  EXPECT_EQ(m.tokenizer.vocab(), world().tok.vocab());
  EXPECT_EQ(m.model.config().d_model, 32);
  EXPECT_EQ(m.model.config().text_vocab, world().tok.size());
}

TEST(TasksLoadModel, DefaultThresholdsWhenAbsent) {
  LoadedModel m = load_model(world().save_checkpoint("nothr.ckpt", "", ""));
  EXPECT_DOUBLE_EQ(m.ar_threshold, 0.5);
  EXPECT_DOUBLE_EQ(m.acd_threshold, 0.5);
}

TEST(TasksLoadModel, RejectsMalformedThresholds) {
  for (const char* bad : {"0.5x", "", " 0.5", "0.5 ", "nan", "2", "abc"}) {
    std::string p = world().save_checkpoint("badthr.ckpt", "0.5", bad);
    if (std::string(bad).empty()) {
      // An empty value is stored, unlike an absent key.
      ArchBertModel mm = ArchBertModel::load(p);
      mm.meta().extra["acd_threshold"] = "";
      mm.save(p);
    }
    std::string msg = bad_input_message([&] { load_model(p); });
    EXPECT_NE(msg.find(p), std::string::npos) << msg;
    EXPECT_NE(msg.find("acd_threshold"), std::string::npos) << msg;
  }
}

TEST(TasksLoadModel, MissingCheckpointAndTokenizer) {
  const std::string missing = world().dir / "nope.ckpt";
  std::string msg = bad_input_message([&] { load_model(missing); });
  EXPECT_NE(msg.find(missing), std::string::npos) << msg;
  EXPECT_NE(msg.find("not found"), std::string::npos) << msg;

  std::string no_tok = world().save_checkpoint("notok.ckpt", "0.5", "0.5", false);
  msg = bad_input_message([&] { load_model(no_tok); });
  EXPECT_NE(msg.find("no tokenizer"), std::string::npos) << msg;

  // $ARCHBERT_CHECKPOINT names the default checkpoint.
  {
    ScopedEnv env("ARCHBERT_CHECKPOINT", world().ckpt);
    EXPECT_EQ(default_checkpoint_path(), world().ckpt);
    EXPECT_EQ(load_model().path, world().ckpt);
  }
  {
    ScopedEnv env("ARCHBERT_CHECKPOINT", std::nullopt);
    const std::string def = default_checkpoint_path();
    EXPECT_NE(def.find("small/archbert-small.ckpt"), std::string::npos) << def;
    if (!fs::exists(def)) {
      msg = bad_input_message([] { load_model(); });
      EXPECT_NE(msg.find(def), std::string::npos) << msg;
      EXPECT_NE(msg.find("shipped checkpoint is missing"), std::string::npos) << msg;
      EXPECT_NE(msg.find("--ckpt"), std::string::npos) << msg;
    }
  }
}

TEST(TasksEncodeTexts, CutsToMaxTextLenAndChecksWords) {
  std::vector<TextCheck> checks;
  auto ids = encode_texts(model(),
                          {"a convolutional network with relu",
                           "the model has residual connections and global average pooling and "
                           "batch normalization and a linear classifier"},
                          &checks);
  ASSERT_EQ(ids.size(), 2u);
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(ids[0].front(), Tokenizer::kCls);
  EXPECT_EQ(ids[0].back(), Tokenizer::kSep);
  EXPECT_EQ(checks[0].words, 5);
  EXPECT_EQ(checks[0].unknown_words, 0);
  EXPECT_FALSE(checks[0].truncated);
  EXPECT_EQ(static_cast<int64_t>(ids[1].size()), model().model.config().max_text_len);
  EXPECT_TRUE(checks[1].truncated);
}

TEST(TasksEncodeTexts, RejectsEmptyAndInvalidText) {
  for (const char* t : {"", "   ", "\t\n "}) {
    std::string msg = bad_input_message([&] { encode_texts(model(), {t}, nullptr, "query"); });
    EXPECT_EQ(msg.rfind("query: ", 0), 0u) << msg;
    EXPECT_NE(msg.find("empty"), std::string::npos) << msg;
  }
  std::string msg = bad_input_message([&] {
    encode_texts(model(), {"fine text", "  "}, nullptr, "texts");
  });
  EXPECT_EQ(msg.rfind("texts[1]: ", 0), 0u) << msg;
  msg = bad_input_message([&] { encode_texts(model(), {"bad \xff utf8"}, nullptr, "statement"); });
  EXPECT_NE(msg.find("statement"), std::string::npos) << msg;
  EXPECT_NE(msg.find("invalid UTF-8"), std::string::npos) << msg;
}

// --- reason / clone / embed -------------------------------------------------------------------

TEST(TasksReason, ScoreIsCosineOfEmbeddings) {
  const ArchGraph g = chain_graph("net_a", 2);
  const std::string s = "a convolutional network with batch normalization";
  ReasonResult r = reason(model(), g, s);
  const double cos = cosine_similarity(embed_text(model(), s), embed_graph(model(), g));
  EXPECT_NEAR(r.score, cos, 1e-5);
  EXPECT_DOUBLE_EQ(r.threshold, 0.25);
  EXPECT_EQ(r.correct, r.score >= 0.25);
  EXPECT_TRUE(r.warnings.empty()) << r.warnings[0];
  EXPECT_EQ(embed_graph(model(), g).size(), 32u);
  EXPECT_EQ(embed_text(model(), s).size(), 32u);
  // The same question twice gives the same answer.
  EXPECT_EQ(reason(model(), g, s).score, r.score);
}

TEST(TasksClone, SymmetricAndSelfSimilar) {
  const ArchGraph a = chain_graph("net_a", 2), b = chain_graph("net_b", 4, 0, Op::kGelu);
  CloneResult ab = clone(model(), a, b), ba = clone(model(), b, a), aa = clone(model(), a, a);
  EXPECT_NEAR(ab.score, ba.score, 1e-5);
  EXPECT_NEAR(aa.score, 1.0, 1e-5);
  EXPECT_TRUE(aa.similar);
  EXPECT_DOUBLE_EQ(ab.threshold, 0.75);
  EXPECT_EQ(ab.similar, ab.score >= 0.75);
  EXPECT_FALSE(ab.text_a.has_value());
  const double cos = cosine_similarity(embed_graph(model(), a), embed_graph(model(), b));
  EXPECT_NEAR(ab.score, cos, 1e-5);

  // BACD: the pair is similar w.r.t. the text only when the text is true of both graphs.
  const std::string t = "a network with batch normalization";
  CloneResult bacd = clone(model(), a, b, t);
  ASSERT_TRUE(bacd.text_a && bacd.text_b);
  EXPECT_NEAR(bacd.score, ab.score, 1e-6);
  EXPECT_NEAR(bacd.text_a->score, reason(model(), a, t).score, 1e-5);
  EXPECT_NEAR(bacd.text_b->score, reason(model(), b, t).score, 1e-5);
  EXPECT_DOUBLE_EQ(bacd.text_a->threshold, 0.25);
  EXPECT_EQ(bacd.similar, ab.similar && bacd.text_a->correct && bacd.text_b->correct);
  CloneResult self = clone(model(), a, a, t);
  EXPECT_EQ(self.similar, self.text_a->correct);
  EXPECT_THROW(clone(model(), a, b, std::string(" ")), Error);
}

// --- out-of-distribution warnings -------------------------------------------------------------

TEST(TasksWarnings, OtherNodesCappedGraphsAndUnknownWords) {
  // 1 block (5 nodes + linear/output) and 3 `other` nodes: 3 of 8 > 10%.
  ArchGraph odd = chain_graph("odd", 1, 3);
  auto w = graph_warnings(model(), odd);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("odd: "), std::string::npos) << w[0];
  EXPECT_NE(w[0].find("`other`"), std::string::npos) << w[0];
  EXPECT_TRUE(graph_warnings(model(), chain_graph("plain", 3)).empty());
  // max_graph_nodes is 24 in the test checkpoint: 10 blocks = 33 nodes.
  w = graph_warnings(model(), chain_graph("big", 10));
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("capped"), std::string::npos) << w[0];
  EXPECT_TRUE(contains(reason(model(), odd, "a small network").warnings, "`other`"));

  // Gibberish: characters outside the vocabulary ([UNK]) and letter-by-letter spellings.
  std::vector<std::string> tw;
  embed_text(model(), "\xd0\x96\xd0\xa9\xd0\xab qwzxkv ppqqzz network", &tw);
  ASSERT_FALSE(tw.empty());
  EXPECT_TRUE(contains(tw, "unknown")) << tw[0];
  std::vector<TextCheck> checks;
  encode_texts(model(), {"qwzxkv ppqqzz network"}, &checks);
  EXPECT_EQ(checks[0].words, 3);
  EXPECT_GE(checks[0].unknown_words + checks[0].spelled_words, 2);
  // Ordinary words from the corpus do not warn; a long text does (cut to 16 tokens).
  tw.clear();
  embed_text(model(), "a convolutional network with batch normalization", &tw);
  EXPECT_TRUE(tw.empty()) << tw[0];
  ReasonResult r = reason(model(), chain_graph("plain", 3),
                          "the model has residual connections and global average pooling and "
                          "batch normalization and a linear classifier");
  EXPECT_TRUE(contains(r.warnings, "longer than the model's 16 tokens"));
}

// --- search and the zoo cache -----------------------------------------------------------------

TEST(TasksSearch, RanksExplicitCandidates) {
  const auto& files = world().graph_files;
  const std::string q = "a deep residual network with bottleneck blocks";
  SearchResult r = search(model(), q, 2, files);
  EXPECT_EQ(r.candidates, 4);
  EXPECT_EQ(r.cache, CacheUse::kOff);
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_GE(r.results[0].score, r.results[1].score);
  // Scores are cos(J_query, J_g) and the top 2 are the best of all four.
  const auto jq = embed_text(model(), q);
  std::vector<double> all;
  for (const std::string& f : files) {
    all.push_back(cosine_similarity(jq, embed_graph(model(), load_graph(f))));
  }
  std::sort(all.rbegin(), all.rend());
  EXPECT_NEAR(r.results[0].score, all[0], 1e-5);
  EXPECT_NEAR(r.results[1].score, all[1], 1e-5);
  for (const SearchHit& h : r.results)
    EXPECT_NE(std::find(files.begin(), files.end(), h.name), files.end()) << h.name;

  SearchResult every = search(model(), q, 10, files);
  ASSERT_EQ(every.results.size(), 4u);
  for (size_t i = 1; i < every.results.size(); ++i)
    EXPECT_GE(every.results[i - 1].score, every.results[i].score);
  EXPECT_EQ(every.results[0].name, r.results[0].name);

  try {
    search(model(), q, 0, files);
    ADD_FAILURE() << "top_k 0 accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
  }
  std::string msg = bad_input_message([&] { search(model(), q, 3, {world().dir / "missing"}); });
  EXPECT_NE(msg.find("missing"), std::string::npos) << msg;
  bad_input_message([&] { search(model(), "", 3, files); });
}

TEST(TasksSearch, ZooCacheWrittenReusedAndVerified) {
  ScopedEnv env("ARCHBERT_DATA", world().data);
  TempDir cache;
  SearchOptions o;
  o.cache_dir = cache / "nested/archbert";

  NamedEmbeddings cold = zoo_embeddings(model(), o);
  EXPECT_EQ(cold.cache, CacheUse::kWritten);
  EXPECT_EQ(cold.names, (std::vector<std::string>{"tv:alexnet", "tv:mobilenet_v2", "tv:resnet18"}));
  ASSERT_EQ(cold.vectors.size(), 3u);
  ASSERT_TRUE(fs::exists(cold.cache_path)) << cold.cache_path;
  EXPECT_EQ(cold.cache_path, zoo_cache_path(model(), o.cache_dir));
  EXPECT_EQ(fs::path(cold.cache_path).parent_path(), fs::path(o.cache_dir));
  // The vectors are the graphs' embeddings.
  EXPECT_NEAR(cosine_similarity(cold.vectors[2], embed_graph(model(), load_graph("tv:resnet18"))),
              1.0, 1e-5);

  NamedEmbeddings warm = zoo_embeddings(model(), o);
  EXPECT_EQ(warm.cache, CacheUse::kHit);
  EXPECT_EQ(warm.names, cold.names);
  EXPECT_EQ(warm.vectors, cold.vectors);

  // Search over the zoo uses the cache.
  SearchResult r = search(model(), "a deep residual network", 2, {}, o);
  EXPECT_EQ(r.cache, CacheUse::kHit);
  EXPECT_EQ(r.candidates, 3);
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_EQ(r.results[0].name.rfind("tv:", 0), 0u);

  // A corrupt cache (one flipped byte inside a vector, or a truncated file) is never trusted.
  const std::string path = cold.cache_path;
  std::string bytes = read_file(path);
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x40;
  write_file_atomic(path, flipped);
  NamedEmbeddings fixed = zoo_embeddings(model(), o);
  EXPECT_EQ(fixed.cache, CacheUse::kWritten);
  EXPECT_EQ(fixed.vectors, cold.vectors);
  EXPECT_EQ(read_file(path), bytes);
  write_file_atomic(path, bytes.substr(0, bytes.size() - 9));
  EXPECT_EQ(zoo_embeddings(model(), o).cache, CacheUse::kWritten);
  write_file_atomic(path, "garbage");
  EXPECT_EQ(zoo_embeddings(model(), o).cache, CacheUse::kWritten);
  EXPECT_EQ(zoo_embeddings(model(), o).cache, CacheUse::kHit);

  // A changed zoo file makes the cache stale.
  const std::string g = world().data + "/zoo/tv/alexnet.json.gz";
  fs::last_write_time(g, fs::last_write_time(g) + std::chrono::seconds(5));
  EXPECT_EQ(zoo_embeddings(model(), o).cache, CacheUse::kWritten);
  EXPECT_EQ(zoo_embeddings(model(), o).cache, CacheUse::kHit);

  // Another checkpoint gets its own file.
  LoadedModel other = load_model(world().save_checkpoint("other.ckpt", "0.5", "0.5"));
  EXPECT_NE(zoo_cache_path(other, o.cache_dir), path);

  // No cache: computed every time; an unwritable cache folder: computed, not an error.
  o.use_cache = false;
  EXPECT_EQ(zoo_embeddings(model(), o).cache, CacheUse::kOff);
  o.use_cache = true;
  o.cache_dir = "/dev/null/archbert";
  NamedEmbeddings ro = zoo_embeddings(model(), o);
  EXPECT_EQ(ro.cache, CacheUse::kUnwritable);
  EXPECT_EQ(ro.vectors, cold.vectors);
}

// --- the command line ---------------------------------------------------------------------------

using testing_support::CliRun;
using testing_support::run_cli;
const auto& quote = testing_support::shell_quote;

// Runs `archbert ARGS` with ARCHBERT_CHECKPOINT set to the test checkpoint, the small zoo as
// ARCHBERT_DATA and a private cache folder (never the user's).
CliRun cli(const std::string& args, const std::string& cache_dir = "") {
  const std::string cache = cache_dir.empty() ? world().dir / "cli-cache" : cache_dir;
  return run_cli(args, world().dir.path(),
                 "ARCHBERT_CHECKPOINT=" + quote(world().ckpt) +
                     " ARCHBERT_DATA=" + quote(world().data) + " XDG_CACHE_HOME=" + quote(cache));
}

TEST(TasksCli, Reason) {
  const std::string f = quote(world().graph_files[0]);
  CliRun r = cli("reason " + f + " 'a network with batch normalization' --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  const double expected =
      reason(model(), load_graph(world().graph_files[0]), "a network with batch normalization")
          .score;
  EXPECT_NEAR(j.at("score").get<double>(), expected, 1e-5);
  EXPECT_EQ(j.at("correct").get<bool>(), expected >= 0.25);
  EXPECT_DOUBLE_EQ(j.at("threshold").get<double>(), 0.25);
  EXPECT_TRUE(j.at("warnings").is_array());

  r = cli("reason " + f + " 'a network with batch normalization'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("correct (score "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\xcf\x84 0.250)"), std::string::npos) << r.out;

  // Warnings go to stderr and into the JSON.
  r = cli("reason " + quote(world().graph_files[3]) + " 'qwzxkv ppqqzz' --json");
  ASSERT_EQ(r.code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  EXPECT_GE(j.at("warnings").size(), 2u) << r.out;  // unknown words, `other` nodes
  EXPECT_NE(r.err.find("warning: "), std::string::npos) << r.err;

  // Bad inputs exit 2 with one line naming the input; usage errors exit 1.
  r = cli("reason " + f + " '   '");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("statement: text is empty"), std::string::npos) << r.err;
  r = cli("reason " + f + " \"bad $(printf '\\377') text\"");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("invalid UTF-8"), std::string::npos) << r.err;
  r = cli("reason " + quote(world().dir / "nope.onnx") + " 'x'");
  EXPECT_EQ(r.code, 2) << r.err;
  r = cli("reason " + f + " 'a network' --ckpt " + quote(world().dir / "nope.ckpt"));
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("nope.ckpt"), std::string::npos) << r.err;
  r = cli("reason " + f);
  EXPECT_EQ(r.code, 1) << r.err;
  r = cli("reason " + f + " 'x' --bogus");
  EXPECT_EQ(r.code, 1) << r.err;
}

TEST(TasksCli, CloneEmbedSearch) {
  const auto& g = world().graph_files;
  CliRun r = cli("clone " + quote(g[0]) + " " + quote(g[0]) + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_NEAR(j.at("score").get<double>(), 1.0, 1e-5);
  EXPECT_TRUE(j.at("similar").get<bool>());

  r = cli("clone " + quote(g[0]) + " " + quote(g[1]) + " --text 'a convolutional network' --json");
  ASSERT_EQ(r.code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j.contains("text_a") && j.contains("text_b")) << r.out;
  r = cli("clone " + quote(g[0]) + " " + quote(g[1]));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("similar (score "), std::string::npos) << r.out;
  EXPECT_EQ(cli("clone " + quote(g[0])).code, 1);

  r = cli("embed " + quote(g[1]) + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.at("embedding").size(), 32u);
  const auto v = embed_graph(model(), load_graph(g[1]));
  EXPECT_NEAR(j["embedding"][0].get<double>(), v[0], 1e-6);
  r = cli("embed --text 'a small network'");
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream line(r.out);
  std::vector<double> nums;
  for (double x; line >> x;) nums.push_back(x);
  EXPECT_EQ(nums.size(), 32u) << r.out;
  EXPECT_EQ(cli("embed").code, 1);
  EXPECT_EQ(cli("embed " + quote(g[1]) + " --text 'x'").code, 1);
  EXPECT_EQ(cli("embed --text ''").code, 2);

  r = cli("search 'a residual network' --top 2 --json --models " + quote(g[0]) + " " + quote(g[1]) +
          " " + quote(g[2]));
  ASSERT_EQ(r.code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.at("results").size(), 2u);
  EXPECT_GE(j["results"][0]["score"].get<double>(), j["results"][1]["score"].get<double>());
  EXPECT_EQ(j.at("candidates").get<int>(), 3);
  EXPECT_EQ(cli("search 'a residual network' --top 0").code, 1);

  // The whole (test) zoo: the first run writes the cache, the second reads it.
  TempDir cache;
  r = cli("search 'a residual network' --json", cache.str());
  ASSERT_EQ(r.code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("cache"), "written");
  EXPECT_EQ(j.at("results").size(), 3u);
  EXPECT_TRUE(fs::exists(cache / "archbert"));
  r = cli("search 'a residual network' --json", cache.str());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).at("cache"), "hit");
  r = cli("search 'a residual network'", cache.str());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find(" 1. tv:"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace archbert
