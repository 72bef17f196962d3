// PluginLoader: Boost.DLL loading, the host table, and the search path.
//
// Order of work for one file (PLUGIN_ABI.md section 4): check the file is an
// ELF shared object, load it RTLD_NOW | RTLD_LOCAL (unresolved symbols fail
// here, not mid-training; plugins never see each other's symbols), look up
// plexus_plugin_entry, call it with the host table, and hand the descriptor
// to Registry::add_plugin, which validates everything before registering
// anything. A library whose plugin is refused is unloaded again; an accepted
// one stays loaded until the loader is destroyed.
#include <plexus/plugin_loader.hpp>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <boost/dll/library_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <boost/system/system_error.hpp>

#include <dlfcn.h>

namespace plexus {

namespace fs = std::filesystem;

namespace {

// ---- the host table ----------------------------------------------------------

// plx_host.thread_budget is a plain C function pointer and cannot capture the
// loader. Instead of a global "current budget" (which would make two loaders
// with different budgets see each other's value), each possible budget value
// has its own stateless function returning that constant, and a loader hands
// out the one for its value. No mutable state, nothing to unregister, and the
// pointer stays valid even if a plugin keeps it. Budgets are clamped to
// [1, kMaxBudget]; a plugin told 1024 threads on a larger machine is merely
// conservative.
constexpr int32_t kMaxBudget = 1024;

template <int32_t N>
int32_t fixed_budget() {
  return N;
}

using BudgetFn = int32_t (*)();

template <size_t... I>
constexpr std::array<BudgetFn, sizeof...(I)> budget_table(std::index_sequence<I...>) {
  return {&fixed_budget<static_cast<int32_t>(I + 1)>...};
}

constexpr auto kBudgetFns = budget_table(std::make_index_sequence<kMaxBudget>{});

BudgetFn budget_function(int32_t budget) {
  return kBudgetFns[static_cast<size_t>(std::clamp(budget, int32_t{1}, kMaxBudget) - 1)];
}

// Library code never prints; plugin log lines are dropped.
void host_log(int32_t, const char*, const char*) {}

// ---- messages ----------------------------------------------------------------

/// The dlerror text inside a Boost.DLL load error, or the whole message.
std::string loader_reason(const std::exception& e) {
  const std::string what = e.what();
  const std::string tag = "(dlerror system message: ";
  auto b = what.find(tag);
  if (b == std::string::npos) return what;
  b += tag.size();
  auto end = what.rfind(')');
  return end == std::string::npos || end < b ? what.substr(b) : what.substr(b, end - b);
}

std::string absolute_path(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::absolute(path, ec);
  return ec ? path : p.lexically_normal().string();
}

// Anchor for dladdr: any function defined in libplexus_runtime.
void runtime_anchor() {}

}  // namespace

struct PluginLoader::Impl {
  Registry& registry;
  plx_host host{};
  std::vector<std::string> files;
  std::set<std::string> canonical;                 // to refuse loading one file twice
  std::vector<boost::dll::shared_library> libs;    // kept loaded until the loader dies

  Impl(Registry& r, int32_t budget) : registry(r) {
    host.abi_major = PLX_ABI_MAJOR;
    host.abi_minor = PLX_ABI_MINOR;
    host.struct_size = sizeof(plx_host);
    host.runtime_version = PLEXUS_VERSION;
    host.log = &host_log;
    host.thread_budget = budget_function(budget);
  }

  ~Impl() {
    // Unload in reverse load order, the mirror of loading.
    while (!libs.empty()) libs.pop_back();
  }

