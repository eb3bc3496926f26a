// Hugging Face importer: shipped configs against published parameter counts, graph layout,
// safetensors headers, the generic fallback and bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "archbert/error.h"
#include "archbert/importer.h"

#include "test_support.h"

namespace archbert {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing_support::node_param_sum;
using testing_support::TempDir;

const std::string kZoo = std::string(ARCHBERT_SOURCE_DIR) + "/data/zoo/hf";
const std::string kData = std::string(ARCHBERT_TEST_DATA) + "/hf";

void write_text(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

json read_json(const fs::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

// Writes a safetensors file: 8-byte little-endian header length, the header, then a data
// section of `data_bytes` zero bytes (sparse: only the size is set).
void write_safetensors(const fs::path& p, const std::string& header, uint64_t data_bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xff));
  out << header;
  out.close();
  fs::resize_file(p, 8 + n + data_bytes);
}

// Header JSON for float32 tensors laid out one after another; returns the data size.
std::string header_for(const std::vector<std::pair<std::string, std::vector<int64_t>>>& tensors,
                       uint64_t* data_bytes) {
  json h = json::object();
  uint64_t off = 0;
  for (const auto& [name, shape] : tensors) {
    uint64_t n = 4;
    for (int64_t d : shape) n *= static_cast<uint64_t>(d);
    h[name] = {{"dtype", "F32"}, {"shape", shape}, {"data_offsets", {off, off + n}}};
    off += n;
  }
  h["__metadata__"] = {{"format", "pt"}};
  *data_bytes = off;
  return h.dump();
}

ArchGraph import_hf(const std::string& path, const ImportOptions& options = {}) {
  return make_huggingface_importer()->import(path, options);
}

// A zoo config with architectures[0] replaced, written to `dir`; returns its path.
std::string with_architecture(const TempDir& dir, const std::string& zoo_name,
                              const std::string& arch) {
  json j = read_json(kZoo + "/" + zoo_name + ".json");
  j["architectures"] = {arch};
  fs::path p = dir.path() / (zoo_name + "-" + arch + ".json");
  write_text(p, j.dump());
  return p.string();
}

const Node* find_node(const ArchGraph& g, const std::string& name) {
  for (const Node& n : g.nodes)
    if (n.name == name) return &n;
  return nullptr;
}

// Expects `fn` to throw a bad-input Error whose message contains every part.
template <typename Fn>
void expect_bad_input(Fn fn, std::initializer_list<std::string> parts) {
  try {
    fn();
    ADD_FAILURE() << "no error thrown";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput) << e.what();
    for (const std::string& p : parts)
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos)
          << "'" << e.what() << "' lacks '" << p << "'";
  }
}

// --- shipped configs -------------------------------------------------------------------------

TEST(HuggingfaceZoo, EveryShippedConfigBuildsValidatesAndMatchesTheIndex) {
  json index = read_json(kZoo + "/index.json");
  ASSERT_TRUE(index.is_array());
  std::set<std::string> indexed;
  for (const json& e : index) {
    std::string file = e["name"].get<std::string>();
    for (size_t p; (p = file.find('/')) != std::string::npos;) file.replace(p, 1, "--");
    indexed.insert(file);
    SCOPED_TRACE(file);
    ArchGraph g = import_hf(kZoo + "/" + file + ".json");
    EXPECT_NO_THROW(g.validate());
    EXPECT_EQ(g.format, "huggingface");
    EXPECT_EQ(g.name, file);
    EXPECT_EQ(g.params, e["params"].get<int64_t>());
    // Node params add up to the model's: nothing pruned, shared weights counted once.
    EXPECT_EQ(node_param_sum(g), g.params);
    EXPECT_EQ(g.stats().other_nodes, 0);
    EXPECT_EQ(read_json(kZoo + "/" + file + ".json")["architectures"][0], e["architecture"]);
    if (e.contains("published_params") && !e.contains("published_params_class")) {
      EXPECT_EQ(g.params, e["published_params"].get<int64_t>());
    }
    // Every node without a predecessor is an input or owns a table (positions, tokens).
    std::vector<int> preds(g.nodes.size(), 0);
    for (const Edge& ed : g.edges) ++preds[ed.dst];
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      if (preds[i] == 0 && g.nodes[i].op != Op::kInput) {
        EXPECT_GT(g.nodes[i].params, 0) << g.nodes[i].name;
      }
    }
  }
  for (const auto& f : fs::directory_iterator(kZoo)) {
    const std::string stem = f.path().stem().string();
    if (f.path().extension() == ".json" && stem != "index") {
      EXPECT_TRUE(indexed.count(stem)) << stem << " is not in index.json";
    }
  }
  EXPECT_GE(indexed.size(), 23u);
}

