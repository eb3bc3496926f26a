// Search benchmark: embedding the whole zoo with a checkpoint (cold, no cache), reading the
// cached embeddings, and answering one query, through the public inference API.
//
//   archbert-bench-search [--ckpt CKPT] [--query TEXT] [--runs N]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "archbert/system.h"
#include "archbert/tasks.h"

int main(int argc, char** argv) {
  archbert::ensure_fast_blas(argc, argv);
  std::string ckpt, query = "a deep residual network with bottleneck blocks";
  int runs = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--ckpt"))
      ckpt = argv[i + 1];
    else if (!std::strcmp(argv[i], "--query"))
      query = argv[i + 1];
    else if (!std::strcmp(argv[i], "--runs"))
      runs = std::atoi(argv[i + 1]);
  }
  namespace fs = std::filesystem;
  using Clock = std::chrono::steady_clock;
  const fs::path cache =
      fs::temp_directory_path() / ("archbert-bench-search-" + std::to_string(::getpid()));
  fs::create_directories(cache);
  try {
    auto t0 = Clock::now();
    archbert::LoadedModel m = archbert::load_model(ckpt);
    std::printf("load checkpoint %s: %.2f s\n", m.path.c_str(),
                std::chrono::duration<double>(Clock::now() - t0).count());
    archbert::SearchOptions o;
    o.cache_dir = cache.string();
    for (int r = 0; r < runs; ++r) {
      t0 = Clock::now();
      archbert::SearchResult s = archbert::search(m, query, 5, {}, o);
      const double total = std::chrono::duration<double>(Clock::now() - t0).count();
      std::printf(
          "search %d: %lld zoo graphs, cache %s, embeddings %.3f s, total %.3f s, top %s (%.3f)\n",
          r, static_cast<long long>(s.candidates), archbert::cache_use_name(s.cache), s.seconds,
          total, s.results.empty() ? "-" : s.results[0].name.c_str(),
          s.results.empty() ? 0.0 : s.results[0].score);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "archbert-bench-search: %s\n", e.what());
    fs::remove_all(cache);
    return 2;
  }
  fs::remove_all(cache);
  return 0;
}
