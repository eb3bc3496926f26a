// The ONNX operator table (see onnx_op_table.h): one explicit row per standard ONNX operator.
//
// How the importer refines a mapped row (onnx_importer.cpp):
//   Conv / ConvInteger / QLinearConv / DeformConv -> dil_conv if any dilation > 1, else sep_conv
//     if group > 1, else conv.  Gemm / MatMul / Einsum (and the quantised MatMuls) -> linear when
//     one operand is a constant weight (a following constant bias Add is folded in), else matmul.
//   Clip -> relu6 for [0, 6], relu for [0, inf), clip otherwise.  ReduceMean / ReduceMax over the
//     spatial axes {2,3} -> glob_avg / glob_max, otherwise reduce.  Add of a learned constant that
//     is a position embedding -> pos_enc.  Gather from a constant table -> embedding.
//   Patterns: decomposed LayerNorm -> ln, RMSNorm -> rms_norm, erf/tanh GELU -> gelu,
//     x*sigmoid(x) -> silu, x*hardsigmoid(x) -> hardswish, x*tanh(softplus(x)) -> mish, and the
//     q/k/v split and scaling inside attention are elided (linear+matmul+softmax+matmul+linear).
//   If / Loop / Scan / SequenceMap are elided and their bodies imported inline.
#include "import/onnx_op_table.h"

#include <string>
#include <unordered_map>

