// Graph builders of the BERT-like encoders: BERT, RoBERTa (CamemBERT, XLM-R), ELECTRA,
// Longformer, ALBERT and DistilBERT.
#include "import/huggingface_families.h"

#include <algorithm>
#include <vector>

#include "import/huggingface_blocks.h"

namespace archbert::hf::detail {

namespace {

enum class BertKind { kBert, kRoberta, kElectra, kLongformer };

// word + token type + position embeddings -> LayerNorm -> dropout (BERT, RoBERTa, ELECTRA,
// ALBERT). `type_ids` may be -1 (single-segment models still own a token type table).
int bert_embeddings(Net& n, const std::string& p, int64_t vocab, int64_t max_pos,
                    int64_t type_vocab, int64_t width, int ids, int type_ids) {
  int x = n.embedding(p + ".word_embeddings", vocab, width, {ids});
  if (type_vocab > 0) {
    int t = n.embedding(p + ".token_type_embeddings", type_vocab, width, {type_ids});
    x = n.sum(p + ".add_token_type", {x, t});
  }
  int pos = n.pos_enc(p + ".position_embeddings", {max_pos, width});
  x = n.sum(p + ".add_position", {x, pos});
  x = n.layer_norm(p + ".LayerNorm", width, x);
  return n.dropout(p + ".dropout", x);
}

// One post-LN BERT layer (attention.self / attention.output / intermediate / output).
int bert_layer(Net& n, const std::string& p, int64_t hidden, int64_t inter, int64_t head_dim,
               int64_t max_pos, const Act& act, bool relative, bool longformer, int x) {
  const Attn a = separate_attn(p + ".attention.self", kQueryKeyValue, p + ".attention.output.dense",
                               p + ".attention.self.dropout", hidden);
  auto self_attention = [&](int h) {
    int pos = -1;
    if (relative)  // position_embedding_type relative_key(_query): one distance table per layer
      pos = n.pos_enc(a.path + ".distance_embedding", {2 * max_pos - 1, head_dim});
    if (!longformer) return attention(n, a, h, h, pos);
    // Longformer: local (sliding window) attention with query/key/value plus global attention
    // with query_global/key_global/value_global; both feed the output projection.
    Attn g = a;
    g.path = a.path + ".global";
    g.q = a.path + ".query_global";
    g.k = a.path + ".key_global";
    g.v = a.path + ".value_global";
    const int64_t w = hidden;
    int q = n.linear(a.q, w, w, true, {h});
    int k = n.linear(a.k, w, w, true, {h});
    int v = n.linear(a.v, w, w, true, {h});
    int s = n.op(Op::kMatmul, a.path + ".matmul_qk", {q, k}, "matmul");
    s = n.op(Op::kSoftmax, a.path + ".softmax", {s}, "softmax");
    s = n.dropout(a.probs_dropout, s);
    int ctx = n.op(Op::kMatmul, a.path + ".matmul_av", {s, v}, "matmul");
    int gq = n.linear(g.q, w, w, true, {h});
    int gk = n.linear(g.k, w, w, true, {h});
    int gv = n.linear(g.v, w, w, true, {h});
    int gs = n.op(Op::kMatmul, g.path + ".matmul_qk", {gq, gk}, "matmul");
    gs = n.op(Op::kSoftmax, g.path + ".softmax", {gs}, "softmax");
    int gctx = n.op(Op::kMatmul, g.path + ".matmul_av", {gs, gv}, "matmul");
    return n.linear(a.o, w, w, true, {ctx, gctx});
  };
  const auto ln = layer_norm_of(n, hidden);
  const std::string ao = p + ".attention.output";
  x = residual(n, {ao + ".LayerNorm", ao + ".dropout", ao + ".add", false}, x, ln, self_attention);
  const Ffn f = mlp(p + ".intermediate.dense", p + ".intermediate.intermediate_act_fn",
                    p + ".output.dense", hidden, inter, act);
  return residual(n, {p + ".output.LayerNorm", p + ".output.dropout", p + ".output.add", false}, x,
                  ln, [&](int h) { return feed_forward(n, f, h); });
}

void build_bert_like(Net& n, const HfConfig& c, BertKind kind) {
  const bool electra = kind == BertKind::kElectra;
  const bool roberta_style = kind == BertKind::kRoberta || kind == BertKind::kLongformer;
  const int64_t H = c.dim("hidden_size");
  const int64_t L = c.layers("num_hidden_layers");
  const int64_t I = c.dim("intermediate_size");
  const int64_t V = c.dim("vocab_size");
  const int64_t P = c.dim("max_position_embeddings", 512);
  const int64_t T = c.dim("type_vocab_size", 2, 0);
  const int64_t E = electra ? c.dim("embedding_size", H) : H;
  const int64_t nh = heads(c, {"num_attention_heads"}, H);
  const Act act = activation(c, c.str("hidden_act", "gelu"));
  const std::string pos_type = c.str("position_embedding_type", "absolute");
  if (pos_type != "absolute" && pos_type != "relative_key" && pos_type != "relative_key_query")
    c.fail("unsupported position_embedding_type '" + pos_type + "'");
  const bool relative = pos_type != "absolute";
  const bool tied = c.flag("tie_word_embeddings", true);
  const std::string base_attr = kind == BertKind::kBert      ? "bert"
                                : kind == BertKind::kElectra ? "electra"
                                : kind == BertKind::kRoberta ? "roberta"
                                                             : "longformer";
  const std::vector<Head> allowed = {
      Head::kBase, Head::kMaskedLM,       Head::kCausalLM,    Head::kSeqCls,      Head::kTokenCls,
      Head::kQA,   Head::kMultipleChoice, Head::kPreTraining, Head::kNextSentence};
  Target t = target(c, base_attr, allowed);
  if ((kind != BertKind::kBert && t.head == Head::kNextSentence) ||
      (roberta_style && t.head == Head::kPreTraining) ||
      (electra && t.head == Head::kMultipleChoice) ||
      (kind == BertKind::kLongformer && t.head == Head::kCausalLM))
    c.fail("architecture '" + c.architecture() + "' is not supported for model_type '" +
           c.model_type() + "'");
  const std::string& p = t.prefix;

  int ids = n.input("input_ids");
  int type_ids = T > 1 ? n.input("token_type_ids") : -1;
  int x = bert_embeddings(n, p + "embeddings", V, P, T, E, ids, type_ids);
  if (electra && E != H) x = n.linear(p + "embeddings_project", H, E, true, {x});
  for (int64_t i = 0; i < L; ++i)
    x = bert_layer(n, p + "encoder.layer." + str(i), H, I, H / nh, P, act, relative,
                   kind == BertKind::kLongformer, x);
  const int seq = x;
  const bool has_pooler = !electra;
  auto pool = [&] { return pooler(n, p + "pooler.dense", p + "pooler.activation", H, seq); };
  const int64_t labels = c.num_labels();
  const Act gelu{Op::kGelu, "gelu"};

  switch (t.head) {
    case Head::kBase:
      n.output("last_hidden_state", seq);
      if (has_pooler) n.output("pooler_output", pool());
      return;
    case Head::kMaskedLM:
    case Head::kCausalLM:
    case Head::kPreTraining:
      if (electra && t.head == Head::kPreTraining) {
        int h = n.linear("discriminator_predictions.dense", H, H, true, {seq});
        h = n.act(act, "discriminator_predictions.activation", h);
        n.output("logits", n.linear("discriminator_predictions.dense_prediction", 1, H, true, {h}));
      } else if (electra) {
        n.output("logits",
                 mlm_head(n, "generator_predictions.dense", "generator_predictions.activation",
                          "generator_predictions.LayerNorm", "generator_lm_head", gelu, H, E, V,
                          tied, seq));
      } else if (roberta_style) {
        n.output("logits", mlm_head(n, "lm_head.dense", "lm_head.gelu", "lm_head.layer_norm",
                                    "lm_head.decoder", gelu, H, H, V, tied, seq));
      } else {
        const std::string cp = "cls.predictions";
        n.output(t.head == Head::kPreTraining ? "prediction_logits" : "logits",
                 mlm_head(n, cp + ".transform.dense", cp + ".transform.transform_act_fn",
                          cp + ".transform.LayerNorm", cp + ".decoder", act, H, H, V, tied, seq));
        if (t.head == Head::kPreTraining)
          n.output("seq_relationship_logits",
                   n.linear("cls.seq_relationship", 2, H, true, {pool()}));
      }
      return;
    case Head::kNextSentence:
      n.output("logits", n.linear("cls.seq_relationship", 2, H, true, {pool()}));
      return;
    case Head::kSeqCls:
      if (kind == BertKind::kBert) {
        dropout_classifier(n, labels, H, pool());
      } else {  // RobertaClassificationHead / ElectraClassificationHead
        int f = n.first_token("classifier.first_token", seq);
        f = n.dropout("classifier.dropout", f);
        f = n.linear("classifier.dense", H, H, true, {f});
        f = electra ? n.act(gelu, "classifier.activation", f)
                    : n.op(Op::kTanh, "classifier.tanh", {f}, "tanh");
        f = n.dropout("classifier.dropout", f);
        n.output("logits", n.linear("classifier.out_proj", labels, H, true, {f}));
      }
      return;
    case Head::kTokenCls:
      dropout_classifier(n, labels, H, seq);
      return;
    case Head::kQA:
      qa_head(n, "qa_outputs", H, seq);
      return;
    case Head::kMultipleChoice:
      dropout_classifier(n, 1, H, pool());
      return;
    default:
      c.fail("unsupported head");
  }
}

// ALBERT: factorised embeddings (E < H) and one set of layer weights per group, applied
// num_hidden_layers times. Every application is in the graph; only the first owns the weights.
int albert_layer(Net& n, const std::string& p, int64_t H, int64_t I, const Act& act, bool owned,
                 int x) {
  const std::string ap = p + ".attention";
  Attn a = separate_attn(ap, kQueryKeyValue, ap + ".dense", ap + ".attention_dropout", H);
  a.owned = owned;
  const auto ln = layer_norm_of(n, H, owned);
  x = residual(n, {ap + ".LayerNorm", ap + ".output_dropout", ap + ".add", false}, x, ln,
               [&](int h) { return attention(n, a, h, h); });
  Ffn f = mlp(p + ".ffn", p + ".activation", p + ".ffn_output", H, I, act);
  f.owned = owned;
  return residual(n, {p + ".full_layer_layer_norm", p + ".dropout", p + ".add", false}, x, ln,
                  [&](int h) { return feed_forward(n, f, h); });
}

}  // namespace

void build_bert(Net& n, const HfConfig& c) { build_bert_like(n, c, BertKind::kBert); }
void build_roberta(Net& n, const HfConfig& c) { build_bert_like(n, c, BertKind::kRoberta); }
void build_electra(Net& n, const HfConfig& c) { build_bert_like(n, c, BertKind::kElectra); }
void build_longformer(Net& n, const HfConfig& c) { build_bert_like(n, c, BertKind::kLongformer); }

void build_albert(Net& n, const HfConfig& c) {
  const int64_t H = c.dim("hidden_size");
  const int64_t L = c.layers("num_hidden_layers");
  const int64_t G = c.dim("num_hidden_groups", 1, 1, L);
  const int64_t inner = c.dim("inner_group_num", 1, 1, kMaxLayers);
  const int64_t I = c.dim("intermediate_size");
  const int64_t V = c.dim("vocab_size");
  const int64_t P = c.dim("max_position_embeddings", 512);
  const int64_t T = c.dim("type_vocab_size", 2, 0);
  const int64_t E = c.dim("embedding_size", 128);
  heads(c, {"num_attention_heads"}, H);
  if (L * inner > kMaxLayers) c.fail("num_hidden_layers * inner_group_num is too large");
  const Act act = activation(c, c.str("hidden_act", "gelu_new"));
  const bool tied = c.flag("tie_word_embeddings", true);
  Target t = target(c, "albert",
                    {Head::kBase, Head::kMaskedLM, Head::kPreTraining, Head::kSeqCls,
                     Head::kTokenCls, Head::kQA, Head::kMultipleChoice});
  const std::string& p = t.prefix;
  int ids = n.input("input_ids");
  int type_ids = T > 1 ? n.input("token_type_ids") : -1;
  int x = bert_embeddings(n, p + "embeddings", V, P, T, E, ids, type_ids);
  x = n.linear(p + "encoder.embedding_hidden_mapping_in", H, E, true, {x});
  std::vector<char> used(static_cast<size_t>(G * inner), 0);
  for (int64_t i = 0; i < L; ++i) {
    // AlbertTransformer: group_idx = int(i / (num_hidden_layers / num_hidden_groups)).
    int64_t g = static_cast<int64_t>(static_cast<double>(i) /
                                     (static_cast<double>(L) / static_cast<double>(G)));
    g = std::min(g, G - 1);
    for (int64_t j = 0; j < inner; ++j) {
      char& u = used[static_cast<size_t>(g * inner + j)];
      x = albert_layer(n, p + "encoder.albert_layer_groups." + str(g) + ".albert_layers." + str(j),
                       H, I, act, !u, x);
      u = 1;
    }
  }
  const int seq = x;
  auto pool = [&] { return pooler(n, p + "pooler", p + "pooler_activation", H, seq); };
  auto mlm = [&] {
    return mlm_head(n, "predictions.dense", "predictions.activation", "predictions.LayerNorm",
                    "predictions.decoder", act, H, E, V, tied, seq);
  };
  const int64_t labels = c.num_labels();
  switch (t.head) {
    case Head::kBase:
      n.output("last_hidden_state", seq);
      n.output("pooler_output", pool());
      return;
    case Head::kMaskedLM:
      n.output("logits", mlm());
      return;
    case Head::kPreTraining: {
      n.output("prediction_logits", mlm());
      int d = n.dropout("sop_classifier.dropout", pool());
      n.output("sop_logits", n.linear("sop_classifier.classifier", 2, H, true, {d}));
      return;
    }
    case Head::kSeqCls:
    case Head::kMultipleChoice:
      dropout_classifier(n, t.head == Head::kSeqCls ? labels : 1, H, pool());
      return;
    case Head::kTokenCls:
      dropout_classifier(n, labels, H, seq);
      return;
    case Head::kQA:
      qa_head(n, "qa_outputs", H, seq);
      return;
    default:
      c.fail("unsupported head");
  }
}

// DistilBERT: BERT without token types or pooler; q_lin/k_lin/v_lin/out_lin naming.
void build_distilbert(Net& n, const HfConfig& c) {
  const int64_t H = c.dim_any({"dim", "hidden_size"});
  const int64_t L = c.layers("n_layers");
  const int64_t I = c.dim_any({"hidden_dim", "intermediate_size"});
  const int64_t V = c.dim("vocab_size");
  const int64_t P = c.dim("max_position_embeddings", 512);
  heads(c, {"n_heads", "num_attention_heads"}, H);
  const Act act = activation(c, c.str("activation", "gelu"));
  const bool tied = c.flag("tie_word_embeddings", true);
  Target t = target(c, "distilbert",
                    {Head::kBase, Head::kMaskedLM, Head::kSeqCls, Head::kTokenCls, Head::kQA,
                     Head::kMultipleChoice});
  const std::string& p = t.prefix;
  int ids = n.input("input_ids");
  int x = n.embedding(p + "embeddings.word_embeddings", V, H, {ids});
  // Sinusoidal tables (sinusoidal_pos_embds) are frozen but still nn.Parameters: counted.
  int pos = n.pos_enc(p + "embeddings.position_embeddings", {P, H});
  x = n.sum(p + "embeddings.add_position", {x, pos});
  x = n.layer_norm(p + "embeddings.LayerNorm", H, x);
  x = n.dropout(p + "embeddings.dropout", x);
  const auto ln = layer_norm_of(n, H);
  for (int64_t i = 0; i < L; ++i) {
    const std::string l = p + "transformer.layer." + str(i);
    const std::string ap = l + ".attention";
    const Attn a = separate_attn(ap, kLinNames, ap + ".out_lin", ap + ".dropout", H);
    x = residual(n, {l + ".sa_layer_norm", "", l + ".add_attention", false}, x, ln,
                 [&](int h) { return attention(n, a, h, h); });
    const Ffn f = mlp(l + ".ffn.lin1", l + ".ffn.activation", l + ".ffn.lin2", H, I, act);
    x = residual(n, {l + ".output_layer_norm", l + ".ffn.dropout", l + ".add_ffn", false}, x, ln,
                 [&](int h) { return feed_forward(n, f, h); });
  }
  const int seq = x;
  const int64_t labels = c.num_labels();
  switch (t.head) {
    case Head::kBase:
      n.output("last_hidden_state", seq);
      return;
    case Head::kMaskedLM:
      n.output("logits", mlm_head(n, "vocab_transform", "activation", "vocab_layer_norm",
                                  "vocab_projector", act, H, H, V, tied, seq));
      return;
    case Head::kSeqCls:
    case Head::kMultipleChoice: {
      int f = n.first_token("pre_classifier.first_token", seq);
      f = n.linear("pre_classifier", H, H, true, {f});
      f = n.op(Op::kRelu, "relu", {f}, "ReLU");
      f = n.dropout("dropout", f);
      n.output("logits",
               n.linear("classifier", t.head == Head::kSeqCls ? labels : 1, H, true, {f}));
      return;
    }
    case Head::kTokenCls:
      dropout_classifier(n, labels, H, seq);
      return;
    case Head::kQA:
      qa_head(n, "qa_outputs", H, n.dropout("dropout", seq));
      return;
    default:
      c.fail("unsupported head");
  }
}

}  // namespace archbert::hf::detail