// The counts transformers reports (sum(p.numel() for p in model.parameters())).
TEST(HuggingfaceZoo, PublishedParameterCounts) {
  TempDir dir;
  const std::map<std::string, int64_t> as_shipped = {
      {"bert-base-uncased", 109'514'298},  // BertForMaskedLM
      {"gpt2", 124'439'808},               // GPT2LMHeadModel, tied lm_head
      {"gpt2-medium", 354'823'168},
      {"gpt2-large", 774'030'080},
      {"gpt2-xl", 1'557'611'200},
      {"t5-small", 60'506'624},  // T5ForConditionalGeneration
      {"t5-base", 222'903'552},
      {"google--flan-t5-small", 76'961'152},         // gated-gelu, untied lm_head
      {"google--vit-base-patch16-224", 86'567'656},  // ViTForImageClassification, 1000 labels
      {"facebook--deit-base-patch16-224", 86'567'656},
      {"facebook--bart-base", 139'420'416},  // BartModel
      {"facebook--bart-large", 406'291'456},
      {"EleutherAI--gpt-neo-125M", 125'198'592},
      {"facebook--wav2vec2-base-960h", 94'396'320},  // Wav2Vec2ForCTC
      // ElectraForPreTraining: ElectraModel 13,483,008 + discriminator dense (256x256 + 256) +
      // dense_prediction (256 + 1). 13,549,314 has been quoted for it, 257 (one more 256->1
      // linear) above what this module tree holds.
      {"google--electra-small-discriminator", 13'549'057},
  };
  for (const auto& [name, params] : as_shipped)
    EXPECT_EQ(import_hf(kZoo + "/" + name + ".json").params, params) << name;

  const std::vector<std::tuple<std::string, std::string, int64_t>> other_heads = {
      {"bert-base-uncased", "BertModel", 109'482'240},
      {"bert-base-uncased", "BertForPreTraining", 110'106'428},
      {"bert-base-uncased", "BertForSequenceClassification", 109'483'778},
      {"distilbert-base-uncased", "DistilBertModel", 66'362'880},
      {"roberta-base", "RobertaModel", 124'645'632},
      {"albert-base-v2", "AlbertModel", 11'683'584},
      {"google--vit-base-patch16-224", "ViTModel", 86'389'248},
      {"t5-small", "T5EncoderModel", 35'330'816},
      {"facebook--bart-base", "BartForConditionalGeneration", 139'420'416},
  };
  for (const auto& [name, arch, params] : other_heads)
    EXPECT_EQ(import_hf(with_architecture(dir, name, arch)).params, params) << name << " " << arch;
}

// Families without a shipped config, checked against their well-known counts.
TEST(HuggingfaceZoo, UnshippedFamiliesMatchKnownCounts) {
  TempDir dir;
  const std::vector<std::pair<std::string, int64_t>> cases = {
      // EleutherAI/gpt-j-6b: parallel attention + MLP, untied lm_head with bias.
      {R"({"architectures": ["GPTJForCausalLM"], "model_type": "gptj", "n_embd": 4096,
           "n_layer": 28, "n_head": 16, "vocab_size": 50400, "tie_word_embeddings": false})",
       6'050'882'784},
      // allenai/longformer-base-4096: extra global q/k/v projections per layer.
      {R"({"architectures": ["LongformerModel"], "model_type": "longformer", "hidden_size": 768,
           "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072,
           "vocab_size": 50265, "max_position_embeddings": 4098, "type_vocab_size": 1})",
       148'659'456},
      // mistralai/Mistral-7B-v0.1: grouped-query attention (8 kv heads), SwiGLU.
      {R"({"architectures": ["MistralForCausalLM"], "model_type": "mistral", "hidden_size": 4096,
           "intermediate_size": 14336, "num_attention_heads": 32, "num_hidden_layers": 32,
           "num_key_value_heads": 8, "vocab_size": 32000, "tie_word_embeddings": false})",
       7'241'732'096},
      // Qwen/Qwen2-0.5B: q/k/v biases, tied embeddings.
      {R"({"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 896,
           "intermediate_size": 4864, "num_attention_heads": 14, "num_hidden_layers": 24,
           "num_key_value_heads": 2, "vocab_size": 151936, "tie_word_embeddings": true})",
       494'032'768},
      // facebook/deit-base-distilled-patch16-224: distillation token and classifier.
      {R"({"architectures": ["DeiTForImageClassificationWithTeacher"], "model_type": "deit",
           "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
           "intermediate_size": 3072, "image_size": 224, "patch_size": 16, "num_labels": 1000})",
       87'338'192},
  };
  int i = 0;
  for (const auto& [text, params] : cases) {
    const fs::path p = dir.path() / ("m" + std::to_string(i++) + ".json");
    write_text(p, text);
    ArchGraph g = import_hf(p.string());
    EXPECT_EQ(g.params, params) << text;
    EXPECT_EQ(node_param_sum(g), g.params);
  }
}

