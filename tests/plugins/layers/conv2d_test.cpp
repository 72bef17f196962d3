// conv2d: gradients, naive reference, shapes, fans and errors.
#include "support/gradcheck.hpp"

#include <plexus/layout.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace plexus::test {
namespace {

struct Conv {
  int64_t out_channels, kernel;
  int64_t stride = 1, padding = 0, dilation = 1, groups = 1;
  bool bias = true;
};

AttrMap conv_attrs(const Conv& c) {
  return {{"out_channels", AttrValue(c.out_channels)}, {"kernel", AttrValue(c.kernel)},
          {"stride", AttrValue(c.stride)},             {"padding", AttrValue(c.padding)},
          {"dilation", AttrValue(c.dilation)},         {"groups", AttrValue(c.groups)},
          {"bias", AttrValue(c.bias)}};
}

// The definition, in double, with explicit loops and a bounds check for padding.
std::vector<double> conv2d_ref(const Conv& c, const RefArgs& a) {
  const Shape& s = a.src_shapes[0];
  const int64_t n_ = s[0], ch = s[1], h = s[2], w = s[3], k = c.kernel, oc = c.out_channels;
  const int64_t cg = ch / c.groups, og = oc / c.groups;
  const int64_t oh = (h + 2 * c.padding - c.dilation * (k - 1) - 1) / c.stride + 1;
  const int64_t ow = (w + 2 * c.padding - c.dilation * (k - 1) - 1) / c.stride + 1;
  const std::vector<double>& x = a.src[0];
  const std::vector<double>& wt = a.params[0];
  std::vector<double> dst(static_cast<size_t>(n_ * oc * oh * ow));
  for (int64_t n = 0; n < n_; ++n)
    for (int64_t o = 0; o < oc; ++o)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t xo = 0; xo < ow; ++xo) {
          double acc = c.bias ? a.params[1][static_cast<size_t>(o)] : 0.0;
          for (int64_t j = 0; j < cg; ++j) {
            const int64_t i = (o / og) * cg + j;  // input channel of group o / og
            for (int64_t ky = 0; ky < k; ++ky)
              for (int64_t kx = 0; kx < k; ++kx) {
                const int64_t iy = y * c.stride - c.padding + ky * c.dilation;
                const int64_t ix = xo * c.stride - c.padding + kx * c.dilation;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                acc += x[static_cast<size_t>(((n * ch + i) * h + iy) * w + ix)] *
                       wt[static_cast<size_t>(((o * cg + j) * k + ky) * k + kx)];
              }
          }
          dst[static_cast<size_t>(((n * oc + o) * oh + y) * ow + xo)] = acc;
        }
  return dst;
}

OpCase conv_case(Shape src, Conv c) {
  return {.op = "conv2d",
          .attrs = conv_attrs(c),
          .inputs = {src},
          .reference = [c](const RefArgs& a) { return conv2d_ref(c, a); }};
}

TEST(Conv2d, GradcheckAndReference) {
  const OpCase cases[] = {
      conv_case({1, 1, 5, 5}, {.out_channels = 1, .kernel = 3}),
      conv_case({2, 3, 7, 5}, {.out_channels = 4, .kernel = 3, .padding = 1}),
      conv_case({1, 2, 7, 5}, {.out_channels = 3, .kernel = 3, .stride = 2, .padding = 1}),
      conv_case({1, 3, 7, 5}, {.out_channels = 2, .kernel = 5, .padding = 2}),
      conv_case({2, 2, 7, 5}, {.out_channels = 4, .kernel = 1, .stride = 2}),
      conv_case({1, 2, 7, 7}, {.out_channels = 2, .kernel = 3, .padding = 2, .dilation = 2}),
      conv_case({1, 4, 6, 5}, {.out_channels = 6, .kernel = 3, .padding = 1, .groups = 2}),
      conv_case({1, 3, 5, 7}, {.out_channels = 3, .kernel = 3, .stride = 2, .padding = 1, .groups = 3, .bias = false}),
      conv_case({1, 6, 7, 5},
                {.out_channels = 3, .kernel = 3, .stride = 2, .padding = 2, .dilation = 2, .groups = 3, .bias = false}),
      conv_case({2, 2, 5, 5}, {.out_channels = 2, .kernel = 3, .bias = false}),
      conv_case({1, 1, 9, 9}, {.out_channels = 2, .kernel = 5, .dilation = 2}),  // span 9 = input: 1x1 output
      conv_case({1, 1, 3, 3}, {.out_channels = 1, .kernel = 5, .padding = 1}),   // kernel = padded input
      conv_case({1, 2, 8, 6}, {.out_channels = 2, .kernel = 3, .stride = 2}),    // floor: 3x2, last row/col unread
      conv_case({1, 2, 7, 5}, {.out_channels = 4, .kernel = 3, .stride = 2, .padding = 2, .groups = 2}),
      conv_case({1, 3, 6, 6}, {.out_channels = 6, .kernel = 1, .groups = 3}),
      conv_case({0, 2, 5, 5}, {.out_channels = 3, .kernel = 3}),  // empty batch
  };
  for (const OpCase& c : cases) check_op(c);
}

