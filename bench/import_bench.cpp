// Import-time benchmark: median of N warm runs of load_graph per model file.
//
//   archbert-bench-import [--runs 10] [--json] FILE_OR_ZOO_NAME...
//
// Prints one line per input: median and min milliseconds, canonical node count and parameters.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "archbert/error.h"
#include "archbert/importer.h"
#include "archbert/system.h"

int main(int argc, char** argv) {
  archbert::ensure_fast_blas(argc, argv);
  int runs = 10;
  bool json = false;
  std::vector<std::string> inputs;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--runs") && i + 1 < argc)
      runs = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--json"))
      json = true;
    else
      inputs.push_back(argv[i]);
  }
  if (inputs.empty()) {
    std::fprintf(stderr, "usage: %s [--runs N] [--json] FILE_OR_ZOO_NAME...\n", argv[0]);
    return 1;
  }
  archbert::set_threads(1);
  nlohmann::json out = nlohmann::json::array();
  int rc = 0;
  for (const std::string& in : inputs) {
    try {
      archbert::ArchGraph g = archbert::load_graph(in);  // warm-up: page cache, lazy init
      std::vector<double> ms;
      for (int r = 0; r < runs; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        g = archbert::load_graph(in);
        ms.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
      }
      std::sort(ms.begin(), ms.end());
      double median =
          ms.size() % 2 ? ms[ms.size() / 2] : 0.5 * (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]);
      if (json)
        out.push_back({{"input", in},
                       {"format", g.format},
                       {"median_ms", median},
                       {"min_ms", ms.front()},
                       {"nodes", g.nodes.size()},
                       {"params", g.params},
                       {"runs", runs}});
      else
        std::printf("%-60s %-12s median %9.2f ms  min %9.2f ms  %6zu nodes  %12lld params\n",
                    in.c_str(), g.format.c_str(), median, ms.front(), g.nodes.size(),
                    static_cast<long long>(g.params));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s\n", e.what());
      rc = 2;
    }
  }
  if (json) std::printf("%s\n", out.dump(2).c_str());
  return rc;
}
