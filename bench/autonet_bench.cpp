// AutoNet benchmark: time to generate the AutoNet graphs (train + val) and to load them back
// from the graph store, with Table-1-style node/edge statistics. With --texts, also the whole of
// AutoNet (graphs + descriptions) and AutoNet-AQA (graphs + questions, val with the train answer
// vocabulary), timed end to end, with the paper's Table 1 for each.
//
//   archbert-bench-autonet [--train 10000] [--val 1000] [--threads 1] [--onnx] [--no-names]
//                          [--seed 0] [--texts] [--out DIR]
//
// Without --out the dataset goes to a temporary directory that is removed at the end.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "archbert/autonet.h"
#include "archbert/dataset.h"
#include "archbert/dataset_stats.h"
#include "archbert/descriptions.h"
#include "archbert/error.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// mean, sigma, median of `v`.
void describe(const char* what, std::vector<double> v) {
  if (v.empty()) return;
  double mean = 0;
  for (double x : v) mean += x;
  mean /= v.size();
  double var = 0;
  for (double x : v) var += (x - mean) * (x - mean);
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  const double median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  std::printf("  %-8s mean %.2f  sigma %.2f  median %.1f  min %.0f  max %.0f\n", what, mean,
              std::sqrt(var / n), median, v.front(), v.back());
}

void print_table1(const char* name, const char* split, const archbert::DatasetStats& s) {
  std::printf(
      "  %-8s %-5s samples %7lld  archs %6lld  node types %2lld  nodes %.2f/%.2f/%.1f  edges "
      "%.2f/%.2f/%.1f  unique tokens %5lld  tokens %.2f/%.2f/%.1f  chars %.2f/%.2f/%.1f\n",
      name, split, static_cast<long long>(s.samples), static_cast<long long>(s.unique_archs),
      static_cast<long long>(s.unique_node_types), s.nodes.mean, s.nodes.sigma, s.nodes.median,
      s.edges.mean, s.edges.sigma, s.edges.median, static_cast<long long>(s.unique_tokens),
      s.tokens.mean, s.tokens.sigma, s.tokens.median, s.characters.mean, s.characters.sigma,
      s.characters.median);
}