// activation=relu: the same cases through the fused post-op, against
// max(conv, 0) in double. Inputs are shifted so some outputs sit near zero.
TEST(Conv2d, FusedReluGradcheckAndReference) {
  const Conv cases[] = {{.out_channels = 4, .kernel = 3, .padding = 1},
                        {.out_channels = 3, .kernel = 3, .stride = 2, .padding = 1, .groups = 1, .bias = false},
                        {.out_channels = 4, .kernel = 3, .padding = 2, .dilation = 2, .groups = 2}};
  const Shape shapes[] = {{2, 3, 7, 5}, {1, 2, 7, 5}, {1, 4, 7, 7}};
  for (size_t i = 0; i < std::size(cases); ++i) {
    OpCase c = conv_case(shapes[i], cases[i]);
    c.attrs["activation"] = AttrValue(std::string("relu"));
    c.fd_step = 1e-3;  // a smaller step crosses fewer relu kinks (outputs near 0)
    c.reference = [conv = cases[i]](const RefArgs& a) {
      std::vector<double> d = conv2d_ref(conv, a);
      for (double& v : d) v = std::max(v, 0.0);
      return d;
    };
    check_op(c);
  }
}

// All-ones 3x3 src and kernel, padding 1: each output counts its in-bounds taps.
TEST(Conv2d, KnownValues) {
  const OpKernel& k = builtin_registry().op("conv2d");
  const Shape in[] = {Shape{1, 1, 3, 3}};
  auto inst = k.create("c1", k.resolve_attrs(conv_attrs({.out_channels = 1, .kernel = 3, .padding = 1}), "c1"), in);
  const Tensor src[] = {Tensor::full({1, 1, 3, 3}, 1.f)};
  const Tensor params[] = {Tensor::full({1, 1, 3, 3}, 1.f), Tensor::from({1}, std::vector<float>{0.5f})};
  const Tensor y = inst->forward(src, params, false);
  EXPECT_EQ(y.shape(), (Shape{1, 1, 3, 3}));
  const std::vector<float> want = {4.5f, 6.5f, 4.5f, 6.5f, 9.5f, 6.5f, 4.5f, 6.5f, 4.5f};
  EXPECT_EQ(std::vector<float>(y.data(), y.data() + 9), want);
}

TEST(Conv2d, InfersShapesAndFans) {
  const OpKernel& k = builtin_registry().op("conv2d");
  EXPECT_EQ(k.kind(), PLX_KIND_LAYER);
  EXPECT_EQ(k.desc().flags, uint32_t{PLX_OP_SAVES_SRC | PLX_OP_SAVES_DST | PLX_OP_LAYOUTS});
  EXPECT_EQ(k.desc().params[0].default_init, PLX_INIT_HE_NORMAL);
  EXPECT_EQ(k.desc().params[1].default_init, PLX_INIT_ZEROS);
  const Shape in[] = {Shape{8, 6, 32, 17}};
  const Conv c{.out_channels = 4, .kernel = 3, .stride = 2, .padding = 1, .dilation = 2, .groups = 2};
  const InferResult r = k.infer("c1", k.resolve_attrs(conv_attrs(c), "c1"), in);
  // OH = floor((32 + 2 - 2*2 - 1) / 2) + 1 = 15, OW = floor((17 + 2 - 4 - 1) / 2) + 1 = 8.
  EXPECT_EQ(r.dst, (Shape{8, 4, 15, 8}));
  ASSERT_EQ(r.params.size(), 2u);
  EXPECT_EQ(r.params[0], (Shape{4, 3, 3, 3}));
  EXPECT_EQ(r.params[1], (Shape{4}));
  EXPECT_EQ(r.fans[0], (std::pair<int64_t, int64_t>{3 * 9, 4 * 9}));  // torch: (C/g*K*K, OC*K*K)

  const Shape plain[] = {Shape{1, 3, 4, 4}};
  const InferResult d = k.infer("c2", k.resolve_attrs({{"out_channels", AttrValue(int64_t{5})},
                                                       {"kernel", AttrValue(int64_t{3})},
                                                       {"bias", AttrValue(false)}},
                                                      "c2"),
                                plain);
  EXPECT_EQ(d.dst, (Shape{1, 5, 2, 2}));  // defaults: stride 1, padding 0, dilation 1, groups 1
  EXPECT_EQ(d.params[0], (Shape{5, 3, 3, 3}));
  EXPECT_EQ(d.params[1], (Shape{0}));
}

