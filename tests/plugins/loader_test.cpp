// PluginLoader against the fixture plugins of tests/plugins/fixtures: every
// broken plugin gives a plexus::Error naming the file and the problem,
// registers nothing, and leaves the process able to load the next plugin.
#include "support/test_support.hpp"

#include <plexus/plugin_loader.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using plexus::Error;
using plexus::ErrorCode;
using plexus::PluginLoader;
using plexus::Registry;

std::string fixture_dir(const std::string& c) { return std::string(PLEXUS_FIXTURE_PLUGIN_DIR) + "/" + c; }
std::string fixture(const std::string& c) { return fixture_dir(c) + "/libfixture_" + c + ".so"; }

/// Runs f, which must throw plexus::Error; returns it.
template <class F>
Error error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected a plexus::Error";
  return Error(ErrorCode::kInternal, "");
}

::testing::AssertionResult contains_all(const std::string& text, const std::vector<std::string>& parts) {
  for (const std::string& p : parts)
    if (text.find(p) == std::string::npos)
      return ::testing::AssertionFailure() << "message lacks \"" << p << "\":\n  " << text;
  return ::testing::AssertionSuccess();
}

std::vector<std::string> names(const auto& map) {
  std::vector<std::string> r;
  for (const auto& [name, kernel] : map) r.push_back(name);
  return r;
}

// ---- a good plugin ------------------------------------------------------------

TEST(PluginLoader, GoodSdkPluginRegistersAndRuns) {
  Registry reg;
  PluginLoader loader(reg);
  loader.load_file(fixture("good"));
  ASSERT_EQ(loader.files(), std::vector<std::string>{fixture("good")});
  EXPECT_EQ(names(reg.ops()), (std::vector<std::string>{"fixture_budget", "fixture_scale"}));
  EXPECT_EQ(names(reg.optimizers()), std::vector<std::string>{"fixture_sgd"});

  const plexus::OpKernel& op = reg.op("fixture_scale");
  EXPECT_EQ(op.origin().file, fixture("good"));
  EXPECT_EQ(op.origin().plugin, "fixture-good");
  EXPECT_EQ(op.origin().plugin_version, "1.2.3");
  EXPECT_EQ(op.kind(), PLX_KIND_ACTIVATION);

  auto attrs = op.resolve_attrs({{"factor", plexus::AttrValue(3.0)}}, "n1");
  const std::vector<plexus::Shape> in{plexus::Shape{2, 2}};
  auto inst = op.create("n1", attrs, in);
  const std::vector<float> xs{1, -2, 0.5f, 4};
  const std::vector<plexus::Tensor> src{plexus::Tensor::from({2, 2}, xs)};
  plexus::Tensor y = inst->forward(src, {}, false);
  ASSERT_EQ(y.shape(), (plexus::Shape{2, 2}));
  EXPECT_EQ(std::vector<float>(y.span().begin(), y.span().end()), (std::vector<float>{3, -6, 1.5f, 12}));

  const plexus::OptimizerKernel& sgd = reg.optimizer("fixture_sgd");
  auto hp = sgd.resolve_hparams({{"scale", plexus::AttrValue(2.0)}});
  plexus::Tensor param = plexus::Tensor::from({3}, std::vector<float>{1, 1, 1});
  plexus::Tensor grad = plexus::Tensor::from({3}, std::vector<float>{1, 2, 3});
  sgd.step("w", 0, 0.5, hp, param, grad, {}, 1, 3);  // elements 1 and 2 only
  EXPECT_EQ(std::vector<float>(param.span().begin(), param.span().end()), (std::vector<float>{1, -1, -2}));
}

TEST(PluginLoader, OpInstancesSeeTheLoadersThreadBudget) {
  for (int32_t budget : {1, 3}) {
    Registry reg;
    PluginLoader loader(reg, budget);
    loader.load_file(fixture("good"));
    const plexus::OpKernel& op = reg.op("fixture_budget");
    const std::vector<plexus::Shape> in{plexus::Shape{1, 2}};
    auto inst = op.create("b", op.resolve_attrs({}, "b"), in);
    const std::vector<plexus::Tensor> src{plexus::Tensor::zeros({1, 2})};
    plexus::Tensor y = inst->forward(src, {}, false);
    EXPECT_EQ(y.data()[0], static_cast<float>(budget));
  }
}

