// Layout interning and reorders through oneDNN (the runtime's only oneDNN use;
// kernels live in plugins).
#include <plexus/error.hpp>
#include <plexus/layout.hpp>

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <mutex>

namespace plexus {

namespace {

std::atomic<uint64_t> g_instances_created{0}, g_instance_hits{0}, g_reorders_created{0}, g_reorder_hits{0};

const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::memory::desc plain_desc(const Shape& shape) {
  using tag = dnnl::memory::format_tag;
  static constexpr tag kTags[] = {tag::a, tag::ab, tag::abc, tag::abcd, tag::abcde, tag::abcdef};
  if (shape.ndim() < 1 || shape.ndim() > 6)
    throw Error(ErrorCode::kInvalid, "blocked layouts need 1 to 6 dimensions, got shape " + shape.str());
  dnnl::memory::dims dims(shape.data(), shape.data() + shape.ndim());
  return dnnl::memory::desc(dims, dnnl::memory::data_type::f32, kTags[shape.ndim() - 1]);
}

// "blocked a:b:c:d, inner 8b" style text: the dims ordered by stride (outer
// first), then the inner blocks, as oneDNN's tags name them (nChw8c = abcd + 8b).
std::string describe(const dnnl_memory_desc_t& md) {
  std::string r;
  if (md.format_kind != dnnl_blocked) return "non-blocked oneDNN layout";
  const auto& b = md.format_desc.blocking;
  std::vector<int> order(static_cast<size_t>(md.ndims));
  for (int i = 0; i < md.ndims; ++i) order[static_cast<size_t>(i)] = i;
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return b.strides[x] > b.strides[y]; });
  for (int i : order) r.push_back(static_cast<char>('a' + i));
  for (int k = 0; k < b.inner_nblks; ++k) {
    r.append(std::to_string(b.inner_blks[k]));
    r.push_back(static_cast<char>('a' + b.inner_idxs[k]));
  }
  r.append(" [");
  for (int i = 0; i < md.ndims; ++i) {
    if (i > 0) r.push_back('x');
    r.append(std::to_string(md.dims[i]));
  }
  r.push_back(']');
  return r;
}

struct Interned {
  std::mutex mu;
  std::vector<std::shared_ptr<const Layout>> layouts;
};
Interned& interned() {
  static Interned* i = new Interned;  // never destroyed: layouts outlive every tensor
  return *i;
}

// One reorder primitive per (layout, direction), made on first use.
struct ReorderCache {
  std::mutex mu;
  std::map<std::pair<uint64_t, bool>, dnnl::reorder> prims;
};
ReorderCache& reorders() {
  static ReorderCache* c = new ReorderCache;
  return *c;
}

void run_reorder(const Layout& layout, bool to_blocked, const Tensor& src, Tensor& dst) {
  const dnnl::memory::desc blocked(*static_cast<const dnnl_memory_desc_t*>(layout.md()));
  const dnnl::memory::desc plain = plain_desc(src.shape());
  const dnnl::memory::desc& from = to_blocked ? plain : blocked;
  const dnnl::memory::desc& to = to_blocked ? blocked : plain;
  dnnl::reorder prim;
  {
    ReorderCache& c = reorders();
    std::lock_guard<std::mutex> lock(c.mu);
    auto key = std::make_pair(layout.id(), to_blocked);
    auto it = c.prims.find(key);
    if (it != c.prims.end()) {
      prim = it->second;
      ++g_reorder_hits;
    } else {
      prim = dnnl::reorder(dnnl::reorder::primitive_desc(cpu_engine(), from, cpu_engine(), to));
      c.prims.emplace(key, prim);
      ++g_reorders_created;
    }
  }
  dnnl::memory m_from(from, cpu_engine(), const_cast<float*>(src.data()));
  dnnl::memory m_to(to, cpu_engine(), dst.data());
  dnnl::stream s(cpu_engine());
  prim.execute(s, m_from, m_to);
  s.wait();
}

}  // namespace

std::shared_ptr<const Layout> Layout::intern(const void* md_ptr, const Shape& shape) {
  if (md_ptr == nullptr) return nullptr;
  const auto& md = *static_cast<const dnnl_memory_desc_t*>(md_ptr);
  if (md.data_type != dnnl_f32 || md.ndims != shape.ndim())
    throw Error(ErrorCode::kInvalid, "layout " + describe(md) + " is not an f32 layout of shape " + shape.str());
  for (int i = 0; i < md.ndims; ++i)
    if (md.dims[i] != shape[i])
      throw Error(ErrorCode::kInvalid, "layout " + describe(md) + " does not match shape " + shape.str());
  try {
    if (dnnl::memory::desc(md) == plain_desc(shape)) return nullptr;
  } catch (const dnnl::error& e) {
    throw Error(ErrorCode::kInvalid, std::string("layout check failed: ") + e.what());
  }
  Interned& in = interned();
  std::lock_guard<std::mutex> lock(in.mu);
  for (const auto& l : in.layouts)
    if (dnnl_memory_desc_equal(static_cast<const dnnl_memory_desc_t*>(l->md()), &md)) return l;
  std::vector<unsigned char> bytes(sizeof md);
  std::memcpy(bytes.data(), &md, sizeof md);
  auto l = std::make_shared<const Layout>(std::move(bytes), dnnl_memory_desc_get_size(&md), in.layouts.size() + 1,
                                          describe(md));
  in.layouts.push_back(l);
  return l;
}

Tensor to_plain(const Tensor& t) {
  if (!t.blocked()) return t;
  Tensor out = Tensor::empty(t.shape());
  try {
    run_reorder(*t.layout(), false, t, out);
  } catch (const dnnl::error& e) {
    throw Error(ErrorCode::kInternal, "reorder from " + t.layout()->str() + " to plain failed: " + e.what());
  }
  return out;
}

Tensor to_layout(const Tensor& t, const std::shared_ptr<const Layout>& layout) {
  if (t.blocked()) {
    if (t.layout() == layout) return t;
    return to_layout(to_plain(t), layout);
  }
  if (!layout) return t;
  Tensor out = Tensor::empty(t.shape(), layout);
  try {
    run_reorder(*layout, true, t, out);
  } catch (const dnnl::error& e) {
    throw Error(ErrorCode::kInternal, "reorder from plain to " + layout->str() + " failed: " + e.what());
  }
  return out;
}

CacheStats cache_stats() {
  return {g_instances_created.load(), g_instance_hits.load(), g_reorders_created.load(), g_reorder_hits.load()};
}

namespace detail {
void count_instance(bool created) { ++(created ? g_instances_created : g_instance_hits); }
}  // namespace detail

}  // namespace plexus
