// max_pool2d and avg_pool2d on oneDNN's channel-blocked layouts (nChw8c,
// nChw16c), run through the tape as the runtime runs them: the same bits as
// in plain layout, padded channels zero, agreement with oneDNN's own pooling
// on the same layout, and the fallback to plain when a layout is refused.
#include "pool2d_ref.hpp"

#include <plexus/layout.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace plexus::test {
namespace {

using tag = dnnl::memory::format_tag;
using LayoutPtr = std::shared_ptr<const Layout>;

/// One kernel configuration: which op, and avg_pool2d's divisor.
struct PoolOp {
  const char* op;
  PoolKind kind;
  AttrMap attrs(const PoolGeom& g) const {
    AttrMap a = g.attrs();
    if (kind != PoolKind::kMax) a["count_include_pad"] = AttrValue(kind == PoolKind::kAvgIncludePad);
    return a;
  }
  std::string str() const {
    return kind == PoolKind::kMax ? "max_pool2d" : kind == PoolKind::kAvgIncludePad ? "avg_pool2d(include_pad)"
                                                                                     : "avg_pool2d(exclude_pad)";
  }
};
constexpr PoolOp kOps[] = {{"max_pool2d", PoolKind::kMax},
                           {"avg_pool2d", PoolKind::kAvgIncludePad},
                           {"avg_pool2d", PoolKind::kAvgExcludePad}};

struct Case {
  Shape src;
  PoolGeom g;
  std::string str() const {
    return src.str() + " kernel " + std::to_string(g.kernel) + " stride " + std::to_string(g.eff_stride()) +
           " padding " + std::to_string(g.padding);
  }
  Shape dst() const { return {src[0], src[1], g.out(src[2]), g.out(src[3])}; }
};

/// Hand-picked cases (C not a multiple of the block, odd H/W, stride != kernel,
/// padding, batch 1, a size that takes the OpenMP path) plus seeded random ones.
std::vector<Case> cases() {
  std::vector<Case> cs = {
      {{1, 6, 7, 5}, {.kernel = 2}},
      {{2, 13, 9, 11}, {.kernel = 3, .stride = 2, .padding = 1}},
      {{1, 13, 8, 8}, {.kernel = 3, .stride = 1, .padding = 1}},
      {{3, 16, 5, 7}, {.kernel = 2, .stride = 1}},
      {{2, 24, 12, 10}, {.kernel = 3, .stride = 3, .padding = 1}},
      {{1, 3, 1, 1}, {.kernel = 1}},
      {{1, 8, 6, 6}, {.kernel = 2, .stride = 1, .padding = 1}},
      {{2, 40, 33, 31}, {.kernel = 3, .stride = 2, .padding = 1}},
  };
  std::mt19937 rng(2024);
  const auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  while (cs.size() < 24) {
    PoolGeom g{.kernel = pick(1, 4), .stride = pick(0, 3)};
    g.padding = pick(0, g.kernel / 2);
    const Shape s{pick(1, 3), pick(1, 20), pick(1, 12), pick(1, 12)};
    if (s[2] + 2 * g.padding >= g.kernel && s[3] + 2 * g.padding >= g.kernel) cs.push_back({s, g});
  }
  return cs;
}

/// The interned layout `t` of `s` (nullptr for nchw).
LayoutPtr layout_of(const Shape& s, tag t) {
  const dnnl::memory::desc md({s[0], s[1], s[2], s[3]}, dnnl::memory::data_type::f32, t);
  return Layout::intern(&md.data, s);
}

int64_t block_of(tag t) { return t == tag::nChw16c ? 16 : 8; }

/// Calls f(value) for every float of a channel-blocked buffer that is a
/// padded channel (c >= C).
template <class F>
void for_padding(Tensor& t, int64_t b, F&& f) {
  const int64_t c = t.shape()[1], pixels = t.shape()[2] * t.shape()[3], blocks = (c + b - 1) / b;
  for (int64_t i = 0; i < t.storage_numel(); ++i)
    if ((i / (b * pixels)) % blocks * b + i % b >= c) f(t.data()[i]);
}

/// Padded channels of `t` that are not +0.0.
int64_t nonzero_padding(Tensor t, int64_t b) {
  int64_t bad = 0;
  for_padding(t, b, [&](float v) { bad += !(v == 0.0f && !std::signbit(v)); });
  return bad;
}

/// `t` (plain) in `layout`, its padded channels set to NaN: the op must
/// neither read them into real channels nor let them reach its outputs.
Tensor poisoned(const Tensor& t, const LayoutPtr& layout, int64_t b) {
  Tensor out = to_layout(t, layout).clone();
  for_padding(out, b, [](float& v) { v = std::nanf(""); });
  return out;
}

/// Values in {-1, 0, 1} and about 3% NaN: windows full of ties and NaNs,
/// where max pooling's choice of cell is visible in the gradient.
Tensor ties_and_nans(const Shape& s, uint64_t seed) {
  Tensor t = random_tensor(s, seed);
  for (float& v : t.span()) v = std::abs(v) > 6.5f ? std::nanf("") : std::clamp(std::round(v / 3.0f), -1.0f, 1.0f);
  return t;
}

struct TapeRun {
  std::shared_ptr<OpInstance> inst;
  Tensor dst, diff_src;  // in the layouts the run produced
};

/// Forward of `op` on x (given in whatever layout it has) and backward from
/// diff_dst(dst's layout) (in that layout, as the runtime hands it), through
/// the tape. The instance is created for `src_layout`, with `layouts` as given.
TapeRun run_on_tape(const PoolOp& op, const PoolGeom& g, const Tensor& x, const LayoutPtr& src_layout, bool layouts,
                    const std::function<Tensor(const LayoutPtr&)>& diff_dst) {
  const OpKernel& k = builtin_registry().op(op.op);
  const Shape in[] = {x.shape()};
  const LayoutPtr in_layouts[] = {src_layout};
  TapeRun r;
  r.inst = k.create("pool", k.resolve_attrs(op.attrs(g), "pool"), in, in_layouts, layouts);
  Tape tape;
  const Value src[] = {tape.leaf(x, /*requires_grad=*/true)};
  const Value y = apply(tape, r.inst, src, {}, /*training=*/true);
  tape.backward(y, diff_dst(y.data().layout()));
  r.dst = y.data();
  r.diff_src = src[0].grad();
  return r;
}

/// Runs `op` on `x` plain and in layout `t`; expects the same bits and zero
/// padding. max_pool2d writes a src whose channels fill part of one block
/// (C < b) as nhwc: C lanes per pixel, no padding.
void expect_same_bits_as_plain(const PoolOp& op, const Case& c, tag t, const Tensor& x) {
  const Tensor dd = random_tensor(c.dst(), 8);
  const int64_t b = t == tag::nhwc ? c.src[1] : block_of(t);  // nhwc: one block of all C channels
  const bool nhwc_dst = op.kind == PoolKind::kMax && t != tag::nhwc && c.src[1] < b;
  const int64_t ob = nhwc_dst ? c.src[1] : b;
  const auto blocked = layout_of(c.src, t), dst_blocked = layout_of(c.dst(), nhwc_dst ? tag::nhwc : t);
  const TapeRun plain = run_on_tape(op, c.g, x, nullptr, true, [&](const auto&) { return dd; });
  const Tensor px = poisoned(x, blocked, b);
  const TapeRun run = run_on_tape(op, c.g, px, blocked, true, [&](const auto& l) { return poisoned(dd, l, ob); });
  ASSERT_EQ(plain.inst->dst_layout(), nullptr);
  ASSERT_EQ(run.inst->src_layouts()[0], blocked);
  ASSERT_EQ(run.inst->dst_layout(), dst_blocked) << (nhwc_dst ? "dst should be nhwc" : "dst should take src's layout");
  ASSERT_EQ(run.dst.layout(), dst_blocked);
  ASSERT_EQ(run.diff_src.layout(), blocked);
  EXPECT_TRUE(same_bits(to_plain(run.dst), plain.dst));
  EXPECT_TRUE(same_bits(to_plain(run.diff_src), plain.diff_src));
  EXPECT_EQ(nonzero_padding(run.dst, ob), 0) << "dst padding";
  EXPECT_EQ(nonzero_padding(run.diff_src, b), 0) << "diff_src padding";
  if (op.kind != PoolKind::kMax) return;
  // max_pool2d's other backward: after an inference forward it recomputes
  // the argmax from src instead of reading the training forward's codes.
  const Tensor src[] = {px};
  Tensor workspace;
  run.inst->forward(src, {}, /*training=*/false, 0, &workspace);
  std::vector<Tensor> diff_src{Tensor::empty(px.shape(), blocked)};
  run.inst->backward(src, {}, Tensor(), poisoned(dd, dst_blocked, ob), diff_src, {}, workspace);
  EXPECT_TRUE(same_bits(to_plain(diff_src[0]), plain.diff_src)) << "recomputed argmax";
  EXPECT_EQ(nonzero_padding(diff_src[0], b), 0) << "recomputed diff_src padding";
}

// Blocked src gives blocked dst and diff_src whose values are bit-for-bit the
// plain-layout results (each element sums or compares in the same order, and
// max pooling's ties and NaNs pick the same cell), with the padded channels
// zero even when the inputs' padding holds NaN.
TEST(BlockedPool2d, SameBitsAsPlainLayout) {
  for (const Case& c : cases())
    for (const PoolOp& op : kOps)
      for (tag t : {tag::nChw8c, tag::nChw16c}) {
        SCOPED_TRACE(op.str() + " " + c.str() + (t == tag::nChw8c ? " nChw8c" : " nChw16c"));
        expect_same_bits_as_plain(op, c, t, random_tensor(c.src, 7));
        SCOPED_TRACE("ties and NaNs");
        expect_same_bits_as_plain(op, c, t, ties_and_nans(c.src, 7));
      }
}

// nhwc with 8 or 16 channels (what conv2d's nhwc kernels write) is taken as
// the one-block case of nChw8c / nChw16c, whose bytes it shares; dst keeps
// the nhwc descriptor. Other channel counts fall back to plain (below).
TEST(BlockedPool2d, NhwcWith8Or16ChannelsIsTaken) {
  const Case nhwc_cases[] = {
      {{3, 16, 5, 7}, {.kernel = 2, .stride = 1}},
      {{1, 8, 6, 6}, {.kernel = 2, .stride = 1, .padding = 1}},
      {{64, 16, 10, 10}, {.kernel = 2}},  // LeNet's second pooling; takes the OpenMP path
      {{2, 8, 9, 11}, {.kernel = 3, .stride = 2, .padding = 1}},
  };
  for (const Case& c : nhwc_cases)
    for (const PoolOp& op : kOps) {
      SCOPED_TRACE(op.str() + " " + c.str() + " nhwc");
      expect_same_bits_as_plain(op, c, tag::nhwc, random_tensor(c.src, 7));
      SCOPED_TRACE("ties and NaNs");
      expect_same_bits_as_plain(op, c, tag::nhwc, ties_and_nans(c.src, 7));
    }
}

/// Plain max pooling with 2x2 windows at stride 2 on even H, W, written
/// apart from the plugin: per window the maximum by a strict `>` from its
/// first cell, or NaN if the window holds one; its gradient goes to the
/// first cell (row-major) equal to that maximum, or to the first NaN.
std::pair<Tensor, Tensor> max_2x2_reference(const Tensor& x, const Tensor& diff_dst) {
  const Shape& s = x.shape();
  const int64_t planes = s[0] * s[1], h = s[2], w = s[3], oh = h / 2, ow = w / 2;
  Tensor dst = Tensor::zeros({s[0], s[1], oh, ow}), diff_src = Tensor::zeros(s);
  const float* in = x.data();
  for (int64_t pl = 0; pl < planes; ++pl)
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t xo = 0; xo < ow; ++xo) {
        const int64_t cells[4] = {(2 * y) * w + 2 * xo, (2 * y) * w + 2 * xo + 1, (2 * y + 1) * w + 2 * xo,
                                  (2 * y + 1) * w + 2 * xo + 1};
        const float* p = in + pl * h * w;
        float best = p[cells[0]];
        int64_t first_nan = -1;
        for (int64_t c : cells) {
          if (std::isnan(p[c]) && first_nan < 0) first_nan = c;
          if (p[c] > best) best = p[c];
        }
        int64_t at = first_nan;
        if (at < 0)
          for (int64_t c : cells)
            if (p[c] == best) {
              at = c;
              break;
            }
        const int64_t o = pl * oh * ow + y * ow + xo;
        dst.data()[o] = first_nan >= 0 ? std::nanf("") : best;
        diff_src.data()[pl * h * w + at] = diff_dst.data()[o];
      }
  return {dst, diff_src};
}

