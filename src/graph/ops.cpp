#include "archbert/ops.h"

#include <array>
#include <string>
#include <unordered_map>

namespace archbert {
namespace {

struct OpInfo {
  std::string_view name;
  std::string_view cls;
  OpGroup group;
};

constexpr OpInfo kOps[] = {
#define ARCHBERT_OP(id, name, cls, group) {name, cls, OpGroup::group},
#include "archbert/ops.def"
#undef ARCHBERT_OP
};

constexpr int kNumOps = static_cast<int>(sizeof(kOps) / sizeof(kOps[0]));

}  // namespace

int op_count() { return kNumOps; }

std::string_view op_name(Op op) { return kOps[static_cast<int>(op)].name; }

std::string_view op_class(Op op) { return kOps[static_cast<int>(op)].cls; }

OpGroup op_group(Op op) { return kOps[static_cast<int>(op)].group; }

std::optional<Op> op_from_name(std::string_view name) {
  static const auto* index = [] {
    auto* m = new std::unordered_map<std::string, Op>();
    for (int i = 0; i < kNumOps; ++i) m->emplace(std::string(kOps[i].name), static_cast<Op>(i));
    return m;
  }();
  auto it = index->find(std::string(name));
  if (it == index->end()) return std::nullopt;
  return it->second;
}

std::string_view op_group_name(OpGroup group) {
  switch (group) {
    case OpGroup::io:
      return "io";
    case OpGroup::param:
      return "param";
    case OpGroup::norm:
      return "norm";
    case OpGroup::act:
      return "act";
    case OpGroup::pool:
      return "pool";
    case OpGroup::math:
      return "math";
    case OpGroup::tensor:
      return "tensor";
    case OpGroup::misc:
      return "misc";
    case OpGroup::task:
      return "task";
  }
  return "misc";
}

bool op_has_kernel(Op op) {
  switch (op) {
    case Op::kConv:
    case Op::kSepConv:
    case Op::kDilConv:
    case Op::kConvTranspose:
    case Op::kMaxPool:
    case Op::kAvgPool:
    case Op::kLpPool:
      return true;
    default:
      return false;
  }
}

}  // namespace archbert
