// Tests of AutoNet-AQA (src/data/questions.cpp, autonet_texts.cpp): answers against the graph
// re-imported from the network's ONNX export, the answer vocabulary of the whole training split,
// out-of-vocabulary answers of the val split, paraphrases and determinism.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "archbert/autonet.h"
#include "archbert/dataset.h"
#include "archbert/descriptions.h"
#include "archbert/error.h"
#include "archbert/graph_io.h"
#include "archbert/importer.h"

#include "test_support.h"

namespace archbert {
namespace {

namespace fs = std::filesystem;

using testing_support::TempDir;

// Generates an AutoNet directory and its questions (val: with `vocabulary`).
std::string make_qa(const TempDir& tmp, const std::string& name, DatasetSplit split, int64_t count,
                    uint64_t seed, bool onnx, const std::string& vocabulary = "",
                    QaReport* report = nullptr) {
  AutoNetOptions o;
  o.split = split;
  o.count = count;
  o.seed = seed;
  o.onnx = onnx;
  o.out_dir = tmp / name;
  generate_autonet(o);
  QaOptions q;
  q.answer_vocabulary = vocabulary;
  const QaReport r = generate_autonet_qa(o.out_dir, q);
  if (report) *report = r;
  return o.out_dir;
}

// The expected answers of every question of a graph, from its nodes (an independent reading:
// not through ArchGraph::stats()), keyed by kind and subject.
struct Expected {
  std::set<std::string> present;
  std::map<std::string, std::set<std::pair<int64_t, int64_t>>> kernels;
};

Expected expected_of(const ArchGraph& g) {
  Expected e;
  for (const Node& n : g.nodes) {
    const std::string cls = n.inventory_class();
    if (cls.empty()) continue;
    e.present.insert(cls);
    if (n.kernel) e.kernels[cls].insert({(*n.kernel)[0], (*n.kernel)[1]});
  }
  return e;
}

std::vector<std::string> kernel_list(const Expected& e, const std::vector<std::string>& classes) {
  std::set<std::pair<int64_t, int64_t>> all;
  for (const std::string& c : classes)
    if (e.kernels.count(c)) all.insert(e.kernels.at(c).begin(), e.kernels.at(c).end());
  std::vector<std::string> out;
  for (auto [h, w] : all) out.push_back(std::to_string(h) + "*" + std::to_string(w));
  return out;
}

std::vector<std::string> or_none(std::vector<std::string> v) {
  if (v.empty()) v.push_back("None");
  return v;
}

// The 35 expected (kind, answers) of a graph in question order.
std::vector<std::pair<std::string, std::vector<std::string>>> expected_answers(const ArchGraph& g) {
  const Expected e = expected_of(g);
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  const LayerCategory cats[] = {LayerCategory::kPooling, LayerCategory::kNormalization,
                                LayerCategory::kConvolution, LayerCategory::kActivation};
  auto in_category = [](LayerCategory c) {
    std::vector<std::string> v;
    for (const std::string& cls : autonet_layer_classes())
      if (layer_category(cls) == c) v.push_back(cls);
    std::sort(v.begin(), v.end());
    return v;
  };
  for (bool used : {true, false})
    for (LayerCategory c : cats) {
      std::vector<std::string> v;
      for (const std::string& cls : in_category(c))
        if (e.present.count(cls) == static_cast<size_t>(used)) v.push_back(cls);
      out.emplace_back(used ? "used" : "unused", or_none(v));
    }
  for (const std::string& cls : autonet_layer_classes())
    out.push_back({"function",
                   {e.present.count(cls) ? layer_function_answer(cls)
                                         : "This model does not include " + cls}});
  for (const std::string& cls : autonet_layer_classes())
    if (layer_has_kernel(cls))
      out.emplace_back("kernels", e.present.count(cls) ? kernel_list(e, {cls})
                                                       : std::vector<std::string>{
                                                             "This model does not include " + cls});
  out.emplace_back("kernels", or_none(kernel_list(e, in_category(LayerCategory::kConvolution))));
  out.emplace_back("kernels", or_none(kernel_list(e, in_category(LayerCategory::kPooling))));
  std::vector<std::string> all(e.present.begin(), e.present.end());
  out.emplace_back("kernels", or_none(kernel_list(e, all)));
  for (int i = 0; i < 3; ++i) out.emplace_back("classes", all);
  return out;
}

TEST(Questions, AnswersAgreeWithTheReimportedOnnxGraph) {
  TempDir tmp;
  const int kNetworks = 100;
  const std::string dir = make_qa(tmp, "train", DatasetSplit::kTrain, kNetworks, 12, true);
  const auto questions = read_qa_samples(dir + "/questions.jsonl");
  ASSERT_EQ(questions.size(), 35u * kNetworks);
  auto importer = make_onnx_importer();
  int both_dims = 0;
  std::map<std::string, int> kinds;
  for (int i = 0; i < kNetworks; ++i) {
    const ArchGraph g =
        importer->import(dir + "/onnx/autonet-train-" + std::to_string(i) + ".onnx", {});
    const auto want = expected_answers(g);
    ASSERT_EQ(want.size(), 35u);
    for (size_t k = 0; k < want.size(); ++k) {
      const QaSample& q = questions[35 * i + k];
      ASSERT_EQ(q.graph, i);
      EXPECT_EQ(q.kind, want[k].first) << q.question;
      EXPECT_EQ(q.answers, want[k].second) << "graph " << i << ": " << q.question;
      ++kinds[q.kind];
      const bool has17 = std::count(q.answers.begin(), q.answers.end(), "1*7") > 0;
      const bool has71 = std::count(q.answers.begin(), q.answers.end(), "7*1") > 0;
      both_dims += has17 && has71;
    }
  }
  EXPECT_EQ(kinds["used"], 4 * kNetworks);
  EXPECT_EQ(kinds["unused"], 4 * kNetworks);
  EXPECT_EQ(kinds["function"], 16 * kNetworks);
  EXPECT_EQ(kinds["kernels"], 8 * kNetworks);
  EXPECT_EQ(kinds["classes"], 3 * kNetworks);
  EXPECT_GT(both_dims, 0) << "no kernel answer with both 1*7 and 7*1";
}

TEST(Questions, VocabularyIsBuiltFromTheWholeTrainSplit) {
  TempDir tmp;
  QaReport report;
  const std::string dir = make_qa(tmp, "train", DatasetSplit::kTrain, 60, 2, false, "", &report);
  const auto questions = read_qa_samples(dir + "/questions.jsonl");
  std::map<std::string, int64_t> counts;
  std::set<std::string> last_network;
  for (const QaSample& q : questions) {
    for (const std::string& a : q.answers) ++counts[a];
    if (q.graph == 59) last_network.insert(q.answers.begin(), q.answers.end());
  }
  const AnswerVocabulary v = read_answer_vocabulary(dir + "/answers.json");
  std::vector<std::string> want;
  for (const auto& [a, n] : counts) want.push_back(a);
  EXPECT_EQ(v.answers, want);
  EXPECT_EQ(v.counts, counts);
  EXPECT_EQ(v.split, "train");
  EXPECT_EQ(v.seed, 2u);
  EXPECT_GT(v.answers.size(), last_network.size() + 10);  // not the last network's answers
  EXPECT_GE(v.answers.size(), 45u);
  EXPECT_EQ(report.vocabulary, static_cast<int64_t>(v.answers.size()));
  EXPECT_EQ(report.out_of_vocab_answers, 0);
  const DatasetManifest m = read_manifest(dir);
  EXPECT_EQ(m.generator, "autonet-qa");
  EXPECT_EQ(m.counts.at("questions"), 35 * 60);
  EXPECT_EQ(m.counts.at("answers"), static_cast<int64_t>(v.answers.size()));
  EXPECT_EQ(m.files.at("answers"), "answers.json");
  EXPECT_EQ(m.files.at("questions"), "questions.jsonl");
}

TEST(Questions, ValAnswersOutsideTheTrainVocabularyAreCountedNotDropped) {
  TempDir tmp;
  // A 2-network train split cannot have every answer of 40 val networks.
  const std::string train = make_qa(tmp, "train", DatasetSplit::kTrain, 2, 3, false);
  QaReport report;
  const std::string val =
      make_qa(tmp, "val", DatasetSplit::kVal, 40, 3, false, train + "/answers.json", &report);
  const AnswerVocabulary v = read_answer_vocabulary(train + "/answers.json");
  const std::set<std::string> known(v.answers.begin(), v.answers.end());
  const auto questions = read_qa_samples(val + "/questions.jsonl");
  ASSERT_EQ(questions.size(), 35u * 40);
  int64_t outside = 0, outside_questions = 0;
  std::set<std::string> distinct;
  for (const QaSample& q : questions) {
    bool any = false;
    for (const std::string& a : q.answers)
      if (!known.count(a)) {
        ++outside;
        distinct.insert(a);
        any = true;
      }
    outside_questions += any;
  }
  ASSERT_GT(outside, 0);
  EXPECT_EQ(report.out_of_vocab_answers, outside);
  EXPECT_EQ(report.out_of_vocab_questions, outside_questions);
  EXPECT_EQ(report.out_of_vocab, std::vector<std::string>(distinct.begin(), distinct.end()));
  const DatasetManifest m = read_manifest(val);
  EXPECT_EQ(m.counts.at("answers_out_of_vocab"), outside);
  EXPECT_EQ(m.counts.at("questions_out_of_vocab"), outside_questions);
  EXPECT_EQ(m.info.at("answer_vocabulary"), "train split, seed 3");
  EXPECT_NE(m.info.at("answers_out_of_vocab").find(*distinct.begin()), std::string::npos);
  // The val directory carries the train vocabulary unchanged.
  EXPECT_EQ(read_file(val + "/answers.json"), read_file(train + "/answers.json"));
  const std::string line = qa_report_summary(report, "val");
  EXPECT_NE(line.find(std::to_string(outside) + " answers outside it"), std::string::npos) << line;

  // The val split without the train vocabulary is a usage error.
  try {
    generate_autonet_qa(val);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    EXPECT_NE(std::string(e.what()).find("answers.json"), std::string::npos) << e.what();
  }
  // A file that is not an answer vocabulary is named.
  write_file_atomic(tmp / "bad.json", "{\"answers\": [\"a\"]}");
  QaOptions bad;
  bad.answer_vocabulary = tmp / "bad.json";
  try {
    generate_autonet_qa(val, bad);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos) << e.what();
  }
}

TEST(Questions, ParaphrasesVaryAndQuestionsAreUniquePerNetwork) {
  const AutoNetSampler sampler(5, DatasetSplit::kTrain);
  std::map<std::string, std::set<std::string>> by_kind;
  for (int i = 0; i < 60; ++i) {
    const auto qs = question_graph(sampler.sample(i).graph, i, 100 + i);
    ASSERT_EQ(qs.size(), 35u);
    std::set<std::string> texts;
    for (const QaSample& q : qs) {
      EXPECT_TRUE(texts.insert(q.question).second) << q.question;
      if (q.kind == "classes" ||
          (q.kind == "used" && q.question.find("pooling") != std::string::npos))
        by_kind[q.kind].insert(q.question);
    }
  }
  EXPECT_GE(by_kind["classes"].size(), 4u);
  EXPECT_GE(by_kind["used"].size(), 4u);
}

TEST(Questions, SameSeedSameBytes) {
  TempDir tmp;
  const std::string a = make_qa(tmp, "a", DatasetSplit::kTrain, 25, 8, false);
  const std::string b = make_qa(tmp, "b", DatasetSplit::kTrain, 25, 8, false);
  const std::string c = make_qa(tmp, "c", DatasetSplit::kTrain, 25, 9, false);
  EXPECT_EQ(read_file(a + "/questions.jsonl"), read_file(b + "/questions.jsonl"));
  EXPECT_EQ(read_file(a + "/answers.json"), read_file(b + "/answers.json"));
  EXPECT_EQ(read_file(a + "/manifest.json"), read_file(b + "/manifest.json"));
  EXPECT_NE(read_file(a + "/questions.jsonl"), read_file(c + "/questions.jsonl"));
}

TEST(Questions, CanonicalAnswers) {
  EXPECT_EQ(kernel_answer("7x1"), "7*1");
  EXPECT_EQ(kernel_answer("1x7"), "1*7");
  EXPECT_EQ(absent_layer_answer("MaxPool2d"), "This model does not include MaxPool2d");
  EXPECT_EQ(layer_category("AdaptiveAvgPool2d"), LayerCategory::kPooling);
  EXPECT_EQ(layer_category("Softmax"), LayerCategory::kActivation);
  EXPECT_EQ(layer_category("Linear"), LayerCategory::kOther);
  EXPECT_EQ(autonet_layer_classes().size(), 16u);
  for (const std::string& cls : autonet_layer_classes())
    EXPECT_FALSE(layer_function_answer(cls).empty()) << cls;
}

}  // namespace
}  // namespace archbert