// infer() must fail with kInvalid, naming the node and every listed fragment.
void expect_infer_error(const Shape& src, const AttrMap& attrs, const std::vector<std::string>& fragments) {
  const OpKernel& k = builtin_registry().op("conv2d");
  const Shape in[] = {src};
  try {
    k.infer("conv_bad", k.resolve_attrs(attrs, "conv_bad"), in);
    ADD_FAILURE() << "expected plexus::Error for src " << src.str();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalid) << e.what();
    EXPECT_NE(std::string(e.what()).find("conv_bad"), std::string::npos) << e.what();
    for (const std::string& f : fragments) EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what();
  }
}

TEST(Conv2d, KernelLargerThanPaddedInputIsAnError) {
  expect_infer_error({1, 1, 4, 6}, conv_attrs({.out_channels = 1, .kernel = 5}),
                     {"kernel is larger than the padded input", "4x6"});
  expect_infer_error({1, 1, 5, 5}, conv_attrs({.out_channels = 1, .kernel = 3, .dilation = 3}),
                     {"kernel is larger than the padded input", "spans 7"});
}

TEST(Conv2d, GroupsMustDivideChannels) {
  expect_infer_error({1, 4, 5, 5}, conv_attrs({.out_channels = 3, .kernel = 3, .groups = 3}),
                     {"input channels C = 4", "not divisible by groups = 3"});
  expect_infer_error({1, 6, 5, 5}, conv_attrs({.out_channels = 4, .kernel = 3, .groups = 3}),
                     {"out_channels = 4", "not divisible by groups = 3"});
}

