// The layer table of AutoNet's texts: names, functions, categories and AQA answers of every
// layer class an AutoNet network can contain (see layer_lexicon.h).
//
// Categories (the one table AQA's "used" / "unused" / "kernels" questions use):
//   convolution    Conv2d, Sep_conv2d, Dil_conv2d
//   normalization  BatchNorm2d, LayerNorm
//   pooling        MaxPool2d, AvgPool2d, AdaptiveAvgPool2d
//   activation     ReLU, GELU, Hardswish, Softmax
//   (none)         Linear, Dropout, PosEnc, Flatten
//
// Wording notes: Sep_conv2d is the canonical class of a grouped (depthwise) convolution alone —
// the pointwise half of a DARTS sep_conv is its own Conv2d — so it is named and described as a
// depthwise convolution. Pooling in AutoNet's normal cells has stride 1, so no function claims
// that pooling downsamples. No function phrase mentions a kernel size or a count.
#include "data/layer_lexicon.h"

#include <cctype>

namespace archbert::data {

const std::vector<LayerEntry>& layer_lexicon() {
  using C = LayerCategory;
  static const std::vector<LayerEntry> table = {
      {"Conv2d",
       C::kConvolution,
       true,
       {{"2D convolution", "2D convolutions"},
        {"standard convolution", "standard convolutions"},
        {"Conv2d layer", "Conv2d layers"}},
       {"extract local features with learned filters",
        "slide a bank of learned kernels over the feature map",
        "mix neighbouring pixels and channels with learned weights"},
       "extracting local features with learned filters"},
      {"Sep_conv2d",
       C::kConvolution,
       true,
       {{"depthwise convolution", "depthwise convolutions"},
        {"grouped depthwise convolution", "grouped depthwise convolutions"},
        {"Sep_conv2d layer", "Sep_conv2d layers"}},
       {"filter every channel with its own spatial kernel",
        "process each channel separately at a fraction of the cost of a full convolution"},
       "filtering every channel separately with its own kernel"},
      {"Dil_conv2d",
       C::kConvolution,
       true,
       {{"dilated convolution", "dilated convolutions"},
        {"atrous convolution", "atrous convolutions"},
        {"Dil_conv2d layer", "Dil_conv2d layers"}},
       {"widen the receptive field by spacing out the kernel taps",
        "see a larger context without adding parameters"},
       "widening the receptive field with spaced-out kernel taps"},
      {"BatchNorm2d",
       C::kNormalization,
       false,
       {{"batch normalization layer", "batch normalization layers"},
        {"2D batch norm", "2D batch norms"},
        {"BatchNorm2d layer", "BatchNorm2d layers"}},
       {"normalize each channel with statistics of the mini-batch",
        "keep activations at zero mean and unit variance during training"},
       "normalizing each channel with mini-batch statistics"},
      {"LayerNorm",
       C::kNormalization,
       false,
       {{"layer normalization layer", "layer normalization layers"},
        {"layer norm", "layer norms"},
        {"LayerNorm layer", "LayerNorm layers"}},
       {"normalize every token across its features",
        "rescale features per sample rather than per batch"},
       "normalizing each token across its features"},
      {"MaxPool2d",
       C::kPooling,
       true,
       {{"2D max pooling layer", "2D max pooling layers"},
        {"max-pooling layer", "max-pooling layers"},
        {"MaxPool2d layer", "MaxPool2d layers"}},
       {"keep the largest value in each window of the feature map",
        "pass on the strongest response of every local window"},
       "keeping the maximum value of each window of the feature map"},
      {"AvgPool2d",
       C::kPooling,
       true,
       {{"2D average pooling layer", "2D average pooling layers"},
        {"average-pooling layer", "average-pooling layers"},
        {"AvgPool2d layer", "AvgPool2d layers"}},
       {"average the values in each window of the feature map",
        "smooth the feature map with a local mean"},
       "averaging the values of each window of the feature map"},
      {"AdaptiveAvgPool2d",
       C::kPooling,
       false,
       {{"global average pooling layer", "global average pooling layers"},
        {"adaptive average pooling layer", "adaptive average pooling layers"},
        {"AdaptiveAvgPool2d layer", "AdaptiveAvgPool2d layers"}},
       {"average each channel over all spatial positions",
        "squeeze every feature map into a single value"},
       "averaging each channel over all spatial positions"},
      {"Linear",
       C::kOther,
       false,
       {{"fully connected layer", "fully connected layers"},
        {"linear layer", "linear layers"},
        {"Linear layer", "Linear layers"}},
       {"apply a learned affine transformation",
        "map input features to a new size with a weight matrix and a bias"},
       "applying a learned affine transformation"},
      {"Dropout",
       C::kOther,
       false,
       {{"dropout layer", "dropout layers"}, {"Dropout layer", "Dropout layers"}},
       {"randomly zero activations during training against overfitting",
        "regularize the network by dropping units at random"},
       "randomly zeroing activations during training to reduce overfitting"},
      {"ReLU",
       C::kActivation,
       false,
       {{"ReLU activation", "ReLU activations"},
        {"rectified linear unit", "rectified linear units"},
        {"ReLU layer", "ReLU layers"}},
       {"zero out negative values", "add a non-linearity that keeps only positive inputs"},
       "zeroing out negative values"},
      {"GELU",
       C::kActivation,
       false,
       {{"GELU activation", "GELU activations"},
        {"Gaussian error linear unit", "Gaussian error linear units"},
        {"GELU layer", "GELU layers"}},
       {"weight each input by the Gaussian cumulative distribution function",
        "add a smooth, ReLU-like non-linearity"},
       "weighting inputs by the Gaussian cumulative distribution"},
      {"Hardswish",
       C::kActivation,
       false,
       {{"hard swish activation", "hard swish activations"},
        {"hard-swish gate", "hard-swish gates"},
        {"Hardswish layer", "Hardswish layers"}},
       {"gate values with a cheap piecewise-linear version of swish",
        "act as a hardware-friendly swish non-linearity"},
       "gating values with a piecewise-linear approximation of swish"},
      {"Softmax",
       C::kActivation,
       false,
       {{"softmax operation", "softmax operations"},
        {"softmax normalization", "softmax normalizations"},
        {"Softmax layer", "Softmax layers"}},
       {"turn scores into probabilities that sum to one", "normalize the attention scores"},
       "turning scores into probabilities that sum to one"},
      {"PosEnc",
       C::kOther,
       false,
       {{"positional encoding", "positional encodings"},
        {"learned positional embedding", "learned positional embeddings"},
        {"PosEnc layer", "PosEnc layers"}},
       {"add learned position information to every token",
        "tell the attention which position each token comes from"},
       "adding learned position information to every token"},
      {"Flatten",
       C::kOther,
       false,
       {{"flatten layer", "flatten layers"},
        {"flattening step", "flattening steps"},
        {"Flatten layer", "Flatten layers"}},
       {"turn the feature map into one long vector",
        "collapse the channel and spatial dimensions into a single feature vector"},
       "flattening the feature map into a vector"},
  };
  return table;
}

const LayerEntry* find_layer(std::string_view cls) {
  for (const LayerEntry& e : layer_lexicon())
    if (cls == e.cls) return &e;
  return nullptr;
}

const char* article(std::string_view word) {
  if (word.empty()) return "a";
  switch (std::tolower(static_cast<unsigned char>(word[0]))) {
    case 'a':
    case 'e':
    case 'i':
    case 'o':
    case 'u':
      return "an";
    default:
      return "a";
  }
}

}  // namespace archbert::data

