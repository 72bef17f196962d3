// Shared helpers for the test suite.
#ifndef PLEXUS_TEST_SUPPORT_HPP
#define PLEXUS_TEST_SUPPORT_HPP

#include <plexus/error.hpp>
#include <plexus/kernel.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace plexus::test {

/// A registry holding the built-in plugins of this build, loaded from disk once
/// per test process through the real PluginLoader.
const Registry& builtin_registry();

/// PLEXUS_SOURCE_DIR + "/" + rel.
std::string source_path(const std::string& rel);

/// A fresh empty directory under the system temp folder, unique per call.
std::string temp_dir();

/// What a child process printed (stdout and stderr together) and its exit code (-1 if killed).
struct ProcessResult {
  int code = -1;
  std::string out;
};

/// Runs a shell command line, stdout and stderr together, and waits for it.
ProcessResult run_shell(const std::string& command);

/// Runs `f`; expects a plexus::Error with `code` whose message holds every one of `parts`.
template <typename F>
void expect_error(F&& f, ErrorCode code, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "expected an error mentioning '" << (parts.empty() ? "" : parts[0]) << "'";
  } catch (const Error& e) {
    EXPECT_EQ(static_cast<int>(e.code()), static_cast<int>(code)) << e.what();
    for (const std::string& p : parts)
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << "'" << p << "' not in: " << e.what();
  }
}

/// Same shape and the same bytes (NaN payloads and -0.0 included).
bool same_bits(const Tensor& a, const Tensor& b);

/// Seeded N(0, 3^2) values.
Tensor random_tensor(const Shape& shape, uint64_t seed);

/// Plain tensors of one shape with |a - b| <= tol * max|b| elementwise (the
/// f32-rounding comparison of two ways to compute one thing); failures name
/// `what` and the first few elements.
void expect_close_to_scale(const Tensor& a, const Tensor& b, double tol, const std::string& what);

}  // namespace plexus::test

#endif
