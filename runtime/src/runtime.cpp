#include <plexus/runtime.hpp>

#include <omp.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <thread>

namespace plexus {

namespace {
int resolve_threads(int t) {
  if (t > 0) return t;
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}
}  // namespace

struct Runtime::Arena {
  explicit Arena(int threads) : arena(threads) {}
  tbb::task_arena arena;
};

Runtime::Runtime(const RuntimeOptions& options)
    : threads_(resolve_threads(options.threads)),
      arena_(std::make_unique<Arena>(threads_)),
      loader_(registry_, threads_) {
  if (options.load_default_plugins) loader_.load_default();
  for (const std::string& f : options.plugin_files) loader_.load_file(f);
  bind_threads();
}

Runtime::~Runtime() = default;

void Runtime::bind_threads() const { omp_set_num_threads(threads_); }

void Runtime::parallel_for(size_t n, const std::function<void(size_t)>& body) const {
  if (n == 0) return;
  if (threads_ == 1 || n == 1) {
    for (size_t i = 0; i < n; ++i) body(i);
    return;
  }
  arena_->arena.execute([&] {
    tbb::parallel_for(tbb::blocked_range<size_t>(0, n, 1), [&](const tbb::blocked_range<size_t>& r) {
      for (size_t i = r.begin(); i != r.end(); ++i) body(i);
    });
  });
}

}  // namespace plexus
