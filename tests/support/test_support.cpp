#include "support/test_support.hpp"

#include <plexus/plugin_loader.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <unistd.h>

namespace plexus::test {

namespace {
struct Builtins {
  Registry registry;
  PluginLoader loader{registry};
  Builtins() { loader.load_directory(PLEXUS_BUILD_PLUGIN_DIR); }
};
}  // namespace

const Registry& builtin_registry() {
  static Builtins* b = new Builtins();  // never unloaded: instances may outlive main's tests
  return b->registry;
}

std::string source_path(const std::string& rel) { return std::string(PLEXUS_SOURCE_DIR) + "/" + rel; }

std::string temp_dir() {
  static std::atomic<int> counter{0};
  auto dir = std::filesystem::temp_directory_path() /
             ("plexus-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

}  // namespace plexus::test