/// Values from {-inf, -1, -0, +0, 1, +inf, NaN}: windows of ties, signed
/// zeros, infinities and NaNs.
Tensor specials(const Shape& s, uint64_t seed) {
  const float v[] = {-INFINITY, -1.0f, -0.0f, 0.0f, 1.0f, INFINITY, std::nanf("")};
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::uniform_int_distribution<int> pick(0, 6);
  Tensor t = Tensor::zeros(s);
  for (float& x : t.span()) x = v[pick(rng)];
  return t;
}

// 2x2 windows at stride 2 over an even image (LeNet's pools) take their own
// kernels. Against a scalar reference in plain layout, then nChw8c, nChw16c
// (and nhwc dst for C < block) against plain, both backwards (from the
// training forward's codes, and recomputed after an inference forward).
TEST(BlockedPool2d, TwoByTwoTilesTakeTheFirstMaximumOrNanInEveryLayout) {
  const PoolOp& op = kOps[0];
  const Case tiles[] = {
      {{2, 6, 4, 6}, {.kernel = 2}},   {{1, 8, 6, 4}, {.kernel = 2}},    {{2, 13, 8, 8}, {.kernel = 2}},
      {{1, 16, 2, 2}, {.kernel = 2}},  {{3, 20, 10, 12}, {.kernel = 2, .stride = 2}},
      {{64, 6, 28, 28}, {.kernel = 2}},  // LeNet's first pooling; takes the OpenMP path
  };
  for (const Case& c : tiles)
    for (uint64_t seed : {1, 2}) {
      const Tensor x = seed == 1 ? specials(c.src, 11) : ties_and_nans(c.src, 12);
      SCOPED_TRACE(c.str() + (seed == 1 ? " specials" : " ties and NaNs"));
      const Tensor dd = random_tensor(c.dst(), 13);
      const auto [want_dst, want_diff] = max_2x2_reference(x, dd);
      const TapeRun plain = run_on_tape(op, c.g, x, nullptr, true, [&](const auto&) { return dd; });
      EXPECT_TRUE(same_bits(plain.dst, want_dst));
      EXPECT_TRUE(same_bits(plain.diff_src, want_diff));
      for (tag t : {tag::nChw8c, tag::nChw16c}) {
        SCOPED_TRACE(t == tag::nChw8c ? "nChw8c" : "nChw16c");
        expect_same_bits_as_plain(op, c, t, x);
      }
    }
}

