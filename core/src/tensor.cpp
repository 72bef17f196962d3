#include <plexus/error.hpp>
#include <plexus/layout.hpp>
#include <plexus/tensor.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

namespace plexus {

// ---- Shape ------------------------------------------------------------------

Shape::Shape(std::initializer_list<int64_t> dims) : Shape(std::span<const int64_t>(dims.begin(), dims.size())) {}

Shape::Shape(std::span<const int64_t> dims) {
  if (dims.size() > PLX_MAX_NDIM)
    throw Error(ErrorCode::kInvalid, "a shape has at most 8 dimensions, got " + std::to_string(dims.size()));
  for (int64_t d : dims) {
    if (d < 0) throw Error(ErrorCode::kInvalid, "negative dimension " + std::to_string(d) + " in a shape");
    dims_[static_cast<size_t>(ndim_++)] = d;
  }
}

Shape::Shape(const plx_shape& s) : Shape(std::span<const int64_t>(s.dims, static_cast<size_t>(std::clamp(s.ndim, 0, PLX_MAX_NDIM)))) {
  if (s.ndim < 0 || s.ndim > PLX_MAX_NDIM)
    throw Error(ErrorCode::kInvalid, "shape rank " + std::to_string(s.ndim) + " is outside 0..8");
}

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int i = 0; i < ndim_; ++i) n *= dims_[static_cast<size_t>(i)];
  return n;
}

plx_shape Shape::raw() const {
  plx_shape s{};
  s.ndim = ndim_;
  for (int i = 0; i < ndim_; ++i) s.dims[i] = dims_[static_cast<size_t>(i)];
  return s;
}

std::string Shape::str() const {
  std::string r = "[";
  for (int i = 0; i < ndim_; ++i) r += (i ? ", " : "") + std::to_string(dims_[static_cast<size_t>(i)]);
  return r + "]";
}

bool Shape::operator==(const Shape& o) const {
  return ndim_ == o.ndim_ && std::equal(dims_.begin(), dims_.begin() + ndim_, o.dims_.begin());
}

// ---- Pool -------------------------------------------------------------------

Pool::~Pool() { trim(); }

size_t Pool::rounded(size_t bytes) { return std::max<size_t>(64, (bytes + 63) / 64 * 64); }

void* Pool::allocate(size_t bytes) {
  const size_t size = rounded(bytes);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = free_.find(size);
    if (it != free_.end() && !it->second.empty()) {
      void* p = it->second.back().p;
      it->second.pop_back();
      cached_bytes_ -= size;
      return p;
    }
    ++system_allocations_;
  }
  void* p = std::aligned_alloc(64, size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void* Pool::allocate(size_t bytes, uint64_t tag, bool* clean) {
  const size_t size = rounded(bytes);
  *clean = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = free_.find(size);
    if (it != free_.end() && !it->second.empty()) {
      std::vector<Block>& blocks = it->second;
      // The newest few blocks of this size (a step frees and takes them in
      // the same order each time); past them, any block, zeroed.
      size_t pick = blocks.size() - 1;
      for (size_t i = blocks.size(), seen = 0; i-- > 0 && seen < 8; ++seen)
        if (blocks[i].tag == tag) {
          pick = i;
          *clean = true;
          break;
        }
      void* p = blocks[pick].p;
      blocks[pick] = blocks.back();
      blocks.pop_back();
      cached_bytes_ -= size;
      ++(*clean ? clean_reuses_ : zeroed_blocks_);
      return p;
    }
    ++system_allocations_;
    ++zeroed_blocks_;
  }
  void* p = std::aligned_alloc(64, size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void Pool::release(void* p, size_t bytes, uint64_t tag) noexcept {
  if (p == nullptr) return;
  const size_t size = rounded(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  try {
    free_[size].push_back({p, tag});
    cached_bytes_ += size;
  } catch (...) {
    std::free(p);
  }
}

void Pool::trim() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [size, blocks] : free_)
    for (const Block& b : blocks) std::free(b.p);
  free_.clear();
  cached_bytes_ = 0;
}

uint64_t Pool::clean_reuses() const {
  std::lock_guard<std::mutex> lock(mu_);
  return clean_reuses_;
}

uint64_t Pool::zeroed_blocks() const {
  std::lock_guard<std::mutex> lock(mu_);
  return zeroed_blocks_;
}

uint64_t Pool::system_allocations() const {
  std::lock_guard<std::mutex> lock(mu_);
  return system_allocations_;
}

size_t Pool::cached_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cached_bytes_;
}

const std::shared_ptr<Pool>& Pool::global() {
  static const std::shared_ptr<Pool> pool = std::make_shared<Pool>();
  return pool;
}

// ---- Tensor -----------------------------------------------------------------

struct Tensor::Storage {
  std::shared_ptr<Pool> pool;
  void* ptr = nullptr;
  size_t bytes = 0;
  uint64_t tag = 0;  // the blocked layout's id: its padding is zero when the block goes back
  ~Storage() { pool->release(ptr, bytes, tag); }
};

