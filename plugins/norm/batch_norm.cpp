#include "batch_norm.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

namespace plexus::plugins {

namespace {

// The per-call workspace: which mode the forward ran in, then the statistics
// it normalized with (the batch's in training, a copy of the running ones in
// eval). Backward reads them from here, so it differentiates exactly that
// forward even if the running statistics, or another forward, changed since.
//   [mode: int32, padded to 64 bytes][mean: C floats][variance: C floats]
constexpr int64_t kHeaderBytes = 64;  // keeps the statistics 64-byte aligned
// Unlikely values, so a workspace no forward wrote is caught, not misread.
constexpr int32_t kModeTraining = 0x42545231;
constexpr int32_t kModeEval = 0x42455631;

int64_t workspace_bytes(int64_t channels) {
  return kHeaderBytes + 2 * channels * static_cast<int64_t>(sizeof(float));
}

float* mean_of(void* ws) { return reinterpret_cast<float*>(static_cast<unsigned char*>(ws) + kHeaderBytes); }
float* var_of(void* ws, int64_t channels) { return mean_of(ws) + channels; }

int32_t mode_of(const void* ws) {
  int32_t mode;
  std::memcpy(&mode, ws, sizeof mode);
  return mode;
}

void set_mode(void* ws, int32_t mode) { std::memcpy(ws, &mode, sizeof mode); }

int64_t values_per_channel(const sdk::Shape& src) {
  int64_t m = src[0];
  for (int i = 2; i < src.ndim(); ++i) m *= src[i];
  return m;
}

dnnl::memory::dims dims_of(const sdk::Shape& s) {
  dnnl::memory::dims d;
  for (int i = 0; i < s.ndim(); ++i) d.push_back(s[i]);
  return d;
}

}  // namespace

void BatchNorm::infer(sdk::InferContext& ctx) {
  const sdk::Shape src = ctx.input(0);
  if (src.ndim() < 2 || src.ndim() > 5)
    ctx.fail("batch_norm needs src [N, C] or [N, C, spatial...] with at most 3 spatial dimensions, got " + src.str());
  for (int i = 1; i < src.ndim(); ++i)
    if (src[i] <= 0) ctx.fail("batch_norm needs C and every spatial size > 0, got src " + src.str());
  const double momentum = ctx.attrs().f64("momentum"), eps = ctx.attrs().f64("eps");
  if (!(momentum >= 0.0 && momentum <= 1.0))
    ctx.fail("batch_norm attribute 'momentum' must be in [0, 1], got " + std::to_string(momentum));
  if (!(eps > 0.0 && std::isfinite(eps)))
    ctx.fail("batch_norm attribute 'eps' must be finite and > 0, got " + std::to_string(eps));
  const int64_t c = src[1];
  ctx.set_dst(src);
  for (uint32_t i = 0; i < params.size(); ++i) ctx.set_param(i, sdk::Shape{c}, c, c);
}

// infer() has validated the shapes and attributes before an instance is made.
BatchNorm::BatchNorm(const sdk::InstanceContext& ctx)
    : dnnl_(ctx),
      c_(ctx.input(0)[1]),
      m_(values_per_channel(ctx.input(0))),
      momentum_(ctx.attrs().f64("momentum")),
      eps_(static_cast<float>(ctx.attrs().f64("eps"))) {
  ctx.set_workspace_bytes(workspace_bytes(c_));
  if (m_ == 0) return;  // an empty batch: oneDNN is never called
  const void* given = ctx.src_layout(0);
  // oneDNN's batch norm has one layout for src and dst: a blocked src needs a blocked dst.
  if (given != nullptr && !ctx.layouts_enabled())
    throw sdk::Error(PLX_E_UNSUPPORTED, "batch_norm writes dst in src's layout; a blocked src needs layouts enabled");
  try {
    data_md_ = given ? dnnl::memory::desc(*static_cast<const dnnl_memory_desc_t*>(given))
                     : plain_md(dims_of(ctx.input(0)));
    channel_md_ = plain_md({c_});
    train_ = make_mode(false);
    eval_ = make_mode(true);
  } catch (const dnnl::error& e) {
    // A layout oneDNN cannot normalize in: the runtime retries with plain src.
    if (given != nullptr) throw sdk::Error(PLX_E_UNSUPPORTED, std::string("batch_norm: src layout refused: ") + e.what());
    throw sdk::Error(PLX_E_INTERNAL, std::string("oneDNN failed in batch_norm setup: ") + e.what());
  }
  if (given != nullptr) {
    dst_layout_ = train_.fwd_pd.dst_desc().data;  // the same layout as src
    ctx.set_dst_layout(&dst_layout_);
  }
}

BatchNorm::Mode BatchNorm::make_mode(bool global_stats) const {
  using Fwd = dnnl::batch_normalization_forward;
  using Bwd = dnnl::batch_normalization_backward;
  using F = dnnl::normalization_flags;
  const F flags = F::use_scale | F::use_shift | (global_stats ? F::use_global_stats : F::none);
  const auto attr = user_scratchpad_attr();
  const auto& eng = dnnl_.engine();
  Mode m;
  // forward_training in both modes: the forward is the backward's hint.
  m.fwd_pd = Fwd::primitive_desc(Fwd::desc(dnnl::prop_kind::forward_training, data_md_, eps_, flags), attr, eng);
  m.bwd_pd = Bwd::primitive_desc(Bwd::desc(dnnl::prop_kind::backward, data_md_, data_md_, eps_, flags), attr, eng,
                                 m.fwd_pd);
  m.fwd = Fwd(m.fwd_pd);
  m.bwd = Bwd(m.bwd_pd);
  return m;
}

void BatchNorm::forward(sdk::ForwardContext& ctx) const {
  void* ws = ctx.workspace();
  if (ws == nullptr) throw sdk::Error(PLX_E_INTERNAL, "batch_norm forward got no workspace");
  const bool training = ctx.training();
  set_mode(ws, training ? kModeTraining : kModeEval);
  float* mean = mean_of(ws);
  float* var = var_of(ws, c_);
  if (!training) {
    std::copy_n(ctx.param(2).data(), c_, mean);
    std::copy_n(ctx.param(3).data(), c_, var);
  }
  if (m_ == 0) return;  // an empty batch: nothing to normalize, running statistics unchanged
  if (training && m_ == 1)  // as PyTorch: the unbiased variance of one value is undefined
    throw sdk::Error(PLX_E_INVALID, "batch_norm in training mode needs more than one value per channel, got src " +
                                        ctx.src(0).shape().str());
  const Mode& p = training ? train_ : eval_;
  // Training: oneDNN writes the batch statistics (MEAN, VARIANCE are outputs);
  // eval: it reads the running ones (inputs).
  dnnl_.run(training ? "batch_norm forward (training)" : "batch_norm forward (eval)", p.fwd,
            p.fwd_pd.scratchpad_desc(),
            {{DNNL_ARG_SRC, data_md_, ctx.src(0).data()},
             {DNNL_ARG_DST, data_md_, ctx.dst().data()},
             {DNNL_ARG_SCALE, channel_md_, ctx.param(0).data()},
             {DNNL_ARG_SHIFT, channel_md_, ctx.param(1).data()},
             {DNNL_ARG_MEAN, channel_md_, mean},
             {DNNL_ARG_VARIANCE, channel_md_, var}});
  if (training) update_running_stats(ctx, mean, var);
}

// In place: a PLX_PARAM_STATE parameter is writable in a training forward.
void BatchNorm::update_running_stats(sdk::ForwardContext& ctx, const float* mean, const float* var) const {
  float* running_mean = ctx.param(2).data();
  float* running_var = ctx.param(3).data();
  const double unbias = static_cast<double>(m_) / static_cast<double>(m_ - 1);  // Bessel's correction, as PyTorch
  for (int64_t c = 0; c < c_; ++c) {
    running_mean[c] = static_cast<float>((1.0 - momentum_) * running_mean[c] + momentum_ * mean[c]);
    running_var[c] = static_cast<float>((1.0 - momentum_) * running_var[c] + momentum_ * var[c] * unbias);
  }
}

void BatchNorm::backward(sdk::BackwardContext& ctx) const {
  const sdk::Tensor diff_src = ctx.diff_src(0);
  const sdk::Tensor diff_weights = ctx.diff_param(0);
  const sdk::Tensor diff_bias = ctx.diff_param(1);
  if (!diff_src.present() && !diff_weights.present() && !diff_bias.present()) return;
  if (m_ == 0) {  // no samples: the gradients are zeros (diff_src is empty)
    if (diff_weights.present()) std::fill_n(diff_weights.data(), c_, 0.0f);
    if (diff_bias.present()) std::fill_n(diff_bias.data(), c_, 0.0f);
    return;
  }
  void* ws = const_cast<void*>(ctx.workspace());  // read only; oneDNN memory is not const-aware
  const int32_t mode = ws ? mode_of(ws) : 0;
  if (mode != kModeTraining && mode != kModeEval)
    throw sdk::Error(PLX_E_INTERNAL, "batch_norm backward without the workspace its forward wrote");
  const Mode& p = mode == kModeTraining ? train_ : eval_;
  // oneDNN computes all three gradients together; scratch buffers stand in
  // for the ones the caller does not want.
  ScratchBuffer spare_src(diff_src.present() ? 0 : data_md_.get_size(), dnnl_.scratch());
  ScratchBuffer spare_weights(diff_weights.present() ? 0 : channel_md_.get_size(), dnnl_.scratch());
  ScratchBuffer spare_bias(diff_bias.present() ? 0 : channel_md_.get_size(), dnnl_.scratch());
  dnnl_.run(mode == kModeTraining ? "batch_norm backward (training)" : "batch_norm backward (eval)", p.bwd,
            p.bwd_pd.scratchpad_desc(),
            {{DNNL_ARG_SRC, data_md_, ctx.src(0).data()},
             {DNNL_ARG_MEAN, channel_md_, mean_of(ws)},
             {DNNL_ARG_VARIANCE, channel_md_, var_of(ws, c_)},
             {DNNL_ARG_DIFF_DST, data_md_, ctx.diff_dst().data()},
             {DNNL_ARG_SCALE, channel_md_, ctx.param(0).data()},
             // Unused by the math, but oneDNN 2.6 counts it among use_shift's inputs and refuses to run without it.
             {DNNL_ARG_SHIFT, channel_md_, ctx.param(1).data()},
             {DNNL_ARG_DIFF_SRC, data_md_, diff_src.present() ? diff_src.data() : spare_src.floats()},
             {DNNL_ARG_DIFF_SCALE,
              channel_md_, diff_weights.present() ? diff_weights.data() : spare_weights.floats()},
             {DNNL_ARG_DIFF_SHIFT,
              channel_md_, diff_bias.present() ? diff_bias.data() : spare_bias.floats()}});
}

}  // namespace plexus::plugins