// AutoNet and AutoNet-AQA, train and val, end to end (graphs + texts), as `archbert data autonet`
// and `archbert data autonet-qa` make them. Returns the total seconds.
double run_text_datasets(const std::string& out, int64_t train, int64_t val, uint64_t seed,
                         int threads) {
  namespace fs = std::filesystem;
  using archbert::DatasetSplit;
  double total = 0;
  std::vector<std::pair<std::string, std::string>> table;  // (dataset, dir)
  for (const char* dataset : {"autonet", "autonet-qa"}) {
    const bool qa = std::string(dataset) == "autonet-qa";
    for (auto [split, count] :
         {std::pair{DatasetSplit::kTrain, train}, std::pair{DatasetSplit::kVal, val}}) {
      const auto t0 = std::chrono::steady_clock::now();
      archbert::AutoNetOptions o;
      o.split = split;
      o.count = count;
      o.seed = seed;
      o.threads = threads;
      o.out_dir = (fs::path(out) / dataset / std::string(archbert::split_name(split))).string();
      const double graphs = archbert::generate_autonet(o).seconds;
      double texts = 0;
      std::string what;
      if (qa) {
        archbert::QaOptions q;
        if (split == DatasetSplit::kVal)
          q.answer_vocabulary = (fs::path(out) / dataset / "train" / "answers.json").string();
        const archbert::QaReport r = archbert::generate_autonet_qa(o.out_dir, q);
        texts = r.seconds;
        what = archbert::qa_report_summary(r, archbert::split_name(split));
      } else {
        const archbert::TextReport r = archbert::generate_autonet_texts(o.out_dir);
        texts = r.seconds;
        what = "autonet " + std::string(archbert::split_name(split)) + ": " +
               std::to_string(r.texts) + " descriptions (" + std::to_string(r.positives) +
               " positive) over " + std::to_string(r.graphs) + " graphs";
      }
      const double seconds = seconds_since(t0);
      total += seconds;
      std::printf("%-10s %-5s graphs %6.2f s + texts %6.2f s = %6.2f s  | %s\n", dataset,
                  std::string(archbert::split_name(split)).c_str(), graphs, texts, seconds,
                  what.c_str());
      table.emplace_back(dataset, o.out_dir);
    }
  }
  std::printf("AutoNet + AutoNet-AQA, train + val: %.2f s in total\n", total);
  std::printf("Table 1 (mean/sigma/median):\n");
  for (const auto& [dataset, dir] : table) {
    const auto t0 = std::chrono::steady_clock::now();
    const archbert::DatasetStats s = archbert::dataset_stats(dir);
    print_table1(dataset.c_str(), fs::path(dir).filename().string().c_str(), s);
    std::printf("           (dataset_stats %.2f s)\n", seconds_since(t0));
  }
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  int64_t train = 10000, val = 1000;
  int threads = 1;
  bool onnx = false, names = true, texts = false;
  uint64_t seed = 0;
  std::string out;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--train")
      train = std::stoll(next());
    else if (a == "--val")
      val = std::stoll(next());
    else if (a == "--threads")
      threads = std::stoi(next());
    else if (a == "--seed")
      seed = std::stoull(next());
    else if (a == "--out")
      out = next();
    else if (a == "--onnx")
      onnx = true;
    else if (a == "--no-names")
      names = false;
    else if (a == "--texts")
      texts = true;
    else {
      std::fprintf(stderr,
                   "usage: %s [--train N] [--val N] [--threads N] [--onnx] [--no-names] "
                   "[--seed S] [--texts] [--out DIR]\n",
                   argv[0]);
      return 1;
    }
  }
  const bool temporary = out.empty();
  if (temporary)
    out = (fs::temp_directory_path() / ("archbert-bench-autonet-" + std::to_string(::getpid())))
              .string();
  try {
    std::printf("AutoNet: %lld train + %lld val, %d thread(s), onnx %s, names %s\n",
                static_cast<long long>(train), static_cast<long long>(val), threads,
                onnx ? "yes" : "no", names ? "yes" : "no");
    double total = 0;
    for (auto [split, count] : {std::pair{archbert::DatasetSplit::kTrain, train},
                                std::pair{archbert::DatasetSplit::kVal, val}}) {
      archbert::AutoNetOptions o;
      o.split = split;
      o.count = count;
      o.seed = seed;
      o.onnx = onnx;
      o.names = names;
      o.threads = threads;
      o.out_dir = (fs::path(out) / std::string(archbert::split_name(split))).string();
      const archbert::AutoNetReport r = archbert::generate_autonet(o);
      total += r.seconds;
      const auto bytes = fs::file_size(fs::path(o.out_dir) / "graphs.bin");
      std::printf(
          "generate %-5s %6lld graphs in %7.2f s (%.2f ms/graph), graphs.bin %.1f MB "
          "(%.1f bytes/node)\n",
          std::string(archbert::split_name(split)).c_str(), static_cast<long long>(r.graphs),
          r.seconds, 1000 * r.seconds / std::max<int64_t>(r.graphs, 1), bytes / 1e6,
          static_cast<double>(bytes) / std::max<int64_t>(r.nodes, 1));
    }
    std::printf("generate total %.2f s\n", total);

    // Load the train store: best of 3 (first run includes the page cache warm-up).
    const std::string train_dir = (fs::path(out) / "train").string();
    double best = 1e30;
    std::vector<archbert::ArchGraph> graphs;
    for (int run = 0; run < 3; ++run) {
      const auto t0 = std::chrono::steady_clock::now();
      graphs = archbert::open_dataset_graphs(train_dir).load_all();
      best = std::min(best, seconds_since(t0));
    }
    std::printf("load %zu graphs from graphs.bin: %.3f s (best of 3)\n", graphs.size(), best);

    std::vector<double> nodes, edges, params;
    for (const archbert::ArchGraph& g : graphs) {
      nodes.push_back(static_cast<double>(g.nodes.size()));
      edges.push_back(static_cast<double>(g.edges.size()));
      params.push_back(static_cast<double>(g.params));
    }
    std::printf("train graphs:\n");
    describe("nodes", nodes);
    describe("edges", edges);
    describe("params", params);
    if (texts) run_text_datasets((fs::path(out) / "texts").string(), train, val, seed, threads);
  } catch (const archbert::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  if (temporary) {
    std::error_code ec;
    fs::remove_all(out, ec);
  }
  return 0;
}
