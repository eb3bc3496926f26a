// AutoNet network construction: a sampled genotype -> the canonical graph (DARTS cells as
// DeepNets-1M builds them, with the extended op set). See include/archbert/autonet.h.
//
// Layout of a network (input 3 x S x S, S = genotype.image_size):
//   stem:  conv kxk (3 -> stem_multiplier*C) [bn] [max|avg pool 3x3 stride 2]
//   cells: cell i has inputs s0 = output of cell i-2, s1 = output of cell i-1 (the stem for
//          the first ones), preprocessed by ReLU-conv1x1-BN, or for s0 by FactorizedReduce when
//          cell i-1 was a reduction cell. Reduction cells (at cells/3 and 2*cells/3) double C and
//          apply their ops on s0/s1 with stride 2. Each step sums two ops of earlier states; the
//          cell output concatenates all steps (steps*C channels).
//   head:  glob_avg | flatten, [linear, relu] dropout, linear -> classes.
// Preprocessing is created only when a step uses that input, so every node is live.
//
// Parameters (exact, from the shapes): conv weight numel (+ out bias when the network has no
// BatchNorm), bn 2C, ln 2C, linear o*i + o, pos_enc its L x C table. graph.params = sum of nodes.
#include <optional>

#include "archbert/autonet.h"
#include "archbert/error.h"

namespace archbert {
namespace {

// A tensor of the network under construction: its producing node, channels and spatial size.
struct Tensor {
  int id = -1;
  int64_t c = 0, h = 0, w = 0;
};

// Output size of a "same"-padded odd kernel (pad = dilation*(k-1)/2) with stride s.
int64_t strided(int64_t size, int64_t stride) { return (size - 1) / stride + 1; }

class NetBuilder {
 public:
  explicit NetBuilder(const AutoNetGenotype& g) : g_(g) {}

  std::vector<Node> nodes;
  std::vector<std::vector<int>> preds;
  std::vector<Kernel2> strides;

  int64_t params() const {
    int64_t p = 0;
    for (const Node& n : nodes) p += n.params;
    return p;
  }

  int add(Op op, std::string name, std::string source, std::vector<int> from,
          Kernel2 stride = {1, 1}) {
    Node n;
    n.op = op;
    n.name = std::move(name);
    n.source_op = std::move(source);
    nodes.push_back(std::move(n));
    preds.push_back(std::move(from));
    strides.push_back(stride);
    return static_cast<int>(nodes.size()) - 1;
  }

  Tensor input() {
    const int64_t s = g_.image_size;
    return {add(Op::kInput, "input", "input", {}), 3, s, s};
  }

  Tensor relu(Tensor x, const std::string& name, const std::string& src) {
    x.id = add(Op::kRelu, name, src, {x.id});
    return x;
  }

  Tensor conv(Tensor x, int64_t cout, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
              int64_t groups, int64_t dilation, const std::string& name, const std::string& src) {
    const Op op = dilation > 1 ? Op::kDilConv : groups > 1 ? Op::kSepConv : Op::kConv;
    const int id = add(op, name, src, {x.id}, {sh, sw});
    Node& n = nodes[id];
    const int64_t cin = x.c / groups;
    n.shape = Shape4{cout, cin, kh, kw};
    n.kernel = Kernel2{kh, kw};
    n.params = cout * cin * kh * kw + (g_.batch_norm ? 0 : cout);
    return {id, cout, strided(x.h, sh), strided(x.w, sw)};
  }

  // BatchNorm when the network has it, else nothing.
  Tensor bn(Tensor x, const std::string& name, const std::string& src) {
    if (!g_.batch_norm) return x;
    const int id = add(Op::kBatchNorm, name, src, {x.id});
    nodes[id].shape = Shape4{x.c, 1, 1, 1};
    nodes[id].params = 2 * x.c;
    x.id = id;
    return x;
  }

  Tensor pool(Op op, Tensor x, int64_t stride, const std::string& name, const std::string& src) {
    const int id = add(op, name, src, {x.id}, {stride, stride});
    nodes[id].kernel = Kernel2{3, 3};
    return {id, x.c, strided(x.h, stride), strided(x.w, stride)};
  }

  Tensor linear(Tensor x, int64_t out, const std::string& name, const std::string& src) {
    const int id = add(Op::kLinear, name, src, {x.id});
    nodes[id].shape = Shape4{out, x.c, 1, 1};
    nodes[id].params = out * x.c + out;
    x.id = id;
    x.c = out;
    return x;
  }

