#pragma once
// The TorchScript op table: aten / torchvision node kinds -> canonical ops (SPEC §2).
//
// Rules that are not a plain row of the table (applied in torchscript_importer.cpp):
// - Nodes whose outputs carry no tensor (aten::size, aten::Int, int/float/bool arithmetic,
//   aten::len, aten::format, ...) are shape or control bookkeeping: they get no node at all, and
//   edges only follow tensor-valued inputs.
// - prim:: nodes (ListConstruct, TupleConstruct, ListUnpack, TupleUnpack, __getitem__ on lists,
//   GetAttr, NumToTensor, unchecked_cast, ...) and the If / Loop plumbing are elided.
// - Tensor factories (zeros, ones, full, arange, empty, *_like, new_*, tensor, rand...) are
//   elided, and their tensor arguments (only read for dtype, device or shape) are not edges.
// - Any other tensor-producing op missing from the table becomes `other` (counted in the stats).
// - A node that consumes module parameters (constants after freezing) owns them: `shape` from
//   the parameter of highest rank (its stored sizes), `params` = numel of every distinct
//   parameter it reads (weight + bias + ...).
//
// Composite decompositions (the same in every importer):
//   aten::_native_multi_head_attention(q, k, v, E, H, qkv_w, qkv_b, proj_w, proj_b, ...)
//     -> linear(in_proj: qkv_w + qkv_b, fused q/k/v = ONE node) -> matmul (q k^T) -> softmax
//        -> matmul (attn v) -> linear(out_proj: proj_w + proj_b); output 1 (weights) = softmax.
//   The slow path of nn.MultiheadAttention (F.multi_head_attention_forward) is already
//   decomposed in the graph: linear (packed in_proj) + chunk + bmm/baddbmm + softmax + dropout
//   + bmm + linear, which this table maps op by op to the same form.
//   aten::scaled_dot_product_attention -> matmul -> softmax -> matmul.

#include <string_view>
#include <unordered_map>

#include "archbert/ops.h"

