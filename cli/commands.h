#pragma once
// Shared pieces of the archbert command. Each group of subcommands lives in its own file
// (cli/cmd_*.cpp) and registers itself with add_*_commands; main() runs the one that was parsed.

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

#include "archbert/graph.h"
#include "archbert/importer.h"

namespace archbert::cli {

// Options every subcommand sees.
struct GlobalOptions {
  int threads = 0;
  int64_t max_nodes = default_graph_limits().max_nodes;
  std::string command_line;  // "archbert train pretrain ..." as typed (for recipes)
};

// Import options from the global options (--max-nodes).
ImportOptions import_options(const GlobalOptions& g);

// Writes to a file atomically, or to stdout when path is empty or "-".
void emit(const std::string& path, const std::string& content);

// A group of subcommands: the runner returns true when one of them was parsed (and has run).
// Options live in the runner's captured state, so the runner must outlive parsing.
using CommandRunner = std::function<bool()>;

CommandRunner add_train_commands(CLI::App& app, const GlobalOptions& global);
CommandRunner add_eval_commands(CLI::App& app, const GlobalOptions& global);
CommandRunner add_task_commands(CLI::App& app, const GlobalOptions& global);

}  // namespace archbert::cli
