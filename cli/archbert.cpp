// The archbert command: a thin layer over the public API (include/archbert/).
//
// Exit codes: 0 ok, 1 usage error, 2 bad input, 3 internal error.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <sstream>
#include <vector>

#include "archbert/autonet.h"
#include "archbert/dataset.h"
#include "archbert/dataset_stats.h"
#include "archbert/descriptions.h"
#include "archbert/error.h"
#include "archbert/format.h"
#include "archbert/graph_io.h"
#include "archbert/importer.h"
#include "archbert/system.h"
#include "archbert/zoo.h"
#include "archbert/zoo_dataset.h"
#include "commands.h"

using namespace archbert;

namespace archbert::cli {

ImportOptions import_options(const GlobalOptions& g) {
  ImportOptions o;
  o.limits.max_nodes = g.max_nodes;
  o.limits.max_edges = std::max<int64_t>(g.max_nodes * 8, 8);
  return o;
}

void emit(const std::string& path, const std::string& content) {
  if (path.empty() || path == "-") {
    std::fwrite(content.data(), 1, content.size(), stdout);
    std::fflush(stdout);
  } else {
    write_file_atomic(path, content);
  }
}

}  // namespace archbert::cli

namespace {

using cli::emit;
using cli::GlobalOptions;
using cli::import_options;

// The readable summary of `archbert graph SOURCE`.
std::string graph_summary(const ArchGraph& g) {
  GraphStats s = g.stats();
  std::ostringstream o;
  o << g.name << "  (" << g.format << (g.bn_folded ? ", BatchNorm folded into convolutions" : "")
    << ")\n"
    << "  parameters   " << group_thousands(g.params) << "\n"
    << "  nodes        " << s.nodes << "   edges " << s.edges << "   depth " << s.depth << "\n"
    << "  fingerprint  " << g.fingerprint() << "\n";
  if (s.other_nodes)
    o << "  unmapped     " << s.other_nodes << " nodes map to `other` ("
      << (100.0 * s.other_nodes / std::max<int64_t>(1, s.nodes)) << "%)\n";
  o << "  layers      ";
  int col = 0;
  for (auto& [cls, n] : s.inventory) {
    std::string item = " " + cls + " " + std::to_string(n);
    if (col + item.size() > 80) {
      o << "\n              ";
      col = 0;
    }
    o << item;
    col += static_cast<int>(item.size());
  }
  o << "\n";
  if (!s.kernels.empty()) {
    o << "  kernels     ";
    for (auto& [cls, ks] : s.kernels) {
      o << " " << cls << ":";
      for (size_t i = 0; i < ks.size(); ++i) o << (i ? "," : " ") << ks[i];
    }
    o << "\n";
  }
  o << "  ops         ";
  col = 0;
  for (auto& [op, n] : s.ops) {
    std::string item = " " + op + " " + std::to_string(n);
    if (col + item.size() > 80) {
      o << "\n              ";
      col = 0;
    }
    o << item;
    col += static_cast<int>(item.size());
  }
  o << "\n";
  return o.str();
}

}  // namespace

