// Graph JSON: lossless round trip, bad documents, big graphs, atomic writes.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include "archbert/error.h"
#include "archbert/graph_io.h"

namespace archbert {
namespace {

namespace fs = std::filesystem;

ArchGraph chain(int n_relu) {
  GraphBuilder b("chain");
  int prev = b.add(Op::kInput, "x");
  Node conv;
  conv.op = Op::kSepConv;
  conv.shape = Shape4{32, 1, 3, 3};
  conv.params = 320;
  conv.name = "features.0";
  conv.layer_class = "Conv2d";
  conv.source_op = "aten::_convolution";
  int c = b.add(conv);
  b.connect(prev, c);
  prev = c;
  Node pool;
  pool.op = Op::kMaxPool;
  pool.kernel = Kernel2{3, 3};
  int p = b.add(pool);
  b.connect(prev, p);
  prev = p;
  for (int i = 0; i < n_relu; ++i) {
    int r = b.add(Op::kRelu, "relu" + std::to_string(i));
    b.connect(prev, r);
    prev = r;
  }
  int out = b.add(Op::kOutput, "y");
  b.connect(prev, out);
  return b.finish("chain", "onnx", 320, true);
}

void expect_same(const ArchGraph& a, const ArchGraph& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.format, b.format);
  EXPECT_EQ(a.params, b.params);
  EXPECT_EQ(a.bn_folded, b.bn_folded);
  ASSERT_EQ(a.nodes.size(), b.nodes.size());
  for (size_t i = 0; i < a.nodes.size(); ++i) {
    EXPECT_EQ(a.nodes[i].op, b.nodes[i].op);
    EXPECT_EQ(a.nodes[i].shape, b.nodes[i].shape);
    EXPECT_EQ(a.nodes[i].kernel, b.nodes[i].kernel);
    EXPECT_EQ(a.nodes[i].params, b.nodes[i].params);
    EXPECT_EQ(a.nodes[i].name, b.nodes[i].name);
    EXPECT_EQ(a.nodes[i].layer_class, b.nodes[i].layer_class);
    EXPECT_EQ(a.nodes[i].source_op, b.nodes[i].source_op);
  }
  EXPECT_EQ(a.edges, b.edges);
  EXPECT_EQ(a.fingerprint(), b.fingerprint());
}

std::string expect_bad(const std::string& text, const std::string& needle) {
  try {
    graph_from_json(text, "bad.json");
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    std::string msg = e.what();
    EXPECT_EQ(msg.rfind("bad.json: ", 0), 0u) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "multi-line: " << msg;
    return msg;
  }
  ADD_FAILURE() << "accepted: " << text;
  return {};
}

TEST(GraphJson, RoundTripIsLossless) {
  ArchGraph g = chain(3);
  std::string text = graph_to_json(g);
  ArchGraph back = graph_from_json(text, "mem");
  expect_same(g, back);
  EXPECT_EQ(graph_to_json(back), text);  // byte-identical the second time
  EXPECT_EQ(graph_to_json(back, 2).find("\"schema_version\": 1") != std::string::npos, true);
}

TEST(GraphJson, TopLevelFieldsForScripts) {
  auto j = nlohmann::json::parse(graph_to_json(chain(1)));
  EXPECT_EQ(j["params"], 320);
  EXPECT_EQ(j["nodes"][0]["op"], "input");
  EXPECT_TRUE(j["nodes"][0]["shape"].is_null());
  EXPECT_EQ(j["nodes"][1]["shape"], nlohmann::json({32, 1, 3, 3}));
  EXPECT_EQ(j["edges"][0], nlohmann::json({0, 1}));
  auto s = nlohmann::json::parse(graph_stats_json(chain(1)));
  for (const char* key :
       {"name", "format", "nodes", "edges", "params", "ops", "inventory", "fingerprint"})
    EXPECT_TRUE(s.contains(key)) << key;
  EXPECT_EQ(s["ops"]["relu"], 1);
  EXPECT_EQ(s["inventory"]["Conv2d"], 1);
}

TEST(GraphJson, BadDocumentsGiveOneLineErrors) {
  expect_bad("", "invalid JSON");
  expect_bad("{\"nodes\": [", "invalid JSON");
  expect_bad("[1,2,3]", "not an archbert graph");
  expect_bad("{\"model_type\": \"bert\"}", "not an archbert graph");
  const std::string io = R"({"op":"input","shape":null},{"op":"relu"},{"op":"output"})";
  expect_bad(R"({"nodes":[)" + io + R"(],"edges":[[0,1],[1,2],[2,1]]})", "cycle");
  expect_bad(R"({"nodes":[)" + io + R"(],"edges":[[0,1],[1,7]]})", "outside");
  expect_bad(R"({"nodes":[)" + io + R"(],"edges":[[0,1],[1]]})", "edge");
  expect_bad(
      R"({"nodes":[{"op":"input"},{"op":"conv","shape":[3,3]},{"op":"output"}],"edges":[[0,1],[1,2]]})",
      "shape");
  expect_bad(
      R"({"nodes":[{"op":"input"},{"op":"conv","shape":[3,3,-1,1]},{"op":"output"}],"edges":[[0,1],[1,2]]})",
      "positive");
  expect_bad(
      R"({"nodes":[{"op":"input"},{"op":"warp_drive"},{"op":"output"}],"edges":[[0,1],[1,2]]})",
      "unknown op");
  expect_bad(R"({"schema_version":99,"nodes":[],"edges":[]})", "schema_version");
  expect_bad(R"({"nodes":[{"op":"relu"}],"edges":[]})", "no input");
}

TEST(GraphJson, MillionNodeGraphInBoundedMemory) {
  // A chain of 1,000,000 nodes (~40 MB of JSON) is read, canonicalised and fingerprinted.
  const int n = 1'000'000;
  std::string text;
  text.reserve(64u << 20);
  text += "{\"schema_version\":1,\"name\":\"huge\",\"nodes\":[{\"op\":\"input\",\"shape\":null}";
  for (int i = 1; i < n - 1; ++i) text += ",{\"op\":\"relu\",\"shape\":null}";
  text += ",{\"op\":\"output\",\"shape\":null}],\"edges\":[";
  for (int i = 0; i + 1 < n; ++i) {
    if (i) text += ',';
    text += "[" + std::to_string(i) + "," + std::to_string(i + 1) + "]";
  }
  text += "]}";
  ArchGraph g = graph_from_json(text, "huge.json");
  EXPECT_EQ(g.nodes.size(), static_cast<size_t>(n));
  EXPECT_EQ(g.stats().depth, n);
  EXPECT_EQ(g.fingerprint().size(), 16u);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  EXPECT_LT(ru.ru_maxrss, 2L * 1024 * 1024) << "peak RSS " << ru.ru_maxrss / 1024 << " MB";

  GraphLimits small;
  small.max_nodes = 1000;
  try {
    graph_from_json(text, "huge.json", small);
    FAIL() << "limit not enforced";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("limit"), std::string::npos);
  }
}