TEST(PluginLoader, UnknownKernelListsKnownNames) {
  Registry reg;
  PluginLoader loader(reg);
  loader.load_file(fixture("good"));
  Error e = error_of([&] { reg.op("Conv"); });
  EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  EXPECT_TRUE(contains_all(e.what(), {"unknown kernel 'Conv' (known: fixture_budget, fixture_scale)"}));
  e = error_of([&] { reg.optimizer("fixture_scale"); });
  EXPECT_TRUE(contains_all(e.what(), {"unknown optimizer 'fixture_scale' (known: fixture_sgd)", "not an optimizer"}));
  EXPECT_EQ(reg.find_op("Conv"), nullptr);
  EXPECT_EQ(reg.known_ops(), "fixture_budget, fixture_scale");
  EXPECT_EQ(reg.known_optimizers(), "fixture_sgd");
}

// ---- plugins the loader must refuse -------------------------------------------

struct BadCase {
  std::string name;
  std::string file;
  ErrorCode code;
  std::vector<std::string> message;      // beyond the file path
  std::vector<std::string> not_registered;
};

std::vector<BadCase> bad_cases() {
  return {
      {"missing file", fixture_dir("good") + "/libnothing_here.so", ErrorCode::kNotFound, {"no such file"}, {}},
      {"text file", fixture_dir("fake") + "/libfake.so", ErrorCode::kPlugin, {"not a shared library"}, {}},
      {"unresolved symbol", fixture("unresolved"), ErrorCode::kPlugin,
       {"cannot load plugin", "undefined symbol: plexus_fixture_missing_symbol"}, {}},
      {"no entry", fixture("no_entry"), ErrorCode::kPlugin, {"not a Plexus plugin", "plexus_plugin_entry"}, {}},
      {"wrong major", fixture("wrong_major"), ErrorCode::kAbi, {"plugin ABI 2.0", "this runtime speaks 1." + std::to_string(PLX_ABI_MINOR)},
       {"fixture_major"}},
      {"newer minor", fixture("newer_minor"), ErrorCode::kAbi,
       {"plugin 'fixture-newer-minor'", "needs plugin ABI 1.99", "provides 1." + std::to_string(PLX_ABI_MINOR), "upgrade Plexus"},
       {"fixture_minor"}},
      {"unknown hparam type", fixture("bad_hparam_type"), ErrorCode::kAbi,
       {"plugin 'fixture-bad-hparam-type'", "optimizer 'fixture_bad_type'", "hparams[0] 'momentum'",
        "default_value.type", "found 9"},
       {"fixture_bad_type"}},
      {"bad kernel name", fixture("bad_name"), ErrorCode::kAbi,
       {"ops[1].name", "[a-z][a-z0-9_]*", "found 'Bad-Name'"}, {"fixture_before_bad"}},
      {"missing function", fixture("missing_fn"), ErrorCode::kAbi,
       {"activation 'fixture_no_forward'", "forward: expected a function, found NULL"}, {"fixture_no_forward"}},
      {"small struct", fixture("small_struct"), ErrorCode::kAbi, {"struct_size", "found 16"}, {"fixture_small"}},
      {"duplicate within", fixture("dup_within"), ErrorCode::kPlugin,
       {"kernel name 'fixture_twin' is declared twice"}, {"fixture_twin"}},
      {"duplicate across", fixture("dup_across"), ErrorCode::kPlugin,
       {"kernel 'fixture_scale' is already registered from " + fixture("good"), "(plugin 'fixture-good')"},
       {"fixture_dup_other"}},
      {"entry refuses", fixture("refuses"), ErrorCode::kPlugin,
       {"refused to load", "fixture-refuses: this plugin needs a GPU host"}, {}},
  };
}

TEST(PluginLoader, EveryBadPluginIsRefusedWithFileAndReason) {
  for (const BadCase& c : bad_cases()) {
    SCOPED_TRACE(c.name);
    Registry reg;
    PluginLoader loader(reg);
    loader.load_file(fixture("good"));  // dup_across collides with it; the others must not disturb it

    Error e = error_of([&] { loader.load_file(c.file); });
    EXPECT_EQ(e.code(), c.code) << e.what();
    EXPECT_TRUE(contains_all(e.what(), {c.file}));
    EXPECT_TRUE(contains_all(e.what(), c.message));

    // Nothing from the failing plugin, everything from the good one.
    for (const std::string& k : c.not_registered) {
      EXPECT_EQ(reg.find_op(k), nullptr) << k;
      EXPECT_EQ(reg.find_optimizer(k), nullptr) << k;
    }
    EXPECT_EQ(names(reg.ops()), (std::vector<std::string>{"fixture_budget", "fixture_scale"}));
    EXPECT_EQ(names(reg.optimizers()), std::vector<std::string>{"fixture_sgd"});
    EXPECT_EQ(reg.op("fixture_scale").origin().file, fixture("good"));
    EXPECT_EQ(loader.files(), std::vector<std::string>{fixture("good")});

    // The process and the loader keep working.
    loader.load_file(fixture("throws"));
    EXPECT_NE(reg.find_op("fixture_throw"), nullptr);
  }
}

