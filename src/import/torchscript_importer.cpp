// TorchScript importer: a torch.jit.save archive -> canonical graph (SPEC §2).
//
// Pipeline: check that the zip holds TorchScript code -> torch::jit::load -> count parameters and
// read the module tree -> eval() -> prepare the forward graph (torchscript_passes.h: inline,
// freeze attributes, fold what is fixed at inference time) -> walk it through the op table
// (torchscript_op_table.h) into a GraphBuilder.
#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/ir/scope.h>
#include <torch/csrc/jit/serialization/import.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <unordered_map>

#include "archbert/error.h"
#include "archbert/importer.h"
#include "import/torchscript_op_table.h"
#include "import/torchscript_passes.h"
#include "import/torchvision_ops.h"

namespace archbert {

namespace {

namespace jit = torch::jit;
using ts::kind_is;
using ts::OpRule;
using ts::Rule;

// ---------------------------------------------------------------------------------------------
// Messages and archive checks.

// First non-empty line of a (possibly multi-line) message, trimmed, with bytes that are not
// printable ASCII (from a corrupt file's text) replaced and long lines shortened.
std::string first_line(const std::string& text) {
  size_t pos = 0;
  std::string line;
  while (pos <= text.size() && line.empty()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    line = text.substr(pos, end - pos);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front())))
      line.erase(0, 1);
    while (!line.empty() && (std::isspace(static_cast<unsigned char>(line.back())) ||
                             line.back() == '.' || line.back() == ':'))
      line.pop_back();
    pos = end + 1;
  }
  for (char& c : line)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
  if (line.size() > 240) line = line.substr(0, 240) + "...";
  return line.empty() ? "unknown error" : line;
}

std::string torch_message(const c10::Error& e) { return first_line(e.what_without_backtrace()); }

bool has_extension(const std::string& path, std::initializer_list<const char*> exts) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* e : exts)
    if (ext == e) return true;
  return false;
}

// Record names of a PyTorch zip archive, relative to its top folder ("code/...", "data.pkl").
// Reads only the zip's central directory.
std::vector<std::string> archive_records(const std::string& path) {
  try {
    caffe2::serialize::PyTorchStreamReader reader(path);
    return reader.getAllRecords();
  } catch (const c10::Error& e) {
    throw_bad_input(path, "not a readable PyTorch zip archive (" + torch_message(e) + ")");
  } catch (const std::exception& e) {
    throw_bad_input(path, "not a readable PyTorch zip archive (" + first_line(e.what()) + ")");
  }
}

// A TorchScript archive has its serialized code in code/; torch.save checkpoints do not.
void require_torchscript_archive(const std::string& path) {
  for (const std::string& rec : archive_records(path))
    if (rec.rfind("code/", 0) == 0 || rec.find("/code/") != std::string::npos) return;
  throw_bad_input(path,
                  "a PyTorch pickle checkpoint (state dict), not a TorchScript model: it holds "
                  "tensors but no code/ folder; export it with "
                  "torch.jit.script(model).save('model.pt') or torch.onnx.export(...)");
}

torch::jit::Module load_module(const std::string& path) {
  ensure_torchvision_op_schemas();
  try {
    return torch::jit::load(path, torch::kCPU);
  } catch (const c10::Error& e) {
    throw_bad_input(path, "cannot load the TorchScript model: " + torch_message(e));
  } catch (const std::exception& e) {
    throw_bad_input(path, "cannot load the TorchScript model: " + first_line(e.what()));
  }
}

// ---------------------------------------------------------------------------------------------
// The module tree and its parameters.

// Last component of a TorchScript class name: "__torch__.torch.nn.modules.conv.Conv2d" ->
// "Conv2d". Private subclasses that stand for a public layer get the public name.
std::string class_name(const c10::ClassTypePtr& type) {
  if (!type || !type->name()) return {};
  std::string name = type->name()->name();
  if (name == "NonDynamicallyQuantizableLinear" || name == "_LinearWithBias") return "Linear";
  return name;
}

struct ModuleInfo {
  std::string cls;    // class name, e.g. "Conv2d"
  bool leaf = false;  // no child modules
};

struct ParamInfo {
  std::string name;            // qualified name, e.g. "layer1.0.conv1.weight"
  std::string owner;           // module path, e.g. "layer1.0.conv1" ("" for the root)
  std::vector<int64_t> sizes;  // as stored in the module
  int64_t numel = 0;
};

// Identity of a parameter's memory, to count a parameter shared by two modules once.
using StorageKey = std::tuple<const void*, int64_t, int64_t>;  // (data, offset, numel)

StorageKey storage_key(const at::Tensor& t) {
  if (!t.has_storage()) return {t.unsafeGetTensorImpl(), 0, t.numel()};
  return {t.storage().data(), t.storage_offset(), t.numel()};
}

