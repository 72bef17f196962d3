// The C embedding API (plexus.h): errors, the handle registry, tensors,
// runtimes and models. Sessions and trainers are in c_api_session.cpp.
#include "c_api_handles.hpp"

#include <plexus/data.hpp>

#include <cstdio>
#include <cstring>
#include <limits>
#include <mutex>
#include <unordered_map>

namespace plexus::capi {

static_assert(PLX_STATUS_INVALID == static_cast<int>(ErrorCode::kInvalid) &&
              PLX_STATUS_NOT_FOUND == static_cast<int>(ErrorCode::kNotFound) &&
              PLX_STATUS_IO == static_cast<int>(ErrorCode::kIo) &&
              PLX_STATUS_FORMAT == static_cast<int>(ErrorCode::kFormat) &&
              PLX_STATUS_PLUGIN == static_cast<int>(ErrorCode::kPlugin) &&
              PLX_STATUS_ABI == static_cast<int>(ErrorCode::kAbi) &&
              PLX_STATUS_NUMERIC == static_cast<int>(ErrorCode::kNumeric) &&
              PLX_STATUS_INTERNAL == static_cast<int>(ErrorCode::kInternal),
              "plexus.h status codes mirror plexus::ErrorCode");
static_assert(PLX_LOG_ERROR == static_cast<int>(LogLevel::kError) &&
              PLX_LOG_WARNING == static_cast<int>(LogLevel::kWarning) &&
              PLX_LOG_INFO == static_cast<int>(LogLevel::kInfo),
              "plexus.h log levels mirror plexus::LogLevel");

namespace {

thread_local std::string t_last_error;
thread_local bool t_error_lost = false;  // recording the last message ran out of memory

struct Registry {
  std::mutex mu;
  std::unordered_map<const void*, Handle*> live;
};

Registry& registry() {
  static Registry* r = new Registry();  // never destroyed: handles may be used during static destruction
  return *r;
}

std::string address(const void* p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%p", p);
  return buf;
}

// With the registry locked: the live handle `p` of `kind`, or a StatusError.
Handle* find_locked(Registry& r, const void* p, Kind kind, const char* param) {
  const std::string expected = std::string("a live ") + kind_name(kind) + " handle";
  if (p == nullptr) throw StatusError(PLX_STATUS_INVALID, std::string("'") + param + "' is NULL, not " + expected);
  auto it = r.live.find(p);
  if (it == r.live.end())
    throw StatusError(PLX_STATUS_INVALID, std::string("'") + param + "' (" + address(p) + ") is not " + expected +
                                              " (destroyed, or never created)");
  if (it->second->kind != kind)
    throw StatusError(PLX_STATUS_INVALID, std::string("'") + param + "' is a " + kind_name(it->second->kind) +
                                              " handle, not " + expected);
  return it->second;
}

std::vector<std::string> split(const char* list, char sep) {
  std::vector<std::string> out;
  if (list == nullptr) return out;
  std::string item;
  for (const char* c = list;; ++c) {
    if (*c == sep || *c == '\0') {
      if (!item.empty()) out.push_back(item);
      item.clear();
      if (*c == '\0') break;
    } else {
      item += *c;
    }
  }
  return out;
}

RuntimeOptions runtime_options(const plx_runtime_options* o) {
  RuntimeOptions r;
  if (o == nullptr) return r;
  if (o->struct_size < 0)
    throw StatusError(PLX_STATUS_INVALID, "opts->struct_size is " + std::to_string(o->struct_size) +
                                              "; expected sizeof(plx_runtime_options) (" +
                                              std::to_string(sizeof(plx_runtime_options)) + ") or 0 for defaults");
  const size_t size = static_cast<size_t>(o->struct_size);
  auto has = [&](size_t end) { return size >= end; };
  if (has(PLX_END_OF(plx_runtime_options, threads))) {
    if (o->threads < 0)
      throw StatusError(PLX_STATUS_INVALID, "opts->threads is " + std::to_string(o->threads) + "; expected >= 0 (0: all hardware threads)");
    r.threads = o->threads;
  }
  if (has(PLX_END_OF(plx_runtime_options, load_default_plugins))) r.load_default_plugins = o->load_default_plugins != 0;
  if (has(PLX_END_OF(plx_runtime_options, plugin_dirs))) r.plugin_dirs = split(o->plugin_dirs, ':');
  if (has(PLX_END_OF(plx_runtime_options, plugin_files))) r.plugin_files = split(o->plugin_files, ':');
  if (has(PLX_END_OF(plx_runtime_options, log)) && o->log != nullptr) {
    auto* fn = o->log;
    void* user = has(PLX_END_OF(plx_runtime_options, log_user)) ? o->log_user : nullptr;
    r.log = [fn, user](LogLevel level, const std::string& message) { fn(static_cast<int32_t>(level), message.c_str(), user); };
  }
  return r;
}

void write_shape(const Shape& s, int64_t* dims, int32_t capacity, int32_t* ndim) {
  require(ndim, "ndim", "a pointer to an int32_t for the rank");
  *ndim = s.ndim();
  if (dims == nullptr && capacity == 0) return;  // a query of the rank only
  require(dims, "dims", "an array of 'capacity' int64_t");
  if (capacity < s.ndim())
    throw StatusError(PLX_STATUS_INVALID, "capacity " + std::to_string(capacity) + " is less than the rank " +
                                              std::to_string(s.ndim()) + " of shape " + s.str() +
                                              " (*ndim is set; retry with capacity >= it)");
  for (int i = 0; i < s.ndim(); ++i) dims[i] = s[i];
}

const char* dtype_name(int32_t dtype) {
  switch (dtype) {
    case PLX_DTYPE_F32: return " (PLX_DTYPE_F32)";
    case PLX_DTYPE_F64: return " (PLX_DTYPE_F64)";
    default: return " (unknown)";
  }
}

std::string folder_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

const proto::InputDef& input_at(const plx_model& m, int32_t index) {
  const auto& inputs = m.model.def().inputs();
  if (index < 0 || index >= inputs.size())
    throw StatusError(PLX_STATUS_INVALID, "index " + std::to_string(index) + " is out of range: " + m.model.source() +
                                              " has " + std::to_string(inputs.size()) + " inputs");
  return inputs.Get(index);
}

}  // namespace

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::kRuntime: return "plx_runtime";
    case Kind::kModel: return "plx_model";
    case Kind::kSession: return "plx_session";
    case Kind::kTrainer: return "plx_trainer";
    case Kind::kTensor: return "plx_tensor";
  }
  return "plx_?";
}