TEST(HuggingfaceGraph, Gpt2Conv1DWeightsAreNormalisedToOutIn) {
  ArchGraph g = import_hf(kZoo + "/gpt2.json");
  const Node* c_attn = find_node(g, "transformer.h.0.attn.c_attn");
  ASSERT_NE(c_attn, nullptr);
  EXPECT_EQ(c_attn->op, Op::kLinear);
  EXPECT_EQ(c_attn->source_op, "Conv1D");
  EXPECT_EQ(*c_attn->shape, (Shape4{2304, 768, 1, 1}));
  EXPECT_EQ(c_attn->params, 2304 * 768 + 2304);
  EXPECT_EQ(*find_node(g, "transformer.h.0.mlp.c_fc")->shape, (Shape4{3072, 768, 1, 1}));
  EXPECT_EQ(*find_node(g, "transformer.h.0.mlp.c_proj")->shape, (Shape4{768, 3072, 1, 1}));
  // The tied lm_head has the table's shape but owns nothing.
  const Node* lm = find_node(g, "lm_head");
  ASSERT_NE(lm, nullptr);
  EXPECT_EQ(*lm->shape, (Shape4{50257, 768, 1, 1}));
  EXPECT_EQ(lm->params, 0);
  // Fused q/k/v: one linear, one split feeding both attention matmuls.
  const auto s = g.stats();
  EXPECT_EQ(s.ops.at("linear"), 12 * 4 + 1);
  EXPECT_EQ(s.ops.at("split"), 12);
  EXPECT_EQ(s.ops.at("matmul"), 24);
  EXPECT_EQ(s.ops.at("softmax"), 12);
  EXPECT_EQ(s.ops.at("ln"), 25);
  EXPECT_EQ(s.ops.at("embedding"), 1);
  EXPECT_EQ(s.ops.at("pos_enc"), 1);
}

