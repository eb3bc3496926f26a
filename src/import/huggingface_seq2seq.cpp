// Graph builders of the encoder-decoder models: T5 / mT5 and the BART family (BART, mBART,
// Pegasus, Marian).
#include "import/huggingface_families.h"

#include <vector>

#include "import/huggingface_blocks.h"

namespace archbert::hf::detail {

// T5 / mT5 / Flan-T5: shared embedding, pre-norm RMS (T5LayerNorm) blocks without biases, a
// relative position bias table (num_buckets, heads) in the first block of each stack that
// every block of that stack adds to its self-attention scores, ReLU or gated-GELU FFN.
void build_t5(Net& n, const HfConfig& c) {
  const int64_t d = c.dim("d_model");
  const int64_t dkv = c.dim("d_kv");
  const int64_t ff = c.dim("d_ff");
  const int64_t L = c.layers("num_layers");
  const int64_t Ld = c.has("num_decoder_layers") ? c.layers("num_decoder_layers") : L;
  const int64_t nh = c.dim("num_heads");
  const int64_t buckets = c.dim("relative_attention_num_buckets", 32);
  const int64_t V = c.dim("vocab_size");
  if (nh * dkv > kMaxDim) c.fail("num_heads * d_kv is too large");
  const int64_t inner = nh * dkv;
  const std::string proj = c.str("feed_forward_proj", "relu");
  const bool gated = proj.rfind("gated-", 0) == 0;
  std::string act_name = gated ? proj.substr(6) : proj;
  if (gated && act_name == "gelu") act_name = "gelu_new";  // as T5Config does
  const Act act = activation(c, act_name);
  const bool tied = c.flag("tie_word_embeddings", true);
  Target t = target(c, "", {Head::kBase, Head::kCondGen, Head::kEncoderOnly});

  auto rms = [&](const std::string& name, int from) {
    return n.norm(Op::kRmsNorm, name, d, false, {from}, "T5LayerNorm");
  };
  auto attn = [&](const std::string& path, int x, int kv, int pos) {
    Attn a = separate_attn(path, kT5Names, path + ".o", path + ".dropout", d);
    a.q_dim = inner;
    a.qkv_bias = a.o_bias = false;
    return attention(n, a, x, kv, pos);
  };
  // Every T5 sub-layer `layer.<j>`: layer_norm -> body -> dropout -> add.
  auto pre_ln = [](const std::string& layer) {
    return Sublayer{layer + ".layer_norm", layer + ".dropout", layer + ".add"};
  };
  auto ffn = [&](const std::string& layer, int x) {
    const std::string m = layer + ".DenseReluDense";
    Ffn f;
    f.path = m;
    f.fc1 = gated ? m + ".wi_0" : m + ".wi";
    f.up = gated ? m + ".wi_1" : "";
    f.act = m + ".act";
    f.mid_dropout = m + ".dropout";
    f.fc2 = m + ".wo";
    f.d_model = d;
    f.d_ff = ff;
    f.a = act;
    f.bias = false;
    return residual(n, pre_ln(layer), x, rms, [&](int h) { return feed_forward(n, f, h); });
  };
  auto self_attention = [&](const std::string& block, int x, int& pos) {
    const std::string l = block + ".layer.0";
    if (pos < 0) pos = n.pos_enc(l + ".SelfAttention.relative_attention_bias", {buckets, nh});
    return residual(n, pre_ln(l), x, rms,
                    [&](int h) { return attn(l + ".SelfAttention", h, h, pos); });
  };

  int x = n.embedding("shared", V, d, {n.input("input_ids")});
  x = n.dropout("encoder.dropout", x);
  int pos = -1;
  for (int64_t i = 0; i < L; ++i) {
    const std::string b = "encoder.block." + str(i);
    x = ffn(b + ".layer.1", self_attention(b, x, pos));
  }
  const int enc = n.dropout("encoder.dropout", rms("encoder.final_layer_norm", x));
  if (t.head == Head::kEncoderOnly) {
    n.output("last_hidden_state", enc);
    return;
  }
  int y = n.embedding("decoder.embed_tokens", V, d, {n.input("decoder_input_ids")}, false);
  y = n.dropout("decoder.dropout", y);
  pos = -1;
  for (int64_t i = 0; i < Ld; ++i) {
    const std::string b = "decoder.block." + str(i);
    y = self_attention(b, y, pos);
    const std::string l = b + ".layer.1";
    y = residual(n, pre_ln(l), y, rms,
                 [&](int h) { return attn(l + ".EncDecAttention", h, enc, -1); });
    y = ffn(b + ".layer.2", y);
  }
  y = n.dropout("decoder.dropout", rms("decoder.final_layer_norm", y));
  if (t.head == Head::kBase) {
    n.output("last_hidden_state", y);
    n.output("encoder_last_hidden_state", enc);
    return;
  }
  n.output("logits", lm_head(n, "lm_head", V, d, false, tied, y));
}

// ------------------------------------------------------------------------ BART family

namespace {

enum class BartKind { kBart, kMBart, kPegasus, kMarian };

// BART, mBART, Pegasus, Marian: encoder-decoder with a shared token embedding.
//   BART    post-LN, learned positions (max_pos + 2), layernorm_embedding
//   mBART   pre-LN,  learned positions (max_pos + 2), layernorm_embedding + final layer_norm
//   Pegasus pre-LN,  sinusoidal positions (max_pos),   final layer_norm
//   Marian  post-LN, sinusoidal positions (max_pos)
// Sinusoidal tables are frozen nn.Parameters and are counted, as model.parameters() does.
// final_logits_bias is a buffer, not a parameter.
void build_bart_like(Net& n, const HfConfig& c, BartKind kind) {
  const int64_t d = c.dim("d_model");
  const int64_t Le = c.layers("encoder_layers");
  const int64_t Ld = c.layers("decoder_layers");
  heads(c, {"encoder_attention_heads"}, d);
  heads(c, {"decoder_attention_heads"}, d);
  const int64_t Fe = c.dim("encoder_ffn_dim");
  const int64_t Fd = c.dim("decoder_ffn_dim");
  const int64_t V = c.dim("vocab_size");
  const int64_t P = c.dim("max_position_embeddings", 1024);
  const Act act = activation(c, c.str("activation_function", "gelu"));
  const bool pre = kind == BartKind::kMBart || kind == BartKind::kPegasus;
  const bool ln_embedding = kind == BartKind::kBart || kind == BartKind::kMBart;
  const bool final_ln = kind == BartKind::kMBart || kind == BartKind::kPegasus;
  const bool learned = kind == BartKind::kBart || kind == BartKind::kMBart;
  const bool tied = c.flag("tie_word_embeddings", true);
  const bool marian_split =
      kind == BartKind::kMarian && !c.flag("share_encoder_decoder_embeddings", true);
  const int64_t Vd = marian_split ? c.dim("decoder_vocab_size", V) : V;
  std::vector<Head> allowed = {Head::kBase, Head::kCondGen, Head::kSeqCls, Head::kQA};
  if (kind == BartKind::kPegasus || kind == BartKind::kMarian)
    allowed = {Head::kBase, Head::kCondGen};
  Target t = target(c, "model", allowed);
  const std::string& p = t.prefix;
  const std::string pos_cls =
      learned ? "LearnedPositionalEmbedding" : "SinusoidalPositionalEmbedding";

  auto attn = [&](const std::string& path, int x, int kv) {
    return attention(n, separate_attn(path, kProjNames, path + ".out_proj", path + ".dropout", d),
                     x, kv);
  };
  // residual block: [pre-LN] f [post-LN], with dropout before the residual sum.
  auto block = [&](const std::string& l, const std::string& norm, int x, auto&& f) {
    return residual(n, {l + "." + norm, l + ".dropout", l + ".add_" + norm, pre}, x,
                    layer_norm_of(n, d), f);
  };
  auto ffn = [&](const std::string& l, int64_t dff, int x) {
    Ffn f = mlp(l + ".fc1", l + ".activation_fn", l + ".fc2", d, dff, act);
    f.mid_dropout = l + ".activation_dropout";
    return feed_forward(n, f, x);
  };
  auto embed = [&](const std::string& stack, int tokens) {
    int pos = n.pos_enc(p + stack + ".embed_positions", {learned ? P + 2 : P, d}, pos_cls);
    int x = n.sum(p + stack + ".add_positions", {tokens, pos});
    if (ln_embedding) x = n.layer_norm(p + stack + ".layernorm_embedding", d, x);
    return n.dropout(p + stack + ".dropout", x);
  };

  int x = embed("encoder", n.embedding(p + "shared", V, d, {n.input("input_ids")}));
  for (int64_t i = 0; i < Le; ++i) {
    const std::string l = p + "encoder.layers." + str(i);
    x = block(l, "self_attn_layer_norm", x, [&](int h) { return attn(l + ".self_attn", h, h); });
    x = block(l, "final_layer_norm", x, [&](int h) { return ffn(l, Fe, h); });
  }
  if (final_ln) x = n.layer_norm(p + "encoder.layer_norm", d, x);
  const int enc = x;

  int tok =
      n.embedding(p + "decoder.embed_tokens", Vd, d, {n.input("decoder_input_ids")}, marian_split);
  int y = embed("decoder", tok);
  for (int64_t i = 0; i < Ld; ++i) {
    const std::string l = p + "decoder.layers." + str(i);
    y = block(l, "self_attn_layer_norm", y, [&](int h) { return attn(l + ".self_attn", h, h); });
    y = block(l, "encoder_attn_layer_norm", y,
              [&](int h) { return attn(l + ".encoder_attn", h, enc); });
    y = block(l, "final_layer_norm", y, [&](int h) { return ffn(l, Fd, h); });
  }
  if (final_ln) y = n.layer_norm(p + "decoder.layer_norm", d, y);

  switch (t.head) {
    case Head::kBase:
      n.output("last_hidden_state", y);
      n.output("encoder_last_hidden_state", enc);
      return;
    case Head::kCondGen:
      n.output("logits", lm_head(n, "lm_head", Vd, d, false, tied, y));
      return;
    case Head::kSeqCls: {
      int e = n.op(Op::kSlice, "classification_head.eos_token", {y}, "getitem");
      e = n.dropout("classification_head.dropout", e);
      e = n.linear("classification_head.dense", d, d, true, {e});
      e = n.op(Op::kTanh, "classification_head.tanh", {e}, "tanh");
      e = n.dropout("classification_head.dropout", e);
      n.output("logits", n.linear("classification_head.out_proj", c.num_labels(), d, true, {e}));
      return;
    }
    case Head::kQA:
      qa_head(n, "qa_outputs", d, y);
      return;
    default:
      c.fail("unsupported head");
  }
}

}  // namespace

void build_bart(Net& n, const HfConfig& c) { build_bart_like(n, c, BartKind::kBart); }
void build_mbart(Net& n, const HfConfig& c) { build_bart_like(n, c, BartKind::kMBart); }
void build_pegasus(Net& n, const HfConfig& c) { build_bart_like(n, c, BartKind::kPegasus); }
void build_marian(Net& n, const HfConfig& c) { build_bart_like(n, c, BartKind::kMarian); }

}  // namespace archbert::hf::detail
