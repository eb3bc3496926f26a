// `archbert doctor`: what this machine gives archbert, with a measured sgemm rate.
#include <dlfcn.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "archbert/system.h"
#include "system/blas_probe.h"

namespace archbert {
namespace {

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      auto p = line.find(':');
      return p == std::string::npos ? line : line.substr(p + 2);
    }
  return "unknown";
}

std::vector<std::string> cpu_features() {
  __builtin_cpu_init();
  std::vector<std::string> out;
#define FEATURE(f) \
  if (__builtin_cpu_supports(f)) out.push_back(f);
  FEATURE("sse4.2")
  FEATURE("avx")
  FEATURE("avx2")
  FEATURE("fma")
  FEATURE("avx512f")
  FEATURE("avx512bw")
  FEATURE("avx512vl")
  FEATURE("avx512vnni")
#undef FEATURE
  return out;
}

// OpenBLAS reports its kernel family through openblas_get_corename().
std::string openblas_core() {
  using Fn = char* (*)();
  auto fn = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  return fn ? std::string(fn()) : std::string();
}

// Best of several timed 2048³ float matrix products, in GFLOP/s.
double measure_sgemm() {
  torch::NoGradGuard no_grad;
  const int64_t n = 2048;
  torch::manual_seed(0);
  auto a = torch::randn({n, n});
  auto b = torch::randn({n, n});
  auto c = torch::mm(a, b);  // warm-up: thread pool and page faults
  double best = 1e30;
  for (int i = 0; i < 5; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    c = torch::mm(a, b);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::min(best, s);
  }
  return 2.0 * n * n * n / best / 1e9;
}

}  // namespace

void set_threads(int n) {
  if (n <= 0) {
    // OMP_NUM_THREADS, when it is a positive number, is the user's default (as in PyTorch);
    // torch::set_num_threads below would otherwise override it.
    const char* env = std::getenv("OMP_NUM_THREADS");
    char* end = nullptr;
    long v = env ? std::strtol(env, &end, 10) : 0;
    if (env && end != env && *end == '\0' && v > 0 && v <= 1024) n = static_cast<int>(v);
  }
  if (n <= 0) n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(n);
}

int get_threads() { return torch::get_num_threads(); }

DoctorReport run_doctor(bool measure) {
  DoctorReport r;
  r.libtorch_version = TORCH_VERSION;
  r.blas_library = loaded_blas_path();
  r.blas_kind = blas_kind_of(r.blas_library);
  r.blas_core = openblas_core();
  const char* ct = std::getenv("OPENBLAS_CORETYPE");
  r.openblas_coretype_env = ct ? ct : "";
  r.reexecuted = was_reexecuted();
  r.threads = get_threads();
  r.cpu_model = cpu_model_name();
  r.cpu_features = cpu_features();
  if (measure) r.sgemm_gflops = measure_sgemm();
  if (r.blas_kind == "reference")
    r.warnings.push_back(
        "the reference BLAS is loaded: matrix products run ~16x slower; install "
        "libopenblas0-openmp (scripts/install-deps.sh does)");
  if (r.blas_kind == "unknown" && r.blas_library.empty())
    r.warnings.push_back("no BLAS library found in this process");
  std::string core = r.blas_core;
  std::transform(core.begin(), core.end(), core.begin(), ::tolower);
  if (r.blas_kind == "openblas" && cpu_has_avx512() && core == "prescott")
    r.warnings.push_back(
        "OpenBLAS runs its generic Prescott kernels on this AVX-512 CPU; unset "
        "OPENBLAS_CORETYPE or set it to SkylakeX");
  return r;
}

std::string doctor_to_json(const DoctorReport& r, int indent) {
  nlohmann::json j;
  j["libtorch_version"] = r.libtorch_version;
  j["blas_library"] = r.blas_library;
  j["blas_kind"] = r.blas_kind;
  j["blas_core"] = r.blas_core;
  j["openblas_coretype_env"] = r.openblas_coretype_env;
  j["reexecuted"] = r.reexecuted;
  j["threads"] = r.threads;
  j["cpu_model"] = r.cpu_model;
  j["cpu_features"] = r.cpu_features;
  j["sgemm_gflops"] = std::round(r.sgemm_gflops * 10) / 10;
  j["warnings"] = r.warnings;
  return j.dump(indent) + "\n";
}

std::string doctor_to_text(const DoctorReport& r) {
  std::ostringstream o;
  o << "LibTorch      " << r.libtorch_version << "\n"
    << "BLAS          " << (r.blas_library.empty() ? "(none)" : r.blas_library) << " ["
    << r.blas_kind << (r.blas_core.empty() ? "" : ", kernels " + r.blas_core) << "]\n"
    << "OPENBLAS_CORETYPE "
    << (r.openblas_coretype_env.empty() ? "(unset)" : r.openblas_coretype_env)
    << (r.reexecuted ? " (set by archbert)" : "") << "\n"
    << "threads       " << r.threads << "\n"
    << "CPU           " << r.cpu_model << "\n"
    << "CPU features ";
  for (auto& f : r.cpu_features) o << " " << f;
  o << "\n";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.1f", r.sgemm_gflops);
  o << "sgemm 2048^3  " << buf << " GFLOP/s\n";
  for (auto& w : r.warnings) o << "warning: " << w << "\n";
  return o.str();
}

}  // namespace archbert