TEST(HuggingfaceGraph, BertLayoutIsPostLnWithOneInputPerSegmentStream) {
  ArchGraph g = import_hf(kData + "/tiny-bert");
  EXPECT_EQ(g.params, 23'520);
  const auto s = g.stats();
  EXPECT_EQ(s.ops.at("input"), 2);   // input_ids, token_type_ids
  EXPECT_EQ(s.ops.at("output"), 2);  // last_hidden_state, pooler_output
  EXPECT_EQ(s.ops.at("linear"), 2 * 6 + 1);
  EXPECT_EQ(s.ops.at("ln"), 1 + 2 * 2);
  EXPECT_EQ(s.ops.at("tanh"), 1);
  EXPECT_EQ(*find_node(g, "embeddings.position_embeddings")->shape, (Shape4{64, 32, 1, 1}));
  EXPECT_EQ(find_node(g, "embeddings.position_embeddings")->op, Op::kPosEnc);
  EXPECT_EQ(*find_node(g, "embeddings.word_embeddings")->shape, (Shape4{100, 32, 1, 1}));
  // Post-LN: the attention LayerNorm reads the residual sum.
  int sum = -1, ln = -1;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (g.nodes[i].name == "encoder.layer.0.attention.output.add") sum = static_cast<int>(i);
    if (g.nodes[i].name == "encoder.layer.0.attention.output.LayerNorm") ln = static_cast<int>(i);
  }
  ASSERT_GE(sum, 0);
  ASSERT_GE(ln, 0);
  EXPECT_TRUE(std::count(g.edges.begin(), g.edges.end(), Edge{sum, ln}));
}

TEST(HuggingfaceGraph, T5HasRelativeBiasRmsNormAndCrossAttention) {
  ArchGraph g = import_hf(kZoo + "/t5-small.json");
  const auto s = g.stats();
  EXPECT_EQ(s.ops.at("input"), 2);
  EXPECT_EQ(s.ops.at("pos_enc"), 2);  // one relative bias table per stack
  EXPECT_EQ(s.ops.at("rms_norm"), 6 * 2 + 6 * 3 + 2);
  EXPECT_EQ(s.ops.at("softmax"), 6 + 6 * 2);
  const Node* bias = find_node(g, "encoder.block.0.layer.0.SelfAttention.relative_attention_bias");
  ASSERT_NE(bias, nullptr);
  EXPECT_EQ(*bias->shape, (Shape4{32, 8, 1, 1}));
  EXPECT_EQ(find_node(g, "encoder.block.0.layer.1.DenseReluDense.wi")->params, 512 * 2048);
  ArchGraph flan = import_hf(kZoo + "/google--flan-t5-small.json");
  EXPECT_NE(find_node(flan, "encoder.block.0.layer.1.DenseReluDense.wi_1"), nullptr);
  EXPECT_EQ(find_node(flan, "lm_head")->params, 32128 * 512);  // untied in v1.1 / Flan
  EXPECT_EQ(find_node(g, "lm_head")->params, 0);
}

TEST(HuggingfaceGraph, VitAndWav2vec2Front_ends) {
  ArchGraph vit = import_hf(kZoo + "/google--vit-base-patch16-224.json");
  const Node* patch = find_node(vit, "vit.embeddings.patch_embeddings.projection");
  ASSERT_NE(patch, nullptr);
  EXPECT_EQ(patch->op, Op::kConv);
  EXPECT_EQ(*patch->shape, (Shape4{768, 3, 16, 16}));
  EXPECT_EQ(*patch->kernel, (Kernel2{16, 16}));
  EXPECT_EQ(find_node(vit, "vit.embeddings.cls_token")->op, Op::kPosEnc);
  EXPECT_EQ(find_node(vit, "vit.embeddings.position_embeddings")->params, 197 * 768);
  EXPECT_EQ(*find_node(vit, "classifier")->shape, (Shape4{1000, 768, 1, 1}));

  ArchGraph w = import_hf(kZoo + "/facebook--wav2vec2-base-960h.json");
  const auto s = w.stats();
  EXPECT_EQ(s.ops.at("conv"), 7);
  EXPECT_EQ(s.ops.at("gn"), 1);
  EXPECT_EQ(s.ops.at("sep_conv"), 1);
  const Node* pos = find_node(w, "wav2vec2.encoder.pos_conv_embed.conv");
  EXPECT_EQ(*pos->shape, (Shape4{768, 48, 128, 1}));
  EXPECT_EQ(pos->params, 768 * 48 * 128 + 128 + 768);  // weight_v + weight_g + bias
  EXPECT_EQ(find_node(w, "wav2vec2.masked_spec_embed")->params, 768);
  EXPECT_EQ(*find_node(w, "wav2vec2.feature_extractor.conv_layers.0.conv")->kernel,
            (Kernel2{10, 1}));
}