  Tensor ln(Tensor x, const std::string& name, const std::string& src) {
    const int id = add(Op::kLayerNorm, name, src, {x.id});
    nodes[id].shape = Shape4{x.c, 1, 1, 1};
    nodes[id].params = 2 * x.c;
    x.id = id;
    return x;
  }

  Tensor unary(Op op, Tensor x, const std::string& name, const std::string& src) {
    x.id = add(op, name, src, {x.id});
    return x;
  }

  Tensor binary(Op op, Tensor a, Tensor b, const std::string& name, const std::string& src) {
    std::vector<int> from = {a.id};
    if (b.id != a.id) from.push_back(b.id);
    a.id = add(op, name, src, std::move(from));
    return a;
  }

  // ReLU, conv kxk (stride s), BN.
  Tensor relu_conv_bn(Tensor x, int64_t cout, int64_t k, int64_t s, const std::string& p,
                      const std::string& src) {
    x = relu(x, p + ".relu", src);
    x = conv(x, cout, k, k, s, s, 1, 1, p + ".conv", src);
    return bn(x, p + ".bn", src);
  }

  // DARTS FactorizedReduce: ReLU, two 1x1 stride-2 convs (the second on the input shifted by
  // one pixel: a `slice`), concat, BN. Halves the resolution; cout must be even.
  Tensor factorized_reduce(Tensor x, int64_t cout, const std::string& p) {
    const std::string src = "factorized_reduce";
    x = relu(x, p + ".relu", src);
    Tensor a = conv(x, cout / 2, 1, 1, 2, 2, 1, 1, p + ".conv1", src);
    Tensor shifted = x;
    shifted.id = add(Op::kSlice, p + ".shift", src, {x.id});
    shifted.h -= 1;
    shifted.w -= 1;
    Tensor b = conv(shifted, cout / 2, 1, 1, 2, 2, 1, 1, p + ".conv2", src);
    Tensor cat{add(Op::kConcat, p + ".concat", src, {a.id, b.id}), cout, a.h, a.w};
    return bn(cat, p + ".bn", src);
  }

  // DARTS SepConv: (ReLU, depthwise kxk, pointwise 1x1, BN) twice, the first with stride s.
  Tensor sep_conv(Tensor x, int64_t k, int64_t s, const std::string& p, const std::string& src) {
    for (int half = 1; half <= 2; ++half) {
      const std::string h = std::to_string(half);
      const int64_t st = half == 1 ? s : 1;
      x = relu(x, p + ".relu" + h, src);
      x = conv(x, x.c, k, k, st, st, x.c, 1, p + ".dw" + h, src);
      x = conv(x, x.c, 1, 1, 1, 1, 1, 1, p + ".pw" + h, src);
      x = bn(x, p + ".bn" + h, src);
    }
    return x;
  }

  // DARTS DilConv: ReLU, depthwise kxk with dilation 2 (stride s), pointwise 1x1, BN.
  Tensor dil_conv(Tensor x, int64_t k, int64_t s, const std::string& p, const std::string& src) {
    x = relu(x, p + ".relu", src);
    x = conv(x, x.c, k, k, s, s, x.c, 2, p + ".dw", src);
    x = conv(x, x.c, 1, 1, 1, 1, 1, 1, p + ".pw", src);
    return bn(x, p + ".bn", src);
  }

  // DARTS conv_7x1_1x7: ReLU, conv 1x7 (stride (1,s)), conv 7x1 (stride (s,1)), BN.
  Tensor conv_7x1_1x7(Tensor x, int64_t s, const std::string& p, const std::string& src) {
    x = relu(x, p + ".relu", src);
    x = conv(x, x.c, 1, 7, 1, s, 1, 1, p + ".conv1x7", src);
    x = conv(x, x.c, 7, 1, s, 1, 1, 1, p + ".conv7x1", src);
    return bn(x, p + ".bn", src);
  }

  // Pre-norm transformer block over the h*w positions (stride 1 only):
  //   t = x + pos; t = t + proj(attn(ln1(t))); t = t + fc2(gelu(fc1(ln2(t)))).
  // Attention: one fused q/k/v linear (3C, C), matmul, softmax, matmul, output linear (C, C).
  Tensor transformer(Tensor x, const std::string& p, const std::string& src) {
    const int64_t c = x.c, tokens = x.h * x.w;
    Tensor pos = x;
    pos.id = add(Op::kPosEnc, p + ".pos_enc", src, {x.id});
    nodes[pos.id].shape = Shape4{tokens, c, 1, 1};
    nodes[pos.id].params = tokens * c;
    Tensor t = ln(pos, p + ".ln1", src);
    Tensor qkv = linear(t, 3 * c, p + ".attn.qkv", src);
    Tensor scores = unary(Op::kMatmul, qkv, p + ".attn.scores", src);
    Tensor probs = unary(Op::kSoftmax, scores, p + ".attn.softmax", src);
    Tensor ctx = binary(Op::kMatmul, probs, qkv, p + ".attn.context", src);
    ctx.c = c;
    Tensor proj = linear(ctx, c, p + ".attn.proj", src);
    Tensor res1 = binary(Op::kSum, pos, proj, p + ".add1", src);
    t = ln(res1, p + ".ln2", src);
    t = linear(t, c * g_.mlp_ratio, p + ".mlp.fc1", src);
    t = unary(Op::kGelu, t, p + ".mlp.gelu", src);
    t = linear(t, c, p + ".mlp.fc2", src);
    return binary(Op::kSum, res1, t, p + ".add2", src);
  }

