#include <plexus/error.hpp>
#include <plexus/runtime.hpp>

#include <omp.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <mutex>
#include <thread>

namespace plexus {

namespace {

int resolve_threads(const RuntimeOptions& o) {
  if (o.threads < 0) throw Error(ErrorCode::kInvalid, "runtime option 'threads' must be >= 0, got " + std::to_string(o.threads));
  if (o.threads > 0) return o.threads;
  if (o.arena != nullptr) return std::max(1, o.arena->max_concurrency());
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

}  // namespace

// The arena the runtime's TBB work runs in: the host's, or one of its own,
// created only when first needed (so a runtime that never runs parallel work,
// or has one thread, never starts TBB).
struct RuntimeContext::Arena {
  Arena(tbb::task_arena* host, int threads) : host(host), threads(threads) {}
  tbb::task_arena& get() {
    if (host != nullptr) return *host;
    std::call_once(once, [&] { own = std::make_unique<tbb::task_arena>(threads); });
    return *own;
  }
  tbb::task_arena* host;
  int threads;
  std::once_flag once;
  std::unique_ptr<tbb::task_arena> own;
};

namespace {
bool env_says_plain() {
  const char* v = std::getenv("PLEXUS_BLOCKED_LAYOUTS");
  return v != nullptr && (std::string(v) == "0" || std::string(v) == "off" || std::string(v) == "false");
}
}  // namespace

RuntimeContext::RuntimeContext(const RuntimeOptions& options)
    : threads_(resolve_threads(options)),
      blocked_layouts_(options.blocked_layouts && !env_says_plain()),
      log_(options.log),
      arena_(std::make_unique<Arena>(options.arena, threads_)),
      loader_(registry_, threads_),
      free_threads_(threads_) {
  if (options.load_default_plugins) loader_.load_default();
  for (const std::string& d : options.plugin_dirs) loader_.load_directory(d);
  for (const std::string& f : options.plugin_files) loader_.load_file(f);
  for (const std::string& f : loader_.files()) log(LogLevel::kInfo, "loaded plugin " + f);
}

RuntimeContext::~RuntimeContext() = default;

void RuntimeContext::parallel_for(size_t n, const std::function<void(size_t)>& body) const {
  if (n == 0) return;
  if (threads_ == 1 || n == 1) {
    for (size_t i = 0; i < n; ++i) body(i);
    return;
  }
  arena_->get().execute([&] {
    tbb::parallel_for(tbb::blocked_range<size_t>(0, n, 1), [&](const tbb::blocked_range<size_t>& r) {
      for (size_t i = r.begin(); i != r.end(); ++i) body(i);
    });
  });
}

void RuntimeContext::log(LogLevel level, const std::string& message) const {
  if (!log_) return;
  try {
    log_(level, message);
  } catch (...) {
    // A throwing log callback must not turn a message into a failure.
  }
}

void RuntimeContext::require_runtime(const std::string& what) const {
  if (runtime_alive_.load(std::memory_order_acquire)) return;
  throw Error(ErrorCode::kInvalid, what + ": the plexus::Runtime it was made from has been destroyed; "
                                          "destroy Sessions and Models before their Runtime");
}

void RuntimeContext::add_live(int models, int sessions) const {
  live_models_.fetch_add(models, std::memory_order_relaxed);
  live_sessions_.fetch_add(sessions, std::memory_order_relaxed);
}

namespace {
// The share the calling thread holds, so that nested calls (Session::run ->
// Model::forward) keep it instead of asking for a second one.
thread_local const RuntimeContext* t_share_owner = nullptr;
}  // namespace

RuntimeContext::ThreadShare::ThreadShare(const RuntimeContext& ctx, int exact) : ctx_(ctx) {
  if (t_share_owner == &ctx_) {
    nested_ = true;
    threads_ = omp_get_max_threads();
    return;
  }
  if (exact > 0) {
    taken_ = std::min(exact, ctx_.threads_);
    std::unique_lock<std::mutex> lock(ctx_.share_mu_);
    ctx_.share_cv_.wait(lock, [&] {
      int free = ctx_.free_threads_.load(std::memory_order_relaxed);
      return free >= taken_ &&
             ctx_.free_threads_.compare_exchange_strong(free, free - taken_, std::memory_order_acq_rel);
    });
  } else {
    // The caller's own thread counts against the budget too (the budget may
    // go below zero: a host may run more threads than it gave us), and no
    // call takes more than its fair part of the budget among the calls in
    // flight, so that two steady callers on two threads get one each
    // instead of one holding both while the other adds a third.
    const int active = ctx_.active_calls_.fetch_add(1, std::memory_order_acq_rel) + 1;
    counted_active_ = true;
    const int fair = std::max(1, ctx_.threads_ / active);
    int free = ctx_.free_threads_.load(std::memory_order_relaxed);
    do {
      taken_ = std::clamp(free, 1, fair);
    } while (!ctx_.free_threads_.compare_exchange_weak(free, free - taken_, std::memory_order_acq_rel));
  }
  threads_ = taken_;
  previous_omp_ = omp_get_max_threads();
  omp_set_num_threads(threads_);
  previous_owner_ = t_share_owner;
  t_share_owner = &ctx_;
}

RuntimeContext::ThreadShare::~ThreadShare() {
  if (nested_) return;
  t_share_owner = previous_owner_;
  omp_set_num_threads(previous_omp_);
  if (counted_active_) ctx_.active_calls_.fetch_sub(1, std::memory_order_acq_rel);
  {
    // Under the mutex, so a waiter cannot check between this and the notify.
    std::lock_guard<std::mutex> lock(ctx_.share_mu_);
    ctx_.free_threads_.fetch_add(taken_, std::memory_order_acq_rel);
  }
  ctx_.share_cv_.notify_all();
}

Runtime::Runtime(const RuntimeOptions& options)
    : context_(std::shared_ptr<const RuntimeContext>(new RuntimeContext(options))) {}

Runtime::~Runtime() {
  auto& ctx = const_cast<RuntimeContext&>(*context_);
  ctx.runtime_alive_.store(false, std::memory_order_release);
  const int models = ctx.live_models_.load(), sessions = ctx.live_sessions_.load();
  if (models > 0 || sessions > 0)
    ctx.log(LogLevel::kError,
            "plexus::Runtime destroyed while " + std::to_string(models) + " Model(s) and " + std::to_string(sessions) +
                " Session(s) made from it are alive: its plugins stay loaded until the last of them is destroyed, "
                "and every call on them fails");
}

}  // namespace plexus