plx_status fail(plx_status status, const char* fn, const char* message) noexcept {
  try {
    t_last_error.assign(fn);
    t_last_error += ": ";
    t_last_error += message;
    t_error_lost = false;
  } catch (...) {
    t_error_lost = true;
  }
  return status;
}

void register_handle(const void* key, Handle* h) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.live.emplace(key, h);
  if (h->parent != nullptr) ++h->parent->children;
}

Handle* pin_handle(const void* p, Kind kind, const char* param) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  Handle* h = find_locked(r, p, kind, param);
  h->pins.fetch_add(1);
  return h;
}

std::unique_ptr<Handle> unregister_handle(const void* p, Kind kind, const char* param) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  Handle* h = find_locked(r, p, kind, param);
  if (h->pins.load() > 0)
    throw StatusError(PLX_STATUS_BUSY, std::string("'") + param + "' is in use by a call in progress (on another "
                                           "thread, or a callback); destroy it after that call returns");
  if (h->children > 0) {
    const char* what = kind == Kind::kRuntime ? "plx_model" : "plx_session/plx_trainer";
    throw StatusError(PLX_STATUS_BUSY, std::string("'") + param + "' still has " + std::to_string(h->children) + " " +
                                           what + " handle(s) made from it alive; destroy those first");
  }
  r.live.erase(p);
  if (h->parent != nullptr) --h->parent->children;
  return std::unique_ptr<Handle>(h);
}

void require(const void* p, const char* param, const char* what) {
  if (p == nullptr) throw StatusError(PLX_STATUS_INVALID, std::string("'") + param + "' is NULL; expected " + what);
}