  // Channel squeeze-excitation: x * hardswish(fc2(relu(fc1(glob_avg(x))))).
  Tensor squeeze_excite(Tensor x, const std::string& p, const std::string& src) {
    const int64_t hidden = std::max<int64_t>(4, x.c / g_.se_reduction);
    Tensor s = unary(Op::kGlobalAvgPool, x, p + ".pool", src);
    s = linear(s, hidden, p + ".fc1", src);
    s = relu(s, p + ".relu", src);
    s = linear(s, x.c, p + ".fc2", src);
    s = unary(Op::kHardswish, s, p + ".gate", src);
    return binary(Op::kMul, x, s, p + ".scale", src);
  }

  // One op of a step; nullopt for `none`. Identity at stride 1 returns `x` itself.
  std::optional<Tensor> apply(AutoNetOp op, Tensor x, int64_t s, const std::string& p) {
    const std::string name(autonet_op_name(op));
    const std::string q = p + "." + name;
    switch (op) {
      case AutoNetOp::kNone:
        return std::nullopt;
      case AutoNetOp::kMaxPool3x3:
        return pool(Op::kMaxPool, x, s, q, name);
      case AutoNetOp::kAvgPool3x3:
        return pool(Op::kAvgPool, x, s, q, name);
      case AutoNetOp::kSkipConnect:
        if (s == 1) return x;
        return factorized_reduce(x, x.c, q);
      case AutoNetOp::kSepConv3x3:
        return sep_conv(x, 3, s, p + ".sep_conv", name);
      case AutoNetOp::kSepConv5x5:
        return sep_conv(x, 5, s, p + ".sep_conv", name);
      case AutoNetOp::kDilConv3x3:
        return dil_conv(x, 3, s, p + ".dil_conv", name);
      case AutoNetOp::kDilConv5x5:
        return dil_conv(x, 5, s, p + ".dil_conv", name);
      case AutoNetOp::kConv1x1:
        return relu_conv_bn(x, x.c, 1, s, q, name);
      case AutoNetOp::kConv7x1_1x7:
        return conv_7x1_1x7(x, s, q, name);
      case AutoNetOp::kConv3x3:
        return relu_conv_bn(x, x.c, 3, s, q, name);
      case AutoNetOp::kConv5x5:
        return relu_conv_bn(x, x.c, 5, s, q, name);
      case AutoNetOp::kConv7x7:
        return relu_conv_bn(x, x.c, 7, s, q, name);
      case AutoNetOp::kTransformer:
        if (s != 1) break;
        return transformer(x, q, name);
      case AutoNetOp::kSqueezeExcite:
        if (s != 1) break;
        return squeeze_excite(x, q, name);
    }
    throw Error(ErrorKind::kInternal,
                "autonet: op " + name + " cannot have stride " + std::to_string(s));
  }