struct ModelInfo {
  std::map<std::string, ModuleInfo> modules;           // path -> info
  std::vector<ParamInfo> params;                       // distinct parameters
  std::unordered_map<std::string, int> param_by_name;  // "layer1.0.conv1.weight" -> index
  std::map<StorageKey, int> param_by_storage;          // the same, by the tensor's memory
  int64_t total_params = 0;                            // sum(p.numel() for p in model.parameters())
};

ModelInfo read_model_info(const torch::jit::Module& module) {
  ModelInfo info;
  std::map<StorageKey, int>& by_storage = info.param_by_storage;
  for (const auto& m : module.named_modules())
    info.modules[m.name] = {class_name(m.value.type()), m.value.children().size() == 0};
  for (const auto& p : module.named_parameters(/*recurse=*/true)) {
    const at::Tensor& t = p.value;
    auto [it, inserted] = by_storage.emplace(storage_key(t), static_cast<int>(info.params.size()));
    if (inserted) {
      // Shared parameters are counted once, like nn.Module.parameters().
      size_t dot = p.name.rfind('.');
      info.params.push_back({p.name, dot == std::string::npos ? "" : p.name.substr(0, dot),
                             t.sizes().vec(), t.numel()});
      info.total_params += t.numel();
    }
    info.param_by_name[p.name] = it->second;
  }
  return info;
}

// ---------------------------------------------------------------------------------------------
// Graph walk.

// True when a value of this type can carry tensor data (Tensor, Tensor?, Tensor[], tuples and
// dicts of tensors, objects with tensor attributes such as torchvision's ImageList). Modules,
// ints, floats, strings and int lists do not.
bool carries_tensor(const c10::TypePtr& type, int depth = 0) {
  if (depth > 8) return false;
  switch (type->kind()) {
    case c10::TypeKind::TensorType:
      return true;
    case c10::TypeKind::OptionalType:
    case c10::TypeKind::ListType:
    case c10::TypeKind::TupleType:
    case c10::TypeKind::DictType:
      for (const auto& t : type->containedTypes())
        if (carries_tensor(t, depth + 1)) return true;
      return false;
    case c10::TypeKind::ClassType: {
      const auto& cls = type->expectRef<c10::ClassType>();
      if (cls.is_module()) return false;
      for (size_t i = 0; i < cls.numAttributes(); ++i)
        if (carries_tensor(cls.getAttribute(i), depth + 1)) return true;
      return false;
    }
    default:
      return false;
  }
}

bool any_output_is_tensor(const jit::Node* n) {
  for (const jit::Value* v : n->outputs())
    if (v->type()->kind() == c10::TypeKind::TensorType) return true;
  return false;
}

// True for nodes that write into a list, dict or object holding tensors (append, _set_item,
// update, insert): they have no tensor output but move data.
bool writes_tensor_container(const jit::Node* n) {
  const c10::FunctionSchema* schema = n->maybeSchema();
  if (!schema) return false;
  const auto& args = schema->arguments();
  for (size_t i = 0; i < args.size() && i < n->inputs().size(); ++i)
    if (args[i].alias_info() && args[i].alias_info()->isWrite() &&
        carries_tensor(n->input(i)->type()))
      return true;
  return false;
}

bool is_module_value(const jit::Value* v) {
  auto cls = v->type()->cast<c10::ClassType>();
  return cls && cls->is_module();
}

bool any_output_carries_tensor(const jit::Node* n) {
  for (const jit::Value* v : n->outputs())
    if (carries_tensor(v->type())) return true;
  return false;
}

// The input of `n` named `name` in its schema, or nullptr.
jit::Value* arg(const jit::Node* n, const char* name) {
  const c10::FunctionSchema* schema = n->maybeSchema();
  if (!schema) return nullptr;
  auto index = schema->argumentIndexWithName(name);
  if (!index || *index >= static_cast<int>(n->inputs().size())) return nullptr;
  return n->input(*index);
}

// Constant integer list (a single int counts as a one-element list); empty when not constant.
std::vector<int64_t> const_ints(const jit::Value* v) {
  if (!v) return {};
  auto iv = jit::toIValue(v);
  if (!iv) return {};
  if (iv->isInt()) return {iv->toInt()};
  if (iv->isIntList()) return iv->toIntVector();
  return {};
}

c10::optional<double> const_number(const jit::Value* v) {
  if (!v) return c10::nullopt;
  auto iv = jit::toIValue(v);
  if (!iv) return c10::nullopt;
  if (iv->isDouble()) return iv->toDouble();
  if (iv->isInt()) return static_cast<double>(iv->toInt());
  return c10::nullopt;
}

// A graph input's name without TorchScript's ".N" uniquing suffix: "x.1" -> "x".
std::string input_name(const std::string& debug_name) {
  size_t dot = debug_name.rfind('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == debug_name.size()) return debug_name;
  for (size_t i = dot + 1; i < debug_name.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(debug_name[i]))) return debug_name;
  return debug_name.substr(0, dot);
}

// Where a node sits in the module tree, from the call stack that inlining recorded.
struct Scope {
  std::string path;  // "layer1.0.relu"; "" for the root module
  std::string cls;   // class of the innermost module, e.g. "ReLU"; "" when unknown
};

