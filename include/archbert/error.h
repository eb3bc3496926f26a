#pragma once
// Errors carry a kind that maps to the CLI's documented exit codes.

#include <stdexcept>
#include <string>

namespace archbert {

enum class ErrorKind {
  kUsage = 1,     // the request itself is malformed (unknown flag, bad option value)
  kBadInput = 2,  // a file, name or text given to archbert is unreadable, corrupt or invalid
  kInternal = 3,  // a bug or an environment failure inside archbert
};

// The one exception type the library throws. `what()` is a complete one-line message that names
// the input and the problem, e.g. "model.onnx: truncated protobuf (read 812 of 1024 bytes)".
class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

// Throws Error(kBadInput, "<input>: <problem>").
[[noreturn]] void throw_bad_input(const std::string& input, const std::string& problem);

}  // namespace archbert