/// oneDNN's pooling primitive on buffers in layout `t`: forward in inference
/// or training mode (keeping max pooling's workspace), then backward.
class DnnlPooling {
 public:
  DnnlPooling(PoolKind kind, const Case& c, tag t)
      : src_md_({c.src[0], c.src[1], c.src[2], c.src[3]}, dnnl::memory::data_type::f32, t),
        dst_md_({c.src[0], c.src[1], c.g.out(c.src[2]), c.g.out(c.src[3])}, dnnl::memory::data_type::f32, t),
        alg_(kind == PoolKind::kMax             ? dnnl::algorithm::pooling_max
             : kind == PoolKind::kAvgIncludePad ? dnnl::algorithm::pooling_avg_include_padding
                                                : dnnl::algorithm::pooling_avg_exclude_padding),
        strides_{c.g.eff_stride(), c.g.eff_stride()},
        kernel_{c.g.kernel, c.g.kernel},
        pad_{c.g.padding, c.g.padding} {}

  std::vector<float> forward(std::vector<float> src, bool training) {
    const auto prop = training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
    fwd_ = dnnl::pooling_forward::primitive_desc(
        dnnl::pooling_forward::desc(prop, alg_, src_md_, dst_md_, strides_, kernel_, pad_, pad_), eng_);
    std::vector<float> dst(dst_md_.get_size() / sizeof(float));
    std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, dnnl::memory(src_md_, eng_, src.data())},
                                               {DNNL_ARG_DST, dnnl::memory(dst_md_, eng_, dst.data())}};
    if (fwd_.workspace_desc().get_size() > 0) {
      workspace_ = dnnl::memory(fwd_.workspace_desc(), eng_);
      args[DNNL_ARG_WORKSPACE] = workspace_;
    }
    dnnl::pooling_forward(fwd_).execute(strm_, args);
    strm_.wait();
    return dst;
  }

  /// After a training forward (max pooling reads its workspace).
  std::vector<float> backward(std::vector<float> diff_dst) {
    const dnnl::pooling_backward::primitive_desc pd(
        dnnl::pooling_backward::desc(alg_, src_md_, dst_md_, strides_, kernel_, pad_, pad_), eng_, fwd_);
    std::vector<float> diff_src(src_md_.get_size() / sizeof(float));
    std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_DIFF_DST, dnnl::memory(dst_md_, eng_, diff_dst.data())},
                                               {DNNL_ARG_DIFF_SRC, dnnl::memory(src_md_, eng_, diff_src.data())}};
    if (workspace_) args[DNNL_ARG_WORKSPACE] = workspace_;
    dnnl::pooling_backward(pd).execute(strm_, args);
    strm_.wait();
    return diff_src;
  }

 private:
  dnnl::engine eng_{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm_{eng_};
  dnnl::memory::desc src_md_, dst_md_;
  dnnl::algorithm alg_;
  dnnl::memory::dims strides_, kernel_, pad_;
  dnnl::pooling_forward::primitive_desc fwd_;
  dnnl::memory workspace_;
};