  // Cell `i` of `c` channels per step.
  Tensor cell(int i, Tensor s0, Tensor s1, bool reduction, bool reduction_prev, int64_t c) {
    const AutoNetCellGenotype& geno = reduction ? g_.reduce : g_.normal;
    const std::string p = "cells." + std::to_string(i);
    std::vector<std::optional<Tensor>> states(2 + geno.steps.size());
    auto state = [&](int k) -> Tensor {
      if (!states[k]) {
        if (k == 0)
          states[0] = reduction_prev ? factorized_reduce(s0, c, p + ".pre0")
                                     : relu_conv_bn(s0, c, 1, 1, p + ".pre0", "preprocess");
        else if (k == 1)
          states[1] = relu_conv_bn(s1, c, 1, 1, p + ".pre1", "preprocess");
        else
          throw Error(ErrorKind::kInternal,
                      "autonet: step input " + std::to_string(k) + " used before it is computed");
      }
      return *states[k];
    };
    std::vector<Tensor> outs;
    for (size_t j = 0; j < geno.steps.size(); ++j) {
      const AutoNetStep& step = geno.steps[j];
      const std::string sp = p + ".step" + std::to_string(j);
      std::vector<Tensor> terms;
      for (int k = 0; k < 2; ++k) {
        if (step.op[k] == AutoNetOp::kNone) continue;
        const int64_t s = reduction && step.input[k] < 2 ? 2 : 1;
        terms.push_back(
            *apply(step.op[k], state(step.input[k]), s, sp + ".op" + std::to_string(k)));
      }
      if (terms.empty()) throw Error(ErrorKind::kInternal, "autonet: step of two none ops");
      Tensor out = terms.size() == 2 ? binary(Op::kSum, terms[0], terms[1], sp + ".sum", "cell_sum")
                                     : terms[0];
      for (int k = 0; k < 2; ++k)
        if (out.id == states[k].value_or(Tensor{}).id || (j > 0 && out.id == outs.back().id))
          throw Error(ErrorKind::kInternal, "autonet: step output is not a new node");
      states[2 + j] = out;
      outs.push_back(out);
    }
    if (outs.size() == 1) return outs[0];
    Tensor cat = outs[0];
    std::vector<int> from;
    for (const Tensor& t : outs) from.push_back(t.id);
    cat.id = add(Op::kConcat, p + ".concat", "cell_concat", std::move(from));
    cat.c = c * static_cast<int64_t>(outs.size());
    return cat;
  }

  void network(int64_t channels) {
    Tensor x = input();
    const int64_t k = g_.stem_kernel;
    x = conv(x, channels * g_.stem_multiplier, k, k, 1, 1, 1, 1, "stem.conv", "stem");
    x = bn(x, "stem.bn", "stem");
    if (g_.stem_pool == AutoNetPool::kMax) x = pool(Op::kMaxPool, x, 2, "stem.pool", "stem");
    if (g_.stem_pool == AutoNetPool::kAvg) x = pool(Op::kAvgPool, x, 2, "stem.pool", "stem");
    Tensor s0 = x, s1 = x;
    int64_t c = channels;
    bool reduction_prev = false;
    for (int i = 0; i < g_.cells; ++i) {
      bool reduction = false;
      for (int r : g_.reduction_cells) reduction |= r == i;
      if (reduction) c *= 2;
      Tensor out = cell(i, s0, s1, reduction, reduction_prev, c);
      s0 = s1;
      s1 = out;
      reduction_prev = reduction;
    }
    x = s1;
    if (g_.head == AutoNetHead::kGlobalAvg) {
      x = unary(Op::kGlobalAvgPool, x, "head.pool", "head");
    } else {
      x = unary(Op::kFlatten, x, "head.flatten", "head");
      x.c *= x.h * x.w;
    }
    if (g_.fc_layers == 2) {
      x = linear(x, g_.fc_hidden, "head.fc1", "head");
      x = relu(x, "head.relu", "head");
      x = unary(Op::kDropout, x, "head.dropout", "head");
      x = linear(x, g_.num_classes, "head.fc2", "head");
    } else {
      x = unary(Op::kDropout, x, "head.dropout", "head");
      x = linear(x, g_.num_classes, "head.fc", "head");
    }
    add(Op::kOutput, "output", "output", {x.id});
  }

 private:
  const AutoNetGenotype& g_;
};

}  // namespace

// Parameters of the network of `genotype` at first-cell width `channels` (no graph built).
int64_t autonet_params(const AutoNetGenotype& genotype, int channels) {
  NetBuilder b(genotype);
  b.network(channels);
  return b.params();
}

AutoNet build_autonet(const AutoNetGenotype& genotype, int channels, const std::string& name) {
  NetBuilder nb(genotype);
  nb.network(channels);
  GraphBuilder gb(name);
  for (Node& n : nb.nodes) gb.add(std::move(n));
  for (size_t v = 0; v < nb.preds.size(); ++v)
    for (int p : nb.preds[v]) gb.connect(p, static_cast<int>(v));
  AutoNet net;
  net.genotype = genotype;
  net.genotype.channels = channels;
  net.genotype.params = nb.params();
  net.graph = gb.finish(name, "autonet", net.genotype.params, false);
  if (net.graph.nodes.size() != nb.nodes.size())
    throw Error(ErrorKind::kInternal, name + ": " +
                                          std::to_string(nb.nodes.size() - net.graph.nodes.size()) +
                                          " generated nodes were dead (a generator bug)");
  net.onnx.input_shape = {1, 3, genotype.image_size, genotype.image_size};
  net.onnx.strides = std::move(nb.strides);
  return net;
}

}  // namespace archbert