namespace archbert {

std::string_view layer_category_name(LayerCategory category) {
  switch (category) {
    case LayerCategory::kPooling:
      return "pooling";
    case LayerCategory::kNormalization:
      return "normalization";
    case LayerCategory::kConvolution:
      return "convolution";
    case LayerCategory::kActivation:
      return "activation";
    case LayerCategory::kOther:
      break;
  }
  return "other";
}

const std::vector<std::string>& autonet_layer_classes() {
  static const std::vector<std::string> classes = [] {
    std::vector<std::string> v;
    for (const data::LayerEntry& e : data::layer_lexicon()) v.emplace_back(e.cls);
    return v;
  }();
  return classes;
}

LayerCategory layer_category(std::string_view cls) {
  const data::LayerEntry* e = data::find_layer(cls);
  return e ? e->category : LayerCategory::kOther;
}

bool layer_has_kernel(std::string_view cls) {
  const data::LayerEntry* e = data::find_layer(cls);
  return e && e->has_kernel;
}

std::string layer_function_answer(std::string_view cls) {
  const data::LayerEntry* e = data::find_layer(cls);
  return e ? e->answer : std::string();
}

std::string absent_layer_answer(std::string_view cls) {
  return "This model does not include " + std::string(cls);
}

std::string kernel_answer(std::string_view kernel) {
  std::string s(kernel);
  for (char& c : s)
    if (c == 'x') c = '*';
  return s;
}

}  // namespace archbert