std::vector<float> raw(const Tensor& t) { return {t.data(), t.data() + t.storage_numel()}; }

/// Elements of `got` off `want` by more than 1e-6 relative (at least 1e-6
/// absolute); the first few are reported.
int64_t misses(const std::vector<float>& got, const std::vector<float>& want) {
  if (got.size() != want.size()) return static_cast<int64_t>(std::max(got.size(), want.size()));
  int64_t n = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::abs(double{got[i]} - want[i]) <= 1e-6 * std::max(1.0, std::abs(double{want[i]}))) && ++n <= 5)
      ADD_FAILURE() << "[" << i << "]: got " << got[i] << ", oneDNN " << want[i];
  return n;
}

// Our blocked buffers against oneDNN's pooling run directly on nChw8c, padding
// included: max forward exactly (inference and training), avg forward and all
// gradients within 1e-6 relative (oneDNN may add in another order).
TEST(BlockedPool2d, MatchesOneDnnOnNChw8c) {
  for (const Case& c : cases())
    for (const PoolOp& op : kOps) {
      SCOPED_TRACE(op.str() + " " + c.str());
      const auto blocked = layout_of(c.src, tag::nChw8c);
      const Tensor x = to_layout(random_tensor(c.src, 9), blocked);
      const Tensor dd = random_tensor(c.dst(), 10);
      const TapeRun ours = run_on_tape(op, c.g, x, blocked, true, [&](const auto& l) { return to_layout(dd, l); });
      DnnlPooling dnnl_pool(op.kind, c, tag::nChw8c);
      const auto dst8 = layout_of(c.dst(), tag::nChw8c);  // oneDNN's dst; ours is nhwc for max with C < 8
      const std::vector<float> inference = dnnl_pool.forward(raw(x), false);
      const std::vector<float> training = dnnl_pool.forward(raw(x), true);
      const std::vector<float> diff_src = dnnl_pool.backward(raw(to_layout(dd, dst8)));
      const Tensor our_dst = to_layout(to_plain(ours.dst), dst8);
      if (op.kind == PoolKind::kMax) {
        EXPECT_EQ(raw(our_dst), inference);
        EXPECT_EQ(raw(our_dst), training);
      } else {
        EXPECT_EQ(misses(raw(our_dst), inference), 0) << "forward";
      }
      EXPECT_EQ(misses(raw(ours.diff_src), diff_src), 0) << "backward";
    }
}