TEST(PluginLoader, BadPluginFirstThenGoodPlugin) {
  Registry reg;
  PluginLoader loader(reg);
  EXPECT_THROW(loader.load_file(fixture("bad_name")), Error);
  EXPECT_THROW(loader.load_file(fixture("wrong_major")), Error);
  EXPECT_TRUE(reg.ops().empty());
  loader.load_file(fixture("good"));
  EXPECT_NE(reg.find_op("fixture_scale"), nullptr);
  EXPECT_EQ(loader.files(), std::vector<std::string>{fixture("good")});
}

TEST(PluginLoader, SameFileTwiceIsRefused) {
  Registry reg;
  PluginLoader loader(reg);
  loader.load_file(fixture("good"));
  Error e = error_of([&] { loader.load_file(fixture_dir("good") + "/../good/libfixture_good.so"); });
  EXPECT_TRUE(contains_all(e.what(), {"already loaded"}));
  EXPECT_EQ(loader.files().size(), 1u);
}

// ---- errors at run time -------------------------------------------------------

TEST(PluginLoader, ExceptionInForwardBecomesError) {
  Registry reg;
  PluginLoader loader(reg);
  loader.load_file(fixture("throws"));
  const plexus::OpKernel& op = reg.op("fixture_throw");
  const std::vector<plexus::Shape> in{plexus::Shape{2, 3}};
  auto inst = op.create("boom", op.resolve_attrs({}, "boom"), in);
  const std::vector<plexus::Tensor> src{plexus::Tensor::zeros({2, 3})};
  Error e = error_of([&] { inst->forward(src, {}, true); });
  EXPECT_EQ(e.code(), ErrorCode::kPlugin);
  EXPECT_TRUE(contains_all(e.what(), {"fixture_throw: forward exploded", "boom", fixture("throws")}));

  plexus::Tensor dst = plexus::Tensor::zeros({2, 3});
  std::vector<plexus::Tensor> diff_src{plexus::Tensor::zeros({2, 3})};
  e = error_of([&] { inst->backward(src, {}, dst, dst, diff_src, {}); });
  EXPECT_TRUE(contains_all(e.what(), {"fixture_throw: backward exploded", "boom"}));
}

TEST(PluginLoader, StepErrorBecomesError) {
  Registry reg;
  PluginLoader loader(reg);
  loader.load_file(fixture("step_error"));
  const plexus::OptimizerKernel& opt = reg.optimizer("fixture_step_error");
  auto hp = opt.resolve_hparams({});
  plexus::Tensor param = plexus::Tensor::zeros({4});
  plexus::Tensor grad = plexus::Tensor::zeros({4});
  Error e = error_of([&] { opt.step("fc1.weights", 7, 0.1, hp, param, grad, {}, 0, 4); });
  EXPECT_EQ(e.code(), ErrorCode::kNumeric);
  EXPECT_TRUE(contains_all(e.what(), {"fixture_step_error", "gradient of 'fc1.weights' is not finite at element 3",
                                      fixture("step_error")}));
}

// ---- the host table -------------------------------------------------------------

std::string probe(int32_t budget) {
  Registry reg;
  PluginLoader loader(reg, budget);
  Error e = error_of([&] { loader.load_file(fixture("host_probe")); });
  EXPECT_TRUE(reg.ops().empty());
  return e.what();
}

TEST(PluginLoader, HostTableCarriesVersionAndBudget) {
  const std::string m = probe(3);
  EXPECT_TRUE(contains_all(m, {"host probe: abi 1." + std::to_string(PLX_ABI_MINOR) + " size " + std::to_string(sizeof(plx_host)),
                               std::string("runtime ") + PLEXUS_TEST_VERSION, "budget 3"}));
  EXPECT_TRUE(contains_all(probe(0), {"budget 1"}));
  EXPECT_TRUE(contains_all(probe(1 << 20), {"budget 1024"}));
}

TEST(PluginLoader, EachLoaderReportsItsOwnBudget) {
  Registry ra, rb;
  PluginLoader a(ra, 3), b(rb, 7);
  Error ea = error_of([&] { a.load_file(fixture("host_probe")); });
  Error eb = error_of([&] { b.load_file(fixture("host_probe")); });
  EXPECT_TRUE(contains_all(ea.what(), {"budget 3"}));
  EXPECT_TRUE(contains_all(eb.what(), {"budget 7"}));
}

