// AutoNet sampling (deterministic per (seed, split, index)) and `archbert data autonet`'s
// generate_autonet. The network construction is in autonet_cells.cpp.
#include "archbert/autonet.h"

#include <atomic>
#include <chrono>
#include <exception>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "archbert/error.h"
#include "archbert/graph_io.h"

#include "data/rng.h"

namespace archbert {

int64_t autonet_params(const AutoNetGenotype& genotype, int channels);  // autonet_cells.cpp

namespace {

using data::mix;
using data::Rng;

// Stream seed of network `index`: hash(seed, split, index).
uint64_t stream_seed(uint64_t seed, DatasetSplit split, int64_t index) {
  const uint64_t split_tag = split == DatasetSplit::kTrain ? 0x747261696E000001ull   // "train"
                                                           : 0x76616C0000000002ull;  // "val"
  return mix(mix(mix(0x417574674E657431ull, seed), split_tag), static_cast<uint64_t>(index));
}

constexpr AutoNetOp kAllOps[kAutoNetOpCount] = {
    AutoNetOp::kNone,        AutoNetOp::kMaxPool3x3,  AutoNetOp::kAvgPool3x3,
    AutoNetOp::kSkipConnect, AutoNetOp::kSepConv3x3,  AutoNetOp::kSepConv5x5,
    AutoNetOp::kDilConv3x3,  AutoNetOp::kDilConv5x5,  AutoNetOp::kConv1x1,
    AutoNetOp::kConv7x1_1x7, AutoNetOp::kConv3x3,     AutoNetOp::kConv5x5,
    AutoNetOp::kConv7x7,     AutoNetOp::kTransformer, AutoNetOp::kSqueezeExcite,
};

// An op drawn uniformly from those allowed at `stride` (transformer and squeeze-excitation keep
// the resolution, so they never sit on a stride-2 edge of a reduction cell).
AutoNetOp draw_op(Rng& rng, int stride) {
  const int n = stride == 1 ? kAutoNetOpCount : kAutoNetOpCount - 2;
  return kAllOps[rng.below(static_cast<uint64_t>(n))];
}

// One cell genotype. Constraints (resampled until they hold): a step has at most one `none`,
// and a step is never a bare identity (`none` + stride-1 skip) so that every step is a new node;
// some step applies a real op to input 1 (the previous cell), so that no cell is dead.
AutoNetCellGenotype sample_cell(Rng& rng, bool reduction) {
  AutoNetCellGenotype cell;
  const int steps = rng.range(1, 4);
  for (int attempt = 0;; ++attempt) {
    cell.steps.assign(steps, {});
    bool uses_prev = false;
    for (int i = 0; i < steps; ++i) {
      AutoNetStep& st = cell.steps[i];
      int stride[2];
      for (int k = 0; k < 2; ++k) {
        st.input[k] = static_cast<int>(rng.below(2 + i));
        stride[k] = reduction && st.input[k] < 2 ? 2 : 1;
      }
      for (;;) {
        for (int k = 0; k < 2; ++k) st.op[k] = draw_op(rng, stride[k]);
        const bool none0 = st.op[0] == AutoNetOp::kNone, none1 = st.op[1] == AutoNetOp::kNone;
        if (none0 && none1) continue;
        if (none0 && st.op[1] == AutoNetOp::kSkipConnect && stride[1] == 1) continue;
        if (none1 && st.op[0] == AutoNetOp::kSkipConnect && stride[0] == 1) continue;
        break;
      }
      for (int k = 0; k < 2; ++k) uses_prev |= st.input[k] == 1 && st.op[k] != AutoNetOp::kNone;
    }
    if (uses_prev) return cell;
    if (attempt > 100000)  // each attempt succeeds with probability > 1/4: unreachable
      throw Error(ErrorKind::kInternal, "autonet: cannot sample a cell that uses its input");
  }
}

const char* pool_name(AutoNetPool p) {
  return p == AutoNetPool::kMax ? "max" : p == AutoNetPool::kAvg ? "avg" : "none";
}

nlohmann::json cell_json(const AutoNetCellGenotype& c) {
  nlohmann::json steps = nlohmann::json::array();
  for (const AutoNetStep& s : c.steps) {
    nlohmann::json step = nlohmann::json::array();
    for (int k = 0; k < 2; ++k) {
      nlohmann::json term = nlohmann::json::object();
      term["op"] = autonet_op_name(s.op[k]);
      term["input"] = s.input[k];
      step.push_back(std::move(term));
    }
    steps.push_back(std::move(step));
  }
  return steps;
}

}  // namespace

std::string_view autonet_op_name(AutoNetOp op) {
  switch (op) {
    case AutoNetOp::kNone:
      return "none";
    case AutoNetOp::kMaxPool3x3:
      return "max_pool_3x3";
    case AutoNetOp::kAvgPool3x3:
      return "avg_pool_3x3";
    case AutoNetOp::kSkipConnect:
      return "skip_connect";
    case AutoNetOp::kSepConv3x3:
      return "sep_conv_3x3";
    case AutoNetOp::kSepConv5x5:
      return "sep_conv_5x5";
    case AutoNetOp::kDilConv3x3:
      return "dil_conv_3x3";
    case AutoNetOp::kDilConv5x5:
      return "dil_conv_5x5";
    case AutoNetOp::kConv1x1:
      return "conv_1x1";
    case AutoNetOp::kConv7x1_1x7:
      return "conv_7x1_1x7";
    case AutoNetOp::kConv3x3:
      return "conv_3x3";
    case AutoNetOp::kConv5x5:
      return "conv_5x5";
    case AutoNetOp::kConv7x7:
      return "conv_7x7";
    case AutoNetOp::kTransformer:
      return "transformer";
    case AutoNetOp::kSqueezeExcite:
      return "squeeze_excite";
  }
  return "none";
}

AutoNetGenotype AutoNetSampler::sample_genotype(int64_t index) const {
  Rng rng(stream_seed(seed_, split_, index));
  AutoNetGenotype g;
  g.cells = rng.range(4, 18);
  g.reduction_cells = {g.cells / 3, 2 * g.cells / 3};
  g.normal = sample_cell(rng, false);
  g.reduce = sample_cell(rng, true);
  g.stem_kernel = rng.pick({3, 5, 7});
  g.stem_multiplier = rng.pick({1, 2, 3});
  g.stem_pool = rng.pick({AutoNetPool::kNone, AutoNetPool::kMax, AutoNetPool::kAvg});
  g.batch_norm = rng.chance(1, 2);
  g.mlp_ratio = rng.pick({2, 4});
  g.head = rng.pick({AutoNetHead::kGlobalAvg, AutoNetHead::kFlatten});
  g.fc_layers = rng.range(1, 2);
  g.fc_hidden = rng.pick({64, 128, 256, 512, 1024});
  g.num_classes = rng.pick({10, 100});
  g.sampled_channels = 8 * rng.range(2, 16);  // 16..128
  g.channels = g.sampled_channels;
  return g;
}

AutoNet AutoNetSampler::sample(int64_t index) const {
  AutoNetGenotype g = sample_genotype(index);
  // Fit to the budget: narrow the first cell (C -> C-8 ... 8, then 4), then the hidden FC width.
  int c = g.sampled_channels;
  while (autonet_params(g, c) > kMaxParams) {
    if (c > 8)
      c -= 8;
    else if (c > 4)
      c = 4;
    else if (g.fc_layers == 2 && g.fc_hidden > 16)
      g.fc_hidden /= 2;
    else
      throw Error(ErrorKind::kInternal, "autonet: network " + std::to_string(index) +
                                            " cannot fit in the parameter budget");
  }
  AutoNet net = build_autonet(
      g, c, "autonet-" + std::string(split_name(split_)) + "-" + std::to_string(index));
  net.index = index;
  return net;
}

std::string autonet_genotype_json(const AutoNet& net) {
  const AutoNetGenotype& g = net.genotype;
  nlohmann::json j = {
      {"index", net.index},
      {"name", net.graph.name},
      {"image_size", g.image_size},
      {"num_classes", g.num_classes},
      {"stem_kernel", g.stem_kernel},
      {"stem_multiplier", g.stem_multiplier},
      {"stem_pool", pool_name(g.stem_pool)},
      {"cells", g.cells},
      {"reduction_cells", g.reduction_cells},
      {"normal", cell_json(g.normal)},
      {"reduce", cell_json(g.reduce)},
      {"batch_norm", g.batch_norm},
      {"mlp_ratio", g.mlp_ratio},
      {"se_reduction", g.se_reduction},
      {"head", g.head == AutoNetHead::kGlobalAvg ? "glob_avg" : "flatten"},
      {"fc_layers", g.fc_layers},
      {"fc_hidden", g.fc_hidden},
      {"sampled_channels", g.sampled_channels},
      {"channels", g.channels},
      {"params", g.params},
      {"nodes", net.graph.nodes.size()},
      {"edges", net.graph.edges.size()},
      {"fingerprint", net.graph.fingerprint()},
  };
  return j.dump();
}

AutoNetReport generate_autonet(const AutoNetOptions& options) {
  namespace fs = std::filesystem;
  const auto t0 = std::chrono::steady_clock::now();
  if (options.count < 0)
    throw Error(ErrorKind::kUsage,
                "--count must be >= 0 (got " + std::to_string(options.count) + ")");
  if (options.out_dir.empty()) throw Error(ErrorKind::kUsage, "--out is required");
  if (options.threads < 1) throw Error(ErrorKind::kUsage, "threads must be >= 1");
  std::error_code ec;
  fs::create_directories(options.out_dir, ec);
  if (ec || !fs::is_directory(options.out_dir))
    throw_bad_input(options.out_dir, "cannot create the output directory" +
                                         (ec ? ": " + ec.message() : std::string()));
  const fs::path dir(options.out_dir);
  const std::string split(split_name(options.split));
  if (options.onnx) {
    fs::create_directories(dir / "onnx", ec);
    if (ec) throw_bad_input((dir / "onnx").string(), "cannot create: " + ec.message());
  }

  const AutoNetSampler sampler(options.seed, options.split);
  const GraphStoreOptions store_options{options.names};
  const int64_t n = options.count;
  std::vector<std::string> records(n), genotypes(n);
  std::vector<int64_t> nodes(n), edges(n);
  std::atomic<int64_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto work = [&] {
    for (;;) {
      const int64_t i = next.fetch_add(1);
      if (i >= n) return;
      try {
        AutoNet net = sampler.sample(i);
        records[i] = encode_graph_record(net.graph, store_options);
        genotypes[i] = autonet_genotype_json(net) + "\n";
        nodes[i] = static_cast<int64_t>(net.graph.nodes.size());
        edges[i] = static_cast<int64_t>(net.graph.edges.size());
        if (options.onnx)
          write_file_atomic((dir / "onnx" / (net.graph.name + ".onnx")).string(),
                            graph_to_onnx(net.graph, net.onnx));
      } catch (...) {
        std::lock_guard<std::mutex> lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        next = n;
        return;
      }
    }
  };
  const int threads = static_cast<int>(std::min<int64_t>(options.threads, std::max<int64_t>(n, 1)));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);