// With layouts disabled the op cannot write a blocked dst, so it refuses a
// blocked src and the runtime makes it for plain src: apply reorders the
// input, dst comes out plain, and the gradient goes back in the input's layout.
TEST(BlockedPool2d, BlockedSrcFallsBackToPlainWhenLayoutsDisabled) {
  const Case c{{2, 13, 9, 11}, {.kernel = 3, .stride = 2, .padding = 1}};
  const auto blocked = layout_of(c.src, tag::nChw8c);
  const Tensor x = random_tensor(c.src, 11), dd = random_tensor(c.dst(), 12);
  for (const PoolOp& op : kOps) {
    SCOPED_TRACE(op.str());
    const TapeRun plain = run_on_tape(op, c.g, x, nullptr, false, [&](const auto&) { return dd; });
    const TapeRun run = run_on_tape(op, c.g, to_layout(x, blocked), blocked, false, [&](const auto&) { return dd; });
    EXPECT_EQ(run.inst->src_layouts()[0], nullptr);
    EXPECT_EQ(run.inst->dst_layout(), nullptr);
    EXPECT_EQ(run.dst.layout(), nullptr);
    EXPECT_EQ(run.diff_src.layout(), blocked);
    EXPECT_TRUE(same_bits(run.dst, plain.dst));
    EXPECT_TRUE(same_bits(to_plain(run.diff_src), plain.diff_src));
  }
}