void require_string(const char* s, const char* param) {
  require(s, param, "a NUL-terminated string");
  if (*s == '\0') throw StatusError(PLX_STATUS_INVALID, std::string("'") + param + "' is an empty string");
}

Tensor tensor_from(const plx_view& v, const std::string& what) {
  if (v.dtype != PLX_DTYPE_F32)
    throw StatusError(PLX_STATUS_INVALID, what + " has dtype " + std::to_string(v.dtype) + dtype_name(v.dtype) +
                                              "; expected PLX_DTYPE_F32 (" + std::to_string(PLX_DTYPE_F32) +
                                              "), the only dtype the C API takes");
  if (v.ndim < 0 || v.ndim > PLX_MAX_NDIM)
    throw StatusError(PLX_STATUS_INVALID, what + " has ndim " + std::to_string(v.ndim) + "; expected 0.." +
                                              std::to_string(PLX_MAX_NDIM));
  if (v.ndim > 0 && v.shape == nullptr)
    throw StatusError(PLX_STATUS_INVALID, what + " has ndim " + std::to_string(v.ndim) + " but shape is NULL");
  int64_t numel = 1;
  const int64_t max_numel = std::numeric_limits<int64_t>::max() / static_cast<int64_t>(sizeof(float));
  for (int32_t i = 0; i < v.ndim; ++i) {
    const int64_t d = v.shape[i];
    if (d < 0) throw StatusError(PLX_STATUS_INVALID, what + " has extent " + std::to_string(d) + " in dimension " +
                                                         std::to_string(i) + "; expected >= 0");
    if (d > 0 && numel > max_numel / d)
      throw StatusError(PLX_STATUS_INVALID, what + ": the shape's element count overflows");
    numel *= d;
  }
  if (numel > 0 && v.data == nullptr)
    throw StatusError(PLX_STATUS_INVALID, what + " has data NULL for " + std::to_string(numel) + " elements");
  Tensor t = Tensor::empty(Shape(std::span<const int64_t>(v.shape, static_cast<size_t>(v.ndim))));
  if (numel > 0) std::memcpy(t.data(), v.data, static_cast<size_t>(numel) * sizeof(float));
  return t;
}

std::map<std::string, Tensor> feeds_from(int32_t n, const char* const* names, const plx_view* views) {
  if (n < 0) throw StatusError(PLX_STATUS_INVALID, "n_inputs is " + std::to_string(n) + "; expected >= 0");
  if (n > 0) {
    require(names, "input_names", "an array of n_inputs names");
    require(views, "inputs", "an array of n_inputs plx_view");
  }
  std::map<std::string, Tensor> feeds;
  for (int32_t i = 0; i < n; ++i) {
    const std::string param = "input_names[" + std::to_string(i) + "]";
    require_string(names[i], param.c_str());
    const std::string name = names[i];
    if (feeds.count(name))
      throw StatusError(PLX_STATUS_INVALID, "input '" + name + "' is given twice (" + param + ")");
    feeds[name] = tensor_from(views[i], "input '" + name + "' (inputs[" + std::to_string(i) + "])");
  }
  return feeds;
}

}  // namespace plexus::capi

using namespace plexus;
using namespace plexus::capi;

