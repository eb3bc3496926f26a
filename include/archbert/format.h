#pragma once
// Number formatting shared by summaries, renderings and generated texts.

#include <cstdint>
#include <string>

namespace archbert {

// 11689512 -> "11,689,512"; -1234 -> "-1,234".
std::string group_thousands(int64_t v);

}  // namespace archbert
