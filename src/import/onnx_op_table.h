#pragma once
// The ONNX operator table: every standard ONNX operator mapped to a canonical vocabulary op, to
// "elide" (not architecture: layout, casts, constants, shape arithmetic, control-flow routers), or
// deliberately to `other`, together with the role of each of its input positions.

#include <cstdint>
#include <string_view>
#include <vector>

#include "archbert/ops.h"

namespace archbert::onnx_import {

// What becomes of an ONNX node.
enum class OnnxAction : uint8_t {
  kMap,    // one canonical node of `op` (the importer may refine it, e.g. conv -> sep_conv)
  kElide,  // removed from the graph, its data-flow predecessors wired to its successors
  kOther,  // kept as an `other` node on purpose: no vocabulary op fits (see the table comments)
};

// One row of the table.
//
// `roles` gives one character per input position:
//   'x' data: a data-flow edge when the value is an activation; a constant here is not a weight.
//   'l' learned operand: an edge when an activation; a constant here counts as a learned tensor
//       (a bias, scale, position embedding, class token, embedding table, matmul weight).
//   'w' weight: an edge when an activation; a constant here is a trainable weight or bias.
//   's' statistic or fixed operand (BatchNorm running mean/var, quantisation scales, Clip
//       bounds): an edge when an activation; a constant here is never counted.
//   'c' configuration (shapes, axes, sizes, slice bounds, pads, repeats): never a data edge,
//       never counted — this is what drops shape arithmetic feeding Reshape/Expand/Slice/...
// A trailing '*' repeats the previous role for all further (variadic) inputs; positions past the
// end of the string are 'x'.
struct OnnxOpEntry {
  std::string_view domain;   // "" for the default ai.onnx domain
  std::string_view op_type;  // e.g. "Conv"
  OnnxAction action;
  Op op;  // canonical op for kMap; Op::kOther otherwise
  std::string_view roles;
};

// The entry for `op_type` in `domain` ("" and "ai.onnx" are the default domain); nullptr when
// the operator is not in the table (a custom op: imported as `other`).
const OnnxOpEntry* find_onnx_op(std::string_view domain, std::string_view op_type);

// Role of input `position` of a node whose entry is `entry` (nullptr: 'x').
char onnx_input_role(const OnnxOpEntry* entry, int position);

// Every row, in table order (for tests and documentation).
const std::vector<OnnxOpEntry>& onnx_op_table();

}  // namespace archbert::onnx_import
