// `plexus plugins --check FILE.so`, run as a real process: one PASS/FAIL line
// per check, a summary, exit code 0 only when every check passes.
#include "support/test_support.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <sys/wait.h>

namespace plexus {
namespace {

using Result = test::ProcessResult;

Result run(const std::string& args) {
  return test::run_shell(std::string(PLEXUS_BINARY_DIR) + "/bin/plexus " + args);
}

std::string fixture(const std::string& c) {
  return std::string(PLEXUS_FIXTURE_PLUGIN_DIR) + "/" + c + "/libfixture_" + c + ".so";
}

bool has(const Result& r, const std::string& s) { return r.out.find(s) != std::string::npos; }

TEST(CheckCli, BuiltInOptimizersPassWithExitZero) {
  const Result r = run("plugins --check " + std::string(PLEXUS_BUILD_PLUGIN_DIR) + "/libplexus_optimizers.so");
  EXPECT_EQ(r.code, 0) << r.out;
  for (const char* line : {"PASS  handshake  ", "PASS  sgd.declarations  ", "PASS  sgd.quadratic  lr ",
                           "PASS  sgd.rosenbrock  lr ", "PASS  sgd.logistic  lr ", "PASS  sgd.round_trip  ",
                           "PASS  sgd.odd_sizes  ", "PASS  sgd.nan_gradient  ", " 0 failed\n"})
    EXPECT_TRUE(has(r, line)) << "'" << line << "' missing:\n" << r.out;
  EXPECT_FALSE(has(r, "FAIL  ")) << r.out;
}

TEST(CheckCli, FailuresGiveExitOneAndFailLines) {
  const Result r = run("plugins --check " + fixture("ascent"));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(has(r, "FAIL  fixture_ascent.quadratic  no lr in {")) << r.out;
  EXPECT_TRUE(has(r, "FAIL  fixture_ascent.rosenbrock  ")) << r.out;
  EXPECT_TRUE(has(r, "PASS  fixture_ascent.round_trip  ")) << r.out;
  EXPECT_TRUE(has(r, "8 check(s): 5 passed, 3 failed")) << r.out;

  const Result e = run("plugins --check " + fixture("step_error"));
  EXPECT_EQ(e.code, 1) << e.out;
  EXPECT_TRUE(has(e, "FAIL  fixture_step_error.quadratic  lr 1: step 0 returned error code 3: fixture_step_error"))
      << e.out;
}

TEST(CheckCli, HandshakeFailureIsOneFailLine) {
  const Result r = run("plugins --check " + fixture("wrong_major"));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_EQ(r.out.rfind("FAIL  handshake  ", 0), 0u) << r.out;
  EXPECT_TRUE(has(r, "1 check(s): 0 passed, 1 failed")) << r.out;

  const Result missing = run("plugins --check /nonexistent/libnothing.so");
  EXPECT_EQ(missing.code, 1) << missing.out;
  EXPECT_TRUE(has(missing, "FAIL  handshake  ")) << missing.out;
}

TEST(CheckCli, WithoutCheckTheListingIsUnchanged) {
  const Result r = run("plugins");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(has(r, "sgd")) << r.out;
  EXPECT_FALSE(has(r, "PASS  ")) << r.out;
  const Result help = run("plugins --help");
  EXPECT_TRUE(has(help, "--check")) << help.out;
}

}  // namespace
}  // namespace plexus