// Layouts other than plain, nChw8c, nChw16c and 8- or 16-channel nhwc are
// refused: the instance is made for plain src (and, with plain src, dst is
// plain too).
TEST(BlockedPool2d, OtherLayoutsFallBackToPlain) {
  const Shape s{2, 13, 9, 11};
  for (tag t : {tag::nhwc, tag::nChw4c, tag::chwn}) {
    const LayoutPtr given[] = {layout_of(s, t)};
    ASSERT_NE(given[0], nullptr);
    for (const PoolOp& op : kOps) {
      SCOPED_TRACE(op.str() + " " + given[0]->str());
      const OpKernel& k = builtin_registry().op(op.op);
      const Shape in[] = {s};
      const auto inst = k.create("pool", k.resolve_attrs(op.attrs({.kernel = 2}), "pool"), in, given, true);
      EXPECT_EQ(inst->src_layouts()[0], nullptr);
      EXPECT_EQ(inst->dst_layout(), nullptr);
    }
  }
}

// The refusals at the ABI: PLX_E_UNSUPPORTED with a message saying why.
TEST(BlockedPool2d, CreateRefusesWithUnsupported) {
  const plx_shape s = Shape{1, 6, 4, 4}.raw();
  const dnnl::memory::desc b8({1, 6, 4, 4}, dnnl::memory::data_type::f32, tag::nChw8c);
  const dnnl::memory::desc nhwc({1, 6, 4, 4}, dnnl::memory::data_type::f32, tag::nhwc);
  struct Refusal {
    const dnnl::memory::desc* md;
    int32_t layouts_enabled;
    const char* says;
  };
  for (const Refusal& r : {Refusal{&b8, 0, "layouts are disabled"}, Refusal{&nhwc, 1, "nChw16c, or nhwc with 8 or 16 channels"}})
    for (const PoolOp& op : kOps) {
      SCOPED_TRACE(std::string(op.str()) + " " + r.says);
      const OpKernel& k = builtin_registry().op(op.op);
      const ResolvedAttrs attrs = k.resolve_attrs(op.attrs({.kernel = 2}), "pool");
      const void* src_layouts[] = {&r.md->data};
      const void* dst_layout = nullptr;
      plx_instance_args a{};
      a.struct_size = sizeof a;
      a.node_name = "pool";
      a.attrs = attrs.data();
      a.input_count = 1;
      a.inputs = &s;
      a.src_layouts = src_layouts;
      a.layouts_enabled = r.layouts_enabled;
      a.dst_layout = &dst_layout;
      plx_error err{};
      err.struct_size = sizeof err;
      void* handle = nullptr;
      EXPECT_EQ(k.desc().create(&a, &handle, &err), PLX_E_UNSUPPORTED);
      EXPECT_NE(std::string(err.message).find(r.says), std::string::npos) << err.message;
      EXPECT_EQ(dst_layout, nullptr);
      if (handle != nullptr) k.desc().destroy(handle);
    }
}

}  // namespace
}  // namespace plexus::test