// The importer's state while walking one graph.
class Walker {
 public:
  Walker(GraphBuilder& builder, const ModelInfo& info, jit::Graph& graph,
         ts::AttributeResolver& attrs)
      : b_(builder), info_(info), graph_(graph), attrs_(attrs), owned_(info.params.size(), 0) {}

  void add_inputs() {
    // Input 0 is the module itself.
    for (size_t i = 1; i < graph_.inputs().size(); ++i) {
      jit::Value* v = graph_.inputs()[i];
      int id = b_.add(Op::kInput, input_name(v->debugName()), "graph input");
      src_[v] = id;
    }
  }

  void walk(jit::Block* block) {
    for (jit::Node* n : block->nodes()) visit(n);
  }

  // Keeps a leaf module's class on parameter-free nodes only when all the nodes the module
  // produced are one op (nn.ReLU, nn.GELU, or nn.ReLU called twice): the module is that op.
  void finish_layer_classes() {
    for (auto& [path, ids] : leaf_ops_) {
      std::set<Op> ops;
      for (int id : ids) ops.insert(b_.node(id).op);
      if (ops.size() > 1)
        for (int id : ids) b_.node(id).layer_class.clear();
    }
  }

  void add_outputs() {
    std::vector<std::pair<std::string, jit::Value*>> leaves;
    for (size_t i = 0; i < graph_.outputs().size(); ++i)
      collect_leaves(graph_.outputs()[i],
                     graph_.outputs().size() == 1 ? "output" : "output." + std::to_string(i),
                     leaves);
    bool any = false;
    for (auto& [name, v] : leaves) {
      auto it = src_.find(v);
      if (it == src_.end()) continue;
      int id = b_.add(Op::kOutput, name, "return");
      b_.connect(it->second, id);
      any = true;
    }
    if (!any) b_.add(Op::kOutput, "output", "return");
  }

 private:
  // Returned tuples, lists and dicts are split into one output per tensor-carrying leaf.
  void collect_leaves(jit::Value* v, const std::string& name,
                      std::vector<std::pair<std::string, jit::Value*>>& out) {
    if (!carries_tensor(v->type())) return;
    jit::Node* p = v->node();
    // Lists and dicts are split only when nothing else (append, item assignment) touches them.
    const bool sole_use = v->uses().size() == 1;
    if (kind_is(p, "prim::TupleConstruct") || (kind_is(p, "prim::ListConstruct") && sole_use)) {
      for (size_t i = 0; i < p->inputs().size(); ++i)
        collect_leaves(p->input(i), name + "." + std::to_string(i), out);
      return;
    }
    if (kind_is(p, "prim::DictConstruct") && sole_use) {
      for (size_t i = 1; i < p->inputs().size(); i += 2) {
        auto key = jit::toIValue(p->input(i - 1));
        std::string k = key && key->isString() ? key->toStringRef() : std::to_string(i / 2);
        collect_leaves(p->input(i), name + "." + k, out);
      }
      return;
    }
    out.emplace_back(name, v);
  }

  // The parameter a value holds (a GetAttr chain from self, or a layout view of one); -1 when
  // it is not a parameter.
  int param_of(const jit::Value* v) const {
    auto alias = param_alias_.find(v);
    if (alias != param_alias_.end()) return alias->second;
    if (v->node()->kind() != c10::prim::GetAttr) return -1;
    auto path = attrs_.path(v);
    if (!path) return -1;
    auto it = info_.param_by_name.find(*path);
    return it == info_.param_by_name.end() ? -1 : it->second;
  }

