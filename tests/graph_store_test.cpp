// Tests of the dataset storage (src/data/graph_store.cpp): the binary graph store round trip and
// its error cases, manifests, and the JSONL sample records.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>

#include "archbert/autonet.h"
#include "archbert/dataset.h"
#include "archbert/error.h"
#include "archbert/graph_io.h"

#include "test_support.h"

namespace archbert {
namespace {

namespace fs = std::filesystem;

using testing_support::bad_input_message;
using testing_support::TempDir;

// A hand-made graph using every field: classes, source ops, a kernel unlike its shape, large
// numbers, unicode names, bn_folded.
ArchGraph odd_graph() {
  GraphBuilder b("odd");
  Node in;
  in.op = Op::kInput;
  in.name = "pixel_values";
  in.source_op = "input";
  const int i = b.add(in);
  Node conv;
  conv.op = Op::kConv;
  conv.shape = Shape4{4096, 2048, 3, 3};
  conv.kernel = Kernel2{3, 3};
  conv.params = 4096LL * 2048 * 9 + 4096;
  conv.name = "encoder.layer.0.conv";
  conv.layer_class = "MyConv";
  conv.source_op = "aten::_convolution";
  const int c = b.add(conv);
  Node pool;
  pool.op = Op::kMaxPool;
  pool.kernel = Kernel2{2, 5};
  pool.name = "pool – ünïcode";
  const int p = b.add(pool);
  Node other;
  other.op = Op::kOther;
  other.name = "custom";
  other.source_op = "com.acme::Thing";
  const int o = b.add(other);
  Node emb;
  emb.op = Op::kEmbedding;
  emb.shape = Shape4{250002, 1024, 1, 1};
  emb.params = 250002LL * 1024;
  const int e = b.add(emb);
  const int out = b.add(Op::kOutput, "logits");
  b.connect(i, c);
  b.connect(c, p);
  b.connect(p, o);
  b.connect(i, o);
  b.connect(e, o);
  b.connect(o, out);
  return b.finish("odd graph", "torchscript", 4096LL * 2048 * 9 + 4096 + 250002LL * 1024, true);
}

std::vector<ArchGraph> sample_graphs(int n) {
  std::vector<ArchGraph> gs;
  const AutoNetSampler sampler(5, DatasetSplit::kTrain);
  for (int i = 0; i < n; ++i) gs.push_back(sampler.sample(i).graph);
  gs.push_back(odd_graph());
  return gs;
}

void expect_has(const std::string& text, const std::string& part) {
  EXPECT_NE(text.find(part), std::string::npos) << "'" << text << "' lacks '" << part << "'";
}

TEST(GraphStore, RoundTripIsLossless) {
  TempDir dir;
  const std::vector<ArchGraph> graphs = sample_graphs(30);
  write_graph_store(dir / "graphs.bin", graphs);
  const GraphStore store = GraphStore::open(dir / "graphs.bin");
  ASSERT_EQ(store.size(), static_cast<int64_t>(graphs.size()));
  EXPECT_TRUE(store.has_names());
  for (size_t i = 0; i < graphs.size(); ++i)
    EXPECT_EQ(graph_to_json(store.get(static_cast<int64_t>(i))), graph_to_json(graphs[i])) << i;
  const std::vector<ArchGraph> all = read_graph_store(dir / "graphs.bin");
  ASSERT_EQ(all.size(), graphs.size());
  EXPECT_EQ(graph_to_json(all.back()), graph_to_json(graphs.back()));
  // Same graphs, same bytes.
  GraphStoreWriter w;
  for (const ArchGraph& g : graphs) w.add(g);
  EXPECT_EQ(w.finish(), read_file(dir / "graphs.bin"));
  // Compact: a few bytes per node.
  int64_t nodes = 0;
  for (const ArchGraph& g : graphs) nodes += static_cast<int64_t>(g.nodes.size());
  EXPECT_LT(static_cast<double>(fs::file_size(dir / "graphs.bin")) / nodes, 24.0);
}

TEST(GraphStore, WithoutNamesKeepsEverythingElse) {
  const std::vector<ArchGraph> graphs = sample_graphs(5);
  GraphStoreWriter w(GraphStoreOptions{false});
  for (const ArchGraph& g : graphs) w.add(g);
  const std::string with_names = [&] {
    GraphStoreWriter wn;
    for (const ArchGraph& g : graphs) wn.add(g);
    return wn.finish();
  }();
  const std::string bytes = w.finish();
  EXPECT_LT(bytes.size() * 2, with_names.size());
  int64_t nodes = 0;
  for (const ArchGraph& g : graphs) nodes += static_cast<int64_t>(g.nodes.size());
  EXPECT_LT(static_cast<double>(bytes.size()) / nodes, 12.0);
  const GraphStore store = GraphStore::from_bytes(bytes, "mem");
  EXPECT_FALSE(store.has_names());
  for (size_t i = 0; i < graphs.size(); ++i) {
    ArchGraph want = graphs[i];
    for (Node& n : want.nodes) {
      n.name.clear();
      n.source_op.clear();
    }
    EXPECT_EQ(graph_to_json(store.get(static_cast<int64_t>(i))), graph_to_json(want));
  }
}

TEST(GraphStore, EmptyStore) {
  const GraphStore store = GraphStore::from_bytes(GraphStoreWriter().finish(), "mem");
  EXPECT_EQ(store.size(), 0);
  EXPECT_TRUE(store.load_all().empty());
}

TEST(GraphStore, CorruptionIsAClearErrorNamingTheFile) {
  TempDir dir;
  const std::string good = [] {
    GraphStoreWriter w;
    for (const ArchGraph& g : sample_graphs(3)) w.add(g);
    return w.finish();
  }();
  const std::string path = dir / "graphs.bin";
  auto open_bytes = [&](const std::string& bytes) {
    write_file_atomic(path, bytes);
    return bad_input_message([&] { GraphStore::open(path); });
  };

  std::string e = open_bytes(good.substr(0, good.size() - 100));
  expect_has(e, path + ": ");
  expect_has(e, "truncated");
  e = open_bytes(good.substr(0, 20));
  expect_has(e, "truncated");
  e = open_bytes(good.substr(0, 5));
  expect_has(e, "truncated");
  e = open_bytes("");
  expect_has(e, "not an archbert graph store");
  e = open_bytes("{\"json\": true}" + std::string(100, ' '));
  expect_has(e, "not an archbert graph store");

  std::string bad = good;
  bad[8] = 2;  // version
  e = open_bytes(bad);
  expect_has(e, "version 2");
  expect_has(e, "reads version 1");

  bad = good;
  bad[good.size() / 2] ^= 0x20;
  e = open_bytes(bad);
  expect_has(e, "checksum mismatch");

  e = open_bytes(good + "xx");
  expect_has(e, "trailing");

  const GraphStore store = GraphStore::from_bytes(good, "mem");
  ASSERT_EQ(store.size(), 4);
  e = bad_input_message([&] { store.get(4); });
  expect_has(e, "mem: graph index 4 out of range");
  e = bad_input_message([&] { GraphStore::open(dir / "missing.bin"); });
  expect_has(e, "missing.bin");
}

TEST(DatasetManifest, RoundTripAndErrors) {
  TempDir dir;
  DatasetManifest m;
  m.generator = "autonet";
  m.generator_version = 1;
  m.seed = 18446744073709551615ull;
  m.split = "val";
  m.counts["graphs"] = 3;
  m.files["graphs"] = "graphs.bin";
  m.info["max_params"] = "10000000";
  write_manifest(dir.str(), m);
  const DatasetManifest r = read_manifest(dir.str());
  EXPECT_EQ(manifest_to_json(r), manifest_to_json(m));
  EXPECT_EQ(r.seed, m.seed);

  // Count mismatch between manifest and store.
  write_graph_store(dir / "graphs.bin", sample_graphs(1));  // 2 graphs
  std::string e = bad_input_message([&] { open_dataset_graphs(dir.str()); });
  expect_has(e, "graphs.bin: holds 2 graphs but the manifest says 3");
  m.counts["graphs"] = 2;
  write_manifest(dir.str(), m);
  EXPECT_EQ(open_dataset_graphs(dir.str()).size(), 2);

  write_file_atomic(
      dir / "manifest.json",
      "{\"format\": \"archbert-dataset\", \"format_version\": 9, \"generator\": \"x\"}");
  e = bad_input_message([&] { read_manifest(dir.str()); });
  expect_has(e, "manifest.json: dataset format version 9");
  write_file_atomic(dir / "manifest.json", "[1, 2");
  e = bad_input_message([&] { read_manifest(dir.str()); });
  expect_has(e, "manifest.json: not a JSON object");
  write_file_atomic(dir / "manifest.json", "{\"format\": \"something-else\"}");
  e = bad_input_message([&] { read_manifest(dir.str()); });
  expect_has(e, "not an archbert dataset manifest");

  TempDir empty;
  e = bad_input_message([&] { read_manifest(empty.str()); });
  expect_has(e, "manifest.json: missing");
  e = bad_input_message([&] { read_manifest(empty / "nope"); });
  expect_has(e, "no such dataset directory");
  e = bad_input_message([&] { read_manifest(dir / "graphs.bin"); });
  expect_has(e, "is not a dataset directory");
}

TEST(DatasetSamples, JsonlRoundTrip) {
  TempDir dir;
  const std::vector<ArSample> ar = {{3, "It has 12 \"Conv2d\" layers.\nSecond line", 1, {"count"}},
                                    {4, "Ünïcode – text", 0, {"params", "kernel"}}};
  const std::vector<QaSample> qa = {{0, "Which pooling layers are used?", "used", {"MaxPool2d"}},
                                    {1, "Which are not?", "unused", {}}};
  const std::vector<AcdPair> acd = {{0, 1, 1}, {2, 7, 0}};
  const std::vector<BacdQuartet> bacd = {{0, 1, "Both are residual networks.", 1}};
  write_jsonl(dir / "ar.jsonl", samples_to_jsonl(ar));
  write_jsonl(dir / "qa.jsonl", samples_to_jsonl(qa));
  write_jsonl(dir / "acd.jsonl", samples_to_jsonl(acd));
  write_jsonl(dir / "bacd.jsonl", samples_to_jsonl(bacd));
  const auto ar2 = read_ar_samples(dir / "ar.jsonl");
  ASSERT_EQ(ar2.size(), 2u);
  EXPECT_EQ(ar2[0].text, ar[0].text);
  EXPECT_EQ(ar2[1].facts, ar[1].facts);
  EXPECT_EQ(ar2[1].label, 0);
  const auto qa2 = read_qa_samples(dir / "qa.jsonl");
  ASSERT_EQ(qa2.size(), 2u);
  EXPECT_EQ(qa2[0].answers, qa[0].answers);
  EXPECT_EQ(qa2[1].kind, "unused");
  const auto acd2 = read_acd_pairs(dir / "acd.jsonl");
  ASSERT_EQ(acd2.size(), 2u);
  EXPECT_EQ(acd2[1].b, 7);
  const auto bacd2 = read_bacd_quartets(dir / "bacd.jsonl");
  ASSERT_EQ(bacd2.size(), 1u);
  EXPECT_EQ(bacd2[0].text, bacd[0].text);
  // One object per line.
  const std::string text = read_file(dir / "ar.jsonl");
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);

  write_file_atomic(dir / "bad.jsonl", to_jsonl(ar[0]) + "{\"graph\": 1, \"text\": 5}\n");
  std::string e = bad_input_message([&] { read_ar_samples(dir / "bad.jsonl"); });
  expect_has(e, "bad.jsonl:2: ");
  write_file_atomic(dir / "bad.jsonl", "not json\n");
  e = bad_input_message([&] { read_acd_pairs(dir / "bad.jsonl"); });
  expect_has(e, "bad.jsonl:1: not a JSON object");
  write_file_atomic(dir / "bad.jsonl", "{\"a\": 1, \"b\": 2, \"label\": 3}\n");
  e = bad_input_message([&] { read_acd_pairs(dir / "bad.jsonl"); });
  expect_has(e, "label must be 0 or 1");
}

}  // namespace
}  // namespace archbert
