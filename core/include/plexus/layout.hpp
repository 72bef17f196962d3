// Blocked memory layouts: oneDNN memory descriptors that tensors between
// layout-aware ops (PLX_OP_LAYOUTS) keep, and the reorders to and from plain.
//
//   auto l = plexus::Layout::intern(md, shape);   // nullptr if md is plain row-major
//   plexus::Tensor b = plexus::Tensor::empty(shape, l);
//   plexus::Tensor p = plexus::to_plain(b);       // a cached oneDNN reorder
//
// Layouts are interned: equal descriptors share one Layout object for the
// life of the process, so comparing layouts compares pointers.
#ifndef PLEXUS_LAYOUT_HPP
#define PLEXUS_LAYOUT_HPP

#include <plexus/tensor.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace plexus {

class Layout {
 public:
  /// The interned layout of `md` (a const dnnl_memory_desc_t*) for a tensor
  /// of `shape`; nullptr when md is plain row-major. Throws kInvalid when md
  /// is not an f32 descriptor of exactly `shape`.
  static std::shared_ptr<const Layout> intern(const void* md, const Shape& shape);

  const void* md() const { return md_.data(); }  // const dnnl_memory_desc_t*
  size_t bytes() const { return bytes_; }        // buffer size, padding included
  uint64_t id() const { return id_; }            // 1, 2, ... in order of interning
  const std::string& str() const { return str_; }  // oneDNN's description

  Layout(std::vector<unsigned char> md, size_t bytes, uint64_t id, std::string str)
      : md_(std::move(md)), bytes_(bytes), id_(id), str_(std::move(str)) {}

 private:
  std::vector<unsigned char> md_;
  size_t bytes_;
  uint64_t id_;
  std::string str_;
};

/// `t` itself when plain; otherwise a plain copy (one oneDNN reorder).
Tensor to_plain(const Tensor& t);
/// A copy of plain `t` in `layout` (plain `t` itself if layout is null).
Tensor to_layout(const Tensor& t, const std::shared_ptr<const Layout>& layout);

/// Process-wide counters of the runtime's primitive caches (op instances,
/// which own the plugins' oneDNN primitives, and reorders). A training step in
/// steady state adds hits only.
struct CacheStats {
  uint64_t op_instances_created = 0;
  uint64_t op_instance_hits = 0;
  uint64_t reorders_created = 0;
  uint64_t reorder_hits = 0;
};
CacheStats cache_stats();
namespace detail {
void count_instance(bool created);
}

}  // namespace plexus

#endif
