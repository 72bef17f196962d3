#include "linear.hpp"

#include "linear_direct.hpp"

#include <algorithm>
#include <vector>

namespace plexus::plugins {

namespace {
int64_t flat_features(const sdk::Shape& s) {
  int64_t n = 1;
  for (int i = 1; i < s.ndim(); ++i) n *= s[i];
  return n;
}

// impl=auto takes the direct loops for a single sample (a matrix-vector
// product, where they beat oneDNN's gemm-based inner product: 784 -> 256 in
// 10 us against 15 us here) and for layers of at most this many
// multiply-adds, where oneDNN's call costs about 1 us more than the work.
constexpr int64_t kDirectMacs = 16384;

bool use_direct(const sdk::InstanceContext& ctx, int64_t batch, int64_t in, int64_t out) {
  const std::string_view impl = ctx.attrs().str("impl");
  if (impl == "direct") return true;
  if (impl == "onednn") return false;
  return batch == 1 || batch * in * out <= kDirectMacs;
}
}  // namespace

void Linear::infer(sdk::InferContext& ctx) {
  const sdk::Shape src = ctx.input(0);
  const int64_t out = ctx.attrs().i64("out_features");
  if (src.ndim() < 2) ctx.fail("linear needs src of rank >= 2 ([N, in_features, ...]), got " + src.str());
  const int64_t in = flat_features(src);
  if (in <= 0) ctx.fail("linear needs at least one input feature, got src " + src.str());
  if (out <= 0) ctx.fail("attribute 'out_features' must be > 0, got " + std::to_string(out));
  FusedRelu::requested(ctx, "linear");  // validates the attribute
  const std::string_view impl = ctx.attrs().str("impl");
  if (impl != "auto" && impl != "onednn" && impl != "direct")
    ctx.fail("linear attribute 'impl' must be auto, onednn or direct, got '" + std::string(impl) + "'");
  ctx.set_dst(sdk::Shape{src[0], out});
  ctx.set_param(0, sdk::Shape{out, in}, in, out);
  ctx.set_param(1, sdk::Shape{ctx.attrs().boolean("bias") ? out : 0}, in, out);
}

Linear::Linear(const sdk::InstanceContext& ctx)
    : dnnl_(ctx),
      batch_(ctx.input(0)[0]),
      in_(flat_features(ctx.input(0))),
      out_(ctx.attrs().i64("out_features")),
      bias_(ctx.attrs().boolean("bias")),
      relu_(ctx.attrs().str("activation") == "relu"),
      direct_(use_direct(ctx, batch_, in_, out_)),
      fwd_team_(batch_ * in_ * out_),
      bwd_data_team_(batch_ * in_ * out_),
      bwd_weights_team_(batch_ * in_ * out_) {
  if (batch_ == 0 || direct_) return;  // an empty batch: forward writes nothing, diff_params are zeros
  dnnl_call("linear setup", [&] {
    src_md_ = plain_md({batch_, in_});
    weights_md_ = plain_md({out_, in_});  // 'oi'
    bias_md_ = plain_md({out_});
    dst_md_ = plain_md({batch_, out_});
    using Fwd = dnnl::inner_product_forward;
    using BwdData = dnnl::inner_product_backward_data;
    using BwdWeights = dnnl::inner_product_backward_weights;
    const auto attr = user_scratchpad_attr();
    const dnnl::primitive_attr fwd_attr = relu_ ? FusedRelu::forward_attr() : attr;
    const auto& eng = dnnl_.engine();
    const auto prop = dnnl::prop_kind::forward_training;
    // The forward is a matmul, dst = src x W^T: the plain [out, in] weights
    // are W^T in 'ba' order, which oneDNN 2.6's brgemm matmul takes as they
    // are. Measured per call at 2 threads (1 thread) on the project's
    // machine: 784 -> 256 at batch 128, 153 us (270) against 250 (318) for
    // the inner product on blocked weights with the per-call reorder that
    // needs, and 180 (276) for the inner product on plain weights; 256 ->
    // 256 at batch 256, 100 (167) against 122 (186) and 117 (176); 400 ->
    // 120 at batch 64, 29 (38) against 76 (46) and 39 (41). An inner product
    // on plain weights also fell, in some processes, to 2.3 times its time
    // (LISTA at 1 thread: 44 against 100 steps/s). The backward stays on the
    // inner product: matmul was no faster there. An inner product forward
    // descriptor is still made, as the backward's hint.
    const Fwd::primitive_desc hint = bias_ ? Fwd::primitive_desc({prop, src_md_, weights_md_, bias_md_, dst_md_}, attr, eng)
                                           : Fwd::primitive_desc({prop, src_md_, weights_md_, dst_md_}, attr, eng);
    const dnnl::memory::desc w_t(dnnl::memory::dims{in_, out_}, dnnl::memory::data_type::f32,
                                 dnnl::memory::format_tag::ba);
    matmul_bias_md_ = bias_ ? plain_md({1, out_}) : dnnl::memory::desc();
    matmul_pd_ = dnnl::matmul::primitive_desc({src_md_, w_t, matmul_bias_md_, dst_md_}, fwd_attr, eng);
    matmul_weights_md_ = w_t;
    bwd_data_pd_ = BwdData::primitive_desc({src_md_, weights_md_, dst_md_}, attr, eng, hint);
    bwd_weights_pd_ = bias_ ? BwdWeights::primitive_desc({src_md_, weights_md_, bias_md_, dst_md_}, attr, eng, hint)
                            : BwdWeights::primitive_desc({src_md_, weights_md_, dst_md_}, attr, eng, hint);
    matmul_ = dnnl::matmul(matmul_pd_);
    bwd_data_ = dnnl::inner_product_backward_data(bwd_data_pd_);
    bwd_weights_ = dnnl::inner_product_backward_weights(bwd_weights_pd_);
    if (relu_) fused_relu_ = FusedRelu(static_cast<int64_t>(dst_md_.get_size() / sizeof(float)));
  });
}

void Linear::forward(sdk::ForwardContext& ctx) const {
  if (batch_ == 0) return;
  if (direct_) {
    linear_direct::forward(ctx.src(0).data(), ctx.param(0).data(), bias_ ? ctx.param(1).data() : nullptr,
                           ctx.dst().data(), batch_, in_, out_, relu_, fwd_team_);
    return;
  }
  Args args{
      {DNNL_ARG_SRC, src_md_, ctx.src(0).data()},
      {DNNL_ARG_WEIGHTS, matmul_weights_md_, ctx.param(0).data()},
      {DNNL_ARG_DST, dst_md_, ctx.dst().data()}};
  if (bias_) args.add({DNNL_ARG_BIAS, matmul_bias_md_, ctx.param(1).data()});
  dnnl_.run("linear forward", matmul_, matmul_pd_.scratchpad_desc(), args);
}

void Linear::backward(sdk::BackwardContext& ctx) const {
  if (batch_ == 0) {
    backward_weights(ctx, nullptr);
    return;
  }
  if (direct_) {
    direct_backward(ctx);
    return;
  }
  // A fused relu: the inner product's own diff_dst is diff_dst where dst > 0.
  const float* diff_dst = ctx.diff_dst().data();
  ScratchBuffer masked(relu_ ? dst_md_.get_size() : 0, dnnl_.scratch());
  if (relu_) {
    fused_relu_.mask(ctx.dst().data(), diff_dst, masked.floats());
    diff_dst = masked.floats();
  }
  const sdk::Tensor diff_src = ctx.diff_src(0);
  if (diff_src.present()) {
    dnnl_.run("linear backward data", bwd_data_, bwd_data_pd_.scratchpad_desc(),
              {{DNNL_ARG_DIFF_DST, dst_md_, diff_dst},
               {DNNL_ARG_WEIGHTS, weights_md_, ctx.param(0).data()},
               {DNNL_ARG_DIFF_SRC, src_md_, diff_src.data()}});
  }
  backward_weights(ctx, diff_dst);
}

void Linear::direct_backward(sdk::BackwardContext& ctx) const {
  const float* diff_dst = ctx.diff_dst().data();
  ScratchBuffer masked(relu_ ? static_cast<size_t>(batch_ * out_) * sizeof(float) : 0, dnnl_.scratch());
  if (relu_) {  // the fused relu's backward: diff_dst where dst > 0
    relu_mask(ctx.dst().data(), diff_dst, masked.floats(), batch_ * out_);
    diff_dst = masked.floats();
  }
  const sdk::Tensor diff_src = ctx.diff_src(0);
  if (diff_src.present())
    linear_direct::backward_data(diff_dst, ctx.param(0).data(), diff_src.data(), batch_, in_, out_, bwd_data_team_);
  const sdk::Tensor dw = ctx.diff_param(0);
  const sdk::Tensor db = ctx.diff_param(1);
  linear_direct::backward_weights(ctx.src(0).data(), diff_dst, dw.present() ? dw.data() : nullptr,
                                  bias_ && db.present() ? db.data() : nullptr, batch_, in_, out_, bwd_weights_team_);
}

// diff_param(0) = diff_weights, diff_param(1) = diff_bias from `diff_dst` (the
// masked one under a fused relu). oneDNN computes both together; a scratch buffer
// stands in for whichever of the two the caller does not want.
void Linear::backward_weights(sdk::BackwardContext& ctx, const float* diff_dst) const {
  const sdk::Tensor dw = ctx.diff_param(0);
  const sdk::Tensor db = ctx.diff_param(1);
  const bool want_bias = bias_ && db.present();
  if (!dw.present() && !want_bias) return;
  if (batch_ == 0) {  // no samples: the gradients are zeros
    if (dw.present()) std::fill_n(dw.data(), dw.numel(), 0.0f);
    if (want_bias) std::fill_n(db.data(), db.numel(), 0.0f);
    return;
  }
  ScratchBuffer w_buf(dw.present() ? 0 : weights_md_.get_size(), dnnl_.scratch());
  ScratchBuffer b_buf(bias_ && !want_bias ? bias_md_.get_size() : 0, dnnl_.scratch());
  Args args{
      {DNNL_ARG_SRC, src_md_, ctx.src(0).data()},
      {DNNL_ARG_DIFF_DST, dst_md_, diff_dst},
      {DNNL_ARG_DIFF_WEIGHTS, weights_md_, dw.present() ? dw.data() : w_buf.floats()}};
  if (bias_) args.add({DNNL_ARG_DIFF_BIAS, bias_md_, want_bias ? db.data() : b_buf.floats()});
  dnnl_.run("linear backward weights", bwd_weights_, bwd_weights_pd_.scratchpad_desc(), args);
}

}  // namespace plexus::plugins