  // Distinct parameters among a node's inputs (looking into list constructions and into
  // attributes that are lists of parameters, like nn.LSTM's _flat_weights).
  std::vector<int> params_of(const jit::Node* n) {
    std::vector<int> out;
    auto add_index = [&](int p) {
      if (p >= 0 && std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
    };
    auto add = [&](const jit::Value* v) { add_index(param_of(v)); };
    for (const jit::Value* v : n->inputs()) {
      add(v);
      if (kind_is(v->node(), "prim::ListConstruct"))
        for (const jit::Value* e : v->node()->inputs()) add(e);
      if (v->node()->kind() == c10::prim::GetAttr && v->type()->kind() == c10::TypeKind::ListType)
        if (auto list = attrs_.value(v); list && list->isList())
          for (const c10::IValue& e : list->toListRef())
            if (e.isTensor() && e.toTensor().defined()) {
              auto it = info_.param_by_storage.find(storage_key(e.toTensor()));
              if (it != info_.param_by_storage.end()) add_index(it->second);
            }
    }
    return out;
  }

  Scope scope_of(const jit::Node* n) const {
    Scope s;
    auto cs = n->callstack();
    if (!cs) return s;
    for (const auto& entry : (*cs)->vec()) {
      const auto& mi = std::get<2>(entry);
      if (!mi) continue;
      std::string inst = mi->instance_name();
      if (inst == "SELF" || inst == "INSTANCE_NAME_UNKNOWN" || inst.empty()) continue;
      s.path += (s.path.empty() ? "" : ".") + inst;
      s.cls = class_name(mi->class_type());
    }
    // Trust the recovered path only when it names a real module.
    auto it = info_.modules.find(s.path);
    if (it == info_.modules.end()) s.path.clear();
    return s;
  }

  // "corr_block.corr_pyramid" for a GetAttr / SetAttr of attribute corr_pyramid on the module
  // at corr_block; nullopt when the module is not reached from self by attribute reads.
  c10::optional<std::string> module_attribute_path(const jit::Node* n) const {
    auto owner = attrs_.path(n->input(0));
    if (!owner) return c10::nullopt;
    const std::string& attr = n->s(c10::attr::name);
    return owner->empty() ? attr : *owner + "." + attr;
  }

  bool is_leaf_module(const std::string& path) const {
    auto it = info_.modules.find(path);
    return it != info_.modules.end() && it->second.leaf;
  }

  // Fills shape, params, name and layer_class of a new node.
  void describe(Node& nd, const jit::Node* n, const std::vector<int>& params) {
    std::string kind = n->kind().toQualString();
    nd.source_op = kind;
    Scope scope = scope_of(n);
    if (!params.empty()) {
      // Main weight: the parameter of highest rank (conv / linear weight, norm scale, table).
      int main = params[0];
      for (int p : params)
        if (info_.params[p].sizes.size() > info_.params[main].sizes.size()) main = p;
      nd.shape = fold_shape(info_.params[main].sizes);
      nd.params = own(params);
      // A layer module's node is named after the module ("layer1.0.conv1"); a parameter that a
      // composite module holds directly after the parameter ("encoder.pos_embedding").
      const std::string& owner = info_.params[main].owner;
      auto it = info_.modules.find(owner);
      const bool layer = it != info_.modules.end() && it->second.leaf;
      nd.name = layer ? owner : info_.params[main].name;
      if (layer && !op_class(nd.op).empty()) nd.layer_class = it->second.cls;
      return;
    }
    std::string op = kind.substr(kind.find("::") + 2);
    if (is_leaf_module(scope.path)) {
      nd.name = scope.path;
      // Tentative: kept by finish() when the module computes a single such op (nn.ReLU,
      // nn.GELU), not when it is a whole pipeline in one module (GeneralizedRCNNTransform).
      if (!op_class(nd.op).empty() && !scope.cls.empty()) nd.layer_class = scope.cls;
    } else {
      nd.name = scope.path.empty() ? op : scope.path + "." + op;
    }
  }

  // Connects the producers of every tensor-carrying input of `n` to node `id`.
  void connect_inputs(const jit::Node* n, int id) {
    for (const jit::Value* v : n->inputs()) connect_value(v, id);
  }

  void connect_value(const jit::Value* v, int id) {
    if (!carries_tensor(v->type())) return;
    auto it = src_.find(v);
    if (it != src_.end() && it->second != id) b_.connect(it->second, id);
  }

  // After `n` ran, values it mutated in place (x.relu_(), list.append(t), dict[k] = t) are
  // produced by `id` for later readers.
  // A write through a view (batched[i, :h, :w].copy_(img)) also updates the viewed tensor.
  // A write into an element of a container (r = result[i]; r["masks"] = m) also updates the
  // containers that hold it.
  void record_mutations(const jit::Node* n, int id) {
    const c10::FunctionSchema* schema = n->maybeSchema();
    if (!schema) return;
    const auto& args = schema->arguments();
    for (size_t i = 0; i < args.size() && i < n->inputs().size(); ++i) {
      if (!args[i].alias_info() || !args[i].alias_info()->isWrite()) continue;
      src_[n->input(i)] = id;
      mark_containers(n->input(i), id);
      auto base = view_base_.find(n->input(i));
      if (base != view_base_.end()) {
        src_[base->second] = id;
        mark_containers(base->second, id);
      }
    }
  }

  // The containers that hold `v` (directly or nested: a dict in a list) are produced by `id`.
  void mark_containers(const jit::Value* v, int id) {
    for (int depth = 0; depth < 16; ++depth) {
      auto it = container_of_.find(v);
      if (it == container_of_.end()) return;
      v = it->second;
      src_[v] = id;
    }
  }

  // Sets the producer of the node's outputs, and remembers views (outputs that alias input 0
  // without writing it: slice, select, view, transpose, ...) of their base tensor.
  void set_outputs(const jit::Node* n, int id) {
    for (const jit::Value* v : n->outputs()) src_[v] = id;
    const c10::FunctionSchema* schema = n->maybeSchema();
    if (!schema || n->inputs().empty() || schema->arguments().empty() || schema->returns().empty())
      return;
    const auto* in = schema->arguments()[0].alias_info();
    const auto* out = schema->returns()[0].alias_info();
    if (!in || !out || in->isWrite() || out->isWrite()) return;
    if (n->input(0)->type()->kind() != c10::TypeKind::TensorType) return;
    auto base = view_base_.find(n->input(0));
    const jit::Value* root = base == view_base_.end() ? n->input(0) : base->second;
    for (const jit::Value* v : n->outputs()) view_base_[v] = root;
  }

  void visit(jit::Node* n) {
    if (n->kind() == c10::prim::Constant) return;
    // Attributes of modules are parameters, buffers and settings, not data flow; attributes of
    // data objects (ImageList.tensors) are.
    // Except tensors that the graph itself stored on a module earlier (RAFT's corr_block keeps
    // its correlation pyramid in self.corr_pyramid between two method calls).
    if (n->kind() == c10::prim::GetAttr && is_module_value(n->input(0))) {
      if (auto path = module_attribute_path(n)) {
        auto it = module_state_.find(*path);
        if (it != module_state_.end()) src_[n->output()] = it->second;
      }
      return;
    }
    if (n->kind() == c10::prim::SetAttr) {
      if (!carries_tensor(n->input(1)->type())) return;
      if (is_module_value(n->input(0))) {
        auto path = module_attribute_path(n);
        if (!path) return;
        int id = b_.elide("setattr", "prim::SetAttr");
        connect_value(n->input(1), id);
        module_state_[*path] = id;
        return;
      }
      int id = b_.elide("setattr", "prim::SetAttr");
      connect_inputs(n, id);
      src_[n->input(0)] = id;
      mark_containers(n->input(0), id);
      return;
    }
    if (n->kind() == c10::prim::If) return visit_if(n);
    if (n->kind() == c10::prim::Loop) return visit_loop(n);
    if (n->kind() == c10::prim::CallMethod && ts::is_opaque_module(ts::call_target(n)))
      return multi_head_attention_module(n);
    // Shape and control bookkeeping (no tensor flows out and no tensor container is written).
    if (!any_output_carries_tensor(n) && !writes_tensor_container(n)) return;
    const std::string kind = n->kind().toQualString();
    const OpRule* rule = ts::find_op_rule(kind);
    if (!rule) {
      // prim:: plumbing, and list / dict / object handling (values(), items(), list(), dict
      // item assignment) only moves tensors around.
      if (n->kind().is_prim() || !any_output_is_tensor(n)) return elide(n, kind);
      return (void)plain(n, Op::kOther);
    }
    switch (rule->rule) {
      case Rule::kPlain:
        return (void)plain(n, rule->op);
      case Rule::kSlice:
        if (is_full_slice(n)) return elide(n, kind);
        return (void)plain(n, rule->op);
      case Rule::kElide:
        return elide(n, kind);
      case Rule::kFactory: {
        // A new tensor whose contents do not depend on its tensor arguments (only their
        // dtype, device or shape): no data flows in.
        int id = b_.elide(kind, kind);
        set_outputs(n, id);
        return;
      }
      case Rule::kConv:
        return (void)plain(n, conv_op(n, rule->op));
      case Rule::kMatmulParam:
        return (void)plain(n, params_of(n).empty() ? Op::kMatmul : Op::kLinear);
      case Rule::kAddParam: {
        for (int p : params_of(n))
          if (info_.params[p].sizes.size() >= 2) return (void)plain(n, Op::kPosEnc);
        return (void)plain(n, rule->op);
      }
      case Rule::kExpandParam:
        if (param_of(n->input(0)) >= 0) return (void)plain(n, Op::kPosEnc);
        return elide(n, kind);
      case Rule::kClamp: {
        const char* lo_name = arg(n, "min_val") ? "min_val" : "min";
        const char* hi_name = arg(n, "max_val") ? "max_val" : "max";
        auto lo = const_number(arg(n, lo_name));
        auto hi = const_number(arg(n, hi_name));
        return (void)plain(n, lo && hi && *lo == 0.0 && *hi == 6.0 ? Op::kRelu6 : Op::kClip);
      }
      case Rule::kAdaptiveAvg:
      case Rule::kAdaptiveMax: {
        std::vector<int64_t> size = const_ints(arg(n, "output_size"));
        bool global = !size.empty() &&
                      std::all_of(size.begin(), size.end(), [](int64_t s) { return s == 1; });
        Op op = rule->rule == Rule::kAdaptiveAvg ? (global ? Op::kGlobalAvgPool : Op::kAvgPool)
                                                 : (global ? Op::kGlobalMaxPool : Op::kMaxPool);
        return (void)plain(n, op);
      }
      case Rule::kPool: {
        int id = plain(n, rule->op);
        std::vector<int64_t> k = const_ints(arg(n, "kernel_size"));
        const bool one_d = kind.find("1d") != std::string::npos;
        if (k.size() == 1) b_.node(id).kernel = Kernel2{k[0], one_d ? 1 : k[0]};
        if (k.size() == 2) b_.node(id).kernel = Kernel2{k[0], k[1]};
        if (k.size() == 3) b_.node(id).kernel = Kernel2{k[0] * k[1], k[2]};
        return;
      }
      case Rule::kMha:
        return multi_head_attention(n);
      case Rule::kSdpa:
        return scaled_dot_product(n);
    }
  }

  // x[:, ...]: a slice over the whole dimension (start 0 or None, end None or INT64_MAX, step 1)
  // is the identity.
  static bool is_full_slice(const jit::Node* n) {
    auto number_or_none = [](const jit::Value* v, int64_t none_value) -> c10::optional<int64_t> {
      if (!v) return none_value;
      auto iv = jit::toIValue(v);
      if (!iv) return c10::nullopt;
      if (iv->isNone()) return none_value;
      if (iv->isInt()) return iv->toInt();
      return c10::nullopt;
    };
    const int64_t kMax = std::numeric_limits<int64_t>::max();
    auto start = number_or_none(arg(n, "start"), 0);
    auto end = number_or_none(arg(n, "end"), kMax);
    auto step = number_or_none(arg(n, "step"), 1);
    return arg(n, "start") && start && *start == 0 && end && *end == kMax && step && *step == 1;
  }

  // conv, or dil_conv when any dilation > 1, or sep_conv when groups > 1 (dilation wins), or
  // conv_transpose when the generic convolution is transposed.
  Op conv_op(const jit::Node* n, Op fallback) const {
    if (const jit::Value* t = arg(n, "transposed")) {
      auto transposed = jit::toIValue(t);
      if (transposed && transposed->isBool() && transposed->toBool()) return Op::kConvTranspose;
    }
    std::vector<int64_t> dilation = const_ints(arg(n, "dilation"));
    for (const char* d : {"dilation_h", "dilation_w"})
      for (int64_t v : const_ints(arg(n, d))) dilation.push_back(v);
    for (int64_t d : dilation)
      if (d > 1) return Op::kDilConv;
    std::vector<int64_t> groups = const_ints(arg(n, "groups"));
    if (!groups.empty() && groups[0] > 1) return Op::kSepConv;
    return fallback;
  }

  int plain(jit::Node* n, Op op) {
    Node nd;
    nd.op = op;
    describe(nd, n, params_of(n));
    const bool in_leaf = !nd.shape && is_leaf_module(nd.name);
    const std::string module_path = nd.name;
    int id = b_.add(std::move(nd));
    if (in_leaf) leaf_ops_[module_path].push_back(id);
    connect_inputs(n, id);
    record_mutations(n, id);
    set_outputs(n, id);
    return id;
  }

  void elide(jit::Node* n, const std::string& kind) {
    int id = b_.elide(kind, kind);
    connect_inputs(n, id);
    record_mutations(n, id);
    set_outputs(n, id);
    // A view of a parameter is still that parameter for its consumers.
    if (!n->inputs().empty() && n->outputs().size() == 1) {
      int p = param_of(n->input(0));
      if (p >= 0) param_alias_[n->output()] = p;
    }
    // An element taken out of a container (result[i], d["boxes"], unpacked tuples, casts) is
    // part of it: writing into the element (r = result[i]; r["masks"] = m) updates the container.
    if (!n->inputs().empty() && n->input(0)->type()->kind() != c10::TypeKind::TensorType &&
        carries_tensor(n->input(0)->type()))
      for (const jit::Value* v : n->outputs())
        if (carries_tensor(v->type())) container_of_[v] = n->input(0);
  }

  // Both branches are walked (the condition is data-dependent once folding is done); output i
  // of the If is produced by either branch's output i.
  void visit_if(jit::Node* n) {
    std::vector<int> outs;
    for (size_t i = 0; i < n->outputs().size(); ++i) outs.push_back(b_.elide("if", "prim::If"));
    for (jit::Block* block : n->blocks()) {
      walk(block);
      for (size_t i = 0; i < outs.size() && i < block->outputs().size(); ++i)
        connect_value(block->outputs()[i], outs[i]);
    }
    for (size_t i = 0; i < outs.size(); ++i) src_[n->output(i)] = outs[i];
  }

  // The body is walked once; loop-carried values enter from their initial values and leave from
  // both the initial value and the body's result (no back edge, so the graph stays a DAG).
  void visit_loop(jit::Node* n) {
    jit::Block* body = n->blocks()[0];
    const size_t carried = n->outputs().size();
    std::vector<int> carry;
    for (size_t j = 0; j < carried; ++j) {
      int id = b_.elide("loop", "prim::Loop");
      if (2 + j < n->inputs().size()) connect_value(n->input(2 + j), id);
      if (1 + j < body->inputs().size()) src_[body->inputs()[1 + j]] = id;
      carry.push_back(id);
    }
    walk(body);
    for (size_t j = 0; j < carried; ++j) {
      int id = b_.elide("loop", "prim::Loop");
      b_.connect(carry[j], id);
      if (1 + j < body->outputs().size()) connect_value(body->outputs()[1 + j], id);
      src_[n->output(j)] = id;
    }
  }

  // Adds one canonical node of a decomposed composite.
  int part(Op op, const std::string& name, const std::string& source_op,
           const std::vector<int>& params, const std::string& layer_class) {
    Node nd;
    nd.op = op;
    nd.name = name;
    nd.source_op = source_op;
    if (!params.empty()) {
      nd.shape = fold_shape(info_.params[params[0]].sizes);
      nd.params = own(params);
    }
    nd.layer_class = layer_class;
    return b_.add(std::move(nd));
  }

  // Numel of the parameters not yet owned by an earlier node, which now become owned: a
  // parameter read by two nodes (shared weights, a layer in both branches of an If) counts
  // once, so that the nodes' params add up to the model's.
  int64_t own(const std::vector<int>& params) {
    int64_t total = 0;
    for (int p : params) {
      if (owned_[p]) continue;
      owned_[p] = 1;
      total += info_.params[p].numel;
    }
    return total;
  }

  // aten::_native_multi_head_attention -> linear (fused qkv) + matmul + softmax + matmul +
  // linear (out_proj).
  void multi_head_attention(jit::Node* n) {
    const std::string kind = n->kind().toQualString();
    auto params_named = [&](std::initializer_list<const char*> names) {
      std::vector<int> out;
      for (const char* name : names) {
        jit::Value* v = arg(n, name);
        int p = v ? param_of(v) : -1;
        if (p >= 0) out.push_back(p);
      }
      return out;
    };
    std::vector<int> in_params = params_named({"qkv_weight", "qkv_bias"});
    std::vector<int> out_params = params_named({"proj_weight", "proj_bias"});
    std::string base = !in_params.empty() ? info_.params[in_params[0]].owner : scope_of(n).path;
    if (base.empty()) base = "attention";
    std::string out_name =
        !out_params.empty() ? info_.params[out_params[0]].owner : base + ".out_proj";
    auto cls_of = [&](const std::vector<int>& ps, const char* dflt) {
      if (ps.empty()) return std::string(dflt);
      auto it = info_.modules.find(info_.params[ps[0]].owner);
      return it == info_.modules.end() ? std::string(dflt) : it->second.cls;
    };
    int in_proj = part(Op::kLinear, base + ".in_proj", kind, in_params,
                       cls_of(in_params, "MultiheadAttention"));
    for (const char* name : {"query", "key", "value"})
      if (jit::Value* v = arg(n, name)) connect_value(v, in_proj);
    int qk = part(Op::kMatmul, base + ".matmul_qk", kind, {}, "");
    int soft = part(Op::kSoftmax, base + ".softmax", kind, {}, "");
    int av = part(Op::kMatmul, base + ".matmul_av", kind, {}, "");
    int out = part(Op::kLinear, out_name, kind, out_params, cls_of(out_params, "Linear"));
    b_.connect(in_proj, qk);
    b_.connect(qk, soft);
    if (jit::Value* mask = arg(n, "mask")) connect_value(mask, soft);
    b_.connect(soft, av);
    b_.connect(in_proj, av);
    b_.connect(av, out);
    if (n->outputs().size() > 0) src_[n->output(0)] = out;
    if (n->outputs().size() > 1) src_[n->output(1)] = soft;
  }

  // A call of nn.MultiheadAttention.forward(query, key, value, key_padding_mask, need_weights,
  // attn_mask, ...) -> its projections as the module stores them (one fused in_proj linear, or
  // q/k/v linears when the embedding sizes differ) + matmul + softmax + matmul + out_proj.
  void multi_head_attention_module(jit::Node* n) {
    const std::string source = "MultiheadAttention.forward";
    std::string path = attrs_.path(n->input(0)).value_or("");
    auto param = [&](const std::string& name) {
      auto it = info_.param_by_name.find(path.empty() ? name : path + "." + name);
      return it == info_.param_by_name.end() ? -1 : it->second;
    };
    auto present = [](std::initializer_list<int> ids) {
      std::vector<int> out;
      for (int id : ids)
        if (id >= 0) out.push_back(id);
      return out;
    };
    auto input = [&](size_t i) -> jit::Value* {
      return i < n->inputs().size() ? n->input(i) : nullptr;
    };
    const std::string base = path.empty() ? "attention" : path;
    int q = -1, k = -1, v = -1;
    if (param("in_proj_weight") >= 0 || param("q_proj_weight") < 0) {
      q = k = v = part(Op::kLinear, base + ".in_proj", source,
                       present({param("in_proj_weight"), param("in_proj_bias"), param("bias_k"),
                                param("bias_v")}),
                       "MultiheadAttention");
    } else {
      q = part(Op::kLinear, base + ".q_proj", source,
               present({param("q_proj_weight"), param("in_proj_bias")}), "MultiheadAttention");
      k = part(Op::kLinear, base + ".k_proj", source,
               present({param("k_proj_weight"), param("bias_k")}), "Linear");
      v = part(Op::kLinear, base + ".v_proj", source,
               present({param("v_proj_weight"), param("bias_v")}), "Linear");
    }
    if (jit::Value* x = input(1)) connect_value(x, q);
    if (jit::Value* x = input(2)) connect_value(x, k);
    if (jit::Value* x = input(3)) connect_value(x, v);
    int qk = part(Op::kMatmul, base + ".matmul_qk", source, {}, "");
    int soft = part(Op::kSoftmax, base + ".softmax", source, {}, "");
    int av = part(Op::kMatmul, base + ".matmul_av", source, {}, "");
    int out = part(Op::kLinear, base + ".out_proj", source,
                   present({param("out_proj.weight"), param("out_proj.bias")}), "Linear");
    b_.connect(q, qk);
    if (k != q) b_.connect(k, qk);
    b_.connect(qk, soft);
    for (size_t mask : {4, 6})  // key_padding_mask, attn_mask
      if (jit::Value* x = input(mask)) connect_value(x, soft);
    b_.connect(soft, av);
    b_.connect(v, av);
    b_.connect(av, out);
    set_outputs(n, out);
  }

  // scaled_dot_product_attention(q, k, v, mask) -> matmul + softmax + matmul.
  void scaled_dot_product(jit::Node* n) {
    const std::string kind = n->kind().toQualString();
    std::string base = scope_of(n).path;
    base = base.empty() ? "sdpa" : base + ".sdpa";
    int qk = part(Op::kMatmul, base + ".matmul_qk", kind, {}, "");
    int soft = part(Op::kSoftmax, base + ".softmax", kind, {}, "");
    int av = part(Op::kMatmul, base + ".matmul_av", kind, {}, "");
    for (const char* name : {"query", "key"})
      if (jit::Value* v = arg(n, name)) connect_value(v, qk);
    b_.connect(qk, soft);
    if (jit::Value* mask = arg(n, "attn_mask")) connect_value(mask, soft);
    b_.connect(soft, av);
    if (jit::Value* v = arg(n, "value")) connect_value(v, av);
    set_outputs(n, av);
  }

  GraphBuilder& b_;
  const ModelInfo& info_;
  jit::Graph& graph_;
  ts::AttributeResolver& attrs_;
  std::vector<char> owned_;                           // per parameter: already counted on a node
  std::map<std::string, std::vector<int>> leaf_ops_;  // leaf module path -> its nodes
  std::unordered_map<const jit::Value*, int> src_;    // value -> builder node producing it
  std::unordered_map<const jit::Value*, int> param_alias_;                 // views of parameters
  std::unordered_map<const jit::Value*, const jit::Value*> view_base_;     // view -> viewed tensor
  std::unordered_map<const jit::Value*, const jit::Value*> container_of_;  // element -> container
  std::unordered_map<std::string, int> module_state_;  // module attribute path -> last writer
};

class TorchScriptImporter : public Importer {
 public:
  std::string format() const override { return "torchscript"; }

