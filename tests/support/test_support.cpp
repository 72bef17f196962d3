#include "support/test_support.hpp"

#include <plexus/plugin_loader.hpp>

#include <atomic>
#include <cstring>
#include <random>
#include <cstdio>
#include <sys/wait.h>
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

ProcessResult run_shell(const std::string& command) {
  ProcessResult r;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), static_cast<size_t>(a.numel()) * sizeof(float)) == 0;
}

Tensor random_tensor(const Shape& shape, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  Tensor t = Tensor::empty(shape);
  for (float& v : t.span()) v = dist(rng);
  return t;
}

}  // namespace plexus::test
