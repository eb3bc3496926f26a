// The archbert command as a user meets it: exit codes, one-line errors naming the input, no
// crash and no partial output on bad input.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "test_support.h"

namespace {

namespace fs = std::filesystem;

using archbert::testing_support::CliRun;
using archbert::testing_support::slurp;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("archbert_cli_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs `archbert ARGS` with an optional environment prefix (e.g. "env -u X").
  CliRun run(const std::string& args, const std::string& env = "") {
    return archbert::testing_support::run_cli(args, dir_, env);
  }

  fs::path write(const std::string& name, const std::string& content) {
    fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

  // A bad input: exit 2, one line on stderr that names `needle_input` and contains `problem`.
  void expect_bad_input(const std::string& args, const std::string& needle_input,
                        const std::string& problem) {
    CliRun r = run(args);
    EXPECT_FALSE(r.signalled) << args;
    EXPECT_EQ(r.code, 2) << args << "\n" << r.err;
    EXPECT_NE(r.err.find(needle_input), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(problem), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }

  fs::path dir_;
};

TEST_F(CliTest, UsageErrorsExitOne) {
  EXPECT_EQ(run("").code, 1);
  EXPECT_EQ(run("graph").code, 1);
  EXPECT_EQ(run("graph x.onnx --no-such-flag").code, 1);
  EXPECT_EQ(run("--threads -3 doctor").code, 1);
  // The head's depth means nothing without the head: refused before any data is read.
  CliRun layers = run("train pretrain --data d --out o.ckpt --ar-head-layers 2");
  EXPECT_EQ(layers.code, 1);
  EXPECT_NE(layers.err.find("--ar-head-weight"), std::string::npos) << layers.err;
  CliRun help = run("--help");
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("Exit codes"), std::string::npos);
}

TEST_F(CliTest, MissingEmptyAndWrongFormatFiles) {
  expect_bad_input("graph " + (dir_ / "nope.onnx").string(), "nope.onnx", "no such file");
  expect_bad_input("graph " + write("empty.onnx", "").string(), "empty.onnx", "empty");
  std::mt19937 rng(7);
  std::string noise(4096, '\0');
  for (auto& c : noise) c = static_cast<char>(rng());
  expect_bad_input("graph " + write("noise.onnx", noise).string(), "noise.onnx", "ONNX");
  expect_bad_input("graph " + write("notes.txt", "hello world\n").string(), "notes.txt",
                   "unrecognised file format");
  expect_bad_input("graph " + write("weights.pth", std::string("\x80\x02}q\x00", 5)).string(),
                   "weights.pth", "pickle checkpoint");
  expect_bad_input("graph " + dir_.string(), dir_.string(), "not a Hugging Face model");
}

TEST_F(CliTest, CorruptGraphJson) {
  const std::string io = R"({"op":"input"},{"op":"relu"},{"op":"output"})";
  expect_bad_input(
      "graph " +
          write("cyc.json", R"({"nodes":[)" + io + R"(],"edges":[[0,1],[1,2],[2,1]]})").string(),
      "cyc.json", "cycle");
  expect_bad_input(
      "graph " +
          write("dangle.json", R"({"nodes":[)" + io + R"(],"edges":[[0,1],[1,9]]})").string(),
      "dangle.json", "outside");
  expect_bad_input("graph " + write("cut.json", R"({"nodes":[{"op":"input"},)").string(),
                   "cut.json", "invalid JSON");
}

TEST_F(CliTest, NodeLimitIsConfigurable) {
  std::string text = R"({"nodes":[{"op":"input"})";
  for (int i = 0; i < 50; ++i) text += R"(,{"op":"relu"})";
  text += R"(,{"op":"output"}],"edges":[)";
  for (int i = 0; i < 51; ++i)
    text +=
        (i ? "," : "") + std::string("[") + std::to_string(i) + "," + std::to_string(i + 1) + "]";
  text += "]}";
  fs::path p = write("chain.json", text);
  EXPECT_EQ(run("graph " + p.string()).code, 0);
  expect_bad_input("--max-nodes 10 graph " + p.string(), "chain.json", "limit");
}

TEST_F(CliTest, NoPartialOutputOnFailure) {
  fs::path bad = write("bad.json", "{\"nodes\": [");
  fs::path out = dir_ / "out.json";
  fs::path svg = dir_ / "out.svg";
  EXPECT_EQ(run("graph " + bad.string() + " --json -o " + out.string()).code, 2);
  EXPECT_EQ(run("graph " + bad.string() + " --svg " + svg.string()).code, 2);
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(svg));
  // Unwritable destination: error, exit 2, nothing left.
  const std::string io = R"({"op":"input"},{"op":"relu"},{"op":"output"})";
  fs::path good = write("good.json", R"({"nodes":[)" + io + R"(],"edges":[[0,1],[1,2]]})");
  CliRun r =
      run("graph " + good.string() + " --json -o " + (dir_ / "no" / "such" / "dir.json").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_FALSE(fs::exists(dir_ / "no"));
}

TEST_F(CliTest, GraphJsonStatsDotAndSvg) {
  const std::string io =
      R"({"op":"input"},{"op":"conv","shape":[8,3,3,3],"params":224},{"op":"relu"},{"op":"output"})";
  fs::path g = write("g.json", R"({"name":"tiny","params":224,"nodes":[)" + io +
                                   R"(],"edges":[[0,1],[1,2],[2,3]]})");
  CliRun j = run("graph " + g.string() + " --json");
  ASSERT_EQ(j.code, 0) << j.err;
  auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["params"], 224);
  EXPECT_EQ(doc["nodes"].size(), 4u);
  CliRun s = run("graph " + g.string() + " --stats --json");
  ASSERT_EQ(s.code, 0);
  auto st = nlohmann::json::parse(s.out);
  EXPECT_EQ(st["ops"]["conv"], 1);
  EXPECT_EQ(st["inventory"]["Conv2d"], 1);
  CliRun d = run("graph " + g.string() + " --dot");
  EXPECT_NE(d.out.find("digraph"), std::string::npos);
  fs::path svg = dir_ / "g.svg";
  ASSERT_EQ(run("graph " + g.string() + " --svg " + svg.string()).code, 0);
  std::string text = slurp(svg);
  EXPECT_NE(text.find("<svg"), std::string::npos);
  EXPECT_NE(text.find("conv"), std::string::npos);
  EXPECT_NE(text.find("8x3x3x3"), std::string::npos);
  // The JSON written by --json reads back to the same graph.
  fs::path back = write("back.json", j.out);
  CliRun j2 = run("graph " + back.string() + " --json");
  EXPECT_EQ(nlohmann::json::parse(j2.out)["fingerprint"], doc["fingerprint"]);
}

TEST_F(CliTest, UnknownZooNameSuggestsNearOnes) {
  CliRun r = run("graph tv:resnet19");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("tv:resnet19"), std::string::npos);
  EXPECT_NE(r.err.find("unknown zoo model"), std::string::npos);
}