// ---- folders and the search path -----------------------------------------------

TEST(PluginLoader, DirectoryLoadsInNameOrderAndReportsEveryFailure) {
  const std::string dir = plexus::test::temp_dir();
  fs::copy_file(fixture("good"), dir + "/libb_good.so");
  fs::copy_file(fixture("throws"), dir + "/liba_throws.so");
  fs::copy_file(fixture_dir("fake") + "/libfake.so", dir + "/libc_fake.so");
  fs::copy_file(fixture("no_entry"), dir + "/libd_no_entry.so");
  fs::create_directories(dir + "/sub.so");  // a folder, not a library
  std::ofstream(dir + "/README.txt") << "not a plugin";

  Registry reg;
  PluginLoader loader(reg);
  Error e = error_of([&] { loader.load_directory(dir); });
  EXPECT_TRUE(contains_all(e.what(), {"2 plugins in " + dir + " failed to load", dir + "/libc_fake.so",
                                      "not a shared library", dir + "/libd_no_entry.so", "not a Plexus plugin"}));
  EXPECT_EQ(loader.files(), (std::vector<std::string>{dir + "/liba_throws.so", dir + "/libb_good.so"}));
  EXPECT_NE(reg.find_op("fixture_scale"), nullptr);
  EXPECT_NE(reg.find_op("fixture_throw"), nullptr);
  fs::remove_all(dir);
}

TEST(PluginLoader, MissingDirectoryIsAnError) {
  Registry reg;
  PluginLoader loader(reg);
  Error e = error_of([&] { loader.load_directory(fixture_dir("no_such_case")); });
  EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  EXPECT_TRUE(contains_all(e.what(), {fixture_dir("no_such_case")}));
}

class EnvPath {
 public:
  explicit EnvPath(const std::string& value) {
    if (const char* old = std::getenv("PLEXUS_PLUGIN_PATH")) {
      old_ = old;
      had_ = true;
    }
    ::setenv("PLEXUS_PLUGIN_PATH", value.c_str(), 1);
  }
  ~EnvPath() {
    if (had_) ::setenv("PLEXUS_PLUGIN_PATH", old_.c_str(), 1);
    else ::unsetenv("PLEXUS_PLUGIN_PATH");
  }

 private:
  std::string old_;
  bool had_ = false;
};

std::vector<std::string> sorted_builtins() {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(PLEXUS_BUILD_PLUGIN_DIR))
    if (e.path().extension() == ".so") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

TEST(PluginLoader, BuiltinDirIsNextToTheRuntimeLibrary) {
  EXPECT_TRUE(fs::equivalent(PluginLoader::builtin_plugin_dir(), PLEXUS_BUILD_PLUGIN_DIR))
      << PluginLoader::builtin_plugin_dir();
}

TEST(PluginLoader, SearchPathIsEnvironmentThenBuiltin) {
  const std::string missing = fixture_dir("no_such_case");
  EnvPath env(":" + fixture_dir("good") + "::" + missing + ":");
  EXPECT_EQ(PluginLoader::search_path(),
            (std::vector<std::string>{fixture_dir("good"), missing, PluginLoader::builtin_plugin_dir()}));
}

TEST(PluginLoader, LoadDefaultLoadsEnvironmentFoldersThenBuiltins) {
  // The built-in folder named again in the variable is still loaded once.
  EnvPath env(fixture_dir("good") + ":" + fixture_dir("no_such_case") + ":" + PLEXUS_BUILD_PLUGIN_DIR);
  Registry reg;
  PluginLoader loader(reg);
  loader.load_default();

  const std::vector<std::string> builtins = sorted_builtins();
  ASSERT_FALSE(builtins.empty());
  ASSERT_EQ(loader.files().size(), 1 + builtins.size());
  EXPECT_EQ(loader.files()[0], fixture("good"));
  for (size_t i = 0; i < builtins.size(); ++i)
    EXPECT_TRUE(fs::equivalent(loader.files()[1 + i], builtins[i])) << loader.files()[1 + i];
  EXPECT_NE(reg.find_op("fixture_scale"), nullptr);
  EXPECT_NE(reg.find_optimizer("fixture_sgd"), nullptr);
  // Everything the built-in registry of the test support has is here too.
  for (const auto& [name, kernel] : plexus::test::builtin_registry().ops()) EXPECT_NE(reg.find_op(name), nullptr) << name;
  for (const auto& [name, kernel] : plexus::test::builtin_registry().optimizers())
    EXPECT_NE(reg.find_optimizer(name), nullptr) << name;
}

}  // namespace
