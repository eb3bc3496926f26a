// Shared blocks of the Hugging Face graph builders: activations, attention, feed-forward, task
// heads and the parser of the head a class name selects (see huggingface_blocks.h).
#include "import/huggingface_blocks.h"

#include <algorithm>
#include <map>

namespace archbert::hf::detail {

// Maps transformers' ACT2FN names to canonical ops (all GELU variants are `gelu`).
Act activation(const HfConfig& c, const std::string& name) {
  static const std::map<std::string, Op> kTable = {
      {"gelu", Op::kGelu},        {"gelu_new", Op::kGelu},
      {"gelu_fast", Op::kGelu},   {"gelu_pytorch_tanh", Op::kGelu},
      {"gelu_python", Op::kGelu}, {"gelu_accurate", Op::kGelu},
      {"gelu_10", Op::kGelu},     {"quick_gelu", Op::kGelu},
      {"relu", Op::kRelu},        {"relu6", Op::kRelu6},
      {"silu", Op::kSilu},        {"swish", Op::kSilu},
      {"tanh", Op::kTanh},        {"sigmoid", Op::kSigmoid},
      {"mish", Op::kMish},        {"leaky_relu", Op::kLeakyRelu}};
  auto it = kTable.find(name);
  if (it == kTable.end()) c.fail("unsupported activation function '" + name + "'");
  return {it->second, name};
}

Attn separate_attn(const std::string& path, const QkvNames& names, const std::string& o,
                   const std::string& probs_dropout, int64_t width) {
  Attn a;
  a.path = path;
  a.q = path + "." + names.q;
  a.k = path + "." + names.k;
  a.v = path + "." + names.v;
  a.o = o;
  a.probs_dropout = probs_dropout;
  a.d_model = a.q_dim = width;
  return a;
}

Attn fused_attn(const std::string& path, const std::string& qkv, const std::string& o,
                const std::string& probs_dropout, int64_t width) {
  Attn a;
  a.path = path;
  a.qkv = path + "." + qkv;
  a.o = o;
  a.probs_dropout = probs_dropout;
  a.d_model = a.q_dim = width;
  return a;
}

int attention(Net& n, const Attn& a, int x, int kv_from, int pos_bias) {
  const int64_t kv_dim = a.kv_dim ? a.kv_dim : a.q_dim;
  const int64_t kv_in = a.kv_in ? a.kv_in : a.d_model;
  int q, k, v;
  if (!a.qkv.empty()) {
    int p =
        n.linear(a.qkv, a.q_dim + 2 * kv_dim, a.d_model, a.qkv_bias, {x}, a.cls, own_if(a.owned));
    q = k = v = n.op(Op::kSplit, a.qkv + ".split", {p}, "split");
  } else {
    q = n.linear(a.q, a.q_dim, a.d_model, a.qkv_bias, {x}, a.cls, own_if(a.owned));
    k = n.linear(a.k, kv_dim, kv_in, a.qkv_bias, {kv_from}, a.cls, own_if(a.owned));
    v = n.linear(a.v, kv_dim, kv_in, a.qkv_bias, {kv_from}, a.cls, own_if(a.owned));
  }
  int s = n.op(Op::kMatmul, a.path + ".matmul_qk", {q, k}, "matmul");
  if (pos_bias >= 0) s = n.sum(a.path + ".add_position_bias", {s, pos_bias});
  s = n.op(Op::kSoftmax, a.path + ".softmax", {s}, "softmax");
  if (!a.probs_dropout.empty()) s = n.dropout(a.probs_dropout, s);
  int ctx = n.op(Op::kMatmul, a.path + ".matmul_av", {s, v}, "matmul");
  return n.linear(a.o, a.o_out ? a.o_out : a.d_model, a.q_dim, a.o_bias, {ctx}, a.cls,
                  own_if(a.owned));
}

Ffn mlp(const std::string& fc1, const std::string& act, const std::string& fc2, int64_t d_model,
        int64_t d_ff, const Act& a) {
  Ffn f;
  f.fc1 = fc1;
  f.act = act;
  f.fc2 = fc2;
  f.d_model = d_model;
  f.d_ff = d_ff;
  f.a = a;
  return f;
}

int feed_forward(Net& n, const Ffn& f, int x) {
  int h = n.linear(f.fc1, f.d_ff, f.d_model, f.bias, {x}, f.cls, own_if(f.owned));
  h = n.act(f.a, f.act, h);
  if (!f.up.empty()) {
    int u = n.linear(f.up, f.d_ff, f.d_model, f.bias, {x}, f.cls, own_if(f.owned));
    h = n.op(Op::kMul, f.path + ".mul", {h, u}, "mul");
  }
  if (!f.mid_dropout.empty()) h = n.dropout(f.mid_dropout, h);
  return n.linear(f.fc2, f.d_model, f.d_ff, f.bias, {h}, f.cls, own_if(f.owned));
}

// Checks heads divide the width, as the HF attention modules do.
int64_t heads(const HfConfig& c, std::initializer_list<const char*> keys, int64_t width) {
  int64_t h = c.dim_any(keys, std::nullopt, 1, kMaxDim);
  if (width % h != 0)
    c.fail("width " + str(width) + " is not a multiple of the number of attention heads (" +
           str(h) + ")");
  return h;
}

// ---------------------------------------------------------------------------- heads

namespace {

struct HeadSuffix {
  const char* suffix;
  Head head;
};

constexpr HeadSuffix kHeadSuffixes[] = {
    {"ForMaskedLM", Head::kMaskedLM},
    {"LMHeadModel", Head::kCausalLM},
    {"ForCausalLM", Head::kCausalLM},
    {"ForPreTraining", Head::kPreTraining},
    {"ForSequenceClassification", Head::kSeqCls},
    {"ForTokenClassification", Head::kTokenCls},
    {"ForQuestionAnswering", Head::kQA},
    {"ForMultipleChoice", Head::kMultipleChoice},
    {"ForNextSentencePrediction", Head::kNextSentence},
    {"ForConditionalGeneration", Head::kCondGen},
    {"MTModel", Head::kCondGen},
    {"EncoderModel", Head::kEncoderOnly},
    {"ForImageClassificationWithTeacher", Head::kImageClsTeacher},
    {"ForImageClassification", Head::kImageCls},
    {"ForCTC", Head::kCtc},
    {"DoubleHeadsModel", Head::kUnsupported},
};

const char* head_label(Head h) {
  switch (h) {
    case Head::kBase:
      return "base model";
    case Head::kMaskedLM:
      return "ForMaskedLM";
    case Head::kCausalLM:
      return "ForCausalLM/LMHeadModel";
    case Head::kPreTraining:
      return "ForPreTraining";
    case Head::kSeqCls:
      return "ForSequenceClassification";
    case Head::kTokenCls:
      return "ForTokenClassification";
    case Head::kQA:
      return "ForQuestionAnswering";
    case Head::kMultipleChoice:
      return "ForMultipleChoice";
    case Head::kNextSentence:
      return "ForNextSentencePrediction";
    case Head::kCondGen:
      return "ForConditionalGeneration";
    case Head::kEncoderOnly:
      return "EncoderModel";
    case Head::kImageCls:
      return "ForImageClassification";
    case Head::kImageClsTeacher:
      return "ForImageClassificationWithTeacher";
    case Head::kCtc:
      return "ForCTC";
    case Head::kUnsupported:
      break;
  }
  return "?";
}

Head parse_head(const std::string& arch) {
  if (arch.empty()) return Head::kBase;
  for (const HeadSuffix& h : kHeadSuffixes)
    if (ends_with(arch, h.suffix)) return h.head;
  if (ends_with(arch, "Model") && arch.find("For") == std::string::npos) return Head::kBase;
  return Head::kUnsupported;
}

}  // namespace

Target target(const HfConfig& c, const std::string& base_attr, const std::vector<Head>& allowed) {
  const std::string arch = c.architecture();
  Head h = parse_head(arch);
  if (std::find(allowed.begin(), allowed.end(), h) == allowed.end()) {
    std::string list;
    for (Head a : allowed) list += std::string(list.empty() ? "" : ", ") + head_label(a);
    c.fail("architecture '" + arch + "' is not supported for model_type '" + c.model_type() +
           "' (supported: " + list + ")");
  }
  return {h, h == Head::kBase || base_attr.empty() ? std::string() : base_attr + "."};
}

// ------------------------------------------------------------------------ shared heads

int pooler(Net& n, const std::string& dense, const std::string& act_name, int64_t hidden, int x) {
  int f = n.first_token(dense + ".first_token", x);
  int d = n.linear(dense, hidden, hidden, true, {f});
  return n.op(Op::kTanh, act_name, {d}, "Tanh");
}

int lm_head(Net& n, const std::string& name, int64_t vocab, int64_t hidden, bool bias, bool tied,
            int x) {
  return n.linear(name, vocab, hidden, bias, {x}, "Linear", tied ? Own::kBias : Own::kAll);
}

int mlm_head(Net& n, const std::string& dense, const std::string& act_name, const std::string& norm,
             const std::string& decoder, const Act& act, int64_t hidden, int64_t width,
             int64_t vocab, bool tied, int x) {
  int h = n.linear(dense, width, hidden, true, {x});
  h = n.act(act, act_name, h);
  h = n.layer_norm(norm, width, h);
  return lm_head(n, decoder, vocab, width, true, tied, h);
}

void qa_head(Net& n, const std::string& name, int64_t hidden, int x) {
  int q = n.linear(name, 2, hidden, true, {x});
  int s = n.op(Op::kSplit, name + ".split", {q}, "split");
  n.output("start_logits", s);
  n.output("end_logits", s);
}

void dropout_classifier(Net& n, int64_t out, int64_t hidden, int x) {
  int d = n.dropout("dropout", x);
  n.output("logits", n.linear("classifier", out, hidden, true, {d}));
}

}  // namespace archbert::hf::detail