TEST_F(CliTest, DoctorReportsBlasAndRespectsUserCoretype) {
  CliRun mine = run("doctor --json", "env OPENBLAS_CORETYPE=Haswell");
  ASSERT_EQ(mine.code, 0) << mine.err;
  auto j = nlohmann::json::parse(mine.out);
  EXPECT_GT(j["sgemm_gflops"].get<double>(), 0.0);
  EXPECT_EQ(j["openblas_coretype_env"], "Haswell");  // a user's own setting wins
  EXPECT_EQ(j["reexecuted"], false);
  EXPECT_FALSE(j["blas_library"].get<std::string>().empty());
  EXPECT_NE(j["blas_kind"], "reference");

  CliRun unset = run("doctor --json", "env -u OPENBLAS_CORETYPE");
  ASSERT_EQ(unset.code, 0) << unset.err;
  auto u = nlohmann::json::parse(unset.out);
  bool avx512 = false;
  for (auto& f : u["cpu_features"]) avx512 |= f == "avx512f";
  if (u["blas_kind"] == "openblas" && avx512) {
    EXPECT_EQ(u["reexecuted"], true);
    EXPECT_EQ(u["openblas_coretype_env"], "SkylakeX");
  } else {
    EXPECT_EQ(u["reexecuted"], false);
  }
}

TEST_F(CliTest, ThreadsDefaultToOmpNumThreadsAndTheFlagWins) {
  auto threads = [&](const std::string& args, const std::string& env) {
    CliRun r = run(args, env);
    EXPECT_EQ(r.code, 0) << r.err;
    return r.code == 0 ? nlohmann::json::parse(r.out)["threads"].get<int>() : -1;
  };
  EXPECT_EQ(threads("doctor --json", "env OMP_NUM_THREADS=1"), 1);
  EXPECT_EQ(threads("--threads 2 doctor --json", "env OMP_NUM_THREADS=1"), 2);
  // Not a positive number: ignored, all cores.
  int all = threads("doctor --json", "env -u OMP_NUM_THREADS");
  EXPECT_GE(all, 1);
  EXPECT_EQ(threads("doctor --json", "env OMP_NUM_THREADS=zero"), all);
  EXPECT_EQ(threads("doctor --json", "env OMP_NUM_THREADS=0"), all);
}

}  // namespace
