// Graph builders of the vision and speech encoders: ViT, DeiT and wav2vec 2.0.
#include "import/huggingface_families.h"

#include <vector>

#include "import/huggingface_blocks.h"

namespace archbert::hf::detail {

namespace {

// ViT / DeiT: patch embedding conv (hidden, channels, p, p) with stride p -> flatten -> concat
// with the class (and DeiT distillation) token -> + position embeddings -> pre-LN encoder ->
// final layernorm -> classifier on the first token (or pooler for the base model).
void build_vit_like(Net& n, const HfConfig& c, bool deit) {
  const int64_t H = c.dim("hidden_size");
  const int64_t L = c.layers("num_hidden_layers");
  const int64_t I = c.dim("intermediate_size");
  const int64_t C = c.dim("num_channels", 3);
  const int64_t ps = c.dim("patch_size", 16);
  heads(c, {"num_attention_heads"}, H);
  std::vector<int64_t> img = c.dims("image_size", {224});
  if (img.size() == 1) img.push_back(img[0]);
  if (img.size() != 2) c.fail("\"image_size\" is not one or two integers");
  const int64_t patches = (img[0] / ps) * (img[1] / ps);
  if (patches < 1) c.fail("image_size is smaller than patch_size");
  const bool qkv_bias = c.flag("qkv_bias", true);
  const Act act = activation(c, c.str("hidden_act", "gelu"));
  Target t = target(c, deit ? "deit" : "vit",
                    deit ? std::vector<Head>{Head::kBase, Head::kImageCls, Head::kImageClsTeacher}
                         : std::vector<Head>{Head::kBase, Head::kImageCls});
  const std::string& p = t.prefix;
  const std::string e = p + "embeddings";
  int x = n.weighted(Op::kConv, e + ".patch_embeddings.projection", {H, C, ps, ps}, H, true,
                     {n.input("pixel_values")}, "Conv2d");
  x = n.op(Op::kFlatten, e + ".patch_embeddings.flatten", {x}, "flatten");
  Ids cat = {n.pos_enc(e + ".cls_token", {1, 1, H}, "Parameter")};
  if (deit) cat.push_back(n.pos_enc(e + ".distillation_token", {1, 1, H}, "Parameter"));
  cat.push_back(x);
  x = n.op(Op::kConcat, e + ".cat", cat, "cat");
  int pos = n.pos_enc(e + ".position_embeddings", {1, patches + (deit ? 2 : 1), H}, "Parameter");
  x = n.dropout(e + ".dropout", n.sum(e + ".add_position_embeddings", {x, pos}));
  const auto ln = layer_norm_of(n, H);
  for (int64_t i = 0; i < L; ++i) {
    const std::string l = p + "encoder.layer." + str(i);
    const std::string ap = l + ".attention.attention";
    Attn a = separate_attn(ap, kQueryKeyValue, l + ".attention.output.dense", ap + ".dropout", H);
    a.qkv_bias = qkv_bias;
    x = residual(n,
                 {l + ".layernorm_before", l + ".attention.output.dropout", l + ".add_attention"},
                 x, ln, [&](int h) { return attention(n, a, h, h); });
    const Ffn f = mlp(l + ".intermediate.dense", l + ".intermediate.intermediate_act_fn",
                      l + ".output.dense", H, I, act);
    x = residual(n, {l + ".layernorm_after", l + ".output.dropout", l + ".output.add"}, x, ln,
                 [&](int h) { return feed_forward(n, f, h); });
  }
  x = n.layer_norm(p + "layernorm", H, x);
  const int64_t labels = c.num_labels();
  switch (t.head) {
    case Head::kBase:
      n.output("last_hidden_state", x);
      n.output("pooler_output", pooler(n, "pooler.dense", "pooler.activation", H, x));
      return;
    case Head::kImageCls:
      n.output("logits",
               n.linear("classifier", labels, H, true, {n.first_token("cls_token_output", x)}));
      return;
    case Head::kImageClsTeacher: {
      int a = n.linear("cls_classifier", labels, H, true, {n.first_token("cls_token_output", x)});
      int b = n.linear("distillation_classifier", labels, H, true,
                       {n.op(Op::kSlice, "distillation_token_output", {x}, "getitem")});
      n.output("logits", n.sum("average_logits", {a, b}));
      return;
    }
    default:
      c.fail("unsupported head");
  }
}

}  // namespace

void build_vit(Net& n, const HfConfig& c) { build_vit_like(n, c, false); }
void build_deit(Net& n, const HfConfig& c) { build_vit_like(n, c, true); }

// --------------------------------------------------------------------------- wav2vec2

// wav2vec 2.0: 1-D conv feature extractor (GroupNorm after the first conv, or LayerNorm after
// every conv) -> feature projection -> masked_spec_embed (a parameter of size hidden, used to
// mask time steps in training) -> grouped positional conv (weight-normed: weight_v + weight_g +
// bias) -> transformer (post-LN, or pre-LN for do_stable_layer_norm) -> CTC head.
void build_wav2vec2(Net& n, const HfConfig& c) {
  const int64_t H = c.dim("hidden_size");
  const int64_t L = c.layers("num_hidden_layers");
  const int64_t I = c.dim("intermediate_size");
  heads(c, {"num_attention_heads"}, H);
  const std::vector<int64_t> dims = c.dims("conv_dim", {512, 512, 512, 512, 512, 512, 512});
  const std::vector<int64_t> kernels = c.dims("conv_kernel", {10, 3, 3, 3, 3, 2, 2});
  if (dims.size() != kernels.size()) c.fail("conv_dim and conv_kernel differ in length");
  const bool conv_bias = c.flag("conv_bias", false);
  const std::string norm = c.str("feat_extract_norm", "group");
  if (norm != "group" && norm != "layer")
    c.fail("feat_extract_norm must be 'group' or 'layer', not '" + norm + "'");
  const Act feat_act = activation(c, c.str("feat_extract_activation", "gelu"));
  const Act act = activation(c, c.str("hidden_act", "gelu"));
  const int64_t K = c.dim("num_conv_pos_embeddings", 128);
  const int64_t G = c.dim("num_conv_pos_embedding_groups", 16);
  if (H % G != 0) c.fail("hidden_size is not a multiple of num_conv_pos_embedding_groups");
  const bool stable = c.flag("do_stable_layer_norm", false);
  const bool masked = c.number("mask_time_prob", 0.05) > 0 || c.number("mask_feature_prob", 0) > 0;
  if (c.flag("add_adapter", false)) c.fail("add_adapter is not supported");
  Target t = target(c, "wav2vec2", {Head::kBase, Head::kCtc, Head::kSeqCls});
  const std::string& p = t.prefix;

  int x = n.input("input_values");
  int64_t in = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    const std::string l = p + "feature_extractor.conv_layers." + str(static_cast<int64_t>(i));
    x = n.weighted(Op::kConv, l + ".conv", {dims[i], in, kernels[i]}, conv_bias ? dims[i] : 0, true,
                   {x}, "Conv1d");
    if (norm == "layer")
      x = n.layer_norm(l + ".layer_norm", dims[i], x);
    else if (i == 0)  // GroupNorm(num_groups = channels): per-channel affine
      x = n.norm(Op::kGroupNorm, l + ".layer_norm", dims[i], true, {x}, "GroupNorm");
    x = n.act(feat_act, l + ".activation", x);
    in = dims[i];
  }
  x = n.layer_norm(p + "feature_projection.layer_norm", in, x);
  x = n.linear(p + "feature_projection.projection", H, in, true, {x});
  x = n.dropout(p + "feature_projection.dropout", x);
  if (masked) x = n.weighted(Op::kMask, p + "masked_spec_embed", {H}, 0, true, {x}, "Parameter");
  const std::string e = p + "encoder";
  // weight_norm(dim=2): weight_v (H, H/G, K) + weight_g (1, 1, K), plus the bias (H).
  int pc = n.weighted(G > 1 ? Op::kSepConv : Op::kConv, e + ".pos_conv_embed.conv", {H, H / G, K},
                      K + H, true, {x}, "Conv1d");
  pc = n.act(feat_act, e + ".pos_conv_embed.activation", pc);
  x = n.sum(e + ".add_pos_conv", {x, pc});
  if (!stable) x = n.layer_norm(e + ".layer_norm", H, x);
  x = n.dropout(e + ".dropout", x);
  const auto ln = layer_norm_of(n, H);
  for (int64_t i = 0; i < L; ++i) {
    const std::string l = e + ".layers." + str(i);
    const std::string ap = l + ".attention";
    const Attn a = separate_attn(ap, kProjNames, ap + ".out_proj", ap + ".dropout", H);
    const std::string ff = l + ".feed_forward";
    Ffn f = mlp(ff + ".intermediate_dense", ff + ".intermediate_act_fn", ff + ".output_dense", H, I,
                act);
    f.mid_dropout = ff + ".intermediate_dropout";
    x = residual(n, {l + ".layer_norm", l + ".dropout", l + ".add_attention", stable}, x, ln,
                 [&](int h) { return attention(n, a, h, h); });
    x = residual(n,
                 {l + ".final_layer_norm", ff + ".output_dropout", l + ".add_feed_forward", stable},
                 x, ln, [&](int h) { return feed_forward(n, f, h); });
  }
  if (stable) x = n.layer_norm(e + ".layer_norm", H, x);
  switch (t.head) {
    case Head::kBase:
      n.output("last_hidden_state", x);
      return;
    case Head::kCtc: {
      const int64_t V = c.dim("vocab_size");
      n.output("logits", n.linear("lm_head", V, H, true, {n.dropout("dropout", x)}));
      return;
    }
    case Head::kSeqCls: {
      const int64_t proj = c.dim("classifier_proj_size", 256);
      if (c.flag("use_weighted_layer_sum", false))
        x = n.weighted(Op::kMul, "layer_weights", {L + 1}, 0, true, {x}, "Parameter");
      int h = n.linear("projector", proj, H, true, {x});
      h = n.op(Op::kReduce, "mean_pool", {h}, "mean");
      n.output("logits", n.linear("classifier", c.num_labels(), proj, true, {h}));
      return;
    }
    default:
      c.fail("unsupported head");
  }
}

}  // namespace archbert::hf::detail
