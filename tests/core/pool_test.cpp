// The tensor pool: a blocked tensor reuses a block its own layout had
// without zeroing it (its padding is still zero), and zeroes any other.
#include <plexus/layout.hpp>
#include <plexus/tensor.hpp>

#include <oneapi/dnnl/dnnl.hpp>

#include <gtest/gtest.h>

#include <cmath>

namespace plexus {
namespace {

using tag = dnnl::memory::format_tag;

std::shared_ptr<const Layout> blocked(const Shape& s, tag t) {
  const dnnl::memory::desc md({s[0], s[1], s[2], s[3]}, dnnl::memory::data_type::f32, t);
  return Layout::intern(&md.data, s);
}

// True if every padded lane (channel >= c) of a channel-blocked [n, c, h, w]
// tensor with block b is zero.
bool padding_zero(const Tensor& t, int64_t b) {
  const int64_t n = t.dim(0), c = t.dim(1), hw = t.dim(2) * t.dim(3), blocks = (c + b - 1) / b;
  for (int64_t i = 0; i < n * blocks; ++i)
    for (int64_t p = 0; p < hw; ++p)
      for (int64_t l = 0; l < b; ++l)
        if ((i % blocks) * b + l >= c && t.data()[(i * hw + p) * b + l] != 0.0f) return false;
  return true;
}

TEST(Pool, BlockedTensorsReuseTheirOwnLayoutsBlocksUnzeroed) {
  const Shape s{2, 6, 3, 3}, wide{2, 12, 3, 3};
  const auto l16 = blocked(s, tag::nChw16c);    // 6 of 16 lanes real: 1152 bytes
  const auto l8 = blocked(wide, tag::nChw8c);   // 12 of 16 lanes real: 1152 bytes too
  ASSERT_EQ(l16->bytes(), l8->bytes());
  Pool& pool = *Pool::global();
  const uint64_t clean0 = pool.clean_reuses(), zeroed0 = pool.zeroed_blocks();

  // A plain block of that size, full of NaN, is the only one cached.
  const float* junk_ptr = nullptr;
  {
    Tensor junk = Tensor::full(Shape{static_cast<int64_t>(l16->bytes() / sizeof(float))}, NAN);
    junk_ptr = junk.data();
  }
  const float* block = nullptr;
  {
    Tensor a = Tensor::empty(s, l16);  // last used as plain data: zeroed
    EXPECT_EQ(a.data(), junk_ptr);
    EXPECT_TRUE(padding_zero(a, 16));
    EXPECT_EQ(pool.zeroed_blocks(), zeroed0 + 1);
    for (int64_t i = 0; i < a.storage_numel(); ++i)
      if (i % 16 < 6) a.data()[i] = 1.0f;  // the real channels only, as every writer must
    block = a.data();
  }
  {
    Tensor b = Tensor::empty(s, l16);  // the same layout's block: not zeroed again
    EXPECT_EQ(b.data(), block);
    EXPECT_EQ(pool.clean_reuses(), clean0 + 1);
    EXPECT_EQ(pool.zeroed_blocks(), zeroed0 + 1);
    EXPECT_TRUE(padding_zero(b, 16));
    EXPECT_EQ(b.data()[0], 1.0f);  // what a left behind: the block really was reused
  }
  {
    Tensor c = Tensor::empty(wide, l8);  // another layout's block: zeroed
    EXPECT_EQ(c.data(), block);
    EXPECT_EQ(pool.zeroed_blocks(), zeroed0 + 2);
    EXPECT_TRUE(padding_zero(c, 8));
    EXPECT_EQ(c.data()[0], 0.0f);
  }
}

}  // namespace
}  // namespace plexus