Tensor Tensor::empty(const Shape& shape, const std::shared_ptr<Pool>& pool) {
  Tensor t;
  auto s = std::make_shared<Storage>();
  s->pool = pool;
  s->bytes = static_cast<size_t>(shape.numel()) * sizeof(float);
  s->ptr = pool->allocate(s->bytes);
  t.data_ = static_cast<float*>(s->ptr);
  t.storage_ = std::move(s);
  t.shape_ = shape;
  return t;
}

Tensor Tensor::empty(const Shape& shape, std::shared_ptr<const Layout> layout) {
  if (!layout) return empty(shape);
  Tensor t;
  auto s = std::make_shared<Storage>();
  s->pool = Pool::global();
  s->bytes = layout->bytes();
  // oneDNN reads padded channels as zeros; a layout without padding needs no
  // fill, and neither does a block whose last tensor had this layout: every
  // writer of a blocked tensor keeps its padding zero (plexus/abi/plugin.h,
  // plx_tensor_view.layout), so it still is.
  if (s->bytes > static_cast<size_t>(shape.numel()) * sizeof(float)) {
    bool clean = false;
    s->ptr = s->pool->allocate(s->bytes, layout->id(), &clean);
    s->tag = layout->id();
    if (!clean) std::memset(s->ptr, 0, s->bytes);
  } else {
    s->ptr = s->pool->allocate(s->bytes);
  }
  t.data_ = static_cast<float*>(s->ptr);
  t.storage_ = std::move(s);
  t.shape_ = shape;
  t.layout_ = std::move(layout);
  return t;
}

int64_t Tensor::storage_numel() const {
  return layout_ ? static_cast<int64_t>(layout_->bytes() / sizeof(float)) : numel();
}

namespace {
void require_plain(const Tensor& t, const char* what) {
  if (t.blocked())
    throw Error(ErrorCode::kInvalid, std::string(what) + ": tensor of shape " + t.shape().str() +
                                         " is in the blocked layout " + t.layout()->str() + "; call to_plain first");
}
}  // namespace

Tensor Tensor::zeros(const Shape& shape) { return full(shape, 0.0f); }

Tensor Tensor::full(const Shape& shape, float value) {
  Tensor t = empty(shape);
  t.fill(value);
  return t;
}

Tensor Tensor::from(const Shape& shape, std::span<const float> values) {
  if (static_cast<int64_t>(values.size()) != shape.numel())
    throw Error(ErrorCode::kInvalid, "Tensor::from: shape " + shape.str() + " needs " +
                                         std::to_string(shape.numel()) + " values, got " + std::to_string(values.size()));
  Tensor t = empty(shape);
  std::copy(values.begin(), values.end(), t.data_);
  return t;
}

Tensor Tensor::clone() const {
  if (!defined()) return {};
  Tensor t = empty(shape_, layout_);
  std::memcpy(t.data_, data_, static_cast<size_t>(storage_numel()) * sizeof(float));
  return t;
}

Tensor Tensor::reshape(const Shape& shape) const {
  require_plain(*this, "reshape");
  if (shape.numel() != numel())
    throw Error(ErrorCode::kInvalid, "cannot reshape " + shape_.str() + " to " + shape.str());
  Tensor t = *this;
  t.shape_ = shape;
  return t;
}

Tensor Tensor::rows(int64_t begin, int64_t end) const {
  require_plain(*this, "rows");
  if (ndim() < 1 || begin < 0 || end > dim(0) || begin > end)
    throw Error(ErrorCode::kInvalid, "rows [" + std::to_string(begin) + ", " + std::to_string(end) +
                                         ") out of range for shape " + shape_.str());
  Shape s = shape_;
  s[0] = end - begin;
  Tensor t = empty(s);
  const int64_t row = dim(0) == 0 ? 0 : numel() / dim(0);
  std::memcpy(t.data_, data_ + begin * row, static_cast<size_t>((end - begin) * row) * sizeof(float));
  return t;
}

void Tensor::fill(float v) {
  if (v != 0.0f) require_plain(*this, "fill");
  std::fill(data_, data_ + storage_numel(), v);
}

void Tensor::copy_from(const Tensor& src) {
  if (src.numel() != numel() || src.layout_ != layout_)
    throw Error(ErrorCode::kInvalid, "copy_from: " + src.shape().str() + (src.blocked() ? " (blocked)" : "") +
                                         " into " + shape_.str() + (blocked() ? " (blocked)" : ""));
  std::memcpy(data_, src.data_, static_cast<size_t>(storage_numel()) * sizeof(float));
}

plx_tensor_view Tensor::view() const {
  plx_tensor_view v{};
  v.data = data_;
  v.dtype = PLX_DTYPE_F32;
  v.ndim = shape_.ndim();
  v.shape = shape_.data();
  v.numel = numel();
  v.layout = layout_ ? layout_->md() : nullptr;
  return v;
}

}  // namespace plexus
