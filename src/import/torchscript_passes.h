#pragma once
// Preparing a TorchScript forward graph for the op table: inlining, attribute freezing and
// folding of everything that is fixed at inference time. Private to torchscript_importer.cpp
// (header-only: that TU is the only user and the one with the LibTorch precompiled header).
//
// Why not torch::jit::freeze_module: it folds parameters into constants and then pools equal
// constants, so an untrained model's BatchNorm weight (all ones) becomes the running_var
// constant and the parameter is lost; and it inlines nn.MultiheadAttention, whose fast and slow
// paths are chosen by the input's rank and dtype, which a static graph does not know. Here
// parameters and buffers stay prim::GetAttr values (typed with their real dtype and sizes), all
// other attributes become constants, and MultiheadAttention calls stay calls that the importer
// decomposes (torchscript_op_table.h).

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/passes/lower_tuples.h>
#include <torch/csrc/jit/passes/peephole.h>

#include <memory>
#include <set>
#include <string>
#include <unordered_map>

namespace archbert::ts {

namespace jit = torch::jit;

inline bool kind_is(const jit::Node* n, const char* qualified) {
  return n->kind() == c10::Symbol::fromQualString(qualified);
}

// nn.MultiheadAttention: kept as one prim::CallMethod and decomposed by the importer.
inline bool is_opaque_module(const c10::ClassTypePtr& type) {
  if (!type || !type->name()) return false;
  const std::string q = type->name()->qualifiedName();
  return type->name()->name() == "MultiheadAttention" &&
         q.find("torch.nn.modules.activation") != std::string::npos;
}

// The module object a prim::CallMethod is called on, when it is a class instance.
inline c10::ClassTypePtr call_target(const jit::Node* n) {
  return n->inputs().empty() ? nullptr : n->input(0)->type()->cast<c10::ClassType>();
}

// Fully inlined copies of function graphs, by function.
using InlineCache = std::unordered_map<const jit::GraphFunction*, std::shared_ptr<jit::Graph>>;

inline void inline_calls(jit::Block* block, InlineCache& cache, int depth);

// A copy of `fn`'s graph with its calls inlined (bottom-up, so that every node's call stack
// holds the whole chain of module instances from `fn` down).
inline std::shared_ptr<jit::Graph> inlined_graph(jit::GraphFunction* fn, InlineCache& cache,
                                                 int depth) {
  auto it = cache.find(fn);
  if (it != cache.end()) return it->second;
  std::shared_ptr<jit::Graph> graph = fn->graph()->copy();
  inline_calls(graph->block(), cache, depth + 1);
  cache[fn] = graph;
  return graph;
}

// Inlines function and method calls, except calls of opaque modules. Inlining records the
// module instance names in each node's call stack, which gives nodes their module paths.
inline void inline_calls(jit::Block* block, InlineCache& cache, int depth) {
  if (depth > 200) return;  // TorchScript has no recursion; this only bounds a corrupt file
  for (auto it = block->nodes().begin(); it != block->nodes().end();) {
    jit::Node* cur = *it++;  // advance first: inlining replaces `cur`
    if (cur->kind() == c10::prim::CallFunction) {
      if (jit::GraphFunction* fn = jit::tryToGraphFunction(cur)) {
        std::shared_ptr<jit::Graph> callee = inlined_graph(fn, cache, depth);
        cur->removeInput(0);  // the function constant
        jit::inlineCallTo(cur, fn, callee.get());
      }
    } else if (cur->kind() == c10::prim::CallMethod) {
      if (is_opaque_module(call_target(cur))) continue;
      if (jit::GraphFunction* fn = jit::tryToGraphFunction(cur))
        jit::inlineCallTo(cur, fn, inlined_graph(fn, cache, depth).get());
    } else {
      for (jit::Block* sub : cur->blocks()) inline_calls(sub, cache, depth);
    }
  }
}

// Resolves prim::GetAttr chains rooted at the graph's `self` input to the attribute values.
class AttributeResolver {
 public:
  AttributeResolver(const jit::Value* self, c10::IValue root) : self_(self) {
    cache_[self] = std::move(root);
  }