  void load(const std::string& given);
};

void PluginLoader::Impl::load(const std::string& given) {
  const std::string path = absolute_path(given);
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(ErrorCode::kNotFound, "cannot load plugin " + path + ": no such file");
  if (!fs::is_regular_file(path, ec))
    throw Error(ErrorCode::kPlugin, "cannot load plugin " + path + ": not a regular file");
  const std::string canon = fs::canonical(path, ec).string();
  if (!ec && canonical.count(canon) != 0)
    throw Error(ErrorCode::kPlugin, "cannot load plugin " + path + ": this library is already loaded");

  // Inspect the file without running any of its code.
  try {
    boost::dll::library_info info(path);
  } catch (const std::exception&) {
    throw Error(ErrorCode::kPlugin, "cannot load plugin " + path +
                                        ": not a shared library (the file is not in this platform's ELF format)");
  }

  boost::dll::shared_library lib;
  try {
    lib.load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    throw Error(ErrorCode::kPlugin, "cannot load plugin " + path + ": " + loader_reason(e));
  }
  // Boost.DLL 1.74's library_info lists .symtab, which stripped libraries
  // lack, so the entry symbol is looked up in the loaded library instead.
  if (!lib.has(PLX_ENTRY_SYMBOL))
    throw Error(ErrorCode::kPlugin, "cannot load plugin " + path + ": not a Plexus plugin: it does not export '" +
                                        PLX_ENTRY_SYMBOL + "'");
  auto& entry = lib.get<const plx_plugin_desc*(const plx_host*, plx_error*)>(PLX_ENTRY_SYMBOL);

  plx_error err{};
  err.struct_size = sizeof err;
  const plx_plugin_desc* desc = nullptr;
  try {
    desc = entry(&host, &err);
  } catch (...) {
    // A non-SDK plugin broke the no-exceptions rule; do not let it escape as
    // a foreign type.
    throw Error(ErrorCode::kPlugin, "cannot load plugin " + path + ": its " + PLX_ENTRY_SYMBOL +
                                        " threw a C++ exception (the ABI forbids exceptions across the boundary)");
  }
  err.message[sizeof err.message - 1] = '\0';
  if (desc == nullptr)
    throw Error(err.code == PLX_E_ABI ? ErrorCode::kAbi : ErrorCode::kPlugin,
                "plugin in " + path + " refused to load: " +
                    (err.message[0] != '\0' ? std::string(err.message) : std::string("(no message given)")));

  registry.add_plugin(desc, path, host.thread_budget);  // throws and registers nothing if anything is wrong
  libs.push_back(std::move(lib));
  files.push_back(path);
  canonical.insert(ec ? path : canon);
}

PluginLoader::PluginLoader(Registry& registry, int32_t thread_budget)
    : impl_(std::make_unique<Impl>(registry, thread_budget)) {}

PluginLoader::~PluginLoader() = default;

void PluginLoader::load_file(const std::string& path) { impl_->load(path); }

void PluginLoader::load_directory(const std::string& dir) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) throw Error(ErrorCode::kNotFound, "cannot read plugin folder " + dir + ": " + ec.message());
  std::vector<std::string> names;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const fs::path& p = it->path();
    if (p.extension() == ".so" && !it->is_directory(ec)) names.push_back(p.string());
  }
  if (ec) throw Error(ErrorCode::kIo, "cannot list plugin folder " + dir + ": " + ec.message());
  std::sort(names.begin(), names.end());

  // Try every file so that one bad library does not hide the others; report
  // all failures together afterwards.
  std::vector<Error> failures;
  for (const std::string& f : names) {
    try {
      impl_->load(f);
    } catch (const Error& e) {
      failures.push_back(e);
    }
  }
  if (failures.size() == 1) throw failures.front();
  if (!failures.empty()) {
    std::string m = std::to_string(failures.size()) + " plugins in " + dir + " failed to load:";
    for (const Error& e : failures) m += "\n  " + std::string(e.what());
    throw Error(failures.front().code(), m);
  }
}

void PluginLoader::load_default() {
  std::vector<std::string> done;
  std::vector<Error> failures;
  for (const std::string& dir : search_path()) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    // A folder named twice (say, the built-in one also in PLEXUS_PLUGIN_PATH) loads once.
    bool seen = false;
    for (const std::string& d : done) seen = seen || fs::equivalent(d, dir, ec);
    if (seen) continue;
    done.push_back(dir);
    try {
      load_directory(dir);
    } catch (const Error& e) {
      failures.push_back(e);
    }
  }
  if (failures.size() == 1) throw failures.front();
  if (!failures.empty()) {
    std::string m;
    for (const Error& e : failures) {
      if (!m.empty()) m += '\n';
      m += e.what();
    }
    throw Error(failures.front().code(), m);
  }
}

std::vector<std::string> PluginLoader::search_path() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("PLEXUS_PLUGIN_PATH")) {
    std::string s = env;
    size_t b = 0;
    while (b <= s.size()) {
      size_t e = s.find(':', b);
      if (e == std::string::npos) e = s.size();
      if (e > b) dirs.push_back(s.substr(b, e - b));
      b = e + 1;
    }
  }
  dirs.push_back(builtin_plugin_dir());
  return dirs;
}

std::string PluginLoader::builtin_plugin_dir() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<const void*>(&runtime_anchor), &info) == 0 || info.dli_fname == nullptr ||
      info.dli_fname[0] == '\0')
    return PLEXUS_INSTALL_PLUGIN_DIR;
  fs::path lib = absolute_path(info.dli_fname);
  return (lib.parent_path() / "plexus" / "plugins").string();
}

const std::vector<std::string>& PluginLoader::files() const { return impl_->files; }

}  // namespace plexus
