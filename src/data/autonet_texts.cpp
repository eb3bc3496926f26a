// Writing AutoNet's descriptions (texts.jsonl) and AutoNet-AQA's questions (questions.jsonl,
// answers.json) into a dataset directory made by generate_autonet (descriptions.h).
#include <chrono>
#include <filesystem>
#include <set>

#include "archbert/autonet.h"
#include "archbert/descriptions.h"
#include "archbert/error.h"
#include "archbert/graph_io.h"
#include "data/rng.h"

namespace archbert {
namespace {

namespace fs = std::filesystem;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// An AutoNet dataset directory, checked: its manifest, split and graphs.
struct AutoNetDirectory {
  DatasetManifest manifest;
  DatasetSplit split = DatasetSplit::kTrain;
  GraphStore graphs;
};

AutoNetDirectory open_autonet_directory(const std::string& dir) {
  AutoNetDirectory d;
  d.manifest = read_manifest(dir);
  const std::string where = (fs::path(dir) / "manifest.json").string();
  if (d.manifest.generator != "autonet" && d.manifest.generator != "autonet-qa")
    throw_bad_input(where, "generator is \"" + d.manifest.generator +
                               "\": texts and questions are written into AutoNet directories only");
  if (d.manifest.generator_version != kAutoNetGeneratorVersion)
    throw_bad_input(where, "AutoNet generator version " +
                               std::to_string(d.manifest.generator_version) +
                               ", this archbert writes texts for version " +
                               std::to_string(kAutoNetGeneratorVersion) + " (regenerate it)");
  const auto split = split_from_name(d.manifest.split);
  if (!split) throw_bad_input(where, "split \"" + d.manifest.split + "\" is not train or val");
  d.split = *split;
  d.graphs = open_dataset_graphs(dir);
  return d;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

}  // namespace

TextReport generate_autonet_texts(const std::string& dir, const TextOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  AutoNetDirectory d = open_autonet_directory(dir);
  const FactReference reference = autonet_fact_reference(d.manifest.seed);
  TextReport report;
  std::string lines;
  for (int64_t i = 0; i < d.graphs.size(); ++i) {
    const ArchGraph graph = d.graphs.get(i);
    const uint64_t stream = data::stream_seed(d.manifest.seed, d.split, i, "texts");
    for (Description& desc : describe_graph(graph, reference, stream, options.descriptions)) {
      ArSample s;
      s.graph = i;
      s.text = std::move(desc.text);
      s.label = desc.label;
      for (const StatedFact& f : desc.facts) s.facts.push_back(f.kind);
      s.claims = std::move(desc.facts);
      lines += to_jsonl(s);
      ++report.texts;
      report.positives += s.label;
    }
  }
  write_jsonl((fs::path(dir) / "texts.jsonl").string(), lines);

  DatasetManifest& m = d.manifest;
  m.files["texts"] = "texts.jsonl";
  m.counts["texts"] = report.texts;
  m.counts["texts_positive"] = report.positives;
  m.info["texts_version"] = std::to_string(kAutoNetTextsVersion);
  m.info["texts_per_network"] = std::to_string(options.descriptions.per_network);
  m.info["texts_positive_per_network"] = std::to_string(options.descriptions.positives);
  write_manifest(dir, m);
  report.graphs = d.graphs.size();
  report.seconds = seconds_since(t0);
  return report;
}

QaReport generate_autonet_qa(const std::string& dir, const QaOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  AutoNetDirectory d = open_autonet_directory(dir);
  if (options.answer_vocabulary.empty() && d.split != DatasetSplit::kTrain)
    throw Error(ErrorKind::kUsage,
                "the " + d.manifest.split +
                    " split needs the train split's answer vocabulary (its answers.json): the "
                    "answer list is built from the whole training split only");

  QaReport report;
  std::vector<QaSample> samples;
  for (int64_t i = 0; i < d.graphs.size(); ++i) {
    const ArchGraph graph = d.graphs.get(i);
    const uint64_t stream = data::stream_seed(d.manifest.seed, d.split, i, "questions");
    for (QaSample& q : question_graph(graph, i, stream)) samples.push_back(std::move(q));
  }

  AnswerVocabulary vocab;
  if (options.answer_vocabulary.empty()) {
    vocab.split = d.manifest.split;
    vocab.seed = d.manifest.seed;
    for (const QaSample& q : samples)
      for (const std::string& a : q.answers) ++vocab.counts[a];
    for (const auto& [a, n] : vocab.counts) vocab.answers.push_back(a);
  } else {
    vocab = read_answer_vocabulary(options.answer_vocabulary);
  }
  report.vocabulary_source = vocab.split + " split, seed " + std::to_string(vocab.seed);

  // Answers outside the vocabulary stay in questions.jsonl; they are counted and reported.
  const std::set<std::string> known(vocab.answers.begin(), vocab.answers.end());
  std::set<std::string> outside;
  std::string lines;
  for (const QaSample& q : samples) {
    bool oov = false;
    for (const std::string& a : q.answers)
      if (!known.count(a)) {
        ++report.out_of_vocab_answers;
        outside.insert(a);
        oov = true;
      }
    report.out_of_vocab_questions += oov;
    lines += to_jsonl(q);
  }
  report.out_of_vocab.assign(outside.begin(), outside.end());
  write_jsonl((fs::path(dir) / "questions.jsonl").string(), lines);
  write_file_atomic((fs::path(dir) / "answers.json").string(), answer_vocabulary_to_json(vocab));

  DatasetManifest& m = d.manifest;
  m.generator = "autonet-qa";
  m.files["questions"] = "questions.jsonl";
  m.files["answers"] = "answers.json";
  m.counts["questions"] = static_cast<int64_t>(samples.size());
  m.counts["answers"] = static_cast<int64_t>(vocab.answers.size());
  m.counts["answers_out_of_vocab"] = report.out_of_vocab_answers;
  m.counts["questions_out_of_vocab"] = report.out_of_vocab_questions;
  m.info["questions_version"] = std::to_string(kAutoNetQuestionsVersion);
  m.info["answer_vocabulary"] = report.vocabulary_source;
  m.info["answers_out_of_vocab"] = join(report.out_of_vocab, "; ");
  write_manifest(dir, m);

  report.graphs = d.graphs.size();
  report.questions = static_cast<int64_t>(samples.size());
  report.vocabulary = static_cast<int64_t>(vocab.answers.size());
  report.seconds = seconds_since(t0);
  return report;
}

std::string qa_report_summary(const QaReport& r, std::string_view split) {
  std::string s = "autonet-qa " + std::string(split) + ": " + std::to_string(r.questions) +
                  " questions over " + std::to_string(r.graphs) + " graphs, answer vocabulary " +
                  std::to_string(r.vocabulary) + " (" + r.vocabulary_source + "), " +
                  std::to_string(r.out_of_vocab_answers) + " answers outside it";
  if (r.out_of_vocab_answers > 0)
    s += " (in " + std::to_string(r.out_of_vocab_questions) +
         " questions: " + join(r.out_of_vocab, "; ") + ")";
  return s;
}

}  // namespace archbert
