// Loading plugin libraries from disk (Boost.DLL) into a Registry.
//
//   plexus::Registry registry;
//   plexus::PluginLoader loader(registry);
//   loader.load_default();                 // PLEXUS_PLUGIN_PATH, then the built-in plugin folder
//   loader.load_file("/opt/acme/libacme_opt.so");
//
// Every failure throws plexus::Error naming the file and the problem (not a
// shared library, missing entry symbol, ABI version mismatch with both
// versions, duplicate kernel name with both files, malformed declaration) and
// registers nothing from that file. Libraries stay loaded until the loader is
// destroyed; destroy it only after every op instance created from it is gone.
#ifndef PLEXUS_PLUGIN_LOADER_HPP
#define PLEXUS_PLUGIN_LOADER_HPP

#include <plexus/kernel.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace plexus {

class PluginLoader {
 public:
  /// `thread_budget` is what plx_host.thread_budget reports to plugins.
  explicit PluginLoader(Registry& registry, int32_t thread_budget = 1);
  ~PluginLoader();
  PluginLoader(const PluginLoader&) = delete;
  PluginLoader& operator=(const PluginLoader&) = delete;

  /// Loads one shared library and registers its kernels.
  void load_file(const std::string& path);
  /// Loads every `*.so` in `dir`, in name order.
  void load_directory(const std::string& dir);
  /// Every folder of search_path() that exists, in order.
  void load_default();

  /// PLEXUS_PLUGIN_PATH (colon-separated) then builtin_plugin_dir().
  static std::vector<std::string> search_path();
  /// `<folder of libplexus_runtime.so>/plexus/plugins`: the build's plugin
  /// folder in a build tree, the install's after `cmake --install`.
  static std::string builtin_plugin_dir();

  /// Files loaded so far, in load order.
  const std::vector<std::string>& files() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace plexus

#endif
