// oneDNN adapters shared by the built-in plugins (header-only, compiled into
// each plugin; nothing here crosses the plugin boundary).
//
//   plexus::plugins::Dnnl dnnl;                       // one CPU engine per op instance
//   auto md = plexus::plugins::plain_md({n, c});      // f32, row-major
//   dnnl.run("relu forward", prim, pd.scratchpad_desc(),
//            {{DNNL_ARG_SRC, md, x}, {DNNL_ARG_DST, md, y}});
//
// Concurrency: primitives are created once (in an op instance's constructor)
// with the user scratchpad mode, and run() gives every concurrent execution
// its own stream, memory objects and scratchpad, so forward/backward of one
// instance may run from several threads at once. All code is written against
// the oneDNN 2.x API (op descriptor, then primitive descriptor) and kept here
// and in the op files that include it, so a move to 3.x stays local.
#ifndef PLEXUS_PLUGINS_DNNL_UTIL_HPP
#define PLEXUS_PLUGINS_DNNL_UTIL_HPP

#include <plexus/sdk/plugin.hpp>

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::plugins {

/// A plain (row-major) f32 memory descriptor of the given dims.
inline dnnl::memory::desc plain_md(const dnnl::memory::dims& dims) {
  using tag = dnnl::memory::format_tag;
  static constexpr tag kTags[] = {tag::a, tag::ab, tag::abc, tag::abcd, tag::abcde, tag::abcdef};
  if (dims.empty() || dims.size() > std::size(kTags))
    throw sdk::Error(PLX_E_INTERNAL, "plain_md: unsupported rank " + std::to_string(dims.size()));
  return dnnl::memory::desc(dims, dnnl::memory::data_type::f32, kTags[dims.size() - 1]);
}

/// Primitive attributes every plugin primitive uses: a caller-provided
/// scratchpad, so one primitive can execute concurrently.
inline dnnl::primitive_attr user_scratchpad_attr() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

/// Runs f, turning a oneDNN exception into an sdk::Error that says what failed.
template <class F>
decltype(auto) dnnl_call(const char* what, F&& f) {
  try {
    return f();
  } catch (const dnnl::error& e) {
    throw sdk::Error(PLX_E_INTERNAL, std::string("oneDNN failed in ") + what + ": " + e.what());
  }
}

/// Where scratch memory comes from: the runtime's caching pool when it
/// offers one (plugin ABI 1.1), else operator new.
struct ScratchSource {
  sdk::InstanceContext::AllocFn alloc = nullptr;
  sdk::InstanceContext::FreeFn free = nullptr;
  ScratchSource() = default;
  explicit ScratchSource(const sdk::InstanceContext& ctx) : alloc(ctx.scratch_alloc()), free(ctx.scratch_free()) {
    if (alloc == nullptr || free == nullptr) alloc = nullptr, free = nullptr;
  }
};

/// A 64-byte aligned byte buffer for one execution (scratchpad, temporaries).
class ScratchBuffer {
 public:
  ScratchBuffer(size_t bytes, const ScratchSource& src) : bytes_(bytes), src_(src) {
    if (bytes_ == 0) return;
    p_ = src_.alloc ? src_.alloc(bytes_) : ::operator new(bytes_, std::align_val_t{64});
    if (p_ == nullptr) throw std::bad_alloc();
  }
  ~ScratchBuffer() {
    if (p_ == nullptr) return;
    if (src_.free) src_.free(p_, bytes_);
    else ::operator delete(p_, std::align_val_t{64});
  }
  ScratchBuffer(const ScratchBuffer&) = delete;
  ScratchBuffer& operator=(const ScratchBuffer&) = delete;
  void* data() const { return p_; }
  float* floats() const { return static_cast<float*>(p_); }

 private:
  size_t bytes_;
  ScratchSource src_;
  void* p_ = nullptr;
};

/// One argument of a primitive execution: its DNNL_ARG_* id, the memory
/// descriptor the primitive was made for, and the caller's buffer.
struct Arg {
  int id = 0;
  const dnnl::memory::desc* md = nullptr;
  const void* data = nullptr;
  Arg() = default;
  Arg(int arg, const dnnl::memory::desc& desc, const void* p) : id(arg), md(&desc), data(p) {}
};

/// The arguments of one execution (at most kMax; a primitive takes at most 9).
class Args {
 public:
  static constexpr size_t kMax = 12;
  Args(std::initializer_list<Arg> args) {
    for (const Arg& a : args) add(a);
  }
  void add(const Arg& a) {
    if (n_ == kMax) throw sdk::Error(PLX_E_INTERNAL, "Args: more than " + std::to_string(kMax) + " arguments");
    args_[n_++] = a;
  }
  const Arg* begin() const { return args_; }
  const Arg* end() const { return args_ + n_; }
  size_t size() const { return n_; }

 private:
  Arg args_[kMax];
  size_t n_ = 0;
};

/// A CPU engine owned by one op instance, plus per-call execution.
///
/// Executions reuse their oneDNN objects: a stream and one dnnl::memory per
/// (primitive, argument), re-pointed at each call's buffers with
/// set_data_handle. Creating them per call cost about 1.3 us per execution
/// (a stream, one memory object per argument, the argument map), which is more
/// than a small inner product takes. The reusable sets ("bindings") sit in a
/// free list: concurrent executions each take their own, so forward/backward
/// of one instance may still run from several threads at once.
class Dnnl {
 public:
  Dnnl() : engine_(dnnl_call("engine creation", [] { return dnnl::engine(dnnl::engine::kind::cpu, 0); })) {}
  /// Takes scratch memory from the runtime's pool when the runtime offers it.
  explicit Dnnl(const sdk::InstanceContext& ctx) : Dnnl() { scratch_ = ScratchSource(ctx); }
  const dnnl::engine& engine() const { return engine_; }
  const ScratchSource& scratch() const { return scratch_; }

  /// Executes `prim` on `args` with its own scratchpad and waits. Every
  /// argument's descriptor must be the one `prim` was made for (the same one
  /// at every call: the memory object made for it is reused).
  void run(const char* what, const dnnl::primitive& prim, const dnnl::memory::desc& scratchpad,
           const Args& args) const {
    dnnl_call(what, [&] {
      ScratchBuffer buf(scratchpad.get_size(), scratch_);
      Lease lease(*this);
      Binding& b = lease.binding();
      dnnl_exec_arg_t exec[Args::kMax + 1];
      int n = 0;
      const dnnl_primitive_t p = prim.get();
      for (const Arg& a : args) exec[n++] = {a.id, b.memory(p, a.id, *a.md, engine_, a.data)};
      if (buf.data() != nullptr)
        exec[n++] = {DNNL_ARG_SCRATCHPAD, b.memory(p, DNNL_ARG_SCRATCHPAD, scratchpad, engine_, buf.data())};
      dnnl::error::wrap_c_api(dnnl_primitive_execute(p, b.stream.get(), n, exec), "could not execute a primitive");
      dnnl::error::wrap_c_api(dnnl_stream_wait(b.stream.get()), "could not wait on a stream");
    });
  }

 private:
  struct Binding {
    explicit Binding(const dnnl::engine& e) : stream(e) {}
    struct Entry {
      dnnl_primitive_t prim;
      int arg;
      dnnl::memory mem;
    };
    dnnl::stream stream;
    std::vector<Entry> entries;
    dnnl_memory_t memory(dnnl_primitive_t prim, int arg, const dnnl::memory::desc& md, const dnnl::engine& e,
                         const void* data) {
      void* handle = const_cast<void*>(data);  // oneDNN memory is not const-aware; inputs are only read
      for (Entry& en : entries)
        if (en.prim == prim && en.arg == arg) {
          en.mem.set_data_handle(handle);
          return en.mem.get();
        }
      entries.push_back({prim, arg, dnnl::memory(md, e, handle)});
      return entries.back().mem.get();
    }
  };
  struct Cache {
    std::mutex mu;
    std::vector<std::unique_ptr<Binding>> free;
  };
  // Takes a binding from the free list (or makes one) and gives it back.
  class Lease {
   public:
    explicit Lease(const Dnnl& d) : cache_(*d.cache_) {
      {
        std::lock_guard<std::mutex> lock(cache_.mu);
        if (!cache_.free.empty()) {
          b_ = std::move(cache_.free.back());
          cache_.free.pop_back();
        }
      }
      if (!b_) b_ = std::make_unique<Binding>(d.engine_);
    }
    ~Lease() {
      std::lock_guard<std::mutex> lock(cache_.mu);
      try {
        cache_.free.push_back(std::move(b_));
      } catch (...) {  // out of memory: drop this binding; the next call makes a new one
      }
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Binding& binding() { return *b_; }

   private:
    Cache& cache_;
    std::unique_ptr<Binding> b_;
  };

  dnnl::engine engine_;
  ScratchSource scratch_;
  std::unique_ptr<Cache> cache_ = std::make_unique<Cache>();
};

/// A reorder between two layouts, built once (empty until made).
class Reorder {
 public:
  Reorder() = default;
  Reorder(const Dnnl& dnnl, const dnnl::memory::desc& from, const dnnl::memory::desc& to)
      : from_(from), to_(to) {
    pd_ = dnnl::reorder::primitive_desc(dnnl.engine(), from, dnnl.engine(), to, user_scratchpad_attr());
    prim_ = dnnl::reorder(pd_);
  }
  explicit operator bool() const { return static_cast<bool>(prim_); }
  void run(const Dnnl& dnnl, const char* what, const float* from, float* to) const {
    dnnl.run(what, prim_, pd_.scratchpad_desc(), {{DNNL_ARG_FROM, from_, from}, {DNNL_ARG_TO, to_, to}});
  }

 private:
  dnnl::memory::desc from_, to_;
  dnnl::reorder::primitive_desc pd_;
  dnnl::reorder prim_;
};

/// For an elementwise op that keeps its input's layout (f(0) = 0, so a blocked
/// layout's zero padding stays zero): makes dst take src's layout and returns
/// how many floats the buffers hold. `keep` (a member of the instance) holds
/// the descriptor the runtime is handed.
inline int64_t same_layout_extent(const sdk::InstanceContext& ctx, dnnl_memory_desc_t& keep) {
  const void* src = ctx.src_layout(0);
  if (src == nullptr) return ctx.input(0).numel();
  if (!ctx.layouts_enabled())  // a blocked src needs a blocked dst: ask for plain input
    throw sdk::Error(PLX_E_UNSUPPORTED, "an elementwise op keeps its src layout, and layouts are disabled");
  keep = *static_cast<const dnnl_memory_desc_t*>(src);
  ctx.set_dst_layout(&keep);
  return static_cast<int64_t>(dnnl_memory_desc_get_size(&keep) / sizeof(float));
}

/// An elementwise function on `numel` contiguous floats, forward and backward
/// primitives built once. With a *_use_dst_for_bwd algorithm, backward reads
/// dst instead of src. An op whose backward is its own loop (relu) builds
/// the forward only (ForwardOnly); backward() then must not be called.
class Eltwise {
 public:
  struct ForwardOnly {};

  Eltwise(const sdk::InstanceContext& ctx, dnnl::algorithm alg, bool use_dst, int64_t numel, float alpha = 0.f,
          float beta = 0.f)
      : Eltwise(ctx, alg, use_dst, numel, alpha, beta, /*with_backward=*/true) {}
  Eltwise(ForwardOnly, const sdk::InstanceContext& ctx, dnnl::algorithm alg, int64_t numel)
      : Eltwise(ctx, alg, /*use_dst=*/false, numel, 0.f, 0.f, /*with_backward=*/false) {}

  void forward(const float* src, float* dst) const {
    if (numel_ == 0) return;
    dnnl_.run("eltwise forward", fwd_, fwd_pd_.scratchpad_desc(),
              {{DNNL_ARG_SRC, md_, src}, {DNNL_ARG_DST, md_, dst}});
  }

  int64_t numel() const { return numel_; }

  /// `data` is dst when constructed with use_dst, src otherwise.
  void backward(const float* data, const float* diff_dst, float* diff_src) const {
    if (numel_ == 0) return;
    if (!bwd_) throw std::logic_error("Eltwise::backward on an instance built ForwardOnly");
    dnnl_.run("eltwise backward", bwd_, bwd_pd_.scratchpad_desc(),
              {{use_dst_ ? DNNL_ARG_DST : DNNL_ARG_SRC, md_, data},
               {DNNL_ARG_DIFF_DST, md_, diff_dst},
               {DNNL_ARG_DIFF_SRC, md_, diff_src}});
  }

 private:
  Eltwise(const sdk::InstanceContext& ctx, dnnl::algorithm alg, bool use_dst, int64_t numel, float alpha, float beta,
          bool with_backward)
      : dnnl_(ctx), use_dst_(use_dst), numel_(numel) {
    if (numel_ == 0) return;  // nothing to compute; oneDNN is never called
    dnnl_call("eltwise setup", [&] {
      md_ = plain_md({numel});
      const dnnl::primitive_attr attr = user_scratchpad_attr();
      fwd_pd_ = dnnl::eltwise_forward::primitive_desc(
          dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_training, alg, md_, alpha, beta), attr,
          dnnl_.engine());
      fwd_ = dnnl::eltwise_forward(fwd_pd_);
      if (!with_backward) return;
      bwd_pd_ = dnnl::eltwise_backward::primitive_desc(dnnl::eltwise_backward::desc(alg, md_, md_, alpha, beta),
                                                       attr, dnnl_.engine(), fwd_pd_);
      bwd_ = dnnl::eltwise_backward(bwd_pd_);
    });
  }

  Dnnl dnnl_;
  bool use_dst_;
  int64_t numel_;
  dnnl::memory::desc md_;
  dnnl::eltwise_forward::primitive_desc fwd_pd_;
  dnnl::eltwise_backward::primitive_desc bwd_pd_;
  dnnl::eltwise_forward fwd_;
  dnnl::eltwise_backward bwd_;
};

}  // namespace plexus::plugins

#endif  // PLEXUS_PLUGINS_DNNL_UTIL_HPP
