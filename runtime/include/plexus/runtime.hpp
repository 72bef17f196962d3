// plexus::Runtime: the plugin registry, the loaded libraries and the thread
// budget. Several may coexist in one process; there is no global runtime.
//
//   plexus::Runtime rt;                                   // built-in plugins + PLEXUS_PLUGIN_PATH
//   plexus::Model model(rt, "models/mnist_mlp.pbtxt");
//   model.load_weights("mnist.ckpt");
//   plexus::Session session(model);                       // run() from any number of threads
//
// Threading is the host's to decide. `threads` is the budget for everything
// the runtime runs: oneDNN's OpenMP teams and the runtime's TBB work. With
// threads = 1 the runtime starts no thread at all; everything runs on the
// calling thread. A host may hand its own tbb::task_arena instead.
// Concurrent calls (Session::run from several host threads, a Trainer) share
// the budget: each call takes what is free of it, at least its own thread,
// so together they never start more worker threads than the budget allows.
//
// Lifetime: a Model keeps the runtime's plugins loaded (shared state). Destroy
// the Runtime after its Models and Sessions; then its plugins are unloaded.
// Destroying it earlier is a host bug that is reported, not a crash: the log
// callback gets an error, the plugins stay loaded until the last Model is
// gone, and every later call on those Models and Sessions throws an Error.
#ifndef PLEXUS_RUNTIME_HPP
#define PLEXUS_RUNTIME_HPP

#include <plexus/kernel.hpp>
#include <plexus/plugin_loader.hpp>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <tbb/task_arena.h>

namespace plexus {

enum class LogLevel { kError = 0, kWarning = 1, kInfo = 2 };

/// Receives the runtime's messages. Called from whichever thread the event
/// happens on, so it must be thread-safe. Without one the runtime prints nothing.
using LogCallback = std::function<void(LogLevel level, const std::string& message)>;

struct RuntimeOptions {
  /// Thread budget; 0: the host arena's max_concurrency() if `arena` is set,
  /// else the hardware threads.
  int threads = 0;
  /// The host's own TBB arena for the runtime's parallel work (optimizer
  /// updates). Not owned; it must outlive the Runtime and every Model made from it.
  tbb::task_arena* arena = nullptr;
  bool load_default_plugins = true;        // PLEXUS_PLUGIN_PATH, then the built-in folder
  std::vector<std::string> plugin_dirs;    // every *.so in each, after the defaults
  std::vector<std::string> plugin_files;   // loaded last
  LogCallback log;
  /// Lets layout-aware ops (PLX_OP_LAYOUTS: convolution, pooling, batch norm)
  /// keep tensors in oneDNN's blocked layouts between them. false: every
  /// tensor is plain row-major (for comparison and debugging; same results
  /// within f32 rounding). The environment variable PLEXUS_BLOCKED_LAYOUTS=0
  /// also turns them off.
  bool blocked_layouts = true;
};

class Runtime;

/// The part of a Runtime that Models share and keep alive: registry, plugin
/// libraries, thread budget, log. Hosts reach it only through Runtime and Model.
class RuntimeContext {
 public:
  ~RuntimeContext();
  RuntimeContext(const RuntimeContext&) = delete;
  RuntimeContext& operator=(const RuntimeContext&) = delete;

  const Registry& registry() const { return registry_; }
  const PluginLoader& loader() const { return loader_; }
  int threads() const { return threads_; }
  bool blocked_layouts() const { return blocked_layouts_; }
  /// Runs body(i) for every i in [0, n) on the runtime's TBB arena (at most
  /// threads() threads; with one thread, on the calling thread, in order).
  void parallel_for(size_t n, const std::function<void(size_t)>& body) const;
  /// Passes a message to the host's log callback, if any.
  void log(LogLevel level, const std::string& message) const;
  /// Throws Error(kInvalid) naming `what` if the Runtime was destroyed.
  void require_runtime(const std::string& what) const;

  /// A share of the thread budget for one call on the calling thread (RAII):
  /// sets the calling thread's OpenMP team size to it and gives both back on
  /// destruction. Nested shares of the same runtime on one thread keep the
  /// outer one.
  ///  - exact = 0 (adaptive): never waits; takes what is free of the budget,
  ///    at most threads() / (calls in flight), and at least one thread (the
  ///    caller's own, which counts against the budget too).
  ///  - exact = n > 0: waits until min(n, threads()) threads are free and
  ///    takes exactly that many, so the call always runs with the same team
  ///    size (and oneDNN's reductions in the same order: bit-reproducible).
  class ThreadShare {
   public:
    explicit ThreadShare(const RuntimeContext& ctx, int exact = 0);
    ~ThreadShare();
    ThreadShare(const ThreadShare&) = delete;
    ThreadShare& operator=(const ThreadShare&) = delete;
    int threads() const { return threads_; }

   private:
    const RuntimeContext& ctx_;
    int taken_ = 0;
    int threads_ = 1;
    int previous_omp_ = 1;
    bool nested_ = false;
    bool counted_active_ = false;
    const RuntimeContext* previous_owner_ = nullptr;
  };

  /// Live Models and Sessions made from this runtime (for lifetime checks).
  void add_live(int models, int sessions) const;

 private:
  friend class Runtime;
  explicit RuntimeContext(const RuntimeOptions& options);

  struct Arena;
  int threads_;
  bool blocked_layouts_ = true;
  LogCallback log_;
  std::unique_ptr<Arena> arena_;
  Registry registry_;
  PluginLoader loader_;  // after registry_: unloads the libraries first
  mutable std::atomic<int> free_threads_;   // may go below 0 (callers' own threads)
  mutable std::atomic<int> active_calls_{0};
  mutable std::mutex share_mu_;             // for waiting (exact shares) only
  mutable std::condition_variable share_cv_;
  mutable std::atomic<int> live_models_{0};
  mutable std::atomic<int> live_sessions_{0};
  std::atomic<bool> runtime_alive_{true};
};

class Runtime {
 public:
  explicit Runtime(const RuntimeOptions& options = {});
  /// Unloads the plugins if no Model made from this runtime is alive; see the
  /// lifetime rule at the top of this file otherwise.
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  const Registry& registry() const { return context_->registry(); }
  const PluginLoader& loader() const { return context_->loader(); }
  int threads() const { return context_->threads(); }
  void parallel_for(size_t n, const std::function<void(size_t)>& body) const { context_->parallel_for(n, body); }
  const std::shared_ptr<const RuntimeContext>& context() const { return context_; }

 private:
  std::shared_ptr<const RuntimeContext> context_;
};

}  // namespace plexus

#endif
