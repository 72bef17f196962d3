#include "conv2d.hpp"

#include <algorithm>
#include <vector>

namespace plexus::plugins {

namespace {

Conv2dGeometry geometry(const sdk::Attrs& a, const sdk::Shape& src) {
  Conv2dGeometry g{};
  g.n = src[0], g.c = src[1], g.h = src[2], g.w = src[3];
  g.oc = a.i64("out_channels"), g.k = a.i64("kernel"), g.groups = a.i64("groups");
  g.stride = a.i64("stride"), g.padding = a.i64("padding"), g.dilation = a.i64("dilation");
  if (g.stride <= 0) return g;  // invalid; check_attrs() reports it before oh/ow are used
  const int64_t span = g.dilation * (g.k - 1) + 1;  // input extent one output position reads
  g.oh = (g.h + 2 * g.padding - span) / g.stride + 1;
  g.ow = (g.w + 2 * g.padding - span) / g.stride + 1;
  return g;
}

std::string num(int64_t v) { return std::to_string(v); }

void check_attrs(const sdk::InferContext& ctx, const Conv2dGeometry& g) {
  auto positive = [&](const char* attr, int64_t v) {
    if (v <= 0) ctx.fail(std::string("conv2d attribute '") + attr + "' must be > 0, got " + num(v));
  };
  positive("out_channels", g.oc);
  positive("kernel", g.k);
  positive("stride", g.stride);
  positive("dilation", g.dilation);
  positive("groups", g.groups);
  if (g.padding < 0) ctx.fail("conv2d attribute 'padding' must be >= 0, got " + num(g.padding));
}

}  // namespace

void Conv2d::infer(sdk::InferContext& ctx) {
  const sdk::Shape src = ctx.input(0);
  if (src.ndim() != 4) ctx.fail("conv2d needs a 4-D src [N, C, H, W], got " + src.str());
  const Conv2dGeometry g = geometry(ctx.attrs(), src);
  check_attrs(ctx, g);
  if (g.c <= 0 || g.h <= 0 || g.w <= 0)
    ctx.fail("conv2d needs src with C, H and W > 0, got " + src.str());
  if (g.c % g.groups != 0)
    ctx.fail("conv2d input channels C = " + num(g.c) + " (src " + src.str() + ") are not divisible by groups = " +
             num(g.groups));
  if (g.oc % g.groups != 0)
    ctx.fail("conv2d out_channels = " + num(g.oc) + " is not divisible by groups = " + num(g.groups));
  const int64_t span = g.dilation * (g.k - 1) + 1;
  if (span > std::min(g.h, g.w) + 2 * g.padding)
    ctx.fail("conv2d kernel is larger than the padded input: kernel " + num(g.k) + " with dilation " +
             num(g.dilation) + " spans " + num(span) + ", padded input is " + num(g.h + 2 * g.padding) + "x" +
             num(g.w + 2 * g.padding) + " (src " + src.str() + ", padding " + num(g.padding) + ")");
  FusedRelu::requested(ctx, "conv2d");  // validates the attribute
  const int64_t taps = g.k * g.k;
  const int64_t fan_in = g.c / g.groups * taps, fan_out = g.oc * taps;  // as torch.nn.init computes them
  ctx.set_dst(sdk::Shape{g.n, g.oc, g.oh, g.ow});
  ctx.set_param(0, sdk::Shape{g.oc, g.c / g.groups, g.k, g.k}, fan_in, fan_out);
  ctx.set_param(1, sdk::Shape{ctx.attrs().boolean("bias") ? g.oc : 0}, fan_in, fan_out);
}

// infer() has validated the shapes and attributes before an instance is made.
Conv2d::Conv2d(const sdk::InstanceContext& ctx)
    : dnnl_(ctx),
      g_(geometry(ctx.attrs(), ctx.input(0))),
      bias_(ctx.attrs().boolean("bias")),
      relu_(ctx.attrs().str("activation") == "relu") {
  if (g_.n == 0) return;  // an empty batch: forward writes nothing, diff_params are zeros
  dnnl_call("conv2d setup", [&] {
    // Blocked layouts only pay when oneDNN has optimized kernels for them; if
    // any of the three primitives would be its reference (scalar) kernel,
    // nhwc is tried next (with src reordered to it), then plain layouts
    // (im2col + gemm). LeNet's second convolution (6 input channels, src
    // nChw16c from the first) has reference kernels only in nChw16c; in nhwc
    // it gets brgconv/jit ones: 0.23 + 0.47 + 0.21 ms a step for forward,
    // backward-data and backward-weights against 1.10 + 0.93 + 0.75 ms for
    // im2col + gemm (batch 64, one thread).
    if (ctx.layouts_enabled() && (build(ctx, Mode::kBlocked) || build(ctx, Mode::kNhwc))) return finish(ctx);
    if (ctx.src_layout(0) != nullptr)
      throw sdk::Error(PLX_E_UNSUPPORTED, "conv2d has no optimized kernel for this src layout; asking for plain src");
    build(ctx, Mode::kPlain);
    finish(ctx);
  });
}

namespace {

using md = dnnl::memory::desc;

bool is_ref(const dnnl::primitive_desc_base& pd) { return std::string(pd.impl_info_str()).rfind("ref", 0) == 0; }

md any_md(const dnnl::memory::dims& dims) {
  return md(dims, dnnl::memory::data_type::f32, dnnl::memory::format_tag::any);
}

// A primitive_desc for `make(weights desc)`, asking for `preferred` weights
// first (so forward and backward share one reordered copy) and letting oneDNN
// choose if it has no optimized kernel for that layout.
template <class Pd, class Make>
Pd with_weights(const md& preferred, const md& fallback, Make make) {
  try {
    Pd pd = make(preferred);
    if (!is_ref(pd)) return pd;
  } catch (const dnnl::error&) {
  }
  return make(fallback);
}

}  // namespace

bool Conv2d::build(const sdk::InstanceContext& ctx, Mode mode) {
  // A second build (after one fell through) starts clean.
  weights_to_fwd_ = weights_to_bwd_ = diff_weights_to_user_ = diff_dst_to_plain_ = Reorder();
  src_in_ = diff_src_out_ = Reorder();
  const bool blocked = mode != Mode::kPlain;
  fused_relu_ = FusedRelu();
  const dnnl::memory::dims src_dims{g_.n, g_.c, g_.h, g_.w}, dst_dims{g_.n, g_.oc, g_.oh, g_.ow};
  // [OC, C/g, K, K] is oihw; split as [g, OC/g, C/g, K, K] it is goihw, same bytes.
  const dnnl::memory::dims w_dims = g_.groups == 1
                                        ? dnnl::memory::dims{g_.oc, g_.c, g_.k, g_.k}
                                        : dnnl::memory::dims{g_.groups, g_.oc / g_.groups, g_.c / g_.groups, g_.k, g_.k};
  const void* given = ctx.src_layout(0);
  given_src_md_ = given ? md(*static_cast<const dnnl_memory_desc_t*>(given)) : plain_md(src_dims);
  src_md_ = given_src_md_;
  user_weights_md_ = plain_md(w_dims);
  bias_md_ = plain_md({g_.oc});
  // Blocked: oneDNN picks dst and weights layouts; nhwc: src and dst nhwc (with
  // dst left to oneDNN it picks a reference kernel), weights oneDNN's choice;
  // otherwise all plain.
  const md nhwc_dst(dst_dims, dnnl::memory::data_type::f32, dnnl::memory::format_tag::nhwc);
  if (mode == Mode::kNhwc) src_md_ = md(src_dims, dnnl::memory::data_type::f32, dnnl::memory::format_tag::nhwc);
  const md dst_req = mode == Mode::kNhwc ? nhwc_dst : blocked ? any_md(dst_dims) : plain_md(dst_dims);
  const md w_req = blocked ? any_md(w_dims) : user_weights_md_;

  const dnnl::memory::dims strides{g_.stride, g_.stride}, dilates{g_.dilation - 1, g_.dilation - 1};
  const dnnl::memory::dims pad{g_.padding, g_.padding};  // right pad = left pad; OH rounds down as in PyTorch
  using Fwd = dnnl::convolution_forward;
  using BwdData = dnnl::convolution_backward_data;
  using BwdWeights = dnnl::convolution_backward_weights;
  const auto alg = dnnl::algorithm::convolution_direct;
  const auto& eng = dnnl_.engine();
  const auto attr = user_scratchpad_attr();
  const dnnl::primitive_attr fwd_attr = relu_ ? FusedRelu::forward_attr() : attr;
  const auto prop = dnnl::prop_kind::forward_training;
  fwd_pd_ = bias_ ? Fwd::primitive_desc({prop, alg, src_md_, w_req, bias_md_, dst_req, strides, dilates, pad, pad},
                                        fwd_attr, eng)
                  : Fwd::primitive_desc({prop, alg, src_md_, w_req, dst_req, strides, dilates, pad, pad}, fwd_attr, eng);
  weights_md_ = fwd_pd_.weights_desc();
  dst_md_ = fwd_pd_.dst_desc();
  const md w_any = blocked ? any_md(w_dims) : user_weights_md_;
  bwd_data_pd_ = with_weights<BwdData::primitive_desc>(weights_md_, w_any, [&](const md& w) {
    return BwdData::primitive_desc({alg, src_md_, w, dst_md_, strides, dilates, pad, pad}, attr, eng, fwd_pd_);
  });
  bwd_diff_dst_md_ = dst_md_;
  if (mode == Mode::kBlocked && !given && is_ref(bwd_data_pd_)) {
    // A plain src with few channels (the first layer, C = 1) has no blocked
    // backward-data kernel. That diff_src is rarely wanted (the model input);
    // when it is, diff_dst is reordered to plain and im2col + gemm runs.
    const md plain_dst = plain_md(dst_dims);
    const auto hint = Fwd::primitive_desc({prop, alg, src_md_, user_weights_md_, plain_dst, strides, dilates, pad, pad},
                                          attr, eng);
    bwd_data_pd_ = BwdData::primitive_desc({alg, src_md_, user_weights_md_, plain_dst, strides, dilates, pad, pad},
                                           attr, eng, hint);
    bwd_diff_dst_md_ = plain_dst;
    diff_dst_to_plain_ = Reorder(dnnl_, dst_md_, plain_dst);
  }
  bwd_weights_md_ = bwd_data_pd_.weights_desc();
  bwd_weights_pd_ = bias_ ? BwdWeights::primitive_desc(
                                {alg, src_md_, w_any, bias_md_, dst_md_, strides, dilates, pad, pad}, attr, eng, fwd_pd_)
                          : BwdWeights::primitive_desc({alg, src_md_, w_any, dst_md_, strides, dilates, pad, pad}, attr,
                                                       eng, fwd_pd_);
  diff_weights_md_ = bwd_weights_pd_.diff_weights_desc();
  if (blocked && (is_ref(fwd_pd_) || is_ref(bwd_data_pd_) || is_ref(bwd_weights_pd_))) return false;
  if (src_md_ != given_src_md_) {
    src_in_ = Reorder(dnnl_, given_src_md_, src_md_);
    diff_src_out_ = Reorder(dnnl_, src_md_, given_src_md_);
  }
  fwd_ = Fwd(fwd_pd_);
  bwd_data_ = BwdData(bwd_data_pd_);
  bwd_weights_ = BwdWeights(bwd_weights_pd_);

  // Weights live plain (optimizers, checkpoints): reorder them once per
  // forward into the workspace, where backward-data finds them too.
  if (weights_md_ != user_weights_md_) weights_to_fwd_ = Reorder(dnnl_, user_weights_md_, weights_md_);
  if (bwd_weights_md_ != weights_md_ && bwd_weights_md_ != user_weights_md_)
    weights_to_bwd_ = Reorder(dnnl_, user_weights_md_, bwd_weights_md_);
  if (diff_weights_md_ != user_weights_md_)
    diff_weights_to_user_ = Reorder(dnnl_, diff_weights_md_, user_weights_md_);
  if (relu_) fused_relu_ = FusedRelu(static_cast<int64_t>(dst_md_.get_size() / sizeof(float)));
  return true;
}

void Conv2d::finish(const sdk::InstanceContext& ctx) {
  // The workspace: forward's reordered weights, then (64-byte aligned) the
  // nhwc copy of src that backward-weights reads.
  const int64_t weights_bytes = weights_to_fwd_ ? static_cast<int64_t>(weights_md_.get_size()) : 0;
  src_offset_ = (weights_bytes + 63) / 64 * 64;
  const int64_t src_bytes = src_in_ ? static_cast<int64_t>(src_md_.get_size()) : 0;
  if (weights_bytes + src_bytes > 0) ctx.set_workspace_bytes(src_bytes > 0 ? src_offset_ + src_bytes : weights_bytes);
  if (dst_md_ != plain_md({g_.n, g_.oc, g_.oh, g_.ow})) {
    dst_layout_ = dst_md_.data;
    ctx.set_dst_layout(&dst_layout_);
  }
}

float* Conv2d::src_copy(const void* workspace) const {
  return reinterpret_cast<float*>(static_cast<char*>(const_cast<void*>(workspace)) + src_offset_);
}

void Conv2d::forward(sdk::ForwardContext& ctx) const {
  if (g_.n == 0) return;
  const float* weights = ctx.param(0).data();
  if (weights_to_fwd_) {
    float* reordered = static_cast<float*>(ctx.workspace());
    weights_to_fwd_.run(dnnl_, "conv2d weights reorder", weights, reordered);
    weights = reordered;
  }
  const float* src = ctx.src(0).data();
  if (src_in_) {
    float* copy = src_copy(ctx.workspace());
    src_in_.run(dnnl_, "conv2d src reorder to nhwc", src, copy);
    src = copy;
  }
  Args args{{DNNL_ARG_SRC, src_md_, src},
            {DNNL_ARG_WEIGHTS, weights_md_, weights},
            {DNNL_ARG_DST, dst_md_, ctx.dst().data()}};
  if (bias_) args.add({DNNL_ARG_BIAS, bias_md_, ctx.param(1).data()});
  dnnl_.run("conv2d forward", fwd_, fwd_pd_.scratchpad_desc(), args);
}

void Conv2d::backward(sdk::BackwardContext& ctx) const {
  if (g_.n == 0) {
    backward_weights(ctx, nullptr);
    return;
  }
  // A fused relu: the convolution's own diff_dst is diff_dst where dst > 0.
  const float* diff_dst = ctx.diff_dst().data();
  ScratchBuffer masked(relu_ ? dst_md_.get_size() : 0, dnnl_.scratch());
  if (relu_) {
    fused_relu_.mask(ctx.dst().data(), diff_dst, masked.floats());
    diff_dst = masked.floats();
  }
  backward_data(ctx, diff_dst);
  backward_weights(ctx, diff_dst);
}

void Conv2d::backward_data(sdk::BackwardContext& ctx, const float* diff_dst) const {
  const sdk::Tensor diff_src = ctx.diff_src(0);
  if (!diff_src.present()) return;
  // Weights in backward-data's layout: the forward's reordered copy, the
  // parameter itself, or (when the two primitives disagree) one more reorder.
  const float* weights = ctx.param(0).data();
  ScratchBuffer own(weights_to_bwd_ ? bwd_weights_md_.get_size() : 0, dnnl_.scratch());
  if (bwd_weights_md_ == weights_md_ && weights_to_fwd_) {
    weights = static_cast<const float*>(ctx.workspace());
  } else if (weights_to_bwd_) {
    weights_to_bwd_.run(dnnl_, "conv2d weights reorder", weights, own.floats());
    weights = own.floats();
  }
  ScratchBuffer plain_diff(diff_dst_to_plain_ ? bwd_diff_dst_md_.get_size() : 0, dnnl_.scratch());
  if (diff_dst_to_plain_) {
    diff_dst_to_plain_.run(dnnl_, "conv2d diff_dst reorder", diff_dst, plain_diff.floats());
    diff_dst = plain_diff.floats();
  }
  ScratchBuffer own_diff_src(diff_src_out_ ? src_md_.get_size() : 0, dnnl_.scratch());
  float* out = diff_src_out_ ? own_diff_src.floats() : diff_src.data();
  dnnl_.run("conv2d backward data", bwd_data_, bwd_data_pd_.scratchpad_desc(),
            {{DNNL_ARG_DIFF_DST, bwd_diff_dst_md_, diff_dst},
             {DNNL_ARG_WEIGHTS, bwd_weights_md_, weights},
             {DNNL_ARG_DIFF_SRC, src_md_, out}});
  if (diff_src_out_) diff_src_out_.run(dnnl_, "conv2d diff_src reorder from nhwc", out, diff_src.data());
}

void Conv2d::backward_weights(sdk::BackwardContext& ctx, const float* diff_dst) const {
  const sdk::Tensor dw = ctx.diff_param(0);
  const sdk::Tensor db = ctx.diff_param(1);
  const bool want_bias = bias_ && db.present();
  if (!dw.present() && !want_bias) return;
  if (g_.n == 0) {  // no samples: the gradients are zeros
    if (dw.present()) std::fill_n(dw.data(), dw.numel(), 0.0f);
    if (want_bias) std::fill_n(db.data(), db.numel(), 0.0f);
    return;
  }
  // oneDNN computes diff_weights and diff_bias together; a scratch buffer
  // stands in for what the caller does not want, or for diff_weights in
  // oneDNN's layout before the reorder to plain.
  const bool direct_w = dw.present() && !diff_weights_to_user_;
  ScratchBuffer w_buf(direct_w ? 0 : diff_weights_md_.get_size(), dnnl_.scratch());
  ScratchBuffer b_buf(bias_ && !want_bias ? bias_md_.get_size() : 0, dnnl_.scratch());
  float* dw_ptr = direct_w ? dw.data() : w_buf.floats();
  const float* src = src_in_ ? src_copy(ctx.workspace()) : ctx.src(0).data();
  Args args{{DNNL_ARG_SRC, src_md_, src},
            {DNNL_ARG_DIFF_DST, dst_md_, diff_dst},
            {DNNL_ARG_DIFF_WEIGHTS, diff_weights_md_, dw_ptr}};
  if (bias_) args.add({DNNL_ARG_DIFF_BIAS, bias_md_, want_bias ? db.data() : b_buf.floats()});
  dnnl_.run("conv2d backward weights", bwd_weights_, bwd_weights_pd_.scratchpad_desc(), args);
  if (dw.present() && diff_weights_to_user_)
    diff_weights_to_user_.run(dnnl_, "conv2d diff weights reorder", dw_ptr, dw.data());
}

}  // namespace plexus::plugins
