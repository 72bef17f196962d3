// The installed package, used the way a third party uses it, as real
// processes: `cmake --install` of this build into a fresh prefix; the Lion
// example (examples/lion, copied out of the source tree) configured with
// find_package(Plexus) against that prefix only, built, and checked to export
// nothing but plexus_plugin_entry; then the INSTALLED `plexus` lists it
// (through PLEXUS_PLUGIN_PATH), trains logistic regression with it, and its
// conformance checker passes it.
//
// Needs the whole build tree built (tests.cmake makes this test depend on
// every installed target); label "install".
#include "install/install_support.hpp"
#include "support/test_support.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <sys/wait.h>

namespace plexus {
namespace {

namespace fs = std::filesystem;

using Proc = test::ProcessResult;

using test::contains;
using test::kCleanEnv;
using test::line_with;
using test::quote;
using test::slurp;

/// Runs a shell command line, stdout and stderr together.
Proc run(const std::string& cmd) { return test::run_shell(cmd); }

/// The entry of kernel `name` in `plexus plugins` text output: its header
/// line ("optimizer  lion  v1  FILE (PLUGIN)") and the indented lines under
/// it (doc, then one per hyperparameter: "    b1  f64  = 0.9  doc"), or "".
std::string kernel_entry(const std::string& text, const std::string& kind, const std::string& name) {
  std::istringstream lines(text);
  std::string line, entry;
  bool inside = false;
  while (std::getline(lines, line)) {
    if (line.rfind("    ", 0) == 0) {
      if (inside) entry += line + "\n";
      continue;
    }
    if (inside) break;
    std::istringstream fields(line);
    std::string k, n;
    if (fields >> k >> n && k == kind && n == name) {
      inside = true;
      entry = line + "\n";
    }
  }
  return entry;
}

/// The default of hyperparameter `name` in a kernel_entry ("    b1  f64  = 0.9  doc"), or NaN.
double listed_default(const std::string& entry, const std::string& name) {
  const std::string line = line_with(entry, "    " + name + " ");
  const size_t eq = line.find("= ");
  return eq == std::string::npos ? std::nan("") : std::strtod(line.c_str() + eq + 2, nullptr);
}

TEST(Install, LionPluginBuiltAgainstTheInstalledPackageTrains) {
  const fs::path dir = test::temp_dir();
  const fs::path prefix = dir / "prefix";
  const fs::path libdir = prefix / PLEXUS_INSTALL_LIBDIR;
  const std::string cmake = quote(PLEXUS_CMAKE_COMMAND);

  // 1. Install this build.
  Proc inst = run(kCleanEnv + cmake + " --install " + quote(PLEXUS_BINARY_DIR) + " --prefix " + quote(prefix.string()));
  ASSERT_EQ(inst.code, 0) << inst.out;
  for (const fs::path& f :
       {libdir / "cmake/Plexus/PlexusConfig.cmake", libdir / "cmake/Plexus/PlexusConfigVersion.cmake",
        libdir / "cmake/Plexus/PlexusSdkTargets.cmake", libdir / "cmake/Plexus/PlexusRuntimeTargets.cmake",
        libdir / "cmake/Plexus/PlexusPlugin.cmake", libdir / "cmake/Plexus/plugin.map",
        libdir / "libplexus_core.so", libdir / "libplexus_runtime.so",
        libdir / "plexus/plugins/libplexus_optimizers.so", libdir / "plexus/plugins/libplexus_layers.so",
        prefix / "include/plexus/abi/plugin.h", prefix / "include/plexus/sdk/plugin.hpp",
        prefix / "include/plexus/runtime.hpp", prefix / "include/plexus/tensor.hpp", prefix / "include/plexus.pb.h",
        prefix / PLEXUS_INSTALL_BINDIR / "plexus", prefix / PLEXUS_INSTALL_DATADIR / "plexus/models/logreg_breast_cancer.pbtxt"})
    EXPECT_TRUE(fs::exists(f)) << f << " was not installed";
  const std::string plexus_exe = quote((prefix / PLEXUS_INSTALL_BINDIR / "plexus").string());

  // 2. Configure and build the example from a copy outside the source tree.
  const fs::path src = dir / "lion";
  const fs::path build = dir / "lion-build";
  fs::create_directories(src);
  for (const char* f : {"CMakeLists.txt", "lion.cpp"})
    fs::copy_file(fs::path(PLEXUS_SOURCE_DIR) / "examples/lion" / f, src / f);
  Proc conf = run(kCleanEnv + cmake + " -S " + quote(src.string()) + " -B " + quote(build.string()) +
                 " -DCMAKE_PREFIX_PATH=" + quote(prefix.string()) + " -DCMAKE_CXX_COMPILER=" +
                 quote(PLEXUS_CXX_COMPILER) + " -DCMAKE_EXPORT_COMPILE_COMMANDS=ON");
  ASSERT_EQ(conf.code, 0) << conf.out;
  const std::string cache = slurp(build / "CMakeCache.txt");
  EXPECT_TRUE(contains(cache, "Plexus_DIR:PATH=" + (libdir / "cmake/Plexus").string()))
      << "find_package(Plexus) did not find the installed package:\n" << line_with(cache, "Plexus_DIR");
  Proc make = run(kCleanEnv + cmake + " --build " + quote(build.string()) + " -j 2");
  ASSERT_EQ(make.code, 0) << make.out;
  // Only the installed headers were visible: no path of the source or build tree.
  const std::string commands = slurp(build / "compile_commands.json");
  EXPECT_TRUE(contains(commands, (prefix / "include").string())) << commands;
  EXPECT_FALSE(contains(commands, PLEXUS_SOURCE_DIR)) << commands;
  EXPECT_FALSE(contains(commands, PLEXUS_BINARY_DIR)) << commands;
  const fs::path lion = build / "libplexus_lion.so";
  ASSERT_TRUE(fs::exists(lion)) << make.out;

  // 3. plexus_plugin_entry is its only defined dynamic symbol (besides the
  // linker's own markers).
  Proc nm = run("nm -D --defined-only " + quote(lion.string()));
  ASSERT_EQ(nm.code, 0) << nm.out;
  std::set<std::string> exported;
  const std::set<std::string> linker = {"_init", "_fini", "_edata", "_end", "__bss_start"};
  std::istringstream lines(nm.out);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string addr, type, name;
    if (fields >> addr >> type >> name && linker.count(name) == 0) exported.insert(name);
  }
  EXPECT_EQ(exported, std::set<std::string>{"plexus_plugin_entry"}) << nm.out;

