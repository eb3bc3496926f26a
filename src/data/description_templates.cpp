// The sentence templates of AutoNet's descriptions. Every template is used for true and for false
// facts alike (the generator picks the template before it knows the truth of the fact), so the
// wording never tells the label.
#include "data/description_templates.h"

#include <utility>

namespace archbert::data {

const std::vector<const char*>& description_openers() {
  static const std::vector<const char*> openers = {
      "This network",
      "This architecture",
      "The model",
      "This neural network",
      "The network",
      "This classifier",
      "The described architecture",
      "This image classifier",
      "The given network",
      "This neural architecture",
      "This model",
      "The architecture",
      "The generated network",
      "This candidate architecture",
      "Structurally, this network",
      "In short, the model",
      "Overall, this architecture",
      "At a glance, this neural network",
  };
  return openers;
}

const std::vector<const char*>& description_connectors() {
  static const std::vector<const char*> connectors = {
      ", and it ",
      ". It also ",
      "; it also ",
      ". Moreover, it ",
      ". In addition, the network ",
      ", and it also ",
      ". Besides that, it ",
      ". Furthermore, the model ",
      "; in addition, it ",
      ". On top of that, it ",
      ". Additionally, it ",
      ". The same network ",
  };
  return connectors;
}

const std::vector<Predicate>& description_predicates(std::string_view kind) {
  // A layer is present (its function stated too).
  static const std::vector<Predicate> has = {
      {"has {a}, which is used to {fn}", nullptr},
      {"contains {a} to {fn}", nullptr},
      {"includes {a}, a layer meant to {fn}", nullptr},
      {"employs {a} in order to {fn}", nullptr},
      {"relies on {a} to {fn}", nullptr},
      {"uses at least one {sg} to {fn}", nullptr},
      {"comes with {a}, whose job is to {fn}", nullptr},
      {"is equipped with {a} that helps to {fn}", nullptr},
  };
  // A layer is absent.
  static const std::vector<Predicate> lacks = {
      {"has no {sg}", nullptr},
      {"does not use any {sg}", nullptr},
      {"contains no {pl}", nullptr},
      {"is built without {pl}", nullptr},
      {"does not include a single {sg}", nullptr},
      {"has no layer of type {cls}", nullptr},
  };
  // The number of layers of a class.
  static const std::vector<Predicate> count = {
      {"uses {n} {pl}", "uses a single {sg}"},
      {"has exactly {n} {pl}", "has exactly one {sg}"},
      {"contains {n} layers of type {cls}", "contains one layer of type {cls}"},
      {"is built with {n} {pl}, which serve to {fn}",
       "is built with one {sg}, which serves to {fn}"},
      {"uses {n} {pl} to {fn}", "uses one {sg} to {fn}"},
      {"features {n} {pl}", "features a single {sg}"},
  };
  // The total number of layers.
  static const std::vector<Predicate> total = {
      {"has {n} layers in total", nullptr},
      {"consists of {n} layers", nullptr},
      {"is made up of {n} layers altogether", nullptr},
      {"stacks {n} layers in all", nullptr},
      {"has a total of {n} layers", nullptr},
      {"is composed of {n} layers overall", nullptr},
  };
  // The number of parameters.
  static const std::vector<Predicate> params = {
      {"has {p} parameters", nullptr},
      {"holds {p} trainable parameters", nullptr},
      {"has a total of {p} parameters", nullptr},
      {"comes with {p} learnable parameters", nullptr},
      {"weighs in at {p} parameters", nullptr},
      {"needs {p} parameters", nullptr},
  };
  // Some layer of a class has a kernel.
  static const std::vector<Predicate> kernel = {
      {"uses {k} kernels in its {pl}", nullptr},
      {"has {a} with a {k} kernel", nullptr},
      {"applies a {k} kernel in at least one {sg}", nullptr},
      {"includes a layer of type {cls} with a {k} kernel", nullptr},
      {"runs {a} whose kernel is {k}", nullptr},
      {"lists {k} among the kernel sizes of its {pl}", nullptr},
  };
  static const std::vector<Predicate> none;
  if (kind == "has") return has;
  if (kind == "lacks") return lacks;
  if (kind == "count") return count;
  if (kind == "total") return total;
  if (kind == "params") return params;
  if (kind == "kernel") return kernel;
  return none;
}

const std::vector<std::string>& description_fact_kinds() {
  static const std::vector<std::string> kinds = {"has",   "lacks",  "count",
                                                 "total", "params", "kernel"};
  return kinds;
}

std::string fill_template(std::string_view pattern,
                          const std::vector<std::pair<std::string_view, std::string>>& slots) {
  std::string out;
  out.reserve(pattern.size() + 64);
  size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] == '{') {
      const size_t close = pattern.find('}', i);
      if (close == std::string_view::npos) {  // not a slot: keep the text
        out += pattern.substr(i);
        break;
      }
      const std::string_view name = pattern.substr(i + 1, close - i - 1);
      for (const auto& [slot, value] : slots)
        if (slot == name) {
          out += value;
          break;
        }
      i = close + 1;
    } else {
      out += pattern[i++];
    }
  }
  return out;
}

}  // namespace archbert::data
