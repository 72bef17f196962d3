// Every plugin exports exactly one function, plexus_plugin_entry: the built-in
// plugins of this build and a fixture plugin built with the SDK the way a
// third party builds one. Checked with `nm -D --defined-only`.
#include "support/test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct NmResult {
  int status = -1;
  std::vector<std::string> functions;  // defined dynamic function symbols
  std::string output;
};

/// Runs `nm -D --defined-only` and keeps the function symbols (types T, W, i).
/// Linker-defined symbols (_init, _fini, _edata, _end, __bss_start) are not
/// functions of the plugin and are ignored.
NmResult exported_functions(const std::string& file) {
  NmResult r;
  const std::string cmd = "nm -D --defined-only '" + file + "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 512> buf{};
  while (std::fgets(buf.data(), static_cast<int>(buf.size()), p) != nullptr) r.output += buf.data();
  r.status = pclose(p);
  const std::set<std::string> linker = {"_init", "_fini", "_edata", "_end", "__bss_start"};
  std::istringstream lines(r.output);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string addr, type, name;
    if (!(fields >> addr >> type >> name)) continue;
    if ((type == "T" || type == "W" || type == "i") && linker.count(name) == 0) r.functions.push_back(name);
  }
  return r;
}

std::vector<std::string> builtin_plugins() {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(PLEXUS_BUILD_PLUGIN_DIR))
    if (e.path().extension() == ".so") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

void expect_only_entry(const std::string& file) {
  NmResult r = exported_functions(file);
  ASSERT_EQ(r.status, 0) << "nm failed on " << file << ":\n" << r.output;
  EXPECT_EQ(r.functions, std::vector<std::string>{"plexus_plugin_entry"}) << file << " exports:\n" << r.output;
}

TEST(PluginExports, BuiltinPluginsExportOnlyTheEntry) {
  const std::vector<std::string> files = builtin_plugins();
  ASSERT_FALSE(files.empty()) << "no plugin in " << PLEXUS_BUILD_PLUGIN_DIR;
  for (const std::string& f : files) expect_only_entry(f);
}

TEST(PluginExports, SdkFixturePluginExportsOnlyTheEntry) {
  expect_only_entry(std::string(PLEXUS_FIXTURE_PLUGIN_DIR) + "/good/libfixture_good.so");
}

TEST(PluginExports, CheckerSeesOtherExports) {
  // The library built without the version script exports its own function,
  // so the check above is able to fail.
  NmResult r = exported_functions(std::string(PLEXUS_FIXTURE_PLUGIN_DIR) + "/no_entry/libfixture_no_entry.so");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(std::find(r.functions.begin(), r.functions.end(), "fixture_not_a_plugin"), r.functions.end()) << r.output;
}

}  // namespace
