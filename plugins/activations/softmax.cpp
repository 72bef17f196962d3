#include "softmax.hpp"

namespace plexus::plugins {

void Softmax::infer(sdk::InferContext& ctx) {
  const sdk::Shape src = ctx.input(0);
  if (src.ndim() < 1) ctx.fail("softmax needs src of rank >= 1, got a scalar");
  ctx.set_dst(src);
}

Softmax::Softmax(const sdk::InstanceContext& ctx) : dnnl_(ctx) {
  const sdk::Shape src = ctx.input(0);
  const int64_t classes = src[src.ndim() - 1];
  if (src.numel() == 0) return;  // nothing to compute
  empty_ = false;
  dnnl_call("softmax setup", [&] {
    md_ = plain_md({src.numel() / classes, classes});
    const dnnl::primitive_attr attr = user_scratchpad_attr();
    fwd_pd_ = dnnl::softmax_forward::primitive_desc(
        dnnl::softmax_forward::desc(dnnl::prop_kind::forward_training, md_, 1), attr, dnnl_.engine());
    bwd_pd_ = dnnl::softmax_backward::primitive_desc(dnnl::softmax_backward::desc(md_, md_, 1), attr,
                                                     dnnl_.engine(), fwd_pd_);
    fwd_ = dnnl::softmax_forward(fwd_pd_);
    bwd_ = dnnl::softmax_backward(bwd_pd_);
  });
}

void Softmax::forward(sdk::ForwardContext& ctx) const {
  if (empty_) return;
  dnnl_.run("softmax forward", fwd_, fwd_pd_.scratchpad_desc(),
            {{DNNL_ARG_SRC, md_, ctx.src(0).data()}, {DNNL_ARG_DST, md_, ctx.dst().data()}});
}

void Softmax::backward(sdk::BackwardContext& ctx) const {
  const sdk::Tensor diff_src = ctx.diff_src(0);
  if (empty_ || !diff_src.present()) return;
  dnnl_.run("softmax backward", bwd_, bwd_pd_.scratchpad_desc(),
            {{DNNL_ARG_DST, md_, ctx.dst().data()},
             {DNNL_ARG_DIFF_DST, md_, ctx.diff_dst().data()},
             {DNNL_ARG_DIFF_SRC, md_, diff_src.data()}});
}

}  // namespace plexus::plugins
