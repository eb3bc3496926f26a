// Schema-only registration of torchvision's custom operators (see torchvision_ops.h).
//
// A scripted detection model calls ops such as torchvision::nms; without a registered schema
// torch::jit::load fails with "Unknown builtin op: torchvision::nms". The schemas below are
// copied from torchvision 0.14 (torch._C._jit_get_all_schemas()), plus the older
// _interpolate_*_aa and _new_empty_tensor_op ops that archives from earlier releases call.
#include "import/torchvision_ops.h"

#include <torch/library.h>

#include <ATen/core/dispatch/Dispatcher.h>

#include <memory>
#include <string>

namespace archbert {

namespace {

struct OpSchema {
  const char* name;    // operator name without the namespace
  const char* schema;  // full schema as torchvision defines it
};

constexpr OpSchema kTorchvisionOps[] = {
    {"nms", "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor"},
    {"roi_align",
     "roi_align(Tensor input, Tensor rois, float spatial_scale, int pooled_height, "
     "int pooled_width, int sampling_ratio, bool aligned) -> Tensor"},
    {"_roi_align_backward",
     "_roi_align_backward(Tensor grad, Tensor rois, float spatial_scale, int pooled_height, "
     "int pooled_width, int batch_size, int channels, int height, int width, int sampling_ratio, "
     "bool aligned) -> Tensor"},
    {"ps_roi_align",
     "ps_roi_align(Tensor input, Tensor rois, float spatial_scale, int pooled_height, "
     "int pooled_width, int sampling_ratio) -> (Tensor, Tensor)"},
    {"_ps_roi_align_backward",
     "_ps_roi_align_backward(Tensor grad, Tensor rois, Tensor channel_mapping, "
     "float spatial_scale, int pooled_height, int pooled_width, int sampling_ratio, "
     "int batch_size, int channels, int height, int width) -> Tensor"},
    {"roi_pool",
     "roi_pool(Tensor input, Tensor rois, float spatial_scale, int pooled_height, "
     "int pooled_width) -> (Tensor, Tensor)"},
    {"_roi_pool_backward",
     "_roi_pool_backward(Tensor grad, Tensor rois, Tensor argmax, float spatial_scale, "
     "int pooled_height, int pooled_width, int batch_size, int channels, int height, "
     "int width) -> Tensor"},
    {"ps_roi_pool",
     "ps_roi_pool(Tensor input, Tensor rois, float spatial_scale, int pooled_height, "
     "int pooled_width) -> (Tensor, Tensor)"},
    {"_ps_roi_pool_backward",
     "_ps_roi_pool_backward(Tensor grad, Tensor rois, Tensor channel_mapping, "
     "float spatial_scale, int pooled_height, int pooled_width, int batch_size, int channels, "
     "int height, int width) -> Tensor"},
    {"deform_conv2d",
     "deform_conv2d(Tensor input, Tensor weight, Tensor offset, Tensor mask, Tensor bias, "
     "int stride_h, int stride_w, int pad_h, int pad_w, int dilation_h, int dilation_w, "
     "int groups, int offset_groups, bool use_mask) -> Tensor"},
    {"_deform_conv2d_backward",
     "_deform_conv2d_backward(Tensor grad, Tensor input, Tensor weight, Tensor offset, "
     "Tensor mask, Tensor bias, int stride_h, int stride_w, int pad_h, int pad_w, "
     "int dilation_h, int dilation_w, int groups, int offset_groups, bool use_mask) -> "
     "(Tensor, Tensor, Tensor, Tensor, Tensor)"},
    {"_cuda_version", "_cuda_version() -> int"},
    // torchvision 0.10 - 0.12 (antialiased resize before it moved into ATen).
    {"_interpolate_bilinear2d_aa",
     "_interpolate_bilinear2d_aa(Tensor input, int[] output_size, bool align_corners) -> Tensor"},
    {"_interpolate_bicubic2d_aa",
     "_interpolate_bicubic2d_aa(Tensor input, int[] output_size, bool align_corners) -> Tensor"},
    // torchvision <= 0.7 (empty-batch helper of the detection models).
    {"_new_empty_tensor_op", "_new_empty_tensor_op(Tensor input, int[] new_shape) -> Tensor"},
};

// Defines every schema that the dispatcher does not know yet. A FRAGMENT library is used rather
// than TORCH_LIBRARY so that a process which also loads libtorchvision (which owns the
// namespace) does not abort on a duplicate registration.
int register_missing() {
  auto& dispatcher = c10::Dispatcher::singleton();
  // Never destroyed: the registrations must outlive every module that uses them.
  static auto* library =
      new torch::Library(torch::Library::FRAGMENT, "torchvision", c10::nullopt, __FILE__, __LINE__);
  int added = 0;
  for (const OpSchema& op : kTorchvisionOps) {
    const std::string qualified = std::string("torchvision::") + op.name;
    if (dispatcher.findSchema({qualified, ""}).has_value()) continue;
    library->def(op.schema);
    ++added;
  }
  return added;
}

}  // namespace

int ensure_torchvision_op_schemas() {
  // Function-local static: registration happens once, and concurrent first calls wait for it.
  static const int added = register_missing();
  return added;
}

}  // namespace archbert
