// Tests of the Table 1 statistics (src/data/dataset_stats.cpp) on a tiny hand-made dataset whose
// figures are computed by hand below.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "archbert/dataset.h"
#include "archbert/dataset_stats.h"
#include "archbert/error.h"
#include "archbert/graph_io.h"

namespace archbert {
namespace {

namespace fs = std::filesystem;

// input -> conv -> relu -> output: 4 nodes, 3 edges.
ArchGraph conv_relu(const std::string& name) {
  GraphBuilder b(name);
  Node conv;
  conv.op = Op::kConv;
  conv.shape = Shape4{8, 3, 3, 3};
  conv.kernel = Kernel2{3, 3};
  conv.params = 216;
  conv.name = "conv";
  const int in = b.add(Op::kInput, "x"), c = b.add(conv), r = b.add(Op::kRelu, "relu"),
            out = b.add(Op::kOutput, "y");
  b.connect(in, c);
  b.connect(c, r);
  b.connect(r, out);
  return b.finish(name, "test", 216, false);
}

// input -> linear -> output: 3 nodes, 2 edges.
ArchGraph linear(const std::string& name) {
  GraphBuilder b(name);
  Node fc;
  fc.op = Op::kLinear;
  fc.shape = Shape4{10, 4, 1, 1};
  fc.params = 50;
  fc.name = "fc";
  const int in = b.add(Op::kInput, "x"), l = b.add(fc), out = b.add(Op::kOutput, "y");
  b.connect(in, l);
  b.connect(l, out);
  return b.finish(name, "test", 50, false);
}

class StatsDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() / ("archbert-stats-" + std::to_string(::getpid()))).string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // Graph 2 is graph 0 under another name: the same architecture.
    write_graph_store(dir_ + "/graphs.bin", {conv_relu("a"), linear("b"), conv_relu("c")});
    manifest_.generator = "test";
    manifest_.counts["graphs"] = 3;
    manifest_.files["graphs"] = "graphs.bin";
    manifest_.files["texts"] = "texts.jsonl";
    write_manifest(dir_, manifest_);
    // Tokens: [hello, world] (13 characters); [it, has, 2, 312, params] (20);
    // [sep, conv2d, x] (16 code points: the dash and quotes are one each, and separators).
    write_file_atomic(dir_ + "/texts.jsonl",
                      "{\"graph\":0,\"text\":\"Hello, World!\",\"label\":1}\n"
                      "{\"graph\":1,\"text\":\"It has 2,312 params.\",\"label\":0}\n"
                      "{\"graph\":0,\"text\":\"Sep_conv2d \xE2\x80\x93 \xE2\x80\x9Cx\xE2\x80\x9D\","
                      "\"label\":0}\n");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string dir_;
  DatasetManifest manifest_;
};

TEST_F(StatsDir, HandComputedTable1) {
  const DatasetStats s = dataset_stats(dir_);
  EXPECT_EQ(s.role, "texts");
  EXPECT_EQ(s.samples, 3);
  EXPECT_EQ(s.graphs, 2);  // graphs 0 and 1 are referenced
  EXPECT_EQ(s.unique_archs, 2);
  EXPECT_EQ(s.unique_node_types, 5);  // input, conv, relu, output, linear
  EXPECT_DOUBLE_EQ(s.nodes.mean, 3.5);
  EXPECT_DOUBLE_EQ(s.nodes.sigma, 0.5);
  EXPECT_DOUBLE_EQ(s.nodes.median, 3.5);
  EXPECT_DOUBLE_EQ(s.edges.mean, 2.5);
  EXPECT_DOUBLE_EQ(s.edges.sigma, 0.5);
  EXPECT_DOUBLE_EQ(s.edges.median, 2.5);
  EXPECT_EQ(s.unique_tokens, 10);
  // tokens 2, 5, 3: mean 10/3, sigma sqrt(((2-10/3)^2 + (5-10/3)^2 + (3-10/3)^2) / 3), median 3
  EXPECT_NEAR(s.tokens.mean, 10.0 / 3, 1e-12);
  EXPECT_NEAR(s.tokens.sigma, std::sqrt(14.0 / 9), 1e-12);
  EXPECT_DOUBLE_EQ(s.tokens.median, 3);
  // characters 13, 20, 16: mean 49/3, sigma sqrt(74/9), median 16
  EXPECT_NEAR(s.characters.mean, 49.0 / 3, 1e-12);
  EXPECT_NEAR(s.characters.sigma, std::sqrt(74.0 / 9), 1e-12);
  EXPECT_DOUBLE_EQ(s.characters.median, 16);

  const nlohmann::json j = nlohmann::json::parse(dataset_stats_json(s));
  EXPECT_EQ(j["unique_archs"], 2);
  EXPECT_DOUBLE_EQ(j["tokens"]["median"].get<double>(), 3);
}