  bool accepts(const std::string& path, std::string_view head, bool is_dir) const override {
    if (is_dir) return false;
    if (head.substr(0, 4) == std::string_view("PK\x03\x04", 4)) return true;
    // Legacy pickles (0x80 protocol byte) are left to the dispatcher's checkpoint message.
    const bool pickle = !head.empty() && static_cast<unsigned char>(head[0]) == 0x80;
    return !pickle && has_extension(path, {".pt", ".pth", ".ts", ".zip"});
  }

  ArchGraph import(const std::string& path, const ImportOptions& options) const override {
    require_torchscript_archive(path);
    if (!options.allow_torchscript)
      throw_bad_input(path,
                      "TorchScript archives can run code when loaded and are disabled here "
                      "(allow_torchscript is off); export the model to ONNX instead");
    torch::jit::Module module = load_module(path);
    GraphBuilder builder(path);
    ModelInfo info;
    try {
      if (!module.find_method("forward"))
        throw_bad_input(path, "the TorchScript module has no forward() method");
      info = read_model_info(module);
      module.eval();
      std::shared_ptr<jit::Graph> graph = ts::prepare_forward_graph(module);
      ts::AttributeResolver attrs(graph->inputs().at(0), module._ivalue());
      Walker walker(builder, info, *graph, attrs);
      walker.add_inputs();
      walker.walk(graph->block());
      walker.finish_layer_classes();
      walker.add_outputs();
    } catch (const Error&) {
      throw;
    } catch (const c10::Error& e) {
      throw_bad_input(path, "cannot read the TorchScript forward graph: " + torch_message(e));
    } catch (const std::exception& e) {
      throw_bad_input(path, "cannot read the TorchScript forward graph: " + first_line(e.what()));
    }
    std::string name = std::filesystem::path(path).stem().string();
    return builder.finish(name, "torchscript", info.total_params, /*bn_folded=*/false,
                          options.limits);
  }
};

}  // namespace

std::unique_ptr<Importer> make_torchscript_importer() {
  return std::make_unique<TorchScriptImporter>();
}

}  // namespace archbert
