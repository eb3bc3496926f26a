#pragma once
// Schemas of torchvision's custom operators, so that scripted torchvision models load without
// torchvision's C++ library.

namespace archbert {

// Registers the schemas (definitions only, no kernels: archbert never runs them) of the
// torchvision operators that scripted models call, e.g. torchvision::nms and
// torchvision::roi_align. Idempotent and thread-safe; schemas that are already registered (for
// example by a loaded libtorchvision) are left alone. Returns the number of schemas it added.
int ensure_torchvision_op_schemas();

}  // namespace archbert
