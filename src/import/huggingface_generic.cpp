// The fallback graph of unknown Hugging Face model types, from the tensor names and shapes in a
// safetensors header (format "huggingface-generic").
#include <algorithm>
#include <cctype>
#include <map>

#include "archbert/error.h"
#include "import/huggingface_blocks.h"

namespace archbert::hf {

using detail::checked_add;
using detail::checked_numel;
using archbert::ends_with;
using detail::str;

namespace {

// Compares names with digit runs as numbers, so layer.2 sorts before layer.10.
bool natural_less(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) &&
        std::isdigit(static_cast<unsigned char>(b[j]))) {
      size_t i2 = i, j2 = j;
      while (i2 < a.size() && a[i2] == '0') ++i2;
      while (j2 < b.size() && b[j2] == '0') ++j2;
      size_t ie = i2, je = j2;
      while (ie < a.size() && std::isdigit(static_cast<unsigned char>(a[ie]))) ++ie;
      while (je < b.size() && std::isdigit(static_cast<unsigned char>(b[je]))) ++je;
      if (ie - i2 != je - j2) return ie - i2 < je - j2;
      int cmp = a.compare(i2, ie - i2, b, j2, je - j2);
      if (cmp != 0) return cmp < 0;
      i = ie;
      j = je;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

std::string lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

// The tensors of one module (a name prefix): "bert.encoder.layer.0.attention.self.query".
struct Module {
  std::string name;
  std::vector<const TensorInfo*> tensors;
};

// Guesses the canonical op of a module from its name and its tensors.
Op guess_op(const Module& m, const TensorInfo& main) {
  const std::string n = lower(m.name);
  std::string last = n.substr(n.rfind('.') == std::string::npos ? 0 : n.rfind('.') + 1);
  bool has_bias = false, has_running = false;
  for (const TensorInfo* t : m.tensors) {
    const std::string leaf = t->name.substr(m.name.empty() ? 0 : m.name.size() + 1);
    if (leaf == "bias" || leaf == "beta") has_bias = true;
    if (leaf == "running_mean" || leaf == "running_var") has_running = true;
  }
  const size_t rank = main.shape.size();
  const bool norm_name =
      contains(n, "norm") || contains(last, "ln") || last == "ln_f" || contains(n, ".ln_");
  if (has_running || contains(last, "batch_norm") || contains(last, "batchnorm") || last == "bn")
    return Op::kBatchNorm;
  if (rank == 1 && norm_name) {
    if (contains(last, "group_norm") || contains(last, "groupnorm")) return Op::kGroupNorm;
    return has_bias ? Op::kLayerNorm : Op::kRmsNorm;
  }
  const std::string tn = lower(main.name);
  const bool positional = contains(tn, "position") || contains(last, "pos") || last == "wpe" ||
                          contains(tn, "cls_token") || contains(tn, "distillation_token") ||
                          contains(n, "relative_attention_bias");
  if (positional && rank >= 2) return Op::kPosEnc;
  if (rank == 2 && (contains(n, "embed") || last == "wte" || last == "shared"))
    return Op::kEmbedding;
  if (rank == 4 || rank == 3) {
    if (main.shape[1] == 1 && main.shape[0] > 1) return Op::kSepConv;
    return Op::kConv;
  }
  if (rank == 2) return Op::kLinear;
  return Op::kOther;
}

}  // namespace

bool is_buffer_tensor(const std::string& name) {
  static const char* const kBufferSuffixes[] = {
      ".position_ids",
      ".token_type_ids",
      "final_logits_bias",
      ".attn.bias",
      ".attn.masked_bias",
      ".rotary_emb.inv_freq",
      ".relative_position_index",
      ".num_batches_tracked",
      ".running_mean",
      ".running_var",
  };
  for (const char* s : kBufferSuffixes)
    if (ends_with(name, s)) return true;
  return false;
}

// The fallback graph: input -> one node per module in natural name order -> output. Edges are
// approximate (a chain; residuals, branches and head structure are unknown without the model
// code), which is why such graphs have format "huggingface-generic".
ArchGraph build_generic_graph(const std::vector<TensorInfo>& tensors, const std::string& name,
                              const std::string& source, const GraphLimits& limits) {
  std::map<std::string, Module> by_name;
  int64_t params = 0;
  for (const TensorInfo& t : tensors) {
    const size_t dot = t.name.rfind('.');
    const std::string module = dot == std::string::npos ? t.name : t.name.substr(0, dot);
    Module& m = by_name[module];
    m.name = module;
    m.tensors.push_back(&t);
    if (!is_buffer_tensor(t.name))
      params = checked_add(params, checked_numel(t.shape, source), source);
  }
  if (by_name.empty()) throw_bad_input(source, "safetensors header names no tensors");
  if (static_cast<int64_t>(by_name.size()) + 2 > limits.max_nodes)
    throw_bad_input(source, "graph would have " + str(static_cast<int64_t>(by_name.size()) + 2) +
                                " nodes, over the limit of " + str(limits.max_nodes));
  std::vector<const Module*> order;
  for (const auto& kv : by_name) order.push_back(&kv.second);
  std::sort(order.begin(), order.end(),
            [](const Module* a, const Module* b) { return natural_less(a->name, b->name); });

  GraphBuilder builder(source);
  int prev = builder.add(Op::kInput, "input", "input");
  for (const Module* m : order) {
    // The main tensor: "weight" (or weight_v of a weight-normed conv), else the largest.
    const TensorInfo* main = nullptr;
    const TensorInfo* largest = nullptr;
    int64_t own = 0, largest_numel = -1;
    for (const TensorInfo* t : m->tensors) {
      if (is_buffer_tensor(t->name)) continue;
      const int64_t ne = checked_numel(t->shape, source);
      own = checked_add(own, ne, source);
      const std::string leaf = t->name.substr(t->name.rfind('.') + 1);
      if (!main && (leaf == "weight" || leaf == "weight_v" || leaf == "original1")) main = t;
      if (ne > largest_numel) {
        largest = t;
        largest_numel = ne;
      }
    }
    if (!main) main = largest;
    if (!main) continue;  // buffers only
    Node nd;
    nd.op = guess_op(*m, *main);
    nd.name = m->name;
    nd.source_op = "safetensors";
    if (std::all_of(main->shape.begin(), main->shape.end(), [](int64_t d) { return d > 0; }))
      nd.shape = fold_shape(main->shape);
    nd.params = own;
    int id = builder.add(std::move(nd));
    builder.connect(prev, id);
    prev = id;
  }
  int out = builder.add(Op::kOutput, "output", "output");
  builder.connect(prev, out);
  return builder.finish(name, "huggingface-generic", params, false, limits);
}

}  // namespace archbert::hf
