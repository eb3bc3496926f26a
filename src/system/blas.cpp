// Process set-up for speed: the allocator (keep_freed_memory), and detecting the loaded BLAS and
// re-executing with OPENBLAS_CORETYPE on AVX-512 CPUs.
#include <dlfcn.h>
#include <link.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "archbert/system.h"
#include "system/blas_probe.h"

namespace archbert {

namespace {

constexpr const char* kReexecMarker = "ARCHBERT_BLAS_REEXEC";

int find_blas(dl_phdr_info* info, size_t, void* data) {
  const char* name = info->dlpi_name;
  if (!name || !*name) return 0;
  std::string base = std::filesystem::path(name).filename().string();
  if (base.find("blas") != std::string::npos || base.find("mkl_rt") != std::string::npos) {
    *static_cast<std::string*>(data) = name;
    return 1;
  }
  return 0;
}

}  // namespace

std::string loaded_blas_path() {
  std::string path;
  dl_iterate_phdr(find_blas, &path);
  if (path.empty()) return path;
  std::error_code ec;
  auto real = std::filesystem::canonical(path, ec);
  return ec ? path : real.string();
}

std::string blas_kind_of(const std::string& path) {
  if (path.find("openblas") != std::string::npos) return "openblas";
  if (path.find("mkl") != std::string::npos) return "mkl";
  if (path.find("blis") != std::string::npos) return "blis";
  if (path.find("atlas") != std::string::npos) return "atlas";
  // Debian's netlib reference implementation lives in .../blas/libblas.so.3.
  if (path.find("/blas/libblas") != std::string::npos) return "reference";
  return "unknown";
}

bool cpu_has_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl");
}

bool was_reexecuted() {
  const char* m = std::getenv(kReexecMarker);
  return m && std::strcmp(m, "1") == 0;
}

void keep_freed_memory() {
  // A training step allocates and frees tensors of tens to hundreds of MB. glibc serves those
  // with mmap and returns them with munmap, so every step faults in and zeroes them again: on
  // the project's machine a third of the CPU time went to the kernel (60,000 page faults/s) and
  // a benchmark step took 7.4 s instead of 3.0 s (bench/README.md). Keep them in the heap and
  // reuse them instead. A user's MALLOC_* settings win.
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") || std::getenv("MALLOC_TRIM_THRESHOLD_") ||
      std::getenv("MALLOC_TOP_PAD_"))
    return;
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 << 20);
}

void ensure_fast_blas(int /*argc*/, char** argv) {
  keep_freed_memory();
  if (std::getenv("OPENBLAS_CORETYPE")) return;  // the user's choice (or our re-exec) wins
  if (was_reexecuted()) return;                  // never loop
  if (blas_kind_of(loaded_blas_path()) != "openblas" || !cpu_has_avx512()) return;
  setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
  // OpenMP worker threads that sleep instead of spinning: LibTorch's many small parallel regions
  // (bmm, layer norm) ran ~3x faster on a loaded machine (bench/README.md). libgomp also reads
  // this only at load time; set it while re-executing anyway, unless the user chose a policy.
  setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
  setenv(kReexecMarker, "1", 1);
  execv("/proc/self/exe", argv);
  // execv only returns on failure: carry on with the slower kernels rather than fail.
  unsetenv(kReexecMarker);
}

}  // namespace archbert