TEST(Conv2d, BadRankAndAttributesAreErrors) {
  expect_infer_error({2, 3, 5}, conv_attrs({.out_channels = 1, .kernel = 3}), {"4-D src", "[2, 3, 5]"});
  expect_infer_error({1, 1, 5, 5}, conv_attrs({.out_channels = 1, .kernel = 3, .stride = 0}), {"'stride'"});
  expect_infer_error({1, 1, 5, 5}, conv_attrs({.out_channels = 1, .kernel = 3, .padding = -1}), {"'padding'"});
  expect_infer_error({1, 1, 5, 5}, conv_attrs({.out_channels = 1, .kernel = 3, .dilation = 0}), {"'dilation'"});
  expect_infer_error({1, 1, 5, 5}, conv_attrs({.out_channels = 0, .kernel = 3}), {"'out_channels'"});
  const OpKernel& k = builtin_registry().op("conv2d");
  try {
    k.resolve_attrs({{"out_channels", AttrValue(int64_t{2})}}, "conv_nokernel");
    FAIL() << "expected plexus::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("kernel"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace plexus::test

namespace plexus::test {
namespace {

// One conv2d with and without blocked layouts (the oneDNN-chosen dst and
// weights layouts, src as given): same dst and gradients within f32 rounding.
struct LayoutRun {
  Tensor dst, diff_src, diff_weights, diff_bias;
  bool dst_blocked = false;
};

LayoutRun run_conv(const Shape& in, const AttrMap& attrs, bool layouts, bool blocked_src) {
  const OpKernel& k = builtin_registry().op("conv2d");
  const ResolvedAttrs ra = k.resolve_attrs(attrs, "c");
  const Shape shapes[] = {in};
  std::shared_ptr<const Layout> src_layout;
  if (blocked_src) {  // what a previous blocked conv would hand over
    // (a 1x1 conv from one channel: oneDNN makes its dst channel-blocked)
    const Shape one[] = {Shape{in[0], 1, in[2], in[3]}};
    auto probe = k.create("probe", k.resolve_attrs({{"out_channels", AttrValue(in[1])}, {"kernel", AttrValue(int64_t{1})}}, "p"),
                          one, {}, true);
    src_layout = probe->dst_layout();
  }
  const std::shared_ptr<const Layout> layouts_in[] = {src_layout};
  auto inst = k.create("c", ra, shapes, layouts_in, layouts);
  Tape tape;
  Value x = tape.leaf(random_tensor(in, 1), true);
  Value xin = to_layout(tape, x, inst->src_layouts()[0]);
  Value w = tape.leaf(random_tensor(inst->shapes().params[0], 2), true);
  Value b = tape.leaf(random_tensor(inst->shapes().params[1], 3), true);
  const Value src[] = {xin}, params[] = {w, b};
  Value y = apply(tape, inst, src, params, true);
  LayoutRun r;
  r.dst_blocked = y.data().blocked();
  Value yp = to_plain(tape, y);
  tape.backward(yp, random_tensor(yp.data().shape(), 4));
  r.dst = yp.data();
  r.diff_src = tape.grad(x);
  r.diff_weights = tape.grad(w);
  r.diff_bias = tape.grad(b);
  return r;
}

void expect_near_all(const Tensor& a, const Tensor& b, const char* what) {
  ASSERT_EQ(a.shape(), b.shape()) << what;
  double scale = 1e-6;
  for (float v : b.span()) scale = std::max(scale, static_cast<double>(std::abs(v)));
  for (int64_t i = 0; i < a.numel(); ++i)
    ASSERT_NEAR(a.data()[i], b.data()[i], 1e-5 * scale) << what << "[" << i << "]";
}

// activation=relu in one primitive equals conv2d followed by the relu plugin,
// in plain and in blocked layouts.
TEST(Conv2d, FusedReluEqualsConvThenRelu) {
  const OpKernel& conv = builtin_registry().op("conv2d");
  const OpKernel& relu = builtin_registry().op("relu");
  const Shape in{3, 16, 9, 9};
  AttrMap attrs{{"out_channels", AttrValue(int64_t{16})}, {"kernel", AttrValue(int64_t{3})},
                {"padding", AttrValue(int64_t{1})}};
  AttrMap fused_attrs = attrs;
  fused_attrs["activation"] = AttrValue(std::string("relu"));
  for (bool layouts : {false, true}) {
    SCOPED_TRACE(layouts ? "blocked" : "plain");
    const Shape shapes[] = {in};
    auto fused = conv.create("f", conv.resolve_attrs(fused_attrs, "f"), shapes, {}, layouts);
    auto plain = conv.create("c", conv.resolve_attrs(attrs, "c"), shapes, {}, layouts);
    const Shape out_shapes[] = {plain->shapes().dst};
    const std::shared_ptr<const Layout> out_layouts[] = {plain->dst_layout()};
    auto act = relu.create("r", relu.resolve_attrs({}, "r"), out_shapes, out_layouts, layouts);
    std::vector<Tensor> results;  // dst, diff_src, diff_weights, diff_bias for each path
    for (int path = 0; path < 2; ++path) {
      Tape tape;
      Value x = tape.leaf(random_tensor(in, 1), true);
      Value w = tape.leaf(random_tensor(plain->shapes().params[0], 2), true);
      Value b = tape.leaf(random_tensor(plain->shapes().params[1], 3), true);
      const Value src[] = {x}, params[] = {w, b};
      Value y;
      if (path == 0) {
        y = apply(tape, fused, src, params, true);
      } else {
        const Value c[] = {apply(tape, plain, src, params, true)};
        y = apply(tape, act, c, {}, true);
      }
      Value yp = to_plain(tape, y);
      tape.backward(yp, random_tensor(yp.data().shape(), 4));
      for (const Tensor& t : {yp.data(), tape.grad(x), tape.grad(w), tape.grad(b)}) results.push_back(t);
    }
    const char* names[] = {"dst", "diff_src", "diff_weights", "diff_bias"};
    for (size_t i = 0; i < 4; ++i) expect_near_all(results[i], results[4 + i], names[i]);
  }
}

// One instance called on many buffers in turn, some recurring: its oneDNN
// memory objects are made once and re-pointed at each call's buffers (see
// plugins/common/dnnl_util.hpp). Every call gives what a fresh instance
// gives on that input, bit for bit, in blocked and plain layouts.
TEST(Conv2d, CallsCyclingOverManyBuffersMatchFreshInstances) {
  const OpKernel& k = builtin_registry().op("conv2d");
  const AttrMap attrs{{"out_channels", AttrValue(int64_t{6})}, {"kernel", AttrValue(int64_t{5})},
                      {"padding", AttrValue(int64_t{2})}, {"activation", AttrValue(std::string("relu"))}};
  const Shape in{4, 1, 12, 12};
  const Shape shapes[] = {in};
  for (bool layouts : {false, true}) {
    SCOPED_TRACE(layouts ? "blocked" : "plain");
    auto inst = k.create("c", k.resolve_attrs(attrs, "c"), shapes, {}, layouts);
    const Tensor w = random_tensor(inst->shapes().params[0], 2), b = random_tensor(inst->shapes().params[1], 3);
    const Tensor params[] = {w, b};
    std::vector<Tensor> inputs, want;
    for (uint64_t i = 0; i < 7; ++i) {
      inputs.push_back(random_tensor(in, 10 + i));
      auto fresh = k.create("c", k.resolve_attrs(attrs, "c"), shapes, {}, layouts);
      const Tensor src[] = {inputs.back()};
      want.push_back(to_plain(fresh->forward(src, params, false)));
    }
    std::vector<Tensor> kept;  // outputs stay alive, so every call writes a new buffer
    for (int round = 0; round < 3; ++round)
      for (size_t i : {0, 1, 2, 3, 4, 5, 6, 0, 0, 3}) {
        const Tensor src[] = {inputs[i]};
        kept.push_back(inst->forward(src, params, false));
        EXPECT_TRUE(test::same_bits(to_plain(kept.back()), want[i])) << "round " << round << ", input " << i;
      }
  }
}

TEST(Conv2d, BlockedLayoutsGiveThePlainResults) {
  struct Case {
    Shape in;
    AttrMap attrs;
    bool blocked_src;
    bool stays_blocked = true;  // false: oneDNN 2.6 has no optimized kernel, the op takes plain data
  };
  auto attrs = [](int64_t oc, int64_t k, int64_t pad, std::string act) {
    return AttrMap{{"out_channels", AttrValue(oc)}, {"kernel", AttrValue(k)}, {"padding", AttrValue(pad)},
                   {"activation", AttrValue(act)}};
  };
  const Case cases[] = {{{4, 1, 12, 12}, attrs(6, 5, 2, "none"), false},
                        {{4, 1, 12, 12}, attrs(6, 5, 2, "relu"), false},
                        // 6 channels: no optimized nChw16c kernels, so src is
                        // reordered to nhwc (src given blocked or plain)
                        {{3, 6, 9, 9}, attrs(16, 5, 0, "none"), true},
                        {{3, 6, 9, 9}, attrs(16, 5, 0, "relu"), false},
                        {{3, 16, 9, 9}, attrs(16, 5, 0, "relu"), true},
                        {{2, 16, 7, 7}, attrs(32, 3, 1, "none"), true},
                        {{1, 16, 7, 7}, attrs(16, 3, 1, "relu"), true}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in.str() + " " + c.attrs.at("activation").str() + (c.blocked_src ? " blocked src" : ""));
    const LayoutRun plain = run_conv(c.in, c.attrs, false, false);
    const LayoutRun blocked = run_conv(c.in, c.attrs, true, c.blocked_src);
    EXPECT_FALSE(plain.dst_blocked);
    EXPECT_EQ(blocked.dst_blocked, c.stays_blocked);
    expect_near_all(blocked.dst, plain.dst, "dst");
    expect_near_all(blocked.diff_src, plain.diff_src, "diff_src");
    expect_near_all(blocked.diff_weights, plain.diff_weights, "diff_weights");
    expect_near_all(blocked.diff_bias, plain.diff_bias, "diff_bias");
  }
}

}  // namespace
}  // namespace plexus::test