TEST(HuggingfaceGraph, AlbertSharesOneLayerAcrossTwelveApplications) {
  ArchGraph g = import_hf(kZoo + "/albert-base-v2.json");
  int queries = 0, owners = 0;
  for (const Node& n : g.nodes)
    if (n.name == "albert.encoder.albert_layer_groups.0.albert_layers.0.attention.query") {
      ++queries;
      owners += n.params > 0;
    }
  EXPECT_EQ(queries, 12);
  EXPECT_EQ(owners, 1);
}

// --- inputs ----------------------------------------------------------------------------------

TEST(HuggingfaceImport, FolderAndConfigPathGiveTheSameGraph) {
  ArchGraph a = import_hf(kData + "/tiny-bert");
  ArchGraph b = import_hf(kData + "/tiny-bert/config.json");
  ArchGraph c = load_graph(kData + "/tiny-bert/");
  EXPECT_EQ(a.name, "tiny-bert");
  EXPECT_EQ(b.name, "tiny-bert");
  EXPECT_EQ(c.name, "tiny-bert");
  EXPECT_EQ(a.fingerprint(), b.fingerprint());
  EXPECT_EQ(a.fingerprint(), c.fingerprint());
  EXPECT_EQ(a.params, b.params);
  EXPECT_EQ(a.nodes.size(), b.nodes.size());
  EXPECT_EQ(a.edges, b.edges);
  EXPECT_EQ(c.format, "huggingface");
}