  // The attribute's value, or nullopt when `v` is not a resolvable GetAttr chain.
  c10::optional<c10::IValue> value(const jit::Value* v) {
    auto it = cache_.find(v);
    if (it != cache_.end()) return it->second;
    const jit::Node* n = v->node();
    if (n->kind() != c10::prim::GetAttr) return c10::nullopt;
    auto obj = value(n->input(0));
    if (!obj || !obj->isObject()) return c10::nullopt;
    const auto& object = obj->toObjectRef();
    const std::string& name = n->s(c10::attr::name);
    if (!object.type()->findAttributeSlot(name)) return c10::nullopt;
    c10::IValue result = object.getAttr(name);
    cache_[v] = result;
    return result;
  }

  // Dotted path of a GetAttr chain from self ("layer1.0.conv1.weight"), or nullopt.
  c10::optional<std::string> path(const jit::Value* v) const {
    std::string p;
    while (v != self_) {
      const jit::Node* n = v->node();
      if (n->kind() != c10::prim::GetAttr) return c10::nullopt;
      p = p.empty() ? n->s(c10::attr::name) : n->s(c10::attr::name) + "." + p;
      v = n->input(0);
    }
    return p;
  }

 private:
  const jit::Value* self_;
  std::unordered_map<const jit::Value*, c10::IValue> cache_;
};

inline void collect_set_attrs(jit::Block* block, std::set<std::string>& names) {
  for (jit::Node* n : block->nodes()) {
    if (n->kind() == c10::prim::SetAttr) names.insert(n->s(c10::attr::name));
    for (jit::Block* sub : n->blocks()) collect_set_attrs(sub, names);
  }
}

// Freezes attributes: plain values (self.training, hyper-parameters, None) become constants,
// tensors (parameters, buffers) stay GetAttr values but get their exact type, so that checks
// such as `self.bias is not None` and `x.dtype != self.weight.dtype` can fold. Attributes that
// the graph writes (prim::SetAttr) are left alone.
inline void freeze_attributes(jit::Graph& graph, AttributeResolver& attrs, jit::Block* block,
                              const std::set<std::string>& mutated) {
  for (jit::Node* n : block->nodes()) {
    for (jit::Block* sub : n->blocks()) freeze_attributes(graph, attrs, sub, mutated);
    if (n->kind() != c10::prim::GetAttr) continue;
    if (mutated.count(n->s(c10::attr::name))) continue;
    auto iv = attrs.value(n->output());
    if (!iv || iv->isObject()) continue;
    if (iv->isTensor()) {
      if (iv->toTensor().defined())
        n->output()->setType(c10::TensorType::create(iv->toTensor())->withRequiresGrad(false));
      continue;
    }
    // Lists of parameters (nn.LSTM's _flat_weights) stay attributes, so that the importer can
    // attribute them to the node that reads them.
    if (iv->isTensorList() ||
        (iv->isList() && iv->toListRef().size() > 0 && iv->toListRef()[0].isTensor()))
      continue;
    jit::WithInsertPoint guard(n);
    if (auto c = jit::tryInsertConstant(graph, *iv)) n->output()->replaceAllUsesWith(*c);
  }
}

// True when `a` and `b` are certainly the same object: the same value, or outputs of one
// prim::If that every branch fills with the same object.
inline bool same_object(const jit::Value* a, const jit::Value* b, int depth = 0) {
  if (a == b) return true;
  const jit::Node* n = a->node();
  if (depth > 16 || n != b->node() || n->kind() != c10::prim::If) return false;
  for (const jit::Block* blk : n->blocks())
    if (!same_object(blk->outputs()[a->offset()], blk->outputs()[b->offset()], depth + 1))
      return false;
  return true;
}

// Replaces queries whose answer is fixed for CPU inference with constants: grad mode and
// autocast are off; tensors are dense, on the CPU, not nested and do not require grad; a value
// is itself (`x is x`). They guard fast paths (e.g. in nn.MultiheadAttention).
inline bool fold_inference_queries(jit::Block* block, jit::Graph& graph) {
  static const char* kFalseQueries[] = {"aten::is_grad_enabled",
                                        "aten::is_autocast_enabled",
                                        "aten::is_autocast_cpu_enabled",
                                        "prim::requires_grad",
                                        "prim::is_cuda",
                                        "prim::is_xpu",
                                        "prim::is_sparse",
                                        "prim::is_sparse_csr",
                                        "prim::is_mkldnn",
                                        "prim::is_mps",
                                        "prim::is_quantized",
                                        "prim::is_meta",
                                        "prim::is_vulkan",
                                        "prim::is_ipu",
                                        "prim::is_nested",
                                        "prim::is_ort",
                                        "prim::is_hpu"};
  bool changed = false;
  for (jit::Node* n : block->nodes()) {
    for (jit::Block* sub : n->blocks()) changed |= fold_inference_queries(sub, graph);
    if (n->outputs().size() != 1 || n->output()->uses().empty()) continue;
    c10::optional<c10::IValue> value;
    for (const char* q : kFalseQueries)
      if (kind_is(n, q)) value = c10::IValue(false);
    const bool is = kind_is(n, "aten::__is__");
    if ((is || kind_is(n, "aten::__isnot__")) && n->inputs().size() == 2 &&
        same_object(n->input(0), n->input(1)))
      value = c10::IValue(is);
    if (kind_is(n, "prim::device") && n->input(0)->type()->kind() == c10::TypeKind::TensorType)
      value = c10::IValue(c10::Device(c10::kCPU));
    if (!value) continue;
    jit::WithInsertPoint guard(n);
    n->output()->replaceAllUsesWith(graph.insertConstant(*value));
    changed = true;
  }
  return changed;
}

// Fused inference kernels that have a decomposed slow path next to them in the same module.
inline bool contains_fused_fast_path(const jit::Block* block) {
  for (const jit::Node* n : block->nodes()) {
    if (kind_is(n, "aten::_native_multi_head_attention") ||
        kind_is(n, "aten::_transformer_encoder_layer_fwd") ||
        kind_is(n, "aten::_native_decoder_only_multi_head_attention") ||
        kind_is(n, "aten::_transformer_decoder_only_layer_fwd"))
      return true;
    for (const jit::Block* sub : n->blocks())
      if (contains_fused_fast_path(sub)) return true;
  }
  return false;
}

// An undecided prim::If with a fused fast path in one branch only takes the other branch: the
// canonical graph describes what the layer computes, which the slow path spells out.
inline bool prefer_decomposed_paths(jit::Block* block, jit::Graph& graph) {
  bool changed = false;
  for (jit::Node* n : block->nodes()) {
    for (jit::Block* sub : n->blocks()) changed |= prefer_decomposed_paths(sub, graph);
    if (n->kind() != c10::prim::If || n->input(0)->node()->kind() == c10::prim::Constant) continue;
    const bool fast0 = contains_fused_fast_path(n->blocks()[0]);
    const bool fast1 = contains_fused_fast_path(n->blocks()[1]);
    if (fast0 == fast1) continue;
    jit::WithInsertPoint guard(n);
    n->replaceInput(0, graph.insertConstant(c10::IValue(!fast0)));
    changed = true;
  }
  return changed;
}

// A prim::If with a branch that certainly raises keeps only the other branch (torchvision's and
// torch.nn's argument checks). Like torch::jit::EliminateExceptions, but it only rewires the If's
// own condition and does not pool constants.
inline bool eliminate_raising_branches(jit::Block* block, jit::Graph& graph) {
  auto raises = [](const jit::Block* b) {
    for (const jit::Node* n : b->nodes())
      if (n->kind() == c10::prim::RaiseException) return true;
    return false;
  };
  bool changed = false;
  for (jit::Node* n : block->nodes()) {
    for (jit::Block* sub : n->blocks()) changed |= eliminate_raising_branches(sub, graph);
    if (n->kind() != c10::prim::If || n->input(0)->node()->kind() == c10::prim::Constant) continue;
    const bool raise0 = raises(n->blocks()[0]);
    const bool raise1 = raises(n->blocks()[1]);
    if (raise0 == raise1) continue;
    jit::WithInsertPoint guard(n);
    n->replaceInput(0, graph.insertConstant(c10::IValue(raise1)));
    changed = true;
  }
  return changed;
}

// ConstantPropagation types a folded None with the replaced value's type, and then fails to
// read that constant back (toIValue wants a `value` attribute of that type). An Optional-typed
// None gets an explicit None value; a None typed as a plain list, tensor or int can only come
// from dead code (unchecked_cast of None in a branch that folding will drop), so it becomes
// prim::Uninitialized, which constant propagation leaves alone.
inline bool repair_none_constants(jit::Block* block) {
  bool changed = false;
  for (auto it = block->nodes().begin(); it != block->nodes().end();) {
    jit::Node* n = *it++;
    for (jit::Block* sub : n->blocks()) changed |= repair_none_constants(sub);
    if (n->kind() != c10::prim::Constant || n->hasAttribute(c10::attr::value)) continue;
    const c10::TypePtr type = n->output()->type();
    const c10::TypeKind k = type->kind();
    if (k == c10::TypeKind::NoneType || k == c10::TypeKind::FunctionType) continue;
    if (k == c10::TypeKind::OptionalType) {
      n->ival_(c10::attr::value, c10::IValue());
    } else {
      jit::Node* u = n->owningGraph()->createUninitialized(type);
      u->insertBefore(n);
      n->output()->replaceAllUsesWith(u->output());
      n->destroy();
    }
    changed = true;
  }
  return changed;
}

// torch::jit::ConstantPropagation, retried past the typed-None problem above.
inline void propagate_constants(std::shared_ptr<jit::Graph>& graph) {
  for (int attempt = 0; attempt < 64; ++attempt) {
    try {
      jit::ConstantPropagation(graph, /*ignore_custom_classes=*/true);
      return;
    } catch (const std::exception&) {
      if (!repair_none_constants(graph->block())) break;
    }
  }
  jit::ConstantPropagationImmutableTypes(graph);
}

inline int64_t count_nodes(const jit::Block* block) {
  int64_t count = 0;
  for (const jit::Node* n : block->nodes()) {
    ++count;
    for (const jit::Block* sub : n->blocks()) count += count_nodes(sub);
  }
  return count;
}

// The forward graph of an eval-mode module, inlined, frozen and folded to a fixed point.
inline std::shared_ptr<jit::Graph> prepare_forward_graph(const jit::Module& module) {
  std::shared_ptr<jit::Graph> graph = module.get_method("forward").graph()->copy();
  InlineCache cache;
  inline_calls(graph->block(), cache, 0);
  jit::EliminateDeadCode(graph);  // the function constants of inlined calls
  AttributeResolver attrs(graph->inputs().at(0), module._ivalue());
  std::set<std::string> mutated;
  collect_set_attrs(graph->block(), mutated);
  freeze_attributes(*graph, attrs, graph->block(), mutated);

  int64_t before = count_nodes(graph->block());
  for (int round = 0; round < 32; ++round) {
    bool changed = fold_inference_queries(graph->block(), *graph);
    changed |= prefer_decomposed_paths(graph->block(), *graph);
    changed |= eliminate_raising_branches(graph->block(), *graph);
    propagate_constants(graph);
    jit::PeepholeOptimize(graph);
    jit::LowerSimpleTuples(graph);
    jit::EliminateDeadCode(graph);
    const int64_t after = count_nodes(graph->block());
    if (!changed && after == before) break;
    before = after;
  }
  return graph;
}

}  // namespace archbert::ts
