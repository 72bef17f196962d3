// Tensor: f32, row-major, contiguous, 64-byte aligned storage from a caching pool.
//
//   plexus::Tensor x = plexus::Tensor::zeros({128, 784});
//   x.data()[0] = 1.0f;
//   plx_tensor_view v = x.view();      // for the plugin ABI; valid while x lives
//
// Copies share storage (like torch.Tensor); clone() copies the data.
#ifndef PLEXUS_TENSOR_HPP
#define PLEXUS_TENSOR_HPP

#include <plexus/abi/plugin.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace plexus {

/// A shape of at most PLX_MAX_NDIM dimensions, by value.
class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(std::span<const int64_t> dims);
  explicit Shape(const plx_shape& s);

  int ndim() const { return ndim_; }
  int64_t operator[](int i) const { return dims_[static_cast<size_t>(i)]; }
  int64_t& operator[](int i) { return dims_[static_cast<size_t>(i)]; }
  int64_t numel() const;
  const int64_t* data() const { return dims_.data(); }
  plx_shape raw() const;
  std::string str() const;  // "[128, 784]"
  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }

 private:
  std::array<int64_t, PLX_MAX_NDIM> dims_{};
  int ndim_ = 0;
};

/// A caching allocator of 64-byte aligned blocks. Freed blocks are kept by
/// size and handed out again, so a training step in steady state allocates
/// nothing from the system. Thread-safe.
class Pool {
 public:
  Pool() = default;
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  void* allocate(size_t bytes);
  /// A block for a tensor in blocked layout `tag` (Layout::id(), nonzero).
  /// Prefers a cached block whose last tensor had that layout: every
  /// blocked tensor keeps its padding zero (the plugin ABI's promise), so
  /// such a block needs no zeroing, and `*clean` says so.
  void* allocate(size_t bytes, uint64_t tag, bool* clean);
  /// `tag`: the layout id of the block's last tensor, 0 for plain data.
  void release(void* p, size_t bytes, uint64_t tag = 0) noexcept;
  void trim();  // returns every cached block to the system

  /// Blocks obtained from the system so far (cache misses).
  uint64_t system_allocations() const;
  size_t cached_bytes() const;
  /// Blocked-layout allocations that reused a block of the same layout
  /// (no zeroing) and those that had to zero it.
  uint64_t clean_reuses() const;
  uint64_t zeroed_blocks() const;

  /// The process-wide default pool (a cache of memory, not program state).
  static const std::shared_ptr<Pool>& global();

 private:
  static size_t rounded(size_t bytes);
  mutable std::mutex mu_;
  struct Block {
    void* p;
    uint64_t tag;
  };
  std::unordered_map<size_t, std::vector<Block>> free_;
  uint64_t system_allocations_ = 0;
  uint64_t clean_reuses_ = 0, zeroed_blocks_ = 0;
  size_t cached_bytes_ = 0;
};

class Layout;  // a oneDNN blocked layout (plexus/layout.hpp)

class Tensor {
 public:
  Tensor() = default;  // undefined: defined() == false

  static Tensor empty(const Shape& shape, const std::shared_ptr<Pool>& pool = Pool::global());
  /// Uninitialized storage in a blocked layout (plain when `layout` is null);
  /// a blocked buffer's padding is zeroed.
  static Tensor empty(const Shape& shape, std::shared_ptr<const Layout> layout);
  static Tensor zeros(const Shape& shape);
  static Tensor full(const Shape& shape, float value);
  static Tensor from(const Shape& shape, std::span<const float> values);

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int ndim() const { return shape_.ndim(); }
  int64_t dim(int i) const { return shape_[i]; }
  int64_t numel() const { return shape_.numel(); }
  /// Null for plain row-major data. data()/span() of a blocked tensor are in
  /// its layout's order; to_plain (plexus/layout.hpp) gives plain data.
  const std::shared_ptr<const Layout>& layout() const { return layout_; }
  bool blocked() const { return layout_ != nullptr; }
  /// Floats in the buffer: numel() when plain, more when a layout pads.
  int64_t storage_numel() const;
  float* data() { return data_; }
  const float* data() const { return data_; }
  std::span<float> span() { return {data_, static_cast<size_t>(numel())}; }
  std::span<const float> span() const { return {data_, static_cast<size_t>(numel())}; }

  Tensor clone() const;  // keeps the layout
  /// Same storage, new shape with the same number of elements (plain only).
  Tensor reshape(const Shape& shape) const;
  /// Rows [begin, end) of dimension 0, copied (plain only).
  Tensor rows(int64_t begin, int64_t end) const;
  void fill(float v);                 // a blocked tensor only takes 0
  void copy_from(const Tensor& src);  // same numel and layout

  /// A view for the plugin ABI; valid while this Tensor lives.
  plx_tensor_view view() const;

 private:
  struct Storage;
  std::shared_ptr<Storage> storage_;
  float* data_ = nullptr;
  Shape shape_;
  std::shared_ptr<const Layout> layout_;
};

}  // namespace plexus

#endif
