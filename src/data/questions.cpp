// AutoNet-AQA: the questions about one graph and their multi-label answers (descriptions.h), and
// the answer vocabulary file.
//
// Per graph, 35 questions, in this order:
//   used      4  which layers of a category (pooling, normalization, convolution, activation)
//                the network uses; ["None"] when it uses none
//   unused    4  which layers of the category it does not use; ["None"] when it uses all
//   function 16  what a class of the layer table does; "This model does not include X" when
//                absent
//   kernels   8  the kernel sizes ("7*1" = kH*kW, from the real kernels) of Conv2d, Sep_conv2d,
//                Dil_conv2d, MaxPool2d, AvgPool2d (absent: "This model does not include X"), of
//                all convolutions, of all windowed pooling (none: ["None"]) and overall
//   classes   3  every layer class of the inventory (three different paraphrases)
// Answers come from ArchGraph::stats() and the category table (layer_lexicon.cpp) only; a list
// answer is sorted (kernels by kH then kW, classes alphabetically).
#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "archbert/descriptions.h"
#include "archbert/error.h"
#include "archbert/graph_io.h"
#include "data/description_templates.h"
#include "data/layer_lexicon.h"
#include "data/rng.h"

namespace archbert {
namespace {

using data::Rng;

const std::vector<const char*> kUsedQuestions = {
    "Which {cat} layers are used in this network?",
    "What type of {cat} layer does this architecture use?",
    "Which kinds of {cat} layers appear in this model?",
    "Name the {cat} layers of this neural network.",
    "What {cat} layers does this model contain?",
};
const std::vector<const char*> kUnusedQuestions = {
    "Which {cat} layers are not used in this network?",
    "What {cat} layer types does this architecture lack?",
    "Which kinds of {cat} layers are missing from this model?",
    "Name the {cat} layers this neural network does not use.",
    "Which {cat} layers does this model not contain?",
};
const std::vector<const char*> kFunctionQuestions = {
    "What does the {sg} do in this network?",
    "What is the role of the {sg} in this model?",
    "What is the {sg} used for in this architecture?",
    "What purpose does the {sg} serve in this neural network?",
    "What does the {sg} compute in this model?",
};
const std::vector<const char*> kKernelQuestions = {
    "What kernel sizes do the {pl} of this network use?",
    "Which kernel sizes are used by the {pl} in this model?",
    "What kernel sizes do the {pl} in this architecture have?",
    "Which kernel sizes appear in the {pl} of this neural network?",
};
const std::vector<const char*> kOverallKernelQuestions = {
    "What kernel sizes are used in this network overall?",
    "In general, which kernel sizes does this model use?",
    "Which kernel sizes appear anywhere in this architecture?",
};
const std::vector<const char*> kClassQuestions = {
    "Which layer classes does this network contain?",
    "What kinds of layers make up this model?",
    "List every type of layer in this architecture.",
    "Overall, which layer types are included in this neural network?",
    "What are all the layer types used in this model?",
};
constexpr int kClassQuestionsPerGraph = 3;

constexpr LayerCategory kCategories[] = {LayerCategory::kPooling, LayerCategory::kNormalization,
                                         LayerCategory::kConvolution, LayerCategory::kActivation};

// "7x1" -> (7, 1) for sorting.
std::pair<int64_t, int64_t> kernel_dims(const std::string& k) {
  const size_t x = k.find('x');
  return {std::stoll(k.substr(0, x)), std::stoll(k.substr(x + 1))};
}

// The kernel answers of `classes` in `stats`, sorted by (kH, kW).
std::vector<std::string> kernel_answers(const GraphStats& stats,
                                        const std::vector<std::string>& classes) {
  std::set<std::pair<int64_t, int64_t>> dims;
  for (const std::string& cls : classes) {
    const auto it = stats.kernels.find(cls);
    if (it == stats.kernels.end()) continue;
    for (const std::string& k : it->second) dims.insert(kernel_dims(k));
  }
  std::vector<std::string> out;
  for (auto [h, w] : dims) out.push_back(std::to_string(h) + "*" + std::to_string(w));
  return out;
}

const char* pick(const std::vector<const char*>& v, Rng& rng) { return v[rng.index(v.size())]; }

}  // namespace

std::vector<QaSample> question_graph(const ArchGraph& graph, int64_t graph_index, uint64_t stream) {
  Rng rng(stream);
  const GraphStats stats = graph.stats();
  auto present = [&](const std::string& cls) {
    const auto it = stats.inventory.find(cls);
    return it != stats.inventory.end() && it->second > 0;
  };
  std::vector<QaSample> out;
  auto add = [&](const char* kind, std::string question, std::vector<std::string> answers) {
    if (answers.empty()) answers.emplace_back(kNoneAnswer);
    out.push_back({graph_index, std::move(question), kind, std::move(answers)});
  };
  auto category_classes = [](LayerCategory c) {
    std::vector<std::string> v;
    for (const data::LayerEntry& e : data::layer_lexicon())
      if (e.category == c) v.emplace_back(e.cls);
    std::sort(v.begin(), v.end());
    return v;
  };

  for (bool used : {true, false})
    for (LayerCategory c : kCategories) {
      std::vector<std::string> answers;
      for (const std::string& cls : category_classes(c))
        if (present(cls) == used) answers.push_back(cls);
      const std::string q = data::fill_template(pick(used ? kUsedQuestions : kUnusedQuestions, rng),
                                                {{"cat", std::string(layer_category_name(c))}});
      add(used ? "used" : "unused", q, std::move(answers));
    }

  for (const data::LayerEntry& e : data::layer_lexicon()) {
    const data::LayerName& name = e.names[rng.index(e.names.size())];
    const std::string q =
        data::fill_template(pick(kFunctionQuestions, rng), {{"sg", name.singular}});
    add("function", q, {present(e.cls) ? std::string(e.answer) : absent_layer_answer(e.cls)});
  }

  for (const data::LayerEntry& e : data::layer_lexicon()) {
    if (!e.has_kernel) continue;
    const data::LayerName& name = e.names[rng.index(e.names.size())];
    const std::string q = data::fill_template(pick(kKernelQuestions, rng), {{"pl", name.plural}});
    add("kernels", q,
        present(e.cls) ? kernel_answers(stats, {e.cls})
                       : std::vector<std::string>{absent_layer_answer(e.cls)});
  }
  for (LayerCategory c : {LayerCategory::kConvolution, LayerCategory::kPooling}) {
    const std::string group = c == LayerCategory::kConvolution
                                  ? pick({"convolution layers", "convolutions"}, rng)
                                  : pick({"pooling layers", "pooling windows"}, rng);
    const std::string q = data::fill_template(pick(kKernelQuestions, rng), {{"pl", group}});
    add("kernels", q, kernel_answers(stats, category_classes(c)));
  }
  {
    std::vector<std::string> all;
    for (const auto& [cls, ks] : stats.kernels) all.push_back(cls);
    add("kernels", pick(kOverallKernelQuestions, rng), kernel_answers(stats, all));
  }

  std::vector<size_t> order(kClassQuestions.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  rng.shuffle(order);
  std::vector<std::string> classes;
  for (const auto& [cls, n] : stats.inventory) classes.push_back(cls);
  for (int i = 0; i < kClassQuestionsPerGraph; ++i)
    add("classes", kClassQuestions[order[i]], classes);
  return out;
}

std::string answer_vocabulary_to_json(const AnswerVocabulary& v) {
  nlohmann::json j = nlohmann::json::object();
  j["format"] = "archbert-answer-vocabulary";
  j["version"] = 1;
  j["split"] = v.split;
  j["seed"] = v.seed;
  j["answers"] = v.answers;
  j["counts"] = v.counts;
  return j.dump(2) + "\n";
}

AnswerVocabulary read_answer_vocabulary(const std::string& path) {
  const nlohmann::json j = nlohmann::json::parse(read_file(path), nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw_bad_input(path, "not a JSON object");
  if (j.value("format", std::string()) != "archbert-answer-vocabulary")
    throw_bad_input(path,
                    "not an answer vocabulary (\"format\" is not \"archbert-answer-vocabulary\")");
  if (j.value("version", 0) != 1)
    throw_bad_input(path, "answer vocabulary version " + std::to_string(j.value("version", 0)) +
                              ", this archbert reads version 1");
  AnswerVocabulary v;
  try {
    v.split = j.value("split", std::string());
    v.seed = j.value("seed", uint64_t{0});
    v.answers = j.at("answers").get<std::vector<std::string>>();
    if (j.contains("counts")) v.counts = j.at("counts").get<std::map<std::string, int64_t>>();
  } catch (const nlohmann::json::exception& e) {
    throw_bad_input(path, std::string("malformed answer vocabulary: ") + e.what());
  }
  if (v.answers.empty()) throw_bad_input(path, "the answer vocabulary is empty");
  for (size_t i = 1; i < v.answers.size(); ++i)
    if (!(v.answers[i - 1] < v.answers[i]))
      throw_bad_input(path, "answers are not sorted and unique at \"" + v.answers[i] + "\"");
  return v;
}

}  // namespace archbert
