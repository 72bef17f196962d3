// The objects behind the C API's opaque handles, the registry of live handles
// that lets every function reject a NULL, destroyed or wrong-kind handle
// before touching it, and the wrapper that turns every exception into a
// status code and a per-thread message.
//
// A call pins the handles it uses (under the registry mutex), so a destroy
// racing with it on another thread gets PLX_STATUS_BUSY instead of freeing
// memory in use. Parents count their children (a model its sessions and
// trainers) under the same mutex; a parent with children is BUSY too.
#ifndef PLEXUS_C_API_HANDLES_HPP
#define PLEXUS_C_API_HANDLES_HPP

#include <plexus/plexus.h>

#include <plexus/error.hpp>
#include <plexus/model.hpp>
#include <plexus/runtime.hpp>
#include <plexus/session.hpp>
#include <plexus/tensor.hpp>
#include <plexus/trainer.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <new>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace plexus::capi {

enum class Kind { kRuntime, kModel, kSession, kTrainer, kTensor };

/// "plx_model" for Kind::kModel.
const char* kind_name(Kind kind);

struct Handle {
  explicit Handle(Kind k, Handle* parent_handle = nullptr) : kind(k), parent(parent_handle) {}
  virtual ~Handle() = default;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  const Kind kind;
  Handle* const parent;        // stays alive while this handle is (its children count)
  std::atomic<int> pins{0};    // calls in progress
  int children = 0;            // guarded by the registry mutex
};

/// A status other than the plexus::ErrorCode ones (PLX_STATUS_BUSY), or any
/// status with a message built here.
class StatusError : public std::runtime_error {
 public:
  StatusError(plx_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
  plx_status status() const noexcept { return status_; }

 private:
  plx_status status_;
};

/// Registers a new handle under the address the C caller will see (and
/// counts it as a child of its parent).
void register_handle(const void* key, Handle* h);
/// Finds the live handle `p` of `kind` and pins it; throws StatusError
/// (INVALID) naming `param` if `p` is NULL, not live, or of another kind.
Handle* pin_handle(const void* p, Kind kind, const char* param);
/// Unregisters `p` if it is a live, unpinned, childless handle of `kind` and
/// returns it for the caller to delete; throws StatusError otherwise.
std::unique_ptr<Handle> unregister_handle(const void* p, Kind kind, const char* param);

/// Builds a T and registers it; the C caller owns the result.
template <typename T, typename... A>
T* make_handle(A&&... args) {
  auto h = std::make_unique<T>(std::forward<A>(args)...);
  register_handle(static_cast<const void*>(h.get()), h.get());
  return h.release();
}

/// A pinned handle of type T for the duration of one call.
template <typename T>
class Pinned {
 public:
  Pinned(const void* p, Kind kind, const char* param) : h_(static_cast<T*>(pin_handle(p, kind, param))) {}
  ~Pinned() { h_->pins.fetch_sub(1); }
  Pinned(const Pinned&) = delete;
  Pinned& operator=(const Pinned&) = delete;
  T* operator->() const { return h_; }
  T* get() const { return h_; }
  T& operator*() const { return *h_; }

 private:
  T* h_;
};

/// Records "fn: message" as the calling thread's last error and returns `status`.
plx_status fail(plx_status status, const char* fn, const char* message) noexcept;

/// Runs body() and maps every exception to a status, with the message
/// prefixed by the C function's name; nothing escapes.
template <typename F>
plx_status guarded(const char* fn, F&& body) noexcept {
  try {
    body();
    return PLX_STATUS_OK;
  } catch (const StatusError& e) {
    return fail(e.status(), fn, e.what());
  } catch (const Error& e) {
    const int c = static_cast<int>(e.code());
    return fail(c >= PLX_STATUS_INVALID && c <= PLX_STATUS_INTERNAL ? c : PLX_STATUS_INTERNAL, fn, e.what());
  } catch (const std::bad_alloc&) {
    return fail(PLX_STATUS_NO_MEMORY, fn, "out of memory");
  } catch (const std::exception& e) {
    return fail(PLX_STATUS_INTERNAL, fn, e.what());
  } catch (...) {
    return fail(PLX_STATUS_INTERNAL, fn, "unknown exception");
  }
}

/// Throws StatusError(INVALID) if `p` is NULL: "'<param>' is NULL; expected <what>".
void require(const void* p, const char* param, const char* what);
/// Throws StatusError(INVALID) unless `s` is a non-empty string.
void require_string(const char* s, const char* param);

/// The feeds of plx_session_run / plx_trainer_step: views checked and copied.
std::map<std::string, Tensor> feeds_from(int32_t n, const char* const* names, const plx_view* views);
/// A tensor copied from a checked view; `what` names it in messages.
Tensor tensor_from(const plx_view& v, const std::string& what);

}  // namespace plexus::capi

struct plx_runtime : plexus::capi::Handle {
  explicit plx_runtime(const plexus::RuntimeOptions& o) : Handle(plexus::capi::Kind::kRuntime), rt(o) {}
  plexus::Runtime rt;
};

struct plx_model : plexus::capi::Handle {
  plx_model(plx_runtime* runtime, const std::string& path)
      : Handle(plexus::capi::Kind::kModel, runtime), model(runtime->rt, path) {}
  plexus::Model model;
  /// Shared by inference calls, exclusive for calls that write parameters.
  std::shared_mutex params_mu;
};

struct plx_session : plexus::capi::Handle {
  plx_session(plx_model* m, plexus::SessionOptions o)
      : Handle(plexus::capi::Kind::kSession, m), owner(m), session(m->model, o) {}
  plx_model* owner;
  plexus::Session session;
};

struct plx_trainer : plexus::capi::Handle {
  plx_trainer(plx_model* m, plexus::TrainOptions o)
      : Handle(plexus::capi::Kind::kTrainer, m), owner(m), trainer(m->model, std::move(o)) {}
  plx_model* owner;
  plexus::Trainer trainer;
};

struct plx_tensor : plexus::capi::Handle {
  explicit plx_tensor(plexus::Tensor t) : Handle(plexus::capi::Kind::kTensor), tensor(std::move(t)) {}
  plexus::Tensor tensor;
};

#endif
