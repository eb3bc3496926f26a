#pragma once
// The sentence templates of AutoNet's descriptions (description_templates.cpp): openers (the
// subject), connectors (joining two predicates) and, per fact kind, predicates with slots.
//
// Slots: {a} article + singular layer name, {sg} singular name, {pl} plural name, {cls} class
// name, {fn} layer function (infinitive), {n} a count, {p} a parameter count phrase, {k} a kernel.

#include <string>
#include <string_view>
#include <vector>

namespace archbert::data {

// A predicate template: `text` for counts other than one, `singular` for a count of one (the
// same as `text` when the kind states no count).
struct Predicate {
  const char* text;
  const char* singular;
};

const std::vector<const char*>& description_openers();     // "This network", ...
const std::vector<const char*>& description_connectors();  // ". It also ", ...
// The predicates of a fact kind ("has", "lacks", "count", "total", "params", "kernel"); empty
// for an unknown kind.
const std::vector<Predicate>& description_predicates(std::string_view kind);
// Every fact kind, in a fixed order.
const std::vector<std::string>& description_fact_kinds();

// `pattern` with each "{slot}" replaced by slots[i].second where slots[i].first == "slot".
std::string fill_template(std::string_view pattern,
                          const std::vector<std::pair<std::string_view, std::string>>& slots);

}  // namespace archbert::data
