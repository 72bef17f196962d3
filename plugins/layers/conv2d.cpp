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
  const int64_t taps = g.k * g.k;
  const int64_t fan_in = g.c / g.groups * taps, fan_out = g.oc * taps;  // as torch.nn.init computes them
  ctx.set_dst(sdk::Shape{g.n, g.oc, g.oh, g.ow});
  ctx.set_param(0, sdk::Shape{g.oc, g.c / g.groups, g.k, g.k}, fan_in, fan_out);
  ctx.set_param(1, sdk::Shape{ctx.attrs().boolean("bias") ? g.oc : 0}, fan_in, fan_out);
}

// infer() has validated the shapes and attributes before an instance is made.
Conv2d::Conv2d(const sdk::InstanceContext& ctx)
    : dnnl_(ctx), g_(geometry(ctx.attrs(), ctx.input(0))), bias_(ctx.attrs().boolean("bias")) {
  if (g_.n == 0) return;  // an empty batch: forward writes nothing, diff_params are zeros
  dnnl_call("conv2d setup", [&] {
    src_md_ = plain_md({g_.n, g_.c, g_.h, g_.w});  // nchw
    // [OC, C/g, K, K] is oihw; split as [g, OC/g, C/g, K, K] it is goihw, same bytes.
    weights_md_ = g_.groups == 1 ? plain_md({g_.oc, g_.c, g_.k, g_.k})
                                 : plain_md({g_.groups, g_.oc / g_.groups, g_.c / g_.groups, g_.k, g_.k});
    bias_md_ = plain_md({g_.oc});
    dst_md_ = plain_md({g_.n, g_.oc, g_.oh, g_.ow});
    const dnnl::memory::dims strides{g_.stride, g_.stride}, dilates{g_.dilation - 1, g_.dilation - 1};
    const dnnl::memory::dims pad{g_.padding, g_.padding};  // right pad = left pad; OH rounds down as in PyTorch
    using Fwd = dnnl::convolution_forward;
    using BwdData = dnnl::convolution_backward_data;
    using BwdWeights = dnnl::convolution_backward_weights;
    const auto alg = dnnl::algorithm::convolution_direct;
    const auto prop = dnnl::prop_kind::forward_training;
    const auto attr = user_scratchpad_attr();
    const auto& eng = dnnl_.engine();
    fwd_pd_ = bias_ ? Fwd::primitive_desc(
                          {prop, alg, src_md_, weights_md_, bias_md_, dst_md_, strides, dilates, pad, pad}, attr, eng)
                    : Fwd::primitive_desc({prop, alg, src_md_, weights_md_, dst_md_, strides, dilates, pad, pad},
                                          attr, eng);
    bwd_data_pd_ =
        BwdData::primitive_desc({alg, src_md_, weights_md_, dst_md_, strides, dilates, pad, pad}, attr, eng, fwd_pd_);
    bwd_weights_pd_ =
        bias_ ? BwdWeights::primitive_desc(
                    {alg, src_md_, weights_md_, bias_md_, dst_md_, strides, dilates, pad, pad}, attr, eng, fwd_pd_)
              : BwdWeights::primitive_desc({alg, src_md_, weights_md_, dst_md_, strides, dilates, pad, pad}, attr,
                                           eng, fwd_pd_);
    fwd_ = Fwd(fwd_pd_);
    bwd_data_ = BwdData(bwd_data_pd_);
    bwd_weights_ = BwdWeights(bwd_weights_pd_);
  });
}

void Conv2d::forward(sdk::ForwardContext& ctx) const {
  if (g_.n == 0) return;
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, dnnl_.wrap(src_md_, ctx.src(0).data())},
      {DNNL_ARG_WEIGHTS, dnnl_.wrap(weights_md_, ctx.param(0).data())},
      {DNNL_ARG_DST, dnnl_.wrap(dst_md_, ctx.dst().data())}};
  if (bias_) args.insert({DNNL_ARG_BIAS, dnnl_.wrap(bias_md_, ctx.param(1).data())});
  dnnl_.run("conv2d forward", fwd_, fwd_pd_.scratchpad_desc(), std::move(args));
}

void Conv2d::backward(sdk::BackwardContext& ctx) const {
  const sdk::Tensor diff_src = ctx.diff_src(0);
  if (diff_src.present() && g_.n > 0) {
    dnnl_.run("conv2d backward data", bwd_data_, bwd_data_pd_.scratchpad_desc(),
              {{DNNL_ARG_DIFF_DST, dnnl_.wrap(dst_md_, ctx.diff_dst().data())},
               {DNNL_ARG_WEIGHTS, dnnl_.wrap(weights_md_, ctx.param(0).data())},
               {DNNL_ARG_DIFF_SRC, dnnl_.wrap(src_md_, diff_src.data())}});
  }
  backward_weights(ctx);
}

void Conv2d::backward_weights(sdk::BackwardContext& ctx) const {
  run_backward_weights(dnnl_,
                       {"conv2d backward weights", bwd_weights_, bwd_weights_pd_, src_md_, dst_md_,
                        weights_md_, bias_md_, bias_, g_.n == 0},
                       ctx);
}

}  // namespace plexus::plugins
