// The conformance checker (plexus::check_plugin): the built-in plugins pass
// every check, and each broken fixture fails exactly the checks it should.
#include <plexus/conformance.hpp>

#include "support/test_support.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

namespace plexus {
namespace {

std::string fixture(const std::string& c) {
  return std::string(PLEXUS_FIXTURE_PLUGIN_DIR) + "/" + c + "/libfixture_" + c + ".so";
}

std::string builtin(const std::string& family) {
  return std::string(PLEXUS_BUILD_PLUGIN_DIR) + "/libplexus_" + family + ".so";
}

std::string dump(const std::vector<CheckResult>& results) {
  std::string s;
  for (const CheckResult& r : results) s += (r.passed ? "PASS  " : "FAIL  ") + r.name + "  " + r.detail + "\n";
  return s;
}

const CheckResult* find(const std::vector<CheckResult>& results, const std::string& name) {
  for (const CheckResult& r : results)
    if (r.name == name) return &r;
  return nullptr;
}

const std::vector<std::string> kOptimizerChecks = {"declarations", "quadratic",  "rosenbrock",  "logistic",
                                                   "round_trip",   "odd_sizes", "nan_gradient"};

/// Every check of `kernel` is present; exactly those in `failing` failed, and
/// each failing detail holds `message` (if given).
void expect_failing(const std::vector<CheckResult>& results, const std::string& kernel,
                    const std::set<std::string>& failing, const std::string& message = "") {
  ASSERT_FALSE(results.empty());
  EXPECT_TRUE(results[0].passed) << dump(results);
  for (const std::string& c : kOptimizerChecks) {
    const CheckResult* r = find(results, kernel + "." + c);
    ASSERT_NE(r, nullptr) << kernel << "." << c << " missing:\n" << dump(results);
    EXPECT_EQ(r->passed, failing.count(c) == 0) << r->name << ": " << r->detail;
    EXPECT_FALSE(r->detail.empty()) << r->name;
    if (!r->passed && !message.empty()) {
      EXPECT_NE(r->detail.find(message), std::string::npos) << r->detail;
    }
  }
}

TEST(Conformance, BuiltInOptimizersPassEveryCheckQuickly) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<CheckResult> results = check_plugin(builtin("optimizers"));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(test::builtin_registry().optimizers().empty());
  for (const auto& [name, k] : test::builtin_registry().optimizers())
    for (const std::string& c : kOptimizerChecks)
      EXPECT_NE(find(results, name + "." + c), nullptr) << name << "." << c << " missing:\n" << dump(results);
  for (const CheckResult& r : results) EXPECT_TRUE(r.passed) << r.name << ": " << r.detail;
  const CheckResult* sgd = find(results, "sgd.rosenbrock");
  ASSERT_NE(sgd, nullptr);
  EXPECT_NE(sgd->detail.find("lr "), std::string::npos) << "the lr used is reported: " << sgd->detail;
  EXPECT_LT(seconds, 30.0) << "the checker should take seconds, not minutes";
}

TEST(Conformance, BuiltInOpPluginsPass) {
  for (const char* family : {"layers", "activations", "losses", "pooling", "shape", "norm", "dropout"}) {
    const std::vector<CheckResult> results = check_plugin(builtin(family));
    for (const CheckResult& r : results) EXPECT_TRUE(r.passed) << family << ": " << r.name << ": " << r.detail;
  }
  const std::vector<CheckResult> losses = check_plugin(builtin("losses"));
  for (const char* loss : {"logistic", "softmax_cross_entropy", "squared_error"})
    EXPECT_NE(find(losses, std::string(loss) + ".forward_backward"), nullptr) << dump(losses);
}

TEST(Conformance, GoodFixturePasses) {
  const std::vector<CheckResult> results = check_plugin(fixture("good"));
  for (const CheckResult& r : results) EXPECT_TRUE(r.passed) << r.name << ": " << r.detail;
  EXPECT_NE(find(results, "fixture_scale.forward_backward"), nullptr) << dump(results);
  EXPECT_NE(find(results, "fixture_sgd.quadratic"), nullptr) << dump(results);
}

TEST(Conformance, HandshakeFailureIsTheOnlyResult) {
  for (const std::string& path : {fixture("wrong_major"), fixture("bad_hparam_type"),
                                  std::string(PLEXUS_FIXTURE_PLUGIN_DIR) + "/no_such_case/libnothing.so"}) {
    const std::vector<CheckResult> results = check_plugin(path);
    ASSERT_EQ(results.size(), 1u) << dump(results);
    EXPECT_EQ(results[0].name, "handshake");
    EXPECT_FALSE(results[0].passed);
    EXPECT_NE(results[0].detail.find(path), std::string::npos) << "the loader's message names the file: "
                                                               << results[0].detail;
  }
  const std::vector<CheckResult> major = check_plugin(fixture("wrong_major"));
  EXPECT_NE(major[0].detail.find("2.0"), std::string::npos) << major[0].detail;
}

TEST(Conformance, StepErrorFailsEveryRunningCheckWithThePluginsMessage) {
  const std::vector<CheckResult> results = check_plugin(fixture("step_error"));
  expect_failing(results, "fixture_step_error",
                 {"quadratic", "rosenbrock", "logistic", "round_trip", "odd_sizes", "nan_gradient"},
                 "fixture_step_error: gradient of");
}

TEST(Conformance, ThrowingStepFailsWithTheExceptionMessage) {
  expect_failing(check_plugin(fixture("step_throws")), "fixture_step_throws",
                 {"quadratic", "rosenbrock", "logistic", "round_trip", "odd_sizes", "nan_gradient"},
                 "exploded at step 0");
}

TEST(Conformance, GradientAscentFailsTheConvergenceProblems) {
  const std::vector<CheckResult> results = check_plugin(fixture("ascent"));
  expect_failing(results, "fixture_ascent", {"quadratic", "rosenbrock", "logistic"});
  EXPECT_NE(find(results, "fixture_ascent.quadratic")->detail.find("f/f(x0) < 1e-06 within 20000 steps"), std::string::npos)
      << "the tolerance is stated: " << dump(results);
}

TEST(Conformance, NanWriterFailsConvergenceAndFiniteness) {
  expect_failing(check_plugin(fixture("writes_nan")), "fixture_writes_nan",
                 {"quadratic", "rosenbrock", "logistic", "odd_sizes"});
}

TEST(Conformance, IgnoringTheElementRangeFailsOddSizes) {
  const std::vector<CheckResult> results = check_plugin(fixture("ignores_range"));
  expect_failing(results, "fixture_ignores_range", {"odd_sizes"}, "chunks");
}

TEST(Conformance, SwallowingNanFailsNanGradient) {
  expect_failing(check_plugin(fixture("swallows_nan")), "fixture_swallows_nan", {"nan_gradient"}, "swallowed");
}

TEST(Conformance, HiddenStateFailsRoundTrip) {
  const std::vector<CheckResult> results = check_plugin(fixture("hidden_state"));
  const CheckResult* r = find(results, "fixture_hidden_state.round_trip");
  ASSERT_NE(r, nullptr) << dump(results);
  EXPECT_FALSE(r->passed) << r->detail;
  EXPECT_NE(r->detail.find("differs"), std::string::npos) << r->detail;
  EXPECT_TRUE(find(results, "fixture_hidden_state.declarations")->passed);
}

TEST(Conformance, MissingDocsFailDeclarations) {
  const std::vector<CheckResult> results = check_plugin(fixture("no_docs"));
  expect_failing(results, "fixture_no_docs", {"declarations"});
  EXPECT_NE(find(results, "fixture_no_docs.declarations")->detail.find("'scale'"), std::string::npos)
      << dump(results);
}

TEST(Conformance, ThrowingOpFailsForwardBackward) {
  const std::vector<CheckResult> results = check_plugin(fixture("throws"));
  const CheckResult* r = find(results, "fixture_throw.forward_backward");
  ASSERT_NE(r, nullptr) << dump(results);
  EXPECT_FALSE(r->passed);
  EXPECT_NE(r->detail.find("forward exploded"), std::string::npos) << r->detail;
  EXPECT_TRUE(find(results, "fixture_throw.declarations")->passed);
}

}  // namespace
}  // namespace plexus
