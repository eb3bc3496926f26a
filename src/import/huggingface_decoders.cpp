// Graph builders of the decoder-only (GPT family) models: GPT-2, GPT-Neo, GPT-J, GPT-NeoX,
// BLOOM, OPT, Llama / Mistral / Qwen2.
#include "import/huggingface_families.h"

#include "import/huggingface_blocks.h"

namespace archbert::hf::detail {

namespace {

// The head shared by causal decoders: lm_head / score / classifier / qa_outputs.
void causal_head(Net& n, const HfConfig& c, Head head, int64_t H, int64_t V, bool tied,
                 bool lm_bias, int seq) {
  switch (head) {
    case Head::kBase:
      n.output("last_hidden_state", seq);
      return;
    case Head::kCausalLM:
      n.output("logits", lm_head(n, "lm_head", V, H, lm_bias, tied, seq));
      return;
    case Head::kSeqCls: {
      // Scores every position, then picks the last non-padding token.
      int s = n.linear("score", c.num_labels(), H, false, {seq});
      n.output("logits", n.op(Op::kSlice, "score.last_token", {s}, "getitem"));
      return;
    }
    case Head::kTokenCls:
      dropout_classifier(n, c.num_labels(), H, seq);
      return;
    case Head::kQA:
      qa_head(n, "qa_outputs", H, seq);
      return;
    default:
      c.fail("unsupported head");
  }
}

// The GPT-2 / GPT-Neo stack: wte + wpe -> drop -> pre-LN blocks h.<i> (ln_1 -> attention ->
// resid_dropout, ln_2 -> mlp -> dropout) -> ln_f. GPT-2 has a fused c_attn and Conv1D layers
// (weights stored (in, out); shapes here are (out, in)); GPT-Neo separate bias-free q/k/v
// projections in attn.attention and nn.Linear layers.
int gpt_stack(Net& n, const std::string& p, int64_t V, int64_t P, int64_t H, int64_t L, int64_t I,
              const Act& act, bool neo) {
  int ids = n.input("input_ids");
  int x = n.embedding(p + "wte", V, H, {ids});
  int pos = n.pos_enc(p + "wpe", {P, H});
  x = n.sum(p + "add_wpe", {x, pos});
  x = n.dropout(p + "drop", x);
  const auto ln = layer_norm_of(n, H);
  for (int64_t i = 0; i < L; ++i) {
    const std::string h = p + "h." + str(i);
    Attn at;
    if (neo) {
      const std::string ap = h + ".attn.attention";
      at = separate_attn(ap, kProjNames, ap + ".out_proj", ap + ".attn_dropout", H);
      at.qkv_bias = false;
    } else {
      at = fused_attn(h + ".attn", "c_attn", h + ".attn.c_proj", h + ".attn.attn_dropout", H);
      at.cls = "Conv1D";
    }
    const std::string resid = (neo ? at.path : h + ".attn") + ".resid_dropout";
    x = residual(n, {h + ".ln_1", resid, h + ".add_attn"}, x, ln,
                 [&](int a) { return attention(n, at, a, a); });
    Ffn f = mlp(h + ".mlp.c_fc", h + ".mlp.act", h + ".mlp.c_proj", H, I, act);
    if (!neo) f.cls = "Conv1D";
    x = residual(n, {h + ".ln_2", h + ".mlp.dropout", h + ".add_mlp"}, x, ln,
                 [&](int m) { return feed_forward(n, f, m); });
  }
  return n.layer_norm(p + "ln_f", H, x);
}

}  // namespace

// GPT-2: learned positions, pre-LN blocks, fused c_attn (Conv1D), tied lm_head.
void build_gpt2(Net& n, const HfConfig& c) {
  const int64_t H = c.dim_any({"n_embd", "hidden_size"});
  const int64_t L = c.layers(c.has("n_layer") ? "n_layer" : "num_hidden_layers");
  const int64_t P = c.dim_any({"n_positions", "max_position_embeddings"}, 1024);
  const int64_t V = c.dim("vocab_size");
  const int64_t I = c.has("n_inner") ? c.dim("n_inner") : 4 * H;
  heads(c, {"n_head", "num_attention_heads"}, H);
  const Act act = activation(c, c.str("activation_function", "gelu_new"));
  if (c.flag("add_cross_attention", false)) c.fail("add_cross_attention is not supported");
  Target t = target(c, "transformer",
                    {Head::kBase, Head::kCausalLM, Head::kSeqCls, Head::kTokenCls, Head::kQA});
  const int x = gpt_stack(n, t.prefix, V, P, H, L, I, act, false);
  causal_head(n, c, t.head, H, V, c.flag("tie_word_embeddings", true), false, x);
}

// GPT-Neo: like GPT-2 with separate bias-free q/k/v projections and nn.Linear MLPs.
void build_gpt_neo(Net& n, const HfConfig& c) {
  const int64_t H = c.dim("hidden_size");
  const int64_t L = c.layers("num_layers");
  const int64_t P = c.dim("max_position_embeddings", 2048);
  const int64_t V = c.dim("vocab_size");
  const int64_t I = c.has("intermediate_size") ? c.dim("intermediate_size") : 4 * H;
  heads(c, {"num_heads"}, H);
  const Act act = activation(c, c.str("activation_function", "gelu_new"));
  Target t = target(c, "transformer",
                    {Head::kBase, Head::kCausalLM, Head::kSeqCls, Head::kTokenCls, Head::kQA});
  const int x = gpt_stack(n, t.prefix, V, P, H, L, I, act, true);
  causal_head(n, c, t.head, H, V, c.flag("tie_word_embeddings", true), false, x);
}

// GPT-J: rotary positions (no table), attention and MLP in parallel from ln_1, untied lm_head
// with a bias.
void build_gptj(Net& n, const HfConfig& c) {
  const int64_t H = c.dim_any({"n_embd", "hidden_size"});
  const int64_t L = c.layers("n_layer");
  const int64_t V = c.dim("vocab_size");
  const int64_t I = c.has("n_inner") ? c.dim("n_inner") : 4 * H;
  heads(c, {"n_head"}, H);
  const Act act = activation(c, c.str("activation_function", "gelu_new"));
  Target t = target(c, "transformer", {Head::kBase, Head::kCausalLM, Head::kSeqCls, Head::kQA});
  const std::string& p = t.prefix;
  int x = n.embedding(p + "wte", V, H, {n.input("input_ids")});
  x = n.dropout(p + "drop", x);
  for (int64_t i = 0; i < L; ++i) {
    const std::string h = p + "h." + str(i);
    int a = n.layer_norm(h + ".ln_1", H, x);
    const std::string ap = h + ".attn";
    Attn at = separate_attn(ap, kProjNames, ap + ".out_proj", ap + ".attn_dropout", H);
    at.qkv_bias = at.o_bias = false;
    int att = attention(n, at, a, a);
    att = n.dropout(at.path + ".resid_dropout", att);
    const Ffn f = mlp(h + ".mlp.fc_in", h + ".mlp.act", h + ".mlp.fc_out", H, I, act);
    int m = n.dropout(h + ".mlp.dropout", feed_forward(n, f, a));
    x = n.sum(h + ".add", {att, m, x});
  }
  x = n.layer_norm(p + "ln_f", H, x);
  causal_head(n, c, t.head, H, V, c.flag("tie_word_embeddings", false), true, x);
}

// GPT-NeoX (Pythia): fused query_key_value, rotary, optional parallel residual, untied embed_out.
void build_gpt_neox(Net& n, const HfConfig& c) {
  const int64_t H = c.dim("hidden_size");
  const int64_t L = c.layers("num_hidden_layers");
  const int64_t V = c.dim("vocab_size");
  const int64_t I = c.dim("intermediate_size");
  heads(c, {"num_attention_heads"}, H);
  const Act act = activation(c, c.str("hidden_act", "gelu"));
  const bool parallel = c.flag("use_parallel_residual", true);
  const bool bias = c.flag("attention_bias", true);
  Target t = target(c, "gpt_neox", {Head::kBase, Head::kCausalLM, Head::kSeqCls});
  const std::string& p = t.prefix;
  int x = n.embedding(p + "embed_in", V, H, {n.input("input_ids")});
  x = n.dropout(p + "emb_dropout", x);
  for (int64_t i = 0; i < L; ++i) {
    const std::string l = p + "layers." + str(i);
    int a = n.layer_norm(l + ".input_layernorm", H, x);
    const std::string ap = l + ".attention";
    Attn at = fused_attn(ap, "query_key_value", ap + ".dense", ap + ".attention_dropout", H);
    at.qkv_bias = at.o_bias = bias;
    int att = n.dropout(l + ".post_attention_dropout", attention(n, at, a, a));
    const Ffn f =
        mlp(l + ".mlp.dense_h_to_4h", l + ".mlp.act", l + ".mlp.dense_4h_to_h", H, I, act);
    if (parallel) {
      int m = n.layer_norm(l + ".post_attention_layernorm", H, x);
      m = n.dropout(l + ".post_mlp_dropout", feed_forward(n, f, m));
      x = n.sum(l + ".add", {att, m, x});
    } else {
      x = n.sum(l + ".add_attention", {att, x});
      int m = n.layer_norm(l + ".post_attention_layernorm", H, x);
      m = n.dropout(l + ".post_mlp_dropout", feed_forward(n, f, m));
      x = n.sum(l + ".add_mlp", {m, x});
    }
  }
  x = n.layer_norm(p + "final_layer_norm", H, x);
  if (t.head == Head::kCausalLM) {
    bool tied = c.flag("tie_word_embeddings", false);
    n.output("logits", lm_head(n, "embed_out", V, H, false, tied, x));
    return;
  }
  causal_head(n, c, t.head, H, V, true, false, x);
}

// BLOOM: embedding LayerNorm, fused query_key_value, ALiBi (no table), tied lm_head.
void build_bloom(Net& n, const HfConfig& c) {
  const int64_t H = c.dim_any({"hidden_size", "n_embed"});
  const int64_t L = c.layers(c.has("n_layer") ? "n_layer" : "num_hidden_layers");
  const int64_t V = c.dim("vocab_size");
  heads(c, {"n_head", "num_attention_heads"}, H);
  const bool post_ln_residual = c.flag("apply_residual_connection_post_layernorm", false);
  const Act gelu{Op::kGelu, "bloom_gelu"};
  Target t = target(c, "transformer",
                    {Head::kBase, Head::kCausalLM, Head::kSeqCls, Head::kTokenCls, Head::kQA});
  const std::string& p = t.prefix;
  int x = n.embedding(p + "word_embeddings", V, H, {n.input("input_ids")});
  x = n.layer_norm(p + "word_embeddings_layernorm", H, x);
  for (int64_t i = 0; i < L; ++i) {
    const std::string l = p + "h." + str(i);
    int a = n.layer_norm(l + ".input_layernorm", H, x);
    const std::string ap = l + ".self_attention";
    const Attn at = fused_attn(ap, "query_key_value", ap + ".dense", ap + ".attention_dropout", H);
    int att = n.dropout(at.path + ".hidden_dropout", attention(n, at, a, a));
    x = n.sum(l + ".add_attention", {att, post_ln_residual ? a : x});
    int m = n.layer_norm(l + ".post_attention_layernorm", H, x);
    const Ffn f = mlp(l + ".mlp.dense_h_to_4h", l + ".mlp.gelu_impl", l + ".mlp.dense_4h_to_h", H,
                      4 * H, gelu);
    int o = n.dropout(l + ".mlp.hidden_dropout", feed_forward(n, f, m));
    x = n.sum(l + ".add_mlp", {o, post_ln_residual ? m : x});
  }
  x = n.layer_norm(p + "ln_f", H, x);
  causal_head(n, c, t.head, H, V, c.flag("tie_word_embeddings", true), false, x);
}

// OPT: learned positions with an offset of 2, optional project_in/out, pre- or post-LN.
void build_opt(Net& n, const HfConfig& c) {
  const int64_t H = c.dim("hidden_size");
  const int64_t L = c.layers("num_hidden_layers");
  const int64_t F = c.dim("ffn_dim");
  const int64_t V = c.dim("vocab_size");
  const int64_t P = c.dim("max_position_embeddings", 2048);
  const int64_t W = c.dim("word_embed_proj_dim", H);
  heads(c, {"num_attention_heads"}, H);
  const bool pre = c.flag("do_layer_norm_before", true);
  const bool bias = c.flag("enable_bias", true);
  const bool affine = c.flag("layer_norm_elementwise_affine", true);
  const bool final_ln = pre && !c.flag("_remove_final_layer_norm", false);
  const Act act = activation(c, c.str("activation_function", "relu"));
  Target t = target(c, "model", {Head::kBase, Head::kCausalLM, Head::kSeqCls, Head::kQA});
  const std::string p = t.head == Head::kBase ? "decoder." : "model.decoder.";
  auto ln = [&](const std::string& name, int from) {
    return n.norm(Op::kLayerNorm, name, H, affine, {from}, "LayerNorm", affine);
  };
  int x = n.embedding(p + "embed_tokens", V, W, {n.input("input_ids")});
  if (W != H) x = n.linear(p + "project_in", H, W, false, {x});
  int pos = n.pos_enc(p + "embed_positions", {P + 2, H}, "OPTLearnedPositionalEmbedding");
  x = n.sum(p + "add_positions", {x, pos});
  x = n.dropout(p + "dropout", x);
  for (int64_t i = 0; i < L; ++i) {
    const std::string l = p + "layers." + str(i);
    const std::string ap = l + ".self_attn";
    Attn at = separate_attn(ap, kProjNames, ap + ".out_proj", ap + ".dropout", H);
    at.qkv_bias = at.o_bias = bias;
    Ffn f = mlp(l + ".fc1", l + ".activation_fn", l + ".fc2", H, F, act);
    f.bias = bias;
    x = residual(n, {l + ".self_attn_layer_norm", l + ".dropout", l + ".add_attention", pre}, x, ln,
                 [&](int a) { return attention(n, at, a, a); });
    x = residual(n, {l + ".final_layer_norm", l + ".dropout", l + ".add_mlp", pre}, x, ln,
                 [&](int m) { return feed_forward(n, f, m); });
  }
  if (final_ln) x = ln(p + "final_layer_norm", x);
  if (W != H) x = n.linear(p + "project_out", W, H, false, {x});
  causal_head(n, c, t.head, W, V, c.flag("tie_word_embeddings", true), false, x);
}

// Llama, Mistral, Qwen2: RMSNorm, rotary positions, grouped-query attention, SwiGLU MLP.
void build_llama(Net& n, const HfConfig& c) {
  const bool qwen2 = c.model_type() == "qwen2";
  const int64_t H = c.dim("hidden_size");
  const int64_t L = c.layers("num_hidden_layers");
  const int64_t I = c.dim("intermediate_size");
  const int64_t V = c.dim("vocab_size");
  const int64_t nh = c.dim("num_attention_heads");
  const int64_t kvh = c.dim("num_key_value_heads", nh);
  if (nh % kvh != 0) c.fail("num_attention_heads is not a multiple of num_key_value_heads");
  if (!c.has("head_dim") && H % nh != 0)
    c.fail("hidden_size is not a multiple of num_attention_heads");
  const int64_t hd = c.dim("head_dim", H / nh);
  const bool attn_bias = c.flag("attention_bias", false);
  const bool mlp_bias = c.flag("mlp_bias", false);
  const Act act = activation(c, c.str("hidden_act", "silu"));
  Target t = target(c, "model", {Head::kBase, Head::kCausalLM, Head::kSeqCls});
  const std::string& p = t.prefix;
  auto rms = [&](const std::string& name, int from) {
    return n.norm(Op::kRmsNorm, name, H, false, {from}, "RMSNorm");
  };
  int x = n.embedding(p + "embed_tokens", V, H, {n.input("input_ids")});
  for (int64_t i = 0; i < L; ++i) {
    const std::string l = p + "layers." + str(i);
    Attn at = separate_attn(l + ".self_attn", kProjNames, l + ".self_attn.o_proj", "", H);
    at.q_dim = nh * hd;
    at.kv_dim = kvh * hd;
    at.qkv_bias = qwen2 || attn_bias;
    at.o_bias = attn_bias && !qwen2;
    x = residual(n, {l + ".input_layernorm", "", l + ".add_attention"}, x, rms,
                 [&](int a) { return attention(n, at, a, a); });
    Ffn f = mlp(l + ".mlp.gate_proj", l + ".mlp.act_fn", l + ".mlp.down_proj", H, I, act);
    f.path = l + ".mlp";
    f.up = f.path + ".up_proj";
    f.bias = mlp_bias;
    x = residual(n, {l + ".post_attention_layernorm", "", l + ".add_mlp"}, x, rms,
                 [&](int m) { return feed_forward(n, f, m); });
  }
  x = rms(p + "norm", x);
  causal_head(n, c, t.head, H, V, c.flag("tie_word_embeddings", false), false, x);
}

}  // namespace archbert::hf::detail
