#pragma once
// The canonical operation vocabulary (defined in ops.def).

#include <cstdint>
#include <optional>
#include <string_view>

namespace archbert {

// Version of the op vocabulary; stored in graph JSON and checkpoints.
constexpr int kOpVocabularyVersion = 1;

enum class Op : uint16_t {
#define ARCHBERT_OP(id, name, cls, group) id,
#include "archbert/ops.def"
#undef ARCHBERT_OP
};

// Broad family of an op, used for summaries and dataset questions.
enum class OpGroup : uint8_t { io, param, norm, act, pool, math, tensor, misc, task };

// Number of ops in the vocabulary.
int op_count();

// Canonical lower_snake_case name, e.g. "sep_conv".
std::string_view op_name(Op op);

// Inverse of op_name; nullopt for unknown names.
std::optional<Op> op_from_name(std::string_view name);

// Default inventory class name (e.g. "Conv2d"); empty when the op is not a layer.
std::string_view op_class(Op op);

OpGroup op_group(Op op);
std::string_view op_group_name(OpGroup group);

// True for ops whose kernel size is meaningful (convolutions and pooling).
bool op_has_kernel(Op op);

}  // namespace archbert
