// AutoNet benchmark: time to generate the AutoNet graphs (train + val) and to load them back
// from the graph store, with Table-1-style node/edge statistics.
//
//   archbert-bench-autonet [--train 10000] [--val 1000] [--threads 1] [--onnx] [--no-names]
//                          [--seed 0] [--out DIR]
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

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  int64_t train = 10000, val = 1000;
  int threads = 1;
  bool onnx = false, names = true;
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
    else {
      std::fprintf(stderr,
                   "usage: %s [--train N] [--val N] [--threads N] [--onnx] [--no-names] "
                   "[--seed S] [--out DIR]\n",
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
