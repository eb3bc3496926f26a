// Hugging Face graph builders: the registry of model_type -> family builder and build_graph
// (config.json -> canonical graph, SPEC §2). The families are in huggingface_{encoders,decoders,
// seq2seq,vision_speech}.cpp, their shared blocks in huggingface_blocks.cpp.
//
// Layout decisions shared by every family:
// - Inputs are the tensors the model needs: input_ids (+ token_type_ids when there is more than
//   one segment type), decoder_input_ids for encoder-decoders, pixel_values, input_values.
//   Attention masks are not modelled: they only add a constant to the attention scores.
// - Word embeddings are `embedding` nodes (vocab, hidden). Learned absolute position tables,
//   fixed sinusoidal tables, class/distillation tokens and relative-position bias tables are
//   `pos_enc` nodes. Every weighted node has the shape of its HF tensor, folded (fold_shape).
// - Attention = q, k, v `linear` (one fused `linear` + `split` where HF stores one weight),
//   `matmul` (scores), [`sum` with a position bias], `softmax`, [`dropout`], `matmul` (context),
//   output `linear`. Scaling by 1/sqrt(d) and masking are not nodes; neither is the scalar
//   embedding scale of BART-like models.
// - A weight used in two places (tied LM heads, decoder embed_tokens, ALBERT's shared layer)
//   appears as a node with the weight's shape at each use; only its owner counts the weight.
// - GPT-2's Conv1D stores weights as (in, out): node shapes are normalised to (out, in).
// - Dropout modules (and functional dropouts of attention probabilities) are `dropout` nodes.
// - Selecting the first token for a pooler or classifier is a `slice` node.
#include "import/huggingface_builders.h"

#include <algorithm>

#include "archbert/error.h"
#include "import/huggingface_blocks.h"
#include "import/huggingface_families.h"

namespace archbert::hf {

using detail::Net;

namespace {

// A model_type and its builder.
struct Family {
  const char* model_type;
  void (*build)(Net&, const HfConfig&);
};

constexpr Family kFamilies[] = {
    {"albert", detail::build_albert},
    {"bart", detail::build_bart},
    {"bert", detail::build_bert},
    {"bloom", detail::build_bloom},
    {"camembert", detail::build_roberta},
    {"deit", detail::build_deit},
    {"distilbert", detail::build_distilbert},
    {"electra", detail::build_electra},
    {"gpt2", detail::build_gpt2},
    {"gpt_neo", detail::build_gpt_neo},
    {"gpt_neox", detail::build_gpt_neox},
    {"gptj", detail::build_gptj},
    {"llama", detail::build_llama},
    {"longformer", detail::build_longformer},
    {"marian", detail::build_marian},
    {"mbart", detail::build_mbart},
    {"mistral", detail::build_llama},
    {"mt5", detail::build_t5},
    {"opt", detail::build_opt},
    {"pegasus", detail::build_pegasus},
    {"qwen2", detail::build_llama},
    {"roberta", detail::build_roberta},
    {"t5", detail::build_t5},
    {"vit", detail::build_vit},
    {"wav2vec2", detail::build_wav2vec2},
    {"xlm-roberta", detail::build_roberta},
};

const Family* find_family(const std::string& model_type) {
  for (const Family& f : kFamilies)
    if (model_type == f.model_type) return &f;
  return nullptr;
}

}  // namespace

std::vector<std::string> supported_model_types() {
  std::vector<std::string> out;
  for (const Family& f : kFamilies) out.emplace_back(f.model_type);
  std::sort(out.begin(), out.end());
  return out;
}

bool has_builder(const std::string& model_type) { return find_family(model_type) != nullptr; }

ArchGraph build_graph(const HfConfig& config, const std::string& name, const GraphLimits& limits) {
  const Family* f = find_family(config.model_type());
  if (!f) config.fail("no graph builder for model_type '" + config.model_type() + "'");
  {
    Net counter(config.source(), nullptr, limits);  // sizes the graph; throws over the limits
    f->build(counter, config);
  }
  GraphBuilder builder(config.source());
  Net net(config.source(), &builder, limits);
  f->build(net, config);
  return builder.finish(name, "huggingface", net.params(), false, limits);
}

}  // namespace archbert::hf