  // 4. The installed plexus lists Lion, found through PLEXUS_PLUGIN_PATH, and
  // its own built-in plugins from the installed plugin folder.
  const std::string env = kCleanEnv + "PLEXUS_PLUGIN_PATH=" + quote(build.string()) + " ";
  Proc list = run(env + plexus_exe + " plugins");
  ASSERT_EQ(list.code, 0) << list.out;
  const std::string entry = kernel_entry(list.out, "optimizer", "lion");
  ASSERT_FALSE(entry.empty()) << "lion is not listed:\n" << list.out;
  EXPECT_TRUE(contains(entry, lion.string() + " (plexus-lion)")) << entry;
  EXPECT_TRUE(contains(entry, "sign(c)")) << "the doc is missing:\n" << entry;
  for (const std::string hp : {"b1", "b2", "wd"})
    EXPECT_FALSE(line_with(entry, "    " + hp + " ").empty()) << hp << " missing:\n" << entry;
  EXPECT_DOUBLE_EQ(listed_default(entry, "b1"), 0.9) << entry;
  EXPECT_DOUBLE_EQ(listed_default(entry, "b2"), 0.99) << entry;
  EXPECT_DOUBLE_EQ(listed_default(entry, "wd"), 0.0) << entry;
  EXPECT_TRUE(contains(kernel_entry(list.out, "optimizer", "sgd"),
                       (libdir / "plexus/plugins/libplexus_optimizers.so").string()))
      << "the built-in optimizers were not loaded from the install:\n" << list.out;

  // 5. Train logistic regression (the installed model and data) with Lion.
  const std::string model = (prefix / PLEXUS_INSTALL_DATADIR / "plexus/models/logreg_breast_cancer.pbtxt").string();
  Proc train = run(env + plexus_exe + " train " + quote(model) + " --optimizer lion --opt lr=0.003 --opt b1=0.9 --epochs 5 --threads 1");
  ASSERT_EQ(train.code, 0) << train.out;
  EXPECT_TRUE(contains(train.out, "optimizer lion")) << train.out;
  const std::string acc_line = line_with(train.out, "test accuracy:");
  ASSERT_FALSE(acc_line.empty()) << train.out;
  const double accuracy = std::strtod(acc_line.c_str() + acc_line.find(':') + 1, nullptr);
  EXPECT_GE(accuracy, 0.9) << train.out;  // 0.9737 (111/114) with any seed
  const size_t loss_at = acc_line.find("loss ");
  ASSERT_NE(loss_at, std::string::npos) << acc_line;
  EXPECT_LT(std::strtod(acc_line.c_str() + loss_at + 5, nullptr), 0.25) << train.out;  // about 0.137

  // 6. The conformance checker of the installed plexus passes it.
  Proc check = run(kCleanEnv + plexus_exe + " plugins --check " + quote(lion.string()));
  EXPECT_EQ(check.code, 0) << check.out;
  EXPECT_TRUE(contains(check.out, "PASS  lion.")) << check.out;
  EXPECT_FALSE(contains(check.out, "FAIL")) << check.out;

  if (!HasFailure()) fs::remove_all(dir);
}

}  // namespace
}  // namespace plexus
