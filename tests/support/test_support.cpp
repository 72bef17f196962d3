#include "support/test_support.hpp"

#include <plexus/plugin_loader.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
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

void expect_close_to_scale(const Tensor& a, const Tensor& b, double tol, const std::string& what) {
  ASSERT_EQ(a.shape(), b.shape()) << what;
  ASSERT_FALSE(a.blocked() || b.blocked()) << what;
  double scale = 0;
  for (float v : b.span()) scale = std::max(scale, static_cast<double>(std::abs(v)));
  int bad = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    if (std::abs(static_cast<double>(a.data()[i]) - b.data()[i]) > tol * std::max(scale, 1e-6) && ++bad <= 3)
      ADD_FAILURE() << what << "[" << i << "]: " << a.data()[i] << " vs " << b.data()[i] << " (scale " << scale << ")";
  EXPECT_EQ(bad, 0) << what;
}

}  // namespace plexus::test