namespace archbert::onnx_import {
namespace {

constexpr OnnxAction M = OnnxAction::kMap;
constexpr OnnxAction E = OnnxAction::kElide;
constexpr OnnxAction O = OnnxAction::kOther;

// Rows: {domain, op_type, action, op, roles}. Keep each domain sorted by op name.
const std::vector<OnnxOpEntry>& table() {
  static const std::vector<OnnxOpEntry> rows = {
      // ---- ai.onnx (default domain), every operator of ONNX 1.12 plus later standard ones ----
      {"", "Abs", M, Op::kUnaryMath, "x"},
      {"", "Acos", M, Op::kUnaryMath, "x"},
      {"", "Acosh", M, Op::kUnaryMath, "x"},
      {"", "Add", M, Op::kSum, "ll"},
      {"", "AffineGrid", M, Op::kGridSample, "xc"},  // opset 20: the grid for GridSample
      {"", "And", M, Op::kCompare, "xx"},
      {"", "ArgMax", M, Op::kReduce, "x"},
      {"", "ArgMin", M, Op::kReduce, "x"},
      {"", "Asin", M, Op::kUnaryMath, "x"},
      {"", "Asinh", M, Op::kUnaryMath, "x"},
      {"", "Atan", M, Op::kUnaryMath, "x"},
      {"", "Atanh", M, Op::kUnaryMath, "x"},
      {"", "Attention", M, Op::kAttention, "xxxxxx"},  // opset 23 fused attention
      {"", "AveragePool", M, Op::kAvgPool, "x"},
      {"", "BatchNormalization", M, Op::kBatchNorm, "xwwss"},
      // Sampling 0/1 with given probabilities: randomness, not a layer of the vocabulary.
      {"", "Bernoulli", O, Op::kOther, "x"},
      // Integer bit shifts: no architectural meaning in the vocabulary.
      {"", "BitShift", O, Op::kOther, "xx"},
      {"", "BitwiseAnd", M, Op::kCompare, "xx"},
      {"", "BitwiseNot", M, Op::kCompare, "x"},
      {"", "BitwiseOr", M, Op::kCompare, "xx"},
      {"", "BitwiseXor", M, Op::kCompare, "xx"},
      {"", "BlackmanWindow", E, Op::kOther, "c"},  // constant generator
      {"", "Cast", E, Op::kOther, "x"},
      {"", "CastLike", E, Op::kOther, "xc"},
      {"", "Ceil", M, Op::kUnaryMath, "x"},
      {"", "Celu", M, Op::kElu, "x"},  // CELU is a reparametrised ELU
      {"", "CenterCropPad", M, Op::kPad, "xc"},
      {"", "Clip", M, Op::kClip, "xss"},
      // Im2col inverse (fold): no vocabulary op.
      {"", "Col2Im", O, Op::kOther, "xcc"},
      {"", "Compress", M, Op::kGather, "xx"},  // select slices by a mask
      {"", "Concat", M, Op::kConcat, "l*"},
      {"", "ConcatFromSequence", M, Op::kConcat, "x"},
      {"", "Constant", E, Op::kOther, ""},
      {"", "ConstantOfShape", E, Op::kOther, "c"},
      {"", "Conv", M, Op::kConv, "xww"},
      {"", "ConvInteger", M, Op::kConv, "xwss"},
      {"", "ConvTranspose", M, Op::kConvTranspose, "xww"},
      {"", "Cos", M, Op::kUnaryMath, "x"},
      {"", "Cosh", M, Op::kUnaryMath, "x"},
      {"", "CumSum", M, Op::kReduce, "xc"},
      // Discrete Fourier transform: signal processing, no vocabulary op.
      {"", "DFT", O, Op::kOther, "xcc"},
      {"", "DeformConv", M, Op::kConv, "xwxwx"},
      {"", "DepthToSpace", M, Op::kPixelShuffle, "x"},
      {"", "DequantizeLinear", E, Op::kOther, "xss"},  // number format, like Cast
      // Matrix determinant: no vocabulary op.
      {"", "Det", O, Op::kOther, "x"},
      {"", "Div", M, Op::kDiv, "xx"},
      {"", "Dropout", M, Op::kDropout, "xcc"},
      {"", "DynamicQuantizeLinear", E, Op::kOther, "x"},
      {"", "Einsum", M, Op::kMatmul, "l*"},
      {"", "Elu", M, Op::kElu, "x"},
      {"", "Equal", M, Op::kCompare, "xx"},
      {"", "Erf", M, Op::kUnaryMath, "x"},
      {"", "Exp", M, Op::kUnaryMath, "x"},
      {"", "Expand", E, Op::kOther, "xc"},
      {"", "EyeLike", E, Op::kOther, "c"},
      {"", "Flatten", M, Op::kFlatten, "x"},
      {"", "Floor", M, Op::kUnaryMath, "x"},
      {"", "GRU", M, Op::kGru, "xwwwcxx"},
      {"", "Gather", M, Op::kGather, "lx"},
      {"", "GatherElements", M, Op::kGather, "xx"},
      {"", "GatherND", M, Op::kGather, "xx"},
      {"", "Gelu", M, Op::kGelu, "x"},
      {"", "Gemm", M, Op::kMatmul, "xww"},
      {"", "GlobalAveragePool", M, Op::kGlobalAvgPool, "x"},
      {"", "GlobalLpPool", M, Op::kLpPool, "x"},
      {"", "GlobalMaxPool", M, Op::kGlobalMaxPool, "x"},
      {"", "Greater", M, Op::kCompare, "xx"},
      {"", "GreaterOrEqual", M, Op::kCompare, "xx"},
      {"", "GridSample", M, Op::kGridSample, "xx"},
      {"", "GroupNormalization", M, Op::kGroupNorm, "xww"},
      {"", "HammingWindow", E, Op::kOther, "c"},
      {"", "HannWindow", E, Op::kOther, "c"},
      {"", "HardSigmoid", M, Op::kHardsigmoid, "x"},
      {"", "HardSwish", M, Op::kHardswish, "x"},
      // One-hot of the argmax: no vocabulary op (softmax would misdescribe it).
      {"", "Hardmax", O, Op::kOther, "x"},
      {"", "Identity", E, Op::kOther, "x"},
      {"", "If", E, Op::kOther, "c"},  // bodies imported inline; outputs routed from them
      // Image file decoding: preprocessing, not a layer.
      {"", "ImageDecoder", O, Op::kOther, "x"},
      {"", "InstanceNormalization", M, Op::kInstanceNorm, "xww"},
      {"", "IsInf", M, Op::kCompare, "x"},
      {"", "IsNaN", M, Op::kCompare, "x"},
      {"", "LRN", M, Op::kLrn, "x"},
      {"", "LSTM", M, Op::kLstm, "xwwwcxxw"},
      {"", "LayerNormalization", M, Op::kLayerNorm, "xww"},
      {"", "LeakyRelu", M, Op::kLeakyRelu, "x"},
      {"", "Less", M, Op::kCompare, "xx"},
      {"", "LessOrEqual", M, Op::kCompare, "xx"},
      {"", "Log", M, Op::kUnaryMath, "x"},
      {"", "LogSoftmax", M, Op::kLogSoftmax, "x"},
      {"", "Loop", E, Op::kOther, "cc"},  // body imported inline; carried values flow through it
      // L1/L2 normalisation along an axis (F.normalize): no vocabulary op.
      {"", "LpNormalization", O, Op::kOther, "x"},
      {"", "LpPool", M, Op::kLpPool, "x"},
      {"", "MatMul", M, Op::kMatmul, "ll"},
      {"", "MatMulInteger", M, Op::kMatmul, "llss"},
      {"", "Max", M, Op::kMinMax, "x*"},
      {"", "MaxPool", M, Op::kMaxPool, "x"},
      {"", "MaxRoiPool", M, Op::kRoiPool, "xx"},
      {"", "MaxUnpool", M, Op::kUpsample, "xxc"},  // unpooling raises the resolution
      {"", "Mean", M, Op::kSum, "x*"},             // element-wise mean of tensors
      // Normalises with statistics over fixed axes, no learned affine: no vocabulary op.
      {"", "MeanVarianceNormalization", O, Op::kOther, "x"},
      {"", "MelWeightMatrix", E, Op::kOther, "ccccc"},  // constant generator
      {"", "Min", M, Op::kMinMax, "x*"},
      {"", "Mish", M, Op::kMish, "x"},
      // Remainder: integer arithmetic (shape maths when not on data); no vocabulary op.
      {"", "Mod", O, Op::kOther, "xx"},
      {"", "Mul", M, Op::kMul, "ll"},
      // Sampling from a distribution: randomness, not a layer.
      {"", "Multinomial", O, Op::kOther, "x"},
      {"", "Neg", M, Op::kUnaryMath, "x"},
      // Training loss: not part of an inference architecture.
      {"", "NegativeLogLikelihoodLoss", O, Op::kOther, "xxs"},
      {"", "NonMaxSuppression", M, Op::kNms, "xxccc"},
      {"", "NonZero", M, Op::kWhere, "x"},  // torch.nonzero / where(cond): indices of a mask
      {"", "Not", M, Op::kCompare, "x"},
      // One-hot encoding of indices: no vocabulary op.
      {"", "OneHot", O, Op::kOther, "xcs"},
      {"", "Optional", E, Op::kOther, "x"},
      {"", "OptionalGetElement", E, Op::kOther, "x"},
      {"", "OptionalHasElement", E, Op::kOther, "c"},
      {"", "Or", M, Op::kCompare, "xx"},
      {"", "PRelu", M, Op::kPrelu, "xw"},
      {"", "Pad", M, Op::kPad, "xcsc"},
      {"", "Pow", M, Op::kPow, "xx"},
      {"", "QLinearConv", M, Op::kConv, "xsswssssw"},
      {"", "QLinearMatMul", M, Op::kMatmul, "lsslssss"},
      {"", "QuantizeLinear", E, Op::kOther, "xss"},
      {"", "RMSNormalization", M, Op::kRmsNorm, "xw"},
      {"", "RNN", M, Op::kRnn, "xwwwcx"},
      {"", "RandomNormal", E, Op::kOther, ""},
      {"", "RandomNormalLike", E, Op::kOther, "c"},
      {"", "RandomUniform", E, Op::kOther, ""},
      {"", "RandomUniformLike", E, Op::kOther, "c"},
      {"", "Range", E, Op::kOther, "ccc"},
      {"", "Reciprocal", M, Op::kUnaryMath, "x"},
      {"", "ReduceL1", M, Op::kReduce, "xc"},
      {"", "ReduceL2", M, Op::kReduce, "xc"},
      {"", "ReduceLogSum", M, Op::kReduce, "xc"},
      {"", "ReduceLogSumExp", M, Op::kReduce, "xc"},
      {"", "ReduceMax", M, Op::kReduce, "xc"},
      {"", "ReduceMean", M, Op::kReduce, "xc"},
      {"", "ReduceMin", M, Op::kReduce, "xc"},
      {"", "ReduceProd", M, Op::kReduce, "xc"},
      {"", "ReduceSum", M, Op::kReduce, "xc"},
      {"", "ReduceSumSquare", M, Op::kReduce, "xc"},
      // Regular-expression matching on strings: text preprocessing.
      {"", "RegexFullMatch", O, Op::kOther, "x"},
      {"", "Relu", M, Op::kRelu, "x"},
      {"", "Reshape", E, Op::kOther, "xc"},
      {"", "Resize", M, Op::kUpsample, "xccc"},
      {"", "ReverseSequence", M, Op::kSlice, "xc"},  // a flip: slicing with a negative step
      {"", "RoiAlign", M, Op::kRoiAlign, "xxx"},
      {"", "RotaryEmbedding", M, Op::kPosEnc, "xssc"},
      {"", "Round", M, Op::kUnaryMath, "x"},
      {"", "STFT", O, Op::kOther, "xcsc"},  // short-time Fourier transform: signal processing
      {"", "Scan", E, Op::kOther, "x*"},    // body imported inline
      // Scatter writes updates into a tensor at indices: no vocabulary op.
      {"", "Scatter", O, Op::kOther, "xxx"},
      {"", "ScatterElements", O, Op::kOther, "xxx"},
      {"", "ScatterND", O, Op::kOther, "xxx"},
      {"", "Selu", M, Op::kSelu, "x"},
      {"", "SequenceAt", E, Op::kOther, "xc"},  // sequence plumbing: the tensors pass through
      {"", "SequenceConstruct", E, Op::kOther, "x*"},
      {"", "SequenceEmpty", E, Op::kOther, ""},
      {"", "SequenceErase", E, Op::kOther, "xc"},
      {"", "SequenceInsert", E, Op::kOther, "xxc"},
      {"", "SequenceLength", E, Op::kOther, "c"},
      {"", "SequenceMap", E, Op::kOther, "x*"},  // body imported inline
      {"", "Shape", E, Op::kOther, "c"},         // reads only the shape: output is not data
      // Soft/hard shrinkage: no vocabulary op.
      {"", "Shrink", O, Op::kOther, "x"},
      {"", "Sigmoid", M, Op::kSigmoid, "x"},
      {"", "Sign", M, Op::kUnaryMath, "x"},
      {"", "Sin", M, Op::kUnaryMath, "x"},
      {"", "Sinh", M, Op::kUnaryMath, "x"},
      {"", "Size", E, Op::kOther, "c"},
      {"", "Slice", M, Op::kSlice, "xcccc"},
      {"", "Softmax", M, Op::kSoftmax, "x"},
      // Training loss: not part of an inference architecture.
      {"", "SoftmaxCrossEntropyLoss", O, Op::kOther, "xxs"},
      {"", "Softplus", M, Op::kSoftplus, "x"},
      // x / (1 + |x|): no vocabulary op (tanh would misdescribe it).
      {"", "Softsign", O, Op::kOther, "x"},
      {"", "SpaceToDepth", M, Op::kPixelShuffle, "x"},  // pixel unshuffle
      {"", "Split", M, Op::kSplit, "xc"},
      {"", "SplitToSequence", M, Op::kSplit, "xc"},
      {"", "Sqrt", M, Op::kUnaryMath, "x"},
      {"", "Squeeze", E, Op::kOther, "xc"},
      // String operations: text preprocessing, not layers.
      {"", "StringConcat", O, Op::kOther, "xx"},
      {"", "StringNormalizer", O, Op::kOther, "x"},
      {"", "StringSplit", O, Op::kOther, "x"},
      {"", "Sub", M, Op::kSub, "xx"},
      {"", "Sum", M, Op::kSum, "l*"},
      {"", "Swish", M, Op::kSilu, "x"},
      {"", "Tan", M, Op::kUnaryMath, "x"},
      {"", "Tanh", M, Op::kTanh, "x"},
      // Writes a tensor into a cache at positions: no vocabulary op.
      {"", "TensorScatter", O, Op::kOther, "xxc"},
      // TF-IDF features of token sequences: text preprocessing.
      {"", "TfIdfVectorizer", O, Op::kOther, "x"},
      {"", "ThresholdedRelu", M, Op::kRelu, "x"},  // ReLU with a threshold
      {"", "Tile", E, Op::kOther, "xc"},
      {"", "TopK", M, Op::kTopK, "xc"},
      {"", "Transpose", E, Op::kOther, "x"},
      {"", "Trilu", M, Op::kMask, "xc"},  // triangular (causal) masking
      // Set of unique values: data-dependent bookkeeping, no vocabulary op.
      {"", "Unique", O, Op::kOther, "x"},
      {"", "Unsqueeze", E, Op::kOther, "xc"},
      {"", "Upsample", M, Op::kUpsample, "xc"},
      {"", "Where", M, Op::kWhere, "xxx"},
      {"", "Xor", M, Op::kCompare, "xx"},

      // ---- operators removed from the standard (older exports still contain them) ----
      {"", "ATen", O, Op::kOther, "x*"},  // a PyTorch fallback op: unknown semantics
      {"", "Affine", M, Op::kMul, "x"},
      {"", "Crop", M, Op::kSlice, "x"},
      {"", "GRUUnit", M, Op::kGru, "xxxc"},
      {"", "ImageScaler", M, Op::kMul, "x"},
      {"", "ParametricSoftplus", M, Op::kSoftplus, "x"},
      {"", "Scale", M, Op::kMul, "x"},
      {"", "ScaledTanh", M, Op::kTanh, "x"},

      // ---- ai.onnx.ml: classic machine learning, no neural-network vocabulary op ----
      {"ai.onnx.ml", "ArrayFeatureExtractor", O, Op::kOther, "xc"},
      {"ai.onnx.ml", "Binarizer", O, Op::kOther, "x"},
      {"ai.onnx.ml", "CastMap", O, Op::kOther, "x"},
      {"ai.onnx.ml", "CategoryMapper", O, Op::kOther, "x"},
      {"ai.onnx.ml", "DictVectorizer", O, Op::kOther, "x"},
      {"ai.onnx.ml", "FeatureVectorizer", O, Op::kOther, "x*"},
      {"ai.onnx.ml", "Imputer", O, Op::kOther, "x"},
      {"ai.onnx.ml", "LabelEncoder", O, Op::kOther, "x"},
      {"ai.onnx.ml", "LinearClassifier", O, Op::kOther, "x"},
      {"ai.onnx.ml", "LinearRegressor", O, Op::kOther, "x"},
      {"ai.onnx.ml", "Normalizer", O, Op::kOther, "x"},
      {"ai.onnx.ml", "OneHotEncoder", O, Op::kOther, "x"},
      {"ai.onnx.ml", "SVMClassifier", O, Op::kOther, "x"},
      {"ai.onnx.ml", "SVMRegressor", O, Op::kOther, "x"},
      {"ai.onnx.ml", "Scaler", O, Op::kOther, "x"},
      {"ai.onnx.ml", "TreeEnsembleClassifier", O, Op::kOther, "x"},
      {"ai.onnx.ml", "TreeEnsembleRegressor", O, Op::kOther, "x"},
      {"ai.onnx.ml", "ZipMap", O, Op::kOther, "x"},

      // ---- ai.onnx.preview.training: optimiser steps, not architecture ----
      {"ai.onnx.preview.training", "Adagrad", O, Op::kOther, "x*"},
      {"ai.onnx.preview.training", "Adam", O, Op::kOther, "x*"},
      {"ai.onnx.preview.training", "Gradient", O, Op::kOther, "x*"},
      {"ai.onnx.preview.training", "Momentum", O, Op::kOther, "x*"},

      // ---- com.microsoft: the fused operators of onnxruntime's transformer optimiser ----
      {"com.microsoft", "Attention", M, Op::kAttention, "xwwsss"},
      {"com.microsoft", "BiasGelu", M, Op::kGelu, "xw"},
      {"com.microsoft", "EmbedLayerNormalization", M, Op::kEmbedding, "xxwwwwwxx"},
      {"com.microsoft", "FastGelu", M, Op::kGelu, "xw"},
      {"com.microsoft", "FusedConv", M, Op::kConv, "xwwx"},
      {"com.microsoft", "FusedMatMul", M, Op::kMatmul, "ll"},
      {"com.microsoft", "Gelu", M, Op::kGelu, "x"},
      {"com.microsoft", "LayerNormalization", M, Op::kLayerNorm, "xww"},
      {"com.microsoft", "MultiHeadAttention", M, Op::kAttention, "xxxwxxx"},
      {"com.microsoft", "QuickGelu", M, Op::kGelu, "x"},
      {"com.microsoft", "SimplifiedLayerNormalization", M, Op::kRmsNorm, "xw"},
      {"com.microsoft", "SkipLayerNormalization", M, Op::kLayerNorm, "xxwww"},
      {"com.microsoft", "SkipSimplifiedLayerNormalization", M, Op::kRmsNorm, "xxww"},
  };
  return rows;
}

std::string key(std::string_view domain, std::string_view op_type) {
  if (domain == "ai.onnx") domain = "";
  std::string k(domain);
  k += '\n';
  k += op_type;
  return k;
}

}  // namespace

const std::vector<OnnxOpEntry>& onnx_op_table() { return table(); }

const OnnxOpEntry* find_onnx_op(std::string_view domain, std::string_view op_type) {
  static const auto* index = [] {
    auto* m = new std::unordered_map<std::string, const OnnxOpEntry*>();
    for (const OnnxOpEntry& e : table()) m->emplace(key(e.domain, e.op_type), &e);
    return m;
  }();
  auto it = index->find(key(domain, op_type));
  return it == index->end() ? nullptr : it->second;
}

char onnx_input_role(const OnnxOpEntry* entry, int position) {
  if (entry == nullptr || position < 0) return 'x';
  std::string_view r = entry->roles;
  if (!r.empty() && r.back() == '*') {
    r.remove_suffix(1);
    if (r.empty()) return 'x';
    return position < static_cast<int>(r.size()) ? r[position] : r.back();
  }
  return position < static_cast<int>(r.size()) ? r[position] : 'x';
}

}  // namespace archbert::onnx_import
