#pragma once
// Reading JSONL sample files (private to src/data/).

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace archbert {

// Calls `each(object, where)` for every non-empty line of `path`; `where` is "path:line".
// A line that is not a JSON object, or a json::exception thrown by `each`, becomes
// Error(kBadInput) naming that line.
void for_each_jsonl_object(
    const std::string& path,
    const std::function<void(const nlohmann::json&, const std::string&)>& each);

}  // namespace archbert