int main(int argc, char** argv) {
  ensure_fast_blas(argc, argv);

  CLI::App app{"archbert — neural architectures and natural language in one embedding space"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Help for every subcommand");
  GlobalOptions global;
  global.command_line = "archbert";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool plain = !a.empty() && a.find_first_of(" \t'\"$\\") == std::string::npos;
    global.command_line += " " + (plain ? a : "'" + a + "'");
  }
  app.add_option("--threads", global.threads,
                 "Worker threads (default: $OMP_NUM_THREADS, else all cores)")
      ->check(CLI::Range(0, 1024));
  app.add_option("--max-nodes", global.max_nodes,
                 "Refuse graphs with more canonical nodes than this (default 1000000)")
      ->check(CLI::Range(int64_t(1), int64_t(100'000'000)));
  app.footer("Exit codes: 0 ok, 1 usage error, 2 bad input, 3 internal error.");

  // doctor
  auto* doctor =
      app.add_subcommand("doctor", "Report LibTorch, BLAS, threads, CPU and sgemm speed");
  bool doctor_json = false;
  doctor->add_flag("--json", doctor_json, "Write JSON");

  // graph
  auto* graph = app.add_subcommand("graph", "Read a model into its canonical architecture graph");
  std::string source, out_path, svg_path;
  bool graph_json = false, graph_stats = false, graph_dot = false;
  graph
      ->add_option("source", source,
                   "Model file (.onnx, TorchScript .pt, Hugging Face folder or config.json, "
                   "graph .json) or zoo name (tv:resnet18, hf:bert-base-uncased)")
      ->required();
  graph->add_flag("--json", graph_json, "Write the graph JSON (docs/graph-format.md)");
  graph->add_flag("--stats", graph_stats, "With --json: write only the summary statistics");
  graph->add_flag("--dot", graph_dot, "Write Graphviz DOT");
  graph->add_option("--svg", svg_path, "Render the graph to this SVG file");
  graph->add_option("-o,--output", out_path, "Write --json/--dot output to this file (atomic)");

  // zoo
  auto* zoo = app.add_subcommand("zoo", "The built-in zoo of real architectures");
  zoo->require_subcommand(1);
  auto* zoo_ls = zoo->add_subcommand("list", "List zoo models");
  bool zoo_json = false;
  std::string zoo_task;
  zoo_ls->add_flag("--json", zoo_json, "Write JSON");
  zoo_ls->add_option("--task", zoo_task, "Only models of this task (classification, nlp, ...)");

  // data
  auto* data = app.add_subcommand("data", "Generate datasets and print their statistics");
  data->require_subcommand(1);
  struct GenerateOptions {
    std::string split = "train", out, answers;
    int64_t count = 0;
    uint64_t seed = 0;
    bool onnx = false;
  } gen;
  auto add_generate_options = [&](CLI::App* cmd) {
    cmd->add_option("--split", gen.split, "train or val")->check(CLI::IsMember({"train", "val"}));
    cmd->add_option("--count", gen.count, "Number of networks")
        ->required()
        ->check(CLI::Range(int64_t(1), int64_t(10'000'000)));
    cmd->add_option("--seed", gen.seed, "Seed (same seed: byte-identical output)");
    cmd->add_option("--out", gen.out, "Output dataset directory")->required();
  };
  auto* data_autonet = data->add_subcommand(
      "autonet", "AutoNet: random DARTS-style networks with descriptions (AR)");
  add_generate_options(data_autonet);
  data_autonet->add_flag("--onnx", gen.onnx, "Also write every network as ONNX under OUT/onnx/");
  auto* data_qa =
      data->add_subcommand("autonet-qa", "AutoNet-AQA: networks with ~35 questions each");
  add_generate_options(data_qa);
  data_qa->add_option("--answers", gen.answers,
                      "answers.json of the train split (required for --split val)");
  auto* data_zoo = data->add_subcommand(
      "zoo", "Zoo (TVHF): real architectures with descriptions, ACD pairs and BACD quartets");
  std::string zoo_out;
  uint64_t zoo_seed = 0;
  data_zoo->add_option("--out", zoo_out, "Output dataset directory")->required();
  data_zoo->add_option("--seed", zoo_seed, "Seed (same seed: byte-identical output)");
  auto* data_stats = data->add_subcommand("stats", "The paper's Table 1 for a dataset directory");
  std::string stats_dir, stats_role;
  bool stats_json = false;
  data_stats->add_option("dir", stats_dir, "Dataset directory")->required();
  data_stats->add_option("--role", stats_role, "Sample file to summarise when there are several");
  data_stats->add_flag("--json", stats_json, "Write JSON");

  // train, eval, reason/clone/embed/search: one file per group.
  std::vector<cli::CommandRunner> groups = {cli::add_train_commands(app, global),
                                            cli::add_eval_commands(app, global),
                                            cli::add_task_commands(app, global)};

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : static_cast<int>(ErrorKind::kUsage);
  }

  try {
    set_threads(global.threads);
    for (auto& run : groups)
      if (run()) return 0;
    if (doctor->parsed()) {
      DoctorReport r = run_doctor(true);
      std::cout << (doctor_json ? doctor_to_json(r) : doctor_to_text(r));
    } else if (graph->parsed()) {
      if (graph_stats && !graph_json) throw Error(ErrorKind::kUsage, "--stats needs --json");
      if (graph_json && graph_dot) throw Error(ErrorKind::kUsage, "choose one of --json and --dot");
      ArchGraph g = load_graph(source, import_options(global));
      if (!svg_path.empty()) write_file_atomic(svg_path, graph_to_svg(g));
      if (graph_json)
        emit(out_path,
             graph_stats ? graph_stats_json(g, 2) : graph_to_json(g, out_path.empty() ? 2 : -1));
      else if (graph_dot)
        emit(out_path, graph_to_dot(g));
      else if (svg_path.empty() || !out_path.empty())
        emit(out_path, graph_summary(g));
    } else if (data_autonet->parsed() || data_qa->parsed()) {
      const bool qa = data_qa->parsed();
      if (qa && gen.split == "val" && gen.answers.empty())
        throw Error(ErrorKind::kUsage,
                    "--split val needs --answers TRAIN_DIR/answers.json (the train vocabulary)");
      AutoNetOptions o;
      o.split = *split_from_name(gen.split);
      o.count = gen.count;
      o.seed = gen.seed;
      o.out_dir = gen.out;
      o.onnx = gen.onnx;
      o.threads = get_threads();
      AutoNetReport r = generate_autonet(o);
      std::printf("%s %s: %lld graphs (%lld nodes, %lld edges) in %.1f s\n",
                  qa ? "autonet-qa" : "autonet", gen.split.c_str(),
                  static_cast<long long>(r.graphs), static_cast<long long>(r.nodes),
                  static_cast<long long>(r.edges), r.seconds);
      if (qa) {
        QaOptions qo;
        qo.answer_vocabulary = gen.answers;
        QaReport q = generate_autonet_qa(gen.out, qo);
        std::printf("%s\n", qa_report_summary(q, gen.split).c_str());
      } else {
        TextReport t = generate_autonet_texts(gen.out);
        std::printf("autonet %s: %lld descriptions (%lld positive) in %.1f s\n", gen.split.c_str(),
                    static_cast<long long>(t.texts), static_cast<long long>(t.positives),
                    t.seconds);
      }
    } else if (data_zoo->parsed()) {
      ZooDatasetOptions o;
      o.out_dir = zoo_out;
      o.seed = zoo_seed;
      ZooDatasetReport r = generate_zoo_dataset(o);
      std::printf(
          "zoo: %lld graphs (%lld BN-folded variants), %lld families\n"
          "  AR texts: %lld positive, %lld negative; train %lld, val %lld\n"
          "  ACD pairs: train %lld, val %lld (%lld similar); BACD quartets: train %lld, val %lld "
          "(%lld positive)\n  %.1f s\n",
          static_cast<long long>(r.graphs), static_cast<long long>(r.folded),
          static_cast<long long>(r.families), static_cast<long long>(r.positives),
          static_cast<long long>(r.negatives), static_cast<long long>(r.texts_train),
          static_cast<long long>(r.texts_val), static_cast<long long>(r.acd_train),
          static_cast<long long>(r.acd_val), static_cast<long long>(r.acd_positive),
          static_cast<long long>(r.bacd_train), static_cast<long long>(r.bacd_val),
          static_cast<long long>(r.bacd_positive), r.seconds);
    } else if (data_stats->parsed()) {
      DatasetStats st = dataset_stats(stats_dir, stats_role);
      if (stats_json) {
        std::cout << dataset_stats_json(st);
      } else {
        auto row = [](const char* what, const Summary& m) {
          std::printf("  %-22s mean %10.2f   sigma %10.2f   median %10.2f\n", what, m.mean, m.sigma,
                      m.median);
        };
        std::printf("%s (%s)\n", stats_dir.c_str(),
                    st.role.empty() ? "graphs only" : st.role.c_str());
        std::printf(
            "  samples                %lld\n  unique architectures   %lld\n  unique node types     "
            " %lld\n",
            static_cast<long long>(st.samples), static_cast<long long>(st.unique_archs),
            static_cast<long long>(st.unique_node_types));
        row("nodes", st.nodes);
        row("edges", st.edges);
        std::printf("  unique tokens          %lld\n", static_cast<long long>(st.unique_tokens));
        row("tokens per text", st.tokens);
        row("characters per text", st.characters);
      }
    } else if (zoo_ls->parsed()) {
      nlohmann::json arr = nlohmann::json::array();
      for (const ZooEntry& e : zoo_list()) {
        if (!zoo_task.empty() && e.task != zoo_task) continue;
        if (zoo_json) {
          arr.push_back(
              {{"name", e.name}, {"family", e.family}, {"task", e.task}, {"params", e.params}});
        } else {
          std::printf("%-45s %-14s %-16s %15s\n", e.name.c_str(), e.family.c_str(), e.task.c_str(),
                      e.params >= 0 ? group_thousands(e.params).c_str() : "?");
        }
      }
      if (zoo_json) std::cout << arr.dump(2) << "\n";
    }
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "archbert: error: %s\n", e.what());
    return static_cast<int>(e.kind());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "archbert: error: out of memory\n");
    return static_cast<int>(ErrorKind::kInternal);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "archbert: internal error: %s\n", e.what());
    return static_cast<int>(ErrorKind::kInternal);
  }
}