extern "C" {

const char* plx_last_error(void) {
  return t_error_lost ? "out of memory while recording the error message" : t_last_error.c_str();
}

const char* plx_version(void) { return PLEXUS_VERSION; }

// ---- tensors ---------------------------------------------------------------

plx_status plx_tensor_from_view(const plx_view* view, plx_tensor** out) {
  return guarded("plx_tensor_from_view", [&] {
    require(out, "out", "a pointer to a plx_tensor* to fill");
    *out = nullptr;
    require(view, "view", "a plx_view");
    *out = make_handle<plx_tensor>(tensor_from(*view, "view"));
  });
}

plx_status plx_tensor_get_view(const plx_tensor* tensor, plx_view* view) {
  return guarded("plx_tensor_get_view", [&] {
    Pinned<plx_tensor> t(tensor, Kind::kTensor, "tensor");
    require(view, "view", "a plx_view to fill");
    view->data = t->tensor.data();
    view->dtype = PLX_DTYPE_F32;
    view->ndim = t->tensor.ndim();
    view->shape = t->tensor.shape().data();
  });
}

plx_status plx_tensor_data(const plx_tensor* tensor, const float** data) {
  return guarded("plx_tensor_data", [&] {
    Pinned<plx_tensor> t(tensor, Kind::kTensor, "tensor");
    require(data, "data", "a pointer to a const float* to fill");
    *data = t->tensor.data();
  });
}

plx_status plx_tensor_shape(const plx_tensor* tensor, int64_t* dims, int32_t capacity, int32_t* ndim) {
  return guarded("plx_tensor_shape", [&] {
    Pinned<plx_tensor> t(tensor, Kind::kTensor, "tensor");
    write_shape(t->tensor.shape(), dims, capacity, ndim);
  });
}

plx_status plx_tensor_numel(const plx_tensor* tensor, int64_t* numel) {
  return guarded("plx_tensor_numel", [&] {
    Pinned<plx_tensor> t(tensor, Kind::kTensor, "tensor");
    require(numel, "numel", "a pointer to an int64_t to fill");
    *numel = t->tensor.numel();
  });
}

plx_status plx_tensor_destroy(plx_tensor* tensor) {
  return guarded("plx_tensor_destroy", [&] { unregister_handle(tensor, Kind::kTensor, "tensor"); });
}

// ---- runtime ---------------------------------------------------------------

plx_status plx_runtime_options_init(plx_runtime_options* opts) {
  return guarded("plx_runtime_options_init", [&] {
    require(opts, "opts", "a plx_runtime_options to fill");
    *opts = plx_runtime_options{};
    opts->struct_size = static_cast<int32_t>(sizeof(plx_runtime_options));
    opts->load_default_plugins = 1;
  });
}

plx_status plx_runtime_create(const plx_runtime_options* opts, plx_runtime** out) {
  return guarded("plx_runtime_create", [&] {
    require(out, "out", "a pointer to a plx_runtime* to fill");
    *out = nullptr;
    *out = make_handle<plx_runtime>(runtime_options(opts));
  });
}

plx_status plx_runtime_threads(const plx_runtime* runtime, int32_t* threads) {
  return guarded("plx_runtime_threads", [&] {
    Pinned<plx_runtime> r(runtime, Kind::kRuntime, "runtime");
    require(threads, "threads", "a pointer to an int32_t to fill");
    *threads = r->rt.threads();
  });
}

plx_status plx_runtime_destroy(plx_runtime* runtime) {
  return guarded("plx_runtime_destroy", [&] { unregister_handle(runtime, Kind::kRuntime, "runtime"); });
}

// ---- models ----------------------------------------------------------------

plx_status plx_model_load(plx_runtime* runtime, const char* model_path, const char* checkpoint_path, plx_model** out) {
  return guarded("plx_model_load", [&] {
    require(out, "out", "a pointer to a plx_model* to fill");
    *out = nullptr;
    Pinned<plx_runtime> r(runtime, Kind::kRuntime, "runtime");
    require_string(model_path, "model_path");
    if (checkpoint_path != nullptr) require_string(checkpoint_path, "checkpoint_path");
    auto m = std::make_unique<plx_model>(r.get(), model_path);
    if (checkpoint_path != nullptr) m->model.load_weights(checkpoint_path);
    register_handle(static_cast<const void*>(m.get()), m.get());
    *out = m.release();
  });
}

plx_status plx_model_init_params(plx_model* model, uint64_t seed) {
  return guarded("plx_model_init_params", [&] {
    Pinned<plx_model> m(model, Kind::kModel, "model");
    std::unique_lock<std::shared_mutex> lock(m->params_mu);
    m->model.init_params(seed);
  });
}

plx_status plx_model_load_weights(plx_model* model, const char* checkpoint_path) {
  return guarded("plx_model_load_weights", [&] {
    Pinned<plx_model> m(model, Kind::kModel, "model");
    require_string(checkpoint_path, "checkpoint_path");
    std::unique_lock<std::shared_mutex> lock(m->params_mu);
    m->model.load_weights(checkpoint_path);
  });
}

plx_status plx_model_save_weights(plx_model* model, const char* checkpoint_path) {
  return guarded("plx_model_save_weights", [&] {
    Pinned<plx_model> m(model, Kind::kModel, "model");
    require_string(checkpoint_path, "checkpoint_path");
    std::shared_lock<std::shared_mutex> lock(m->params_mu);
    m->model.save_weights(checkpoint_path);
  });
}

plx_status plx_model_input_count(const plx_model* model, int32_t* count) {
  return guarded("plx_model_input_count", [&] {
    Pinned<plx_model> m(model, Kind::kModel, "model");
    require(count, "count", "a pointer to an int32_t to fill");
    *count = m->model.def().inputs_size();
  });
}

plx_status plx_model_input_name(const plx_model* model, int32_t index, const char** name) {
  return guarded("plx_model_input_name", [&] {
    Pinned<plx_model> m(model, Kind::kModel, "model");
    require(name, "name", "a pointer to a const char* to fill");
    *name = input_at(*m, index).name().c_str();
  });
}

plx_status plx_model_input_source(const plx_model* model, int32_t index, const char** source) {
  return guarded("plx_model_input_source", [&] {
    Pinned<plx_model> m(model, Kind::kModel, "model");
    require(source, "source", "a pointer to a const char* to fill");
    *source = input_at(*m, index).source().c_str();
  });
}

plx_status plx_model_input_shape(const plx_model* model, const char* name, int64_t* dims, int32_t capacity,
                                 int32_t* ndim) {
  return guarded("plx_model_input_shape", [&] {
    Pinned<plx_model> m(model, Kind::kModel, "model");
    require_string(name, "name");
    std::string known;
    for (const proto::InputDef& in : m->model.def().inputs()) {
      if (in.name() == name) return write_shape(m->model.input_shape(name), dims, capacity, ndim);
      known += (known.empty() ? "" : ", ") + in.name();
    }
    throw StatusError(PLX_STATUS_NOT_FOUND, m->model.source() + " has no input named '" + name + "' (inputs: " +
                                                (known.empty() ? "none" : known) + ")");
  });
}

plx_status plx_model_output_name(const plx_model* model, const char** name) {
  return guarded("plx_model_output_name", [&] {
    Pinned<plx_model> m(model, Kind::kModel, "model");
    require(name, "name", "a pointer to a const char* to fill");
    *name = m->model.def().output().c_str();
  });
}

plx_status plx_model_load_data(plx_model* model, const char* which, plx_tensor** features, plx_tensor** labels) {
  return guarded("plx_model_load_data", [&] {
    require(features, "features", "a pointer to a plx_tensor* to fill");
    require(labels, "labels", "a pointer to a plx_tensor* to fill");
    *features = nullptr;
    *labels = nullptr;
    Pinned<plx_model> m(model, Kind::kModel, "model");
    require(which, "which", "\"train\" or \"test\"");
    const std::string w = which;
    if (w != "train" && w != "test")
      throw StatusError(PLX_STATUS_INVALID, "'which' is \"" + w + "\"; expected \"train\" or \"test\"");
    const proto::TrainDefaults& t = m->model.def().train();
    const proto::DataSpec& p = w == "test" ? t.test_data() : t.train_data();
    if (p.path().empty())
      throw StatusError(PLX_STATUS_NOT_FOUND, m->model.source() + " names no " + w + " data (field 'train." + w +
                                                  "_data' is empty)");
    Dataset data = load_dataset(data_spec_from_proto(p, folder_of(m->model.source())));
    auto f = std::make_unique<plx_tensor>(data.features);
    auto l = std::make_unique<plx_tensor>(data.labels);
    register_handle(static_cast<const void*>(f.get()), f.get());
    *features = f.release();
    try {
      register_handle(static_cast<const void*>(l.get()), l.get());
    } catch (...) {
      plx_tensor_destroy(*features);
      *features = nullptr;
      throw;
    }
    *labels = l.release();
  });
}

plx_status plx_model_destroy(plx_model* model) {
  return guarded("plx_model_destroy", [&] { unregister_handle(model, Kind::kModel, "model"); });
}

}  // extern "C"
