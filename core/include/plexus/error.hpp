// plexus::Error: the one exception type the library throws.
//
//   try { model.load("mlp.pbtxt"); }
//   catch (const plexus::Error& e) { std::cerr << e.what(); return e.code() == plexus::ErrorCode::kIo ? 2 : 1; }
//
// Messages name the file, node and field, say what was expected and what was
// found, and list alternatives where there are any.
#ifndef PLEXUS_ERROR_HPP
#define PLEXUS_ERROR_HPP

#include <stdexcept>
#include <string>

namespace plexus {

enum class ErrorCode {
  kInvalid = 1,   // bad argument, attribute, shape
  kNotFound = 2,  // unknown kernel, file, parameter
  kIo = 3,        // cannot read or write a file
  kFormat = 4,    // malformed or corrupt file content
  kPlugin = 5,    // a plugin failed to load or a kernel failed
  kAbi = 6,       // plugin ABI version or declaration mismatch
  kNumeric = 7,   // NaN/Inf
  kInternal = 8,  // a bug
};

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace plexus

#endif