  AutoNetReport report;
  GraphStoreWriter writer(store_options);
  std::string genotype_lines;
  for (int64_t i = 0; i < n; ++i) {
    writer.add_record(records[i]);
    std::string().swap(records[i]);
    genotype_lines += genotypes[i];
    report.nodes += nodes[i];
    report.edges += edges[i];
  }
  writer.write((dir / "graphs.bin").string());
  write_file_atomic((dir / "genotypes.jsonl").string(), genotype_lines);

  DatasetManifest m;
  m.generator = "autonet";
  m.generator_version = kAutoNetGeneratorVersion;
  m.seed = options.seed;
  m.split = split;
  m.counts["graphs"] = n;
  m.counts["nodes"] = report.nodes;
  m.counts["edges"] = report.edges;
  m.files["graphs"] = "graphs.bin";
  m.files["genotypes"] = "genotypes.jsonl";
  if (options.onnx) {
    m.counts["onnx"] = n;
    m.files["onnx"] = "onnx/autonet-" + split + "-<index>.onnx";
  }
  m.info["max_params"] = std::to_string(AutoNetSampler::kMaxParams);
  m.info["node_names"] = options.names ? "true" : "false";
  m.info["onnx_opset"] = std::to_string(kOnnxExportOpset);
  m.info["op_vocabulary_version"] = std::to_string(kOpVocabularyVersion);
  write_manifest(options.out_dir, m);

  report.graphs = n;
  report.onnx_files = options.onnx ? n : 0;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

}  // namespace archbert