namespace archbert::ts {

// How a table row turns a node into canonical nodes.
enum class Rule : unsigned char {
  kPlain,        // always `op`
  kSlice,        // `op`, except a slice over the whole dimension (x[:, i]), which is elided
  kElide,        // pure layout / bookkeeping: removed, its edges rewired
  kFactory,      // a tensor factory (zeros_like, new_zeros, arange, ...): removed, and its tensor
                 // arguments (read only for dtype, device or shape) are not data flow
  kConv,         // conv, or dil_conv (any dilation > 1), or sep_conv (groups > 1), or
                 // conv_transpose (transposed flag); from the constant arguments
  kMatmulParam,  // linear when an operand is a parameter, else matmul
  kAddParam,     // pos_enc when an operand is a >= 2-D parameter (learned position embedding),
                 // else sum
  kExpandParam,  // pos_enc when the expanded tensor is a parameter (a class token), else elided
  kClamp,        // relu6 when the bounds are (0, 6), else clip
  kAdaptiveAvg,  // glob_avg when the output size is 1, else avg_pool
  kAdaptiveMax,  // glob_max when the output size is 1, else max_pool
  kPool,         // `op`, kernel from the kernel_size argument
  kMha,          // aten::_native_multi_head_attention, decomposed as above
  kSdpa,         // scaled_dot_product_attention, decomposed as above
};

struct OpRule {
  std::string_view kind;  // node kind, e.g. "aten::conv2d"
  Op op;
  Rule rule;
};

// clang-format off
inline constexpr OpRule kOpTable[] = {
    // Convolutions.
    {"aten::conv1d", Op::kConv, Rule::kConv},
    {"aten::conv2d", Op::kConv, Rule::kConv},
    {"aten::conv3d", Op::kConv, Rule::kConv},
    {"aten::_convolution", Op::kConv, Rule::kConv},
    {"aten::convolution", Op::kConv, Rule::kConv},
    {"aten::_convolution_mode", Op::kConv, Rule::kConv},
    {"aten::conv_transpose1d", Op::kConvTranspose, Rule::kPlain},
    {"aten::conv_transpose2d", Op::kConvTranspose, Rule::kPlain},
    {"aten::conv_transpose3d", Op::kConvTranspose, Rule::kPlain},
    {"torchvision::deform_conv2d", Op::kConv, Rule::kConv},
    // Linear layers and matrix products.
    {"aten::linear", Op::kLinear, Rule::kPlain},
    {"aten::addmm", Op::kLinear, Rule::kMatmulParam},
    {"aten::matmul", Op::kMatmul, Rule::kMatmulParam},
    {"aten::mm", Op::kMatmul, Rule::kMatmulParam},
    {"aten::bmm", Op::kMatmul, Rule::kMatmulParam},
    {"aten::baddbmm", Op::kMatmul, Rule::kMatmulParam},
    {"aten::einsum", Op::kMatmul, Rule::kMatmulParam},
    {"aten::bilinear", Op::kLinear, Rule::kPlain},
    {"aten::embedding", Op::kEmbedding, Rule::kPlain},
    {"aten::embedding_bag", Op::kEmbedding, Rule::kPlain},
    {"aten::_embedding_bag", Op::kEmbedding, Rule::kPlain},
    // Attention.
    {"aten::_native_multi_head_attention", Op::kAttention, Rule::kMha},
    {"aten::scaled_dot_product_attention", Op::kAttention, Rule::kSdpa},
    // Recurrent layers.
    {"aten::lstm", Op::kLstm, Rule::kPlain},
    {"aten::gru", Op::kGru, Rule::kPlain},
    {"aten::rnn_tanh", Op::kRnn, Rule::kPlain},
    {"aten::rnn_relu", Op::kRnn, Rule::kPlain},
    // Normalisation.
    {"aten::batch_norm", Op::kBatchNorm, Rule::kPlain},
    {"aten::_batch_norm_impl_index", Op::kBatchNorm, Rule::kPlain},
    {"aten::native_batch_norm", Op::kBatchNorm, Rule::kPlain},
    {"aten::layer_norm", Op::kLayerNorm, Rule::kPlain},
    {"aten::native_layer_norm", Op::kLayerNorm, Rule::kPlain},
    {"aten::group_norm", Op::kGroupNorm, Rule::kPlain},
    {"aten::native_group_norm", Op::kGroupNorm, Rule::kPlain},
    {"aten::instance_norm", Op::kInstanceNorm, Rule::kPlain},
    {"aten::rms_norm", Op::kRmsNorm, Rule::kPlain},
    // Activations.
    {"aten::relu", Op::kRelu, Rule::kPlain},
    {"aten::relu_", Op::kRelu, Rule::kPlain},
    {"aten::relu6", Op::kRelu6, Rule::kPlain},
    {"aten::relu6_", Op::kRelu6, Rule::kPlain},
    {"aten::hardtanh", Op::kClip, Rule::kClamp},
    {"aten::hardtanh_", Op::kClip, Rule::kClamp},
    {"aten::clamp", Op::kClip, Rule::kClamp},
    {"aten::clamp_", Op::kClip, Rule::kClamp},
    {"aten::clip", Op::kClip, Rule::kClamp},
    {"aten::clip_", Op::kClip, Rule::kClamp},
    {"aten::clamp_min", Op::kClip, Rule::kPlain},
    {"aten::clamp_min_", Op::kClip, Rule::kPlain},
    {"aten::clamp_max", Op::kClip, Rule::kPlain},
    {"aten::clamp_max_", Op::kClip, Rule::kPlain},
    {"aten::leaky_relu", Op::kLeakyRelu, Rule::kPlain},
    {"aten::leaky_relu_", Op::kLeakyRelu, Rule::kPlain},
    {"aten::prelu", Op::kPrelu, Rule::kPlain},
    {"aten::_prelu_kernel", Op::kPrelu, Rule::kPlain},
    {"aten::elu", Op::kElu, Rule::kPlain},
    {"aten::elu_", Op::kElu, Rule::kPlain},
    {"aten::celu", Op::kElu, Rule::kPlain},
    {"aten::celu_", Op::kElu, Rule::kPlain},
    {"aten::selu", Op::kSelu, Rule::kPlain},
    {"aten::selu_", Op::kSelu, Rule::kPlain},
    {"aten::gelu", Op::kGelu, Rule::kPlain},
    {"aten::gelu_", Op::kGelu, Rule::kPlain},
    {"aten::silu", Op::kSilu, Rule::kPlain},
    {"aten::silu_", Op::kSilu, Rule::kPlain},
    {"aten::mish", Op::kMish, Rule::kPlain},
    {"aten::mish_", Op::kMish, Rule::kPlain},
    {"aten::hardswish", Op::kHardswish, Rule::kPlain},
    {"aten::hardswish_", Op::kHardswish, Rule::kPlain},
    {"aten::hardsigmoid", Op::kHardsigmoid, Rule::kPlain},
    {"aten::hardsigmoid_", Op::kHardsigmoid, Rule::kPlain},
    {"aten::sigmoid", Op::kSigmoid, Rule::kPlain},
    {"aten::sigmoid_", Op::kSigmoid, Rule::kPlain},
    {"aten::tanh", Op::kTanh, Rule::kPlain},
    {"aten::tanh_", Op::kTanh, Rule::kPlain},
    {"aten::softplus", Op::kSoftplus, Rule::kPlain},
    {"aten::softmax", Op::kSoftmax, Rule::kPlain},
    {"aten::_softmax", Op::kSoftmax, Rule::kPlain},
    {"aten::log_softmax", Op::kLogSoftmax, Rule::kPlain},
    {"aten::_log_softmax", Op::kLogSoftmax, Rule::kPlain},
    // Pooling and resampling.
    {"aten::max_pool1d", Op::kMaxPool, Rule::kPool},
    {"aten::max_pool2d", Op::kMaxPool, Rule::kPool},
    {"aten::max_pool3d", Op::kMaxPool, Rule::kPool},
    {"aten::max_pool1d_with_indices", Op::kMaxPool, Rule::kPool},
    {"aten::max_pool2d_with_indices", Op::kMaxPool, Rule::kPool},
    {"aten::max_pool3d_with_indices", Op::kMaxPool, Rule::kPool},
    {"aten::avg_pool1d", Op::kAvgPool, Rule::kPool},
    {"aten::avg_pool2d", Op::kAvgPool, Rule::kPool},
    {"aten::avg_pool3d", Op::kAvgPool, Rule::kPool},
    {"aten::adaptive_avg_pool1d", Op::kGlobalAvgPool, Rule::kAdaptiveAvg},
    {"aten::adaptive_avg_pool2d", Op::kGlobalAvgPool, Rule::kAdaptiveAvg},
    {"aten::adaptive_avg_pool3d", Op::kGlobalAvgPool, Rule::kAdaptiveAvg},
    {"aten::adaptive_max_pool1d", Op::kGlobalMaxPool, Rule::kAdaptiveMax},
    {"aten::adaptive_max_pool2d", Op::kGlobalMaxPool, Rule::kAdaptiveMax},
    {"aten::adaptive_max_pool3d", Op::kGlobalMaxPool, Rule::kAdaptiveMax},
    {"aten::upsample_nearest1d", Op::kUpsample, Rule::kPlain},
    {"aten::upsample_nearest2d", Op::kUpsample, Rule::kPlain},
    {"aten::upsample_nearest3d", Op::kUpsample, Rule::kPlain},
    {"aten::upsample_linear1d", Op::kUpsample, Rule::kPlain},
    {"aten::upsample_bilinear2d", Op::kUpsample, Rule::kPlain},
    {"aten::upsample_bicubic2d", Op::kUpsample, Rule::kPlain},
    {"aten::upsample_trilinear3d", Op::kUpsample, Rule::kPlain},
    {"aten::_upsample_bilinear2d_aa", Op::kUpsample, Rule::kPlain},
    {"aten::_upsample_bicubic2d_aa", Op::kUpsample, Rule::kPlain},
    {"torchvision::_interpolate_bilinear2d_aa", Op::kUpsample, Rule::kPlain},
    {"torchvision::_interpolate_bicubic2d_aa", Op::kUpsample, Rule::kPlain},
    {"aten::pixel_shuffle", Op::kPixelShuffle, Rule::kPlain},
    {"aten::pixel_unshuffle", Op::kPixelShuffle, Rule::kPlain},
    {"aten::grid_sampler", Op::kGridSample, Rule::kPlain},
    {"aten::grid_sampler_2d", Op::kGridSample, Rule::kPlain},
    // Arithmetic between tensors (only when they produce a tensor; see the rules above).
    {"aten::add", Op::kSum, Rule::kAddParam},
    {"aten::add_", Op::kSum, Rule::kAddParam},
    {"aten::sub", Op::kSub, Rule::kPlain},
    {"aten::sub_", Op::kSub, Rule::kPlain},
    {"aten::rsub", Op::kSub, Rule::kPlain},
    {"aten::mul", Op::kMul, Rule::kPlain},
    {"aten::mul_", Op::kMul, Rule::kPlain},
    {"aten::div", Op::kDiv, Rule::kPlain},
    {"aten::div_", Op::kDiv, Rule::kPlain},
    {"aten::floor_divide", Op::kDiv, Rule::kPlain},
    {"aten::true_divide", Op::kDiv, Rule::kPlain},
    {"aten::pow", Op::kPow, Rule::kPlain},
    {"aten::square", Op::kPow, Rule::kPlain},
    {"aten::sqrt", Op::kUnaryMath, Rule::kPlain},
    {"aten::rsqrt", Op::kUnaryMath, Rule::kPlain},
    {"aten::exp", Op::kUnaryMath, Rule::kPlain},
    {"aten::exp_", Op::kUnaryMath, Rule::kPlain},
    {"aten::log", Op::kUnaryMath, Rule::kPlain},
    {"aten::log2", Op::kUnaryMath, Rule::kPlain},
    {"aten::log1p", Op::kUnaryMath, Rule::kPlain},
    {"aten::abs", Op::kUnaryMath, Rule::kPlain},
    {"aten::neg", Op::kUnaryMath, Rule::kPlain},
    {"aten::reciprocal", Op::kUnaryMath, Rule::kPlain},
    {"aten::erf", Op::kUnaryMath, Rule::kPlain},
    {"aten::sin", Op::kUnaryMath, Rule::kPlain},
    {"aten::cos", Op::kUnaryMath, Rule::kPlain},
    {"aten::floor", Op::kUnaryMath, Rule::kPlain},
    {"aten::ceil", Op::kUnaryMath, Rule::kPlain},
    {"aten::round", Op::kUnaryMath, Rule::kPlain},
    {"aten::sign", Op::kUnaryMath, Rule::kPlain},
    {"aten::sum", Op::kReduce, Rule::kPlain},
    {"aten::mean", Op::kReduce, Rule::kPlain},
    {"aten::prod", Op::kReduce, Rule::kPlain},
    {"aten::amax", Op::kReduce, Rule::kPlain},
    {"aten::amin", Op::kReduce, Rule::kPlain},
    {"aten::max", Op::kReduce, Rule::kPlain},
    {"aten::min", Op::kReduce, Rule::kPlain},
    {"aten::argmax", Op::kReduce, Rule::kPlain},
    {"aten::argmin", Op::kReduce, Rule::kPlain},
    {"aten::std", Op::kReduce, Rule::kPlain},
    {"aten::var", Op::kReduce, Rule::kPlain},
    {"aten::norm", Op::kReduce, Rule::kPlain},
    {"aten::linalg_vector_norm", Op::kReduce, Rule::kPlain},
    {"aten::logsumexp", Op::kReduce, Rule::kPlain},
    {"aten::all", Op::kReduce, Rule::kPlain},
    {"aten::any", Op::kReduce, Rule::kPlain},
    {"aten::cumsum", Op::kReduce, Rule::kPlain},
    {"aten::maximum", Op::kMinMax, Rule::kPlain},
    {"aten::minimum", Op::kMinMax, Rule::kPlain},
    {"aten::eq", Op::kCompare, Rule::kPlain},
    {"aten::ne", Op::kCompare, Rule::kPlain},
    {"aten::lt", Op::kCompare, Rule::kPlain},
    {"aten::le", Op::kCompare, Rule::kPlain},
    {"aten::gt", Op::kCompare, Rule::kPlain},
    {"aten::ge", Op::kCompare, Rule::kPlain},
    {"aten::__and__", Op::kCompare, Rule::kPlain},
    {"aten::__or__", Op::kCompare, Rule::kPlain},
    {"aten::logical_and", Op::kCompare, Rule::kPlain},
    {"aten::logical_or", Op::kCompare, Rule::kPlain},
    {"aten::logical_not", Op::kCompare, Rule::kPlain},
    {"aten::isnan", Op::kCompare, Rule::kPlain},
    // Tensor structure.
    {"aten::cat", Op::kConcat, Rule::kPlain},
    {"aten::concat", Op::kConcat, Rule::kPlain},
    {"aten::stack", Op::kConcat, Rule::kPlain},
    {"aten::hstack", Op::kConcat, Rule::kPlain},
    {"aten::vstack", Op::kConcat, Rule::kPlain},
    {"aten::chunk", Op::kSplit, Rule::kPlain},
    {"aten::unsafe_chunk", Op::kSplit, Rule::kPlain},
    {"aten::split", Op::kSplit, Rule::kPlain},
    {"aten::unsafe_split", Op::kSplit, Rule::kPlain},
    {"aten::split_with_sizes", Op::kSplit, Rule::kPlain},
    {"aten::tensor_split", Op::kSplit, Rule::kPlain},
    {"aten::unbind", Op::kSplit, Rule::kPlain},
    {"aten::slice", Op::kSlice, Rule::kSlice},
    {"aten::narrow", Op::kSlice, Rule::kPlain},
    {"aten::select", Op::kGather, Rule::kPlain},
    {"aten::index", Op::kGather, Rule::kPlain},
    {"aten::index_select", Op::kGather, Rule::kPlain},
    {"aten::gather", Op::kGather, Rule::kPlain},
    {"aten::take_along_dim", Op::kGather, Rule::kPlain},
    {"aten::flatten", Op::kFlatten, Rule::kPlain},
    {"aten::pad", Op::kPad, Rule::kPlain},
    {"aten::constant_pad_nd", Op::kPad, Rule::kPlain},
    {"aten::reflection_pad1d", Op::kPad, Rule::kPlain},
    {"aten::reflection_pad2d", Op::kPad, Rule::kPlain},
    {"aten::replication_pad1d", Op::kPad, Rule::kPlain},
    {"aten::replication_pad2d", Op::kPad, Rule::kPlain},
    {"aten::replication_pad3d", Op::kPad, Rule::kPlain},
    {"aten::_pad_circular", Op::kPad, Rule::kPlain},
    {"aten::masked_fill", Op::kMask, Rule::kPlain},
    {"aten::masked_fill_", Op::kMask, Rule::kPlain},
    {"aten::where", Op::kWhere, Rule::kPlain},
    {"aten::topk", Op::kTopK, Rule::kPlain},
    {"aten::sort", Op::kTopK, Rule::kPlain},
    {"aten::argsort", Op::kTopK, Rule::kPlain},
    // Standard ops without a vocabulary entry: `other`, listed so that they are known.
    {"aten::index_put", Op::kOther, Rule::kPlain},
    {"aten::index_put_", Op::kOther, Rule::kPlain},
    {"aten::scatter", Op::kOther, Rule::kPlain},
    {"aten::scatter_", Op::kOther, Rule::kPlain},
    {"aten::scatter_add", Op::kOther, Rule::kPlain},
    {"aten::scatter_add_", Op::kOther, Rule::kPlain},
    {"aten::masked_scatter", Op::kOther, Rule::kPlain},
    {"aten::nonzero", Op::kOther, Rule::kPlain},
    {"aten::unique", Op::kOther, Rule::kPlain},
    {"aten::_unique2", Op::kOther, Rule::kPlain},
    {"aten::unique_consecutive", Op::kOther, Rule::kPlain},
    {"aten::cumprod", Op::kOther, Rule::kPlain},
    {"aten::tril", Op::kOther, Rule::kPlain},
    {"aten::triu", Op::kOther, Rule::kPlain},
    // Regularisation (kept as in the module tree, although eval-mode dropout is the identity).
    {"aten::dropout", Op::kDropout, Rule::kPlain},
    {"aten::dropout_", Op::kDropout, Rule::kPlain},
    {"aten::feature_dropout", Op::kDropout, Rule::kPlain},
    {"aten::feature_dropout_", Op::kDropout, Rule::kPlain},
    {"aten::alpha_dropout", Op::kDropout, Rule::kPlain},
    {"aten::feature_alpha_dropout", Op::kDropout, Rule::kPlain},
    // Detection operators.
    {"torchvision::nms", Op::kNms, Rule::kPlain},
    {"torchvision::roi_align", Op::kRoiAlign, Rule::kPlain},
    {"torchvision::ps_roi_align", Op::kRoiAlign, Rule::kPlain},
    {"torchvision::roi_pool", Op::kRoiPool, Rule::kPlain},
    {"torchvision::ps_roi_pool", Op::kRoiPool, Rule::kPlain},
    // Pure layout and bookkeeping: elided.
    {"aten::view", Op::kOther, Rule::kElide},
    {"aten::view_as", Op::kOther, Rule::kElide},
    {"aten::reshape", Op::kOther, Rule::kElide},
    {"aten::reshape_as", Op::kOther, Rule::kElide},
    {"aten::_reshape_alias", Op::kOther, Rule::kElide},
    {"aten::unflatten", Op::kOther, Rule::kElide},
    {"aten::permute", Op::kOther, Rule::kElide},
    {"aten::transpose", Op::kOther, Rule::kElide},
    {"aten::transpose_", Op::kOther, Rule::kElide},
    {"aten::swapaxes", Op::kOther, Rule::kElide},
    {"aten::movedim", Op::kOther, Rule::kElide},
    {"aten::t", Op::kOther, Rule::kElide},
    {"aten::numpy_T", Op::kOther, Rule::kElide},
    {"aten::contiguous", Op::kOther, Rule::kElide},
    {"aten::roll", Op::kOther, Rule::kElide},  // cyclic shift of positions (Swin windows)
    {"aten::flip", Op::kOther, Rule::kElide},
    {"aten::squeeze", Op::kOther, Rule::kElide},
    {"aten::squeeze_", Op::kOther, Rule::kElide},
    {"aten::unsqueeze", Op::kOther, Rule::kElide},
    {"aten::unsqueeze_", Op::kOther, Rule::kElide},
    {"aten::expand", Op::kPosEnc, Rule::kExpandParam},
    {"aten::expand_as", Op::kPosEnc, Rule::kExpandParam},
    {"aten::repeat", Op::kPosEnc, Rule::kExpandParam},
    {"aten::broadcast_to", Op::kPosEnc, Rule::kExpandParam},
    {"aten::detach", Op::kOther, Rule::kElide},
    {"aten::detach_", Op::kOther, Rule::kElide},
    {"aten::clone", Op::kOther, Rule::kElide},
    {"aten::alias", Op::kOther, Rule::kElide},
    {"aten::to", Op::kOther, Rule::kElide},
    {"aten::type_as", Op::kOther, Rule::kElide},
    {"aten::float", Op::kOther, Rule::kElide},
    {"aten::half", Op::kOther, Rule::kElide},
    {"aten::double", Op::kOther, Rule::kElide},
    {"aten::long", Op::kOther, Rule::kElide},
    {"aten::int", Op::kOther, Rule::kElide},
    {"aten::bool", Op::kOther, Rule::kElide},
    {"aten::requires_grad_", Op::kOther, Rule::kElide},
    {"aten::__getitem__", Op::kOther, Rule::kElide},
    {"aten::list", Op::kOther, Rule::kElide},
    {"aten::append", Op::kOther, Rule::kElide},
    {"aten::copy_", Op::kOther, Rule::kElide},
    // Tensor factories (their data does not depend on the model input).
    {"aten::new_tensor", Op::kOther, Rule::kFactory},
    {"aten::zeros", Op::kOther, Rule::kFactory},
    {"aten::zeros_like", Op::kOther, Rule::kFactory},
    {"aten::ones", Op::kOther, Rule::kFactory},
    {"aten::ones_like", Op::kOther, Rule::kFactory},
    {"aten::full", Op::kOther, Rule::kFactory},
    {"aten::full_like", Op::kOther, Rule::kFactory},
    {"aten::empty", Op::kOther, Rule::kFactory},
    {"aten::empty_like", Op::kOther, Rule::kFactory},
    {"aten::new_zeros", Op::kOther, Rule::kFactory},
    {"aten::new_ones", Op::kOther, Rule::kFactory},
    {"aten::new_full", Op::kOther, Rule::kFactory},
    {"aten::new_empty", Op::kOther, Rule::kFactory},
    {"aten::arange", Op::kOther, Rule::kFactory},
    {"aten::linspace", Op::kOther, Rule::kFactory},
    {"aten::tensor", Op::kOther, Rule::kFactory},
    {"aten::scalar_tensor", Op::kOther, Rule::kFactory},
    {"aten::as_tensor", Op::kOther, Rule::kFactory},
    {"aten::rand", Op::kOther, Rule::kFactory},
    {"aten::randn", Op::kOther, Rule::kFactory},
    {"aten::rand_like", Op::kOther, Rule::kFactory},
    {"aten::randn_like", Op::kOther, Rule::kFactory},
};
// clang-format on

// The row for a node kind, or nullptr when the kind is not in the table.
inline const OpRule* find_op_rule(std::string_view kind) {
  static const auto* index = [] {
    auto* m = new std::unordered_map<std::string_view, const OpRule*>();
    for (const OpRule& r : kOpTable) m->emplace(r.kind, &r);
    return m;
  }();
  auto it = index->find(kind);
  return it == index->end() ? nullptr : it->second;
}

}  // namespace archbert::ts
