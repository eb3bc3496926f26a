#pragma once
// Process-level set-up: full-speed BLAS, thread count, and the `doctor` self-check.

#include <string>
#include <vector>

namespace archbert {

// Makes sure this process does matrix products on fast kernels. Call first in main().
//
// OpenBLAS 0.3.21 misdetects AVX-512 CPUs as Prescott (≈5× slower sgemm) and reads
// OPENBLAS_CORETYPE only at load time, before main() runs. So when OpenBLAS is the loaded BLAS,
// the CPU has AVX-512 and OPENBLAS_CORETYPE is unset, this sets OPENBLAS_CORETYPE=SkylakeX and
// re-executes the program once (argv unchanged). A user's own OPENBLAS_CORETYPE always wins.
// The re-executed process also gets OMP_WAIT_POLICY=PASSIVE unless the variable is set.
// Returns normally in every other case (and when re-execution fails). It first calls
// keep_freed_memory().
void ensure_fast_blas(int argc, char** argv);

// Tells glibc's allocator to keep freed blocks of up to 1 GiB for reuse instead of returning
// them to the system (mmap / munmap per tensor), unless the user set MALLOC_MMAP_THRESHOLD_,
// MALLOC_TRIM_THRESHOLD_ or MALLOC_TOP_PAD_. The process keeps its peak memory.
void keep_freed_memory();

// Sets LibTorch's intra-op threads (and OpenMP's, which OpenBLAS uses). n <= 0: the value of
// OMP_NUM_THREADS when that is a positive number, else all cores.
void set_threads(int n);
int get_threads();

// What `archbert doctor` reports.
struct DoctorReport {
  std::string libtorch_version;
  std::string blas_library;           // resolved path of the BLAS library loaded into this process
  std::string blas_kind;              // "openblas", "reference", "mkl", "blis", "unknown"
  std::string blas_core;              // OpenBLAS's kernel family (openblas_get_corename), if known
  std::string openblas_coretype_env;  // OPENBLAS_CORETYPE as this process sees it
  bool reexecuted = false;            // ensure_fast_blas re-executed this process
  int threads = 0;
  std::string cpu_model;
  std::vector<std::string> cpu_features;  // of: sse4_2 avx avx2 fma avx512f avx512bw avx512vl ...
  double sgemm_gflops = 0;  // measured 2048³ float matmul, all threads, best of several runs
  std::vector<std::string> warnings;
};

DoctorReport run_doctor(bool measure = true);
std::string doctor_to_json(const DoctorReport& report, int indent = 2);
std::string doctor_to_text(const DoctorReport& report);

}  // namespace archbert
