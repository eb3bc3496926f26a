// `archbert reason | clone | embed | search`: the inference tasks over a checkpoint
// (include/archbert/tasks.h). Warnings go to stderr, and into the JSON with --json.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "archbert/error.h"
#include "archbert/importer.h"
#include "archbert/tasks.h"
#include "commands.h"

namespace archbert::cli {
namespace {

using nlohmann::json;

// Options of the four subcommands (kept alive by the runner).
struct TaskOptions {
  std::string ckpt;
  bool json = false;
  // reason
  std::string reason_source, statement;
  // clone
  std::vector<std::string> clone_sources;
  std::string clone_text;
  // embed
  std::string embed_source, embed_text;
  // search
  std::string query;
  int top = 5;
  std::vector<std::string> models;
  bool no_cache = false;
};

void print_warnings(const std::vector<std::string>& warnings) {
  for (const std::string& w : warnings) std::cerr << "warning: " << w << "\n";
}

std::string fixed(double v, int digits = 3) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// "correct (score 0.81 ≥ τ 0.62)"
std::string verdict(bool yes, const char* yes_word, const char* no_word, double score,
                    double threshold) {
  return std::string(yes ? yes_word : no_word) + " (score " + fixed(score) +
         (yes ? " \u2265 \u03c4 " : " < \u03c4 ") + fixed(threshold) + ")";
}

json reason_json(const ReasonResult& r) {
  return {{"score", r.score}, {"correct", r.correct}, {"threshold", r.threshold}};
}

void run_reason(const TaskOptions& o, const GlobalOptions& g) {
  LoadedModel m = load_model(o.ckpt);
  encode_texts(m, {o.statement}, nullptr, "statement");  // a bad statement fails before importing
  ArchGraph graph = load_graph(o.reason_source, import_options(g));
  ReasonResult r = reason(m, graph, o.statement);
  print_warnings(r.warnings);
  if (o.json) {
    json j = reason_json(r);
    j["warnings"] = r.warnings;
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << verdict(r.correct, "correct", "incorrect", r.score, r.threshold) << "\n";
  }
}

void run_clone(const TaskOptions& o, const GlobalOptions& g, bool has_text) {
  LoadedModel m = load_model(o.ckpt);
  if (has_text) encode_texts(m, {o.clone_text}, nullptr, "text");  // fails before importing
  ArchGraph a = load_graph(o.clone_sources.at(0), import_options(g));
  ArchGraph b = load_graph(o.clone_sources.at(1), import_options(g));
  CloneResult r =
      clone(m, a, b, has_text ? std::optional<std::string>(o.clone_text) : std::nullopt);
  print_warnings(r.warnings);
  if (o.json) {
    json j = {{"score", r.score}, {"similar", r.similar}, {"threshold", r.threshold}};
    if (r.text_a) {
      j["text_a"] = reason_json(*r.text_a);
      j["text_b"] = reason_json(*r.text_b);
    }
    j["warnings"] = r.warnings;
    std::cout << j.dump(2) << "\n";
    return;
  }
  if (!r.text_a) {
    std::cout << verdict(r.similar, "similar", "not similar", r.score, r.threshold) << "\n";
    return;
  }
  std::cout << (r.similar ? "similar" : "not similar") << " with respect to the text\n"
            << "  graphs    "
            << verdict(r.score >= r.threshold, "similar", "not similar", r.score, r.threshold)
            << "\n"
            << "  text vs A "
            << verdict(r.text_a->correct, "true", "false", r.text_a->score, r.text_a->threshold)
            << "\n"
            << "  text vs B "
            << verdict(r.text_b->correct, "true", "false", r.text_b->score, r.text_b->threshold)
            << "\n";
}

void run_embed(const TaskOptions& o, const GlobalOptions& g, bool has_source, bool has_text) {
  if (has_source == has_text)
    throw Error(ErrorKind::kUsage, "embed: give either SOURCE or --text TEXT (exactly one)");
  LoadedModel m = load_model(o.ckpt);
  std::vector<std::string> warnings;
  std::vector<float> v;
  if (has_source)
    v = embed_graph(m, load_graph(o.embed_source, import_options(g)), &warnings);
  else
    v = embed_text(m, o.embed_text, &warnings);
  print_warnings(warnings);
  if (o.json) {
    std::cout << json{{"embedding", v}, {"warnings", warnings}}.dump() << "\n";
    return;
  }
  std::ostringstream line;
  line.precision(7);
  for (size_t i = 0; i < v.size(); ++i) line << (i ? " " : "") << v[i];
  std::cout << line.str() << "\n";
}

void run_search(const TaskOptions& o, const GlobalOptions& g) {
  if (o.top < 1) throw Error(ErrorKind::kUsage, "--top must be at least 1");
  LoadedModel m = load_model(o.ckpt);
  SearchOptions so;
  so.import = import_options(g);
  so.use_cache = !o.no_cache;
  SearchResult r = search(m, o.query, o.top, o.models, so);
  print_warnings(r.warnings);
  if (o.json) {
    json results = json::array();
    for (const SearchHit& h : r.results) results.push_back({{"name", h.name}, {"score", h.score}});
    json j = {{"results", results},
              {"candidates", r.candidates},
              {"cache", cache_use_name(r.cache)},
              {"warnings", r.warnings}};
    std::cout << j.dump(2) << "\n";
    return;
  }
  size_t width = 0;
  for (const SearchHit& h : r.results) width = std::max(width, h.name.size());
  for (size_t i = 0; i < r.results.size(); ++i) {
    const SearchHit& h = r.results[i];
    std::printf("%2zu. %-*s  %s\n", i + 1, static_cast<int>(width), h.name.c_str(),
                fixed(h.score).c_str());
  }
  std::fflush(stdout);
}

void add_ckpt_json(CLI::App* cmd, TaskOptions& o) {
  cmd->add_option("--ckpt", o.ckpt,
                  "Checkpoint (default: $ARCHBERT_CHECKPOINT, else the shipped small model)");
  cmd->add_flag("--json", o.json, "Write JSON");
}

}  // namespace

CommandRunner add_task_commands(CLI::App& app, const GlobalOptions& global) {
  auto o = std::make_shared<TaskOptions>();

  auto* reason_cmd =
      app.add_subcommand("reason", "Is a statement true of an architecture? (AR: cosine >= τ)");
  reason_cmd->add_option("source", o->reason_source, "Model file or folder, or zoo name")
      ->required();
  reason_cmd->add_option("statement", o->statement, "Statement about the architecture")->required();
  add_ckpt_json(reason_cmd, *o);

  auto* clone_cmd = app.add_subcommand(
      "clone", "Are two architectures similar? (ACD; with --text, bi-modal BACD)");
  clone_cmd->add_option("sources", o->clone_sources, "Two model files/folders or zoo names")
      ->required()
      ->expected(2);
  auto* clone_text_opt = clone_cmd->add_option("--text", o->clone_text,
                                               "Similar with respect to this text (true of both)");
  add_ckpt_json(clone_cmd, *o);

  auto* embed_cmd =
      app.add_subcommand("embed", "The joint embedding of an architecture or of a text");
  auto* embed_source_opt =
      embed_cmd->add_option("source", o->embed_source, "Model file or folder, or zoo name");
  auto* embed_text_opt = embed_cmd->add_option("--text", o->embed_text, "Embed this text");
  add_ckpt_json(embed_cmd, *o);

  auto* search_cmd =
      app.add_subcommand("search", "Rank architectures (default: the whole zoo) for a query");
  search_cmd->add_option("query", o->query, "What you are looking for")->required();
  search_cmd->add_option("--top", o->top, "How many results (default 5)");
  search_cmd->add_option("--models", o->models,
                         "Search these model files/zoo names instead of the whole zoo");
  search_cmd->add_flag("--no-cache", o->no_cache,
                       "Do not read or write the zoo embedding cache (~/.cache/archbert)");
  add_ckpt_json(search_cmd, *o);

  return [=, &global]() {
    if (reason_cmd->parsed()) {
      run_reason(*o, global);
    } else if (clone_cmd->parsed()) {
      run_clone(*o, global, clone_text_opt->count() > 0);
    } else if (embed_cmd->parsed()) {
      run_embed(*o, global, embed_source_opt->count() > 0, embed_text_opt->count() > 0);
    } else if (search_cmd->parsed()) {
      run_search(*o, global);
    } else {
      return false;
    }
    return true;
  };
}

}  // namespace archbert::cli