TEST(AtomicWrite, ReplacesWholeOrNothing) {
  fs::path dir = fs::temp_directory_path() / "archbert_atomic_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string path = (dir / "g.json").string();
  write_file_atomic(path, "first");
  write_file_atomic(path, "second");
  EXPECT_EQ(read_file(path), "second");
  // A folder that does not exist: error naming the file, nothing left behind.
  std::string bad = (dir / "missing" / "g.json").string();
  EXPECT_THROW(write_file_atomic(bad, "x"), Error);
  EXPECT_FALSE(fs::exists(bad));
  // gzip round trip and truncated gzip.
  std::string gz = (dir / "g.json.gz").string();
  std::string big(100000, 'a');
  write_file_atomic(gz, big);
  EXPECT_EQ(read_file(gz), big);
  std::string raw;
  {
    std::ifstream in(gz, std::ios::binary);
    raw.assign(std::istreambuf_iterator<char>(in), {});
  }
  {
    std::ofstream out(dir / "cut.json.gz", std::ios::binary);
    out.write(raw.data(), static_cast<std::streamsize>(raw.size() / 2));
  }
  EXPECT_THROW(read_file((dir / "cut.json.gz").string()), Error);
  int files = 0;
  for (auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 3);  // g.json, g.json.gz, cut.json.gz: no temporaries
  fs::remove_all(dir);
}

}  // namespace
}  // namespace archbert