TEST_F(StatsDir, GraphOnlyDirectoryAndRoleChoice) {
  manifest_.files.erase("texts");
  manifest_.files["genotypes"] = "genotypes.jsonl";  // not a sample file
  write_manifest(dir_, manifest_);
  DatasetStats s = dataset_stats(dir_);
  EXPECT_EQ(s.samples, 0);
  EXPECT_EQ(s.graphs, 3);
  EXPECT_EQ(s.unique_archs, 2);  // graphs 0 and 2 are the same architecture
  EXPECT_NEAR(s.nodes.mean, 11.0 / 3, 1e-12);
  EXPECT_DOUBLE_EQ(s.nodes.median, 4);

  manifest_.files["texts"] = "texts.jsonl";
  manifest_.files["questions"] = "texts.jsonl";
  write_manifest(dir_, manifest_);
  try {
    dataset_stats(dir_);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("questions, texts"), std::string::npos) << e.what();
  }
  EXPECT_EQ(dataset_stats(dir_, "questions").samples, 3);
  try {
    dataset_stats(dir_, "pairs");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("pairs"), std::string::npos) << e.what();
  }
}

TEST_F(StatsDir, BadGraphIndexNamesTheLine) {
  write_file_atomic(dir_ + "/texts.jsonl",
                    "{\"graph\":0,\"text\":\"a\"}\n{\"graph\":7,\"text\":\"b\"}\n");
  try {
    dataset_stats(dir_);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_NE(std::string(e.what()).find("texts.jsonl:2"), std::string::npos) << e.what();
  }
}

TEST(TextTokens, LowerCasedWordsSplitOnSpaceAndPunctuation) {
  EXPECT_EQ(text_tokens("Sep_conv2d has 2,312 params."),
            (std::vector<std::string>{"sep", "conv2d", "has", "2", "312", "params"}));
  EXPECT_EQ(text_tokens("  "), std::vector<std::string>{});
  EXPECT_EQ(text_tokens("a 7x1 kernel"), (std::vector<std::string>{"a", "7x1", "kernel"}));
  // Non-ASCII letters are part of words; Unicode punctuation separates them.
  EXPECT_EQ(text_tokens("\xC3\x9C"
                        "ber \xE2\x80\x94 caf\xC3\xA9\xE2\x80\xA6"),
            (std::vector<std::string>{"\xC3\x9C"
                                      "ber",
                                      "caf\xC3\xA9"}));
}

TEST(Summary, MeanSigmaMedian) {
  const Summary s = summarize({4, 1, 3, 2});
  EXPECT_DOUBLE_EQ(s.mean, 2.5);
  EXPECT_DOUBLE_EQ(s.sigma, std::sqrt(1.25));
  EXPECT_DOUBLE_EQ(s.median, 2.5);
  EXPECT_DOUBLE_EQ(summarize({}).mean, 0);
}

}  // namespace
}  // namespace archbert
