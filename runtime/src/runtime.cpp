#include <plexus/runtime.hpp>

#include <omp.h>

#include <thread>

namespace plexus {

namespace {
int resolve_threads(int t) {
  if (t > 0) return t;
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}
}  // namespace

Runtime::Runtime(const RuntimeOptions& options)
    : threads_(resolve_threads(options.threads)), loader_(registry_, threads_) {
  if (options.load_default_plugins) loader_.load_default();
  for (const std::string& f : options.plugin_files) loader_.load_file(f);
  bind_threads();
}

void Runtime::bind_threads() const { omp_set_num_threads(threads_); }

}  // namespace plexus
