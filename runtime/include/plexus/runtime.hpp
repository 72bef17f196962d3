// plexus::Runtime: the plugin registry, the loaded libraries and the thread
// budget. Several may coexist in one process; there is no global runtime.
//
//   plexus::Runtime rt;                          // built-in plugins + PLEXUS_PLUGIN_PATH
//   plexus::Model model(rt, plexus::load_model_def("models/mnist_mlp.pbtxt"), "models/mnist_mlp.pbtxt");
//
// Destroy a Runtime only after every Model made from it.
#ifndef PLEXUS_RUNTIME_HPP
#define PLEXUS_RUNTIME_HPP

#include <plexus/kernel.hpp>
#include <plexus/plugin_loader.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace plexus {

struct RuntimeOptions {
  int threads = 0;                         // 0: hardware threads
  bool load_default_plugins = true;        // PLEXUS_PLUGIN_PATH, then the built-in folder
  std::vector<std::string> plugin_files;   // loaded after the defaults
};

class Runtime {
 public:
  explicit Runtime(const RuntimeOptions& options = {});
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  const Registry& registry() const { return registry_; }
  PluginLoader& loader() { return loader_; }
  int threads() const { return threads_; }
  /// Applies the thread budget to oneDNN's OpenMP on the calling thread.
  void bind_threads() const;
  /// Runs body(i) for every i in [0, n) on the runtime's TBB arena (at most
  /// threads() threads; with one thread, on the calling thread, in order).
  void parallel_for(size_t n, const std::function<void(size_t)>& body) const;

 private:
  struct Arena;
  int threads_;
  std::unique_ptr<Arena> arena_;
  Registry registry_;
  PluginLoader loader_;
};

}  // namespace plexus

#endif
