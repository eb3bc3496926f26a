#pragma once
// Helpers shared by the test programs: temporary folders, the models exported by the
// `export_test_models` ctest fixture and their ground truth, JSON files, parameter sums and
// expected-error checks. Header-only; every test program defines ARCHBERT_TEST_MODELS.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <system_error>

#include "archbert/dataset.h"
#include "archbert/error.h"
#include "archbert/graph.h"

namespace archbert::testing_support {

namespace fs = std::filesystem;

// A fresh temporary folder, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("archbert-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // The path of `f` inside the folder.
  std::string operator/(const std::string& f) const { return (path_ / f).string(); }
  std::string file(const std::string& f) const { return *this / f; }
  std::string str() const { return path_.string(); }
  const fs::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

// The manifest of a hand-made Zoo directory: `graphs` graphs and the given files (key -> name).
inline void write_zoo_manifest(const std::string& dir, int64_t graphs,
                               std::map<std::string, std::string> files) {
  DatasetManifest m;
  m.generator = "zoo";
  m.generator_version = 1;
  m.counts["graphs"] = graphs;
  m.files = std::move(files);
  write_manifest(dir, m);
}

// A file's whole content ("" when it cannot be read).
inline std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// `s` single-quoted for the shell.
inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// What one run of the archbert command gave.
struct CliRun {
  int code = -1;
  bool signalled = false;
  std::string out, err;
};

// Runs `ENV archbert ARGS` through the shell (ENV: e.g. "X=1" or "env -u X"; ARGS already
// quoted as needed); stdout and stderr are captured in files under `dir`.
inline CliRun run_cli(const std::string& args, const fs::path& dir, const std::string& env = "") {
  const fs::path out = dir / "cli.stdout", err = dir / "cli.stderr";
  const std::string cmd = env + (env.empty() ? "" : " ") + shell_quote(ARCHBERT_CLI) + " " + args +
                          " >" + shell_quote(out.string()) + " 2>" + shell_quote(err.string());
  const int status = std::system(cmd.c_str());
  CliRun r;
  r.signalled = WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) >= 128);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

// A model exported by the `export_test_models` ctest fixture.
inline std::string model_path(const std::string& file) {
  const std::string p = std::string(ARCHBERT_TEST_MODELS) + "/" + file;
  EXPECT_TRUE(fs::exists(p)) << p << " is missing: run ctest (fixture export_test_models) or "
                             << "/usr/bin/python3 tools/export_test_models.py "
                             << ARCHBERT_TEST_MODELS;
  return p;
}

inline nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  return nlohmann::json::parse(in);
}

// sum(p.numel() for p in model.parameters()) as written by the export scripts.
inline int64_t ground_truth(const std::string& model) {
  return read_json(model_path("ground_truth.json")).at(model).get<int64_t>();
}

// The sum of the per-node parameter counts (equals g.params for a complete import).
inline int64_t node_param_sum(const ArchGraph& g) {
  int64_t s = 0;
  for (const Node& n : g.nodes) s += n.params;
  return s;
}

// Runs `body` expecting Error(kBadInput); returns its message.
template <typename F>
std::string bad_input_message(F body) {
  try {
    body();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput) << e.what();
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not an archbert::Error: " << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return {};
}

}  // namespace archbert::testing_support