TEST(HuggingfaceImport, AcceptsFoldersConfigsAndNotGraphDocuments) {
  auto imp = make_huggingface_importer();
  TempDir dir;
  EXPECT_TRUE(imp->accepts(kData + "/tiny-bert", "", true));
  EXPECT_FALSE(imp->accepts(dir.path().string(), "", true));  // no config.json
  const std::string cfg = R"({"model_type": "bert", "hidden_size": 8})";
  write_text(dir.path() / "config.json", cfg);
  write_text(dir.path() / "gpt2-like.json", R"({"architectures": ["GPT2LMHeadModel"]})");
  write_text(dir.path() / "graph.json", R"({"model_type": "x", "nodes": [], "edges": []})");
  write_text(dir.path() / "other.json", R"({"hello": 1})");
  write_text(dir.path() / "notes.txt", cfg);
  auto accepts = [&](const std::string& f) {
    const fs::path p = dir.path() / f;
    std::ifstream in(p);
    std::string head((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return imp->accepts(p.string(), head, false);
  };
  EXPECT_TRUE(accepts("config.json"));
  EXPECT_TRUE(accepts("gpt2-like.json"));
  EXPECT_FALSE(accepts("graph.json"));
  EXPECT_FALSE(accepts("other.json"));
  EXPECT_FALSE(accepts("notes.txt"));
  EXPECT_TRUE(imp->accepts(dir.path().string(), "", true));
}

// --- safetensors -----------------------------------------------------------------------------

TEST(HuggingfaceSafetensors, GenericFallbackFromNamesAndShapes) {
  TempDir dir;
  write_text(dir.path() / "config.json", R"({"model_type": "toy", "architectures": ["ToyModel"]})");
  uint64_t data = 0;
  const std::string header =
      header_for({{"lm_head.weight", {10, 4}},
                  {"model.embed.weight", {10, 4}},
                  {"model.embed_positions.weight", {16, 4}},
                  {"model.layers.0.norm.weight", {4}},
                  {"model.layers.0.norm.bias", {4}},
                  {"model.layers.0.proj.weight", {8, 4}},
                  {"model.layers.0.proj.bias", {8}},
                  {"model.layers.10.conv.weight", {4, 2, 3, 3}},
                  {"model.layers.10.dw.weight", {4, 1, 3, 3}},
                  {"model.layers.2.proj.weight", {4, 8}},
                  {"model.position_ids", {1, 16}}},  // a buffer: not a parameter
                 &data);
  write_safetensors(dir.path() / "model.safetensors", header, data);
  ArchGraph g = import_hf(dir.path().string());
  EXPECT_EQ(g.format, "huggingface-generic");
  EXPECT_EQ(g.params, 40 + 40 + 64 + 8 + 40 + 72 + 36 + 32);
  EXPECT_EQ(node_param_sum(g), g.params);
  // input, 8 modules in natural name order (layers.2 before layers.10), output: a chain.
  const std::vector<std::pair<std::string, Op>> expected = {
      {"input", Op::kInput},
      {"lm_head", Op::kLinear},
      {"model.embed", Op::kEmbedding},
      {"model.embed_positions", Op::kPosEnc},
      {"model.layers.0.norm", Op::kLayerNorm},
      {"model.layers.0.proj", Op::kLinear},
      {"model.layers.2.proj", Op::kLinear},
      {"model.layers.10.conv", Op::kConv},
      {"model.layers.10.dw", Op::kSepConv},
      {"output", Op::kOutput},
  };
  ASSERT_EQ(g.nodes.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(g.nodes[i].name, expected[i].first);
    EXPECT_EQ(g.nodes[i].op, expected[i].second) << expected[i].first;
  }
  EXPECT_EQ(g.edges.size(), expected.size() - 1);
  EXPECT_EQ(*g.nodes[5].shape, (Shape4{8, 4, 1, 1}));
  EXPECT_EQ(g.nodes[5].params, 40);  // weight + bias in one node
  EXPECT_EQ(*g.nodes[7].shape, (Shape4{4, 2, 3, 3}));
}

TEST(HuggingfaceSafetensors, KnownModelTakesItsParameterCountFromTheCheckpoint) {
  TempDir dir;
  fs::copy_file(kData + "/tiny-bert/config.json", dir.path() / "config.json");
  ArchGraph without = import_hf(dir.path().string());
  uint64_t data = 0;
  const std::string header = header_for(
      {{"embeddings.word_embeddings.weight", {100, 32}}, {"embeddings.position_ids", {1, 64}}},
      &data);
  write_safetensors(dir.path() / "model.safetensors", header, data);
  ArchGraph with = import_hf(dir.path().string());
  EXPECT_EQ(with.params, 3200);
  EXPECT_EQ(with.format, "huggingface");
  EXPECT_EQ(with.fingerprint(), without.fingerprint());
}

TEST(HuggingfaceSafetensors, ShardedCheckpointReadsEveryShardHeader) {
  TempDir dir;
  write_text(dir.path() / "config.json", R"({"model_type": "toy"})");
  uint64_t d1 = 0, d2 = 0;
  const std::string h1 = header_for({{"a.weight", {3, 2}}}, &d1);
  const std::string h2 = header_for({{"b.weight", {5, 3}}, {"b.bias", {5}}}, &d2);
  write_safetensors(dir.path() / "model-00001-of-00002.safetensors", h1, d1);
  write_safetensors(dir.path() / "model-00002-of-00002.safetensors", h2, d2);
  json index = {{"metadata", {{"total_size", (6 + 20) * 4}}},
                {"weight_map",
                 {{"a.weight", "model-00001-of-00002.safetensors"},
                  {"b.weight", "model-00002-of-00002.safetensors"},
                  {"b.bias", "model-00002-of-00002.safetensors"}}}};
  write_text(dir.path() / "model.safetensors.index.json", index.dump());
  ArchGraph g = import_hf(dir.path().string());
  EXPECT_EQ(g.params, 6 + 20);
  EXPECT_EQ(g.nodes.size(), 4u);

  fs::remove(dir.path() / "model-00002-of-00002.safetensors");
  expect_bad_input([&] { import_hf(dir.path().string()); },
                   {"model.safetensors.index.json", "model-00002-of-00002.safetensors", "missing"});
}

TEST(HuggingfaceSafetensors, CorruptHeadersAreClearErrors) {
  TempDir dir;
  write_text(dir.path() / "config.json", R"({"model_type": "toy"})");
  const fs::path st = dir.path() / "model.safetensors";
  const std::string folder = dir.path().string();

  write_text(st, "abc");
  expect_bad_input([&] { import_hf(folder); }, {"model.safetensors", "truncated"});

  // A header length far beyond the cap.
  std::string huge(8, '\0');
  huge[5] = 1;  // 2^40
  write_text(st, huge + "{}");
  expect_bad_input([&] { import_hf(folder); }, {"model.safetensors", "over the limit"});

  // A header length beyond the end of the file.
  std::string len(8, '\0');
  len[0] = static_cast<char>(200);
  write_text(st, len + R"({"a": {"dtype": "F32", "shape": [2]}})");
  expect_bad_input([&] { import_hf(folder); }, {"truncated", "200"});

  write_safetensors(st, "this is not json", 0);
  expect_bad_input([&] { import_hf(folder); }, {"not a JSON object"});

  write_safetensors(st, R"({"a": {"dtype": "F32", "shape": [2, -1], "data_offsets": [0, 8]}})", 8);
  expect_bad_input([&] { import_hf(folder); }, {"'a'", "shape"});

  write_safetensors(st, R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})", 8);
  expect_bad_input([&] { import_hf(folder); }, {"'a'", "data_offsets", "outside"});
}

// --- bad configs -----------------------------------------------------------------------------

TEST(HuggingfaceBadInput, MalformedOrAbsurdConfigsAreRefusedClearly) {
  TempDir dir;
  auto try_config = [&](const std::string& text, std::initializer_list<std::string> parts) {
    const fs::path p = dir.path() / "m" / "config.json";
    write_text(p, text);
    expect_bad_input([&] { import_hf(p.parent_path().string()); }, parts);
  };
  try_config("{\"model_type\": \"bert\", ", {"config.json", "malformed JSON"});
  try_config("[1, 2]", {"config.json", "not a JSON object"});
  try_config(R"({"hidden_size": 768})", {"config.json", "\"model_type\""});
  const std::string bert =
      R"("model_type": "bert", "vocab_size": 100, "intermediate_size": 64,
         "num_attention_heads": 2, )";
  try_config("{" + bert + R"("hidden_size": 32, "num_hidden_layers": 1000000000})",
             {"num_hidden_layers", "1000000000", "out of range"});
  try_config("{" + bert + R"("hidden_size": 0, "num_hidden_layers": 2})",
             {"hidden_size", "out of range"});
  try_config("{" + bert + R"("hidden_size": -768, "num_hidden_layers": 2})",
             {"hidden_size", "-768", "out of range"});
  try_config("{" + bert + R"("hidden_size": "big", "num_hidden_layers": 2})",
             {"hidden_size", "not an integer"});
  try_config("{" + bert + R"("hidden_size": 33, "num_hidden_layers": 2})", {"not a multiple"});
  try_config("{" + bert + R"("hidden_size": 32, "num_hidden_layers": 2,
               "architectures": ["BertForTimeTravel"]})",
             {"BertForTimeTravel", "not supported"});
  try_config(R"({"model_type": "toy"})",
             {"unknown model_type 'toy'", "no model.safetensors", "supported:", "bert"});
  try_config(R"({"model_type": "gpt2", "n_embd": 64, "n_layer": 2, "n_head": 2,
                 "vocab_size": 100, "activation_function": "wiggle"})",
             {"wiggle"});
  expect_bad_input([&] { import_hf(dir.path().string() + "/nothing"); }, {"no such file"});
  fs::create_directories(dir.path() / "empty");
  expect_bad_input([&] { import_hf((dir.path() / "empty").string()); }, {"no config.json"});
}

TEST(HuggingfaceBadInput, GraphsOverTheLimitsAreRefusedBeforeBuilding) {
  ImportOptions small;
  small.limits.max_nodes = 100;
  expect_bad_input([&] { import_hf(kZoo + "/bert-base-uncased.json", small); },
                   {"more than 100 nodes"});
  // A deep but otherwise valid config stops at the node limit, quickly and without memory.
  TempDir dir;
  json j = read_json(kZoo + "/gpt2.json");
  j["n_layer"] = 100000;
  write_text(dir.path() / "deep.json", j.dump());
  expect_bad_input([&] { import_hf((dir.path() / "deep.json").string()); },
                   {"more than 1000000 nodes"});
}

}  // namespace
}  // namespace archbert
