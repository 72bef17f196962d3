// The compute of one W1/W2 training step with no framework around it (see
// bound.hpp). Primitives, memory and the one shared scratchpad are created
// once; a step executes primitives and plain loops only.
//
// Choices, each the faster of the options measured (ms/step, 1 thread, this
// machine's AMD EPYC with AVX-512, oneDNN 2.6.3; the machine was shared, so
// 2-thread comparisons were too noisy to decide anything):
// - W2 conv layouts: plain nchw everywhere is im2col + gemm, 1.3-2.7 ms per
//   conv primitive (8.0 a step). format_tag::any gives conv1 an nChw16c dst
//   (jit), but conv2 on that src (6 channels padded to 16) then has only
//   ref:any kernels (0.1-1 s a call). nhwc for both convs has brgconv/jit
//   kernels for all five primitives (0.2-0.5 ms each; 2.34-2.43 a step); best
//   is conv1 nchw -> nChw16c (jit) with pool1 writing nhwc for conv2:
//   2.10-2.23. Weights take format_tag::any per primitive, with one reorder
//   (built once) where conv2's backward-data wants another layout.
// - W2 max pooling: the loops below, 2.45 against 2.75 for oneDNN's
//   pooling_forward (training) + pooling_backward with workspace, both on
//   nhwc.
// - W1/W2 relu backward: a plain loop; oneDNN's eltwise_backward
//   (relu_use_dst_for_bwd) was within noise (W1 0.89 vs 0.88-0.90), and the
//   loop is one primitive fewer.
// The loops are compiled with the project's flags (no -march), as the
// framework's are, plus -fno-math-errno (CMakeLists.txt) so that Adam's sqrt
// vectorizes: W2 2.20-2.26 against 2.31-2.36.
#include "bound.hpp"

#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <stdexcept>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace plexus::bench {

namespace {

using md = dnnl::memory::desc;
using dims = dnnl::memory::dims;
using tag = dnnl::memory::format_tag;
constexpr auto kF32 = dnnl::memory::data_type::f32;
constexpr auto kTraining = dnnl::prop_kind::forward_training;
// Elementwise loops (update, relu mask, pooling) at least this long run as
// `omp parallel for`: at 2 threads W1 takes 0.73-0.88 ms/step so and 1.67-2.48
// with every loop serial (W2 1.5-1.8 vs 3.8-4.3); a threshold of 2048 instead
// was within noise.
constexpr int64_t kParallelMin = 16384;

md plain(const dims& d) {
  static constexpr tag kTags[] = {tag::a, tag::ab, tag::abc, tag::abcd};
  return md(d, kF32, kTags[d.size() - 1]);
}
md any(const dims& d) { return md(d, kF32, tag::any); }

// User scratchpad (one buffer shared by all primitives), optionally a fused relu.
dnnl::primitive_attr attr(bool relu = false) {
  dnnl::primitive_attr a;
  a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (relu) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    a.set_post_ops(ops);
  }
  return a;
}

// A zero-filled buffer oneDNN allocated (64-byte aligned) in layout desc().
struct Tensor {
  dnnl::memory mem;
  float* data() const { return static_cast<float*>(mem.get_data_handle()); }
  int64_t size() const { return static_cast<int64_t>(mem.get_desc().get_size() / sizeof(float)); }
  md desc() const { return mem.get_desc(); }
};

// A trainable tensor: value, gradient, first and second moments (SGD uses m only).
struct Param {
  Tensor w, g, m, v;
};

// The engine, the stream and every primitive with its bound arguments.
class Runner {
 public:
  Runner() : engine_(dnnl::engine::kind::cpu, 0), stream_(engine_) {}
  const dnnl::engine& engine() const { return engine_; }

  Tensor tensor(const md& d) {
    Tensor t{dnnl::memory(d, engine_)};
    std::fill_n(t.data(), t.size(), 0.0f);
    return t;
  }
  Param param(const md& d) { return {tensor(d), tensor(d), tensor(d), tensor(d)}; }

  /// Records `prim` with its arguments; returns the handle run() takes.
  int add(const dnnl::primitive& prim, const md& scratchpad, std::unordered_map<int, dnnl::memory> args) {
    calls_.push_back({prim, scratchpad, std::move(args)});
    return static_cast<int>(calls_.size()) - 1;
  }
  /// After the last add(): one scratchpad buffer, big enough for any primitive
  /// (they run one at a time).
  void finalize() {
    size_t bytes = 0;
    for (const Call& c : calls_) bytes = std::max(bytes, c.scratchpad.get_size());
    if (bytes == 0) return;
    scratch_ = dnnl::memory(md({static_cast<int64_t>(bytes)}, dnnl::memory::data_type::u8, tag::a), engine_);
    for (Call& c : calls_)
      if (c.scratchpad.get_size() > 0)
        c.args.insert({DNNL_ARG_SCRATCHPAD, dnnl::memory(c.scratchpad, engine_, scratch_.get_data_handle())});
  }
  void run(int call) { calls_[call].prim.execute(stream_, calls_[call].args); }
  void wait() { stream_.wait(); }
  /// dst = src in dst's layout (setup only).
  void reorder(const Tensor& src, const Tensor& dst) {
    dnnl::memory from = src.mem, to = dst.mem;
    dnnl::reorder(from, to).execute(stream_, from, to);
    stream_.wait();
  }

 private:
  struct Call {
    dnnl::primitive prim;
    md scratchpad;
    std::unordered_map<int, dnnl::memory> args;
  };
  dnnl::engine engine_;
  dnnl::stream stream_;
  std::vector<Call> calls_;
  dnnl::memory scratch_;
};

// Weights and bias uniform in +-1/sqrt(fan_in) (PyTorch's default), drawn in
// plain order and reordered into the primitive's layout (padding stays zero).
void init_uniform(Runner& r, Param& p, const dims& plain_dims, int64_t fan_in, std::mt19937& rng) {
  const float bound = 1.0f / std::sqrt(static_cast<float>(fan_in));
  std::uniform_real_distribution<float> u(-bound, bound);
  Tensor tmp = r.tensor(plain(plain_dims));
  for (int64_t i = 0; i < tmp.size(); ++i) tmp.data()[i] = u(rng);
  r.reorder(tmp, p.w);
}

// A layer with weights. diff_dst is written by the layer above (or the loss)
// and masked in place by the fused relu's derivative.
struct Layer {
  Param weights, bias;
  Tensor dst, diff_dst;
  bool relu = false;
  int fwd = -1, bwd_weights = -1, bwd_data = -1, weights_to_bwd = -1;
};

/// Inner product src [N, ...] -> [N, out] (+bias, optional fused relu). Weights
/// in the layout oneDNN prefers for src's (possibly blocked) layout.
/// diff_src null: no backward-data (the model input).
Layer inner_product(Runner& r, const Tensor& src, const Tensor* diff_src, int64_t out, bool relu, std::mt19937& rng) {
  using Fwd = dnnl::inner_product_forward;
  using BwdData = dnnl::inner_product_backward_data;
  using BwdWeights = dnnl::inner_product_backward_weights;
  const md src_md = src.desc();
  dims w_dims = src_md.dims();
  const int64_t fan_in = src.size() / w_dims[0];
  w_dims[0] = out;
  const md dst_md = plain({src_md.dims()[0], out}), bias_md = plain({out});
  const auto& eng = r.engine();
  const Fwd::primitive_desc fwd_pd({kTraining, src_md, any(w_dims), bias_md, dst_md}, attr(relu), eng);
  const md w_md = fwd_pd.weights_desc();
  const BwdWeights::primitive_desc bw_pd({src_md, w_md, bias_md, dst_md}, attr(), eng, fwd_pd);
  Layer l{r.param(w_md), r.param(bias_md), r.tensor(dst_md), r.tensor(dst_md), relu};
  init_uniform(r, l.weights, w_dims, fan_in, rng);
  init_uniform(r, l.bias, {out}, fan_in, rng);
  l.fwd = r.add(Fwd(fwd_pd), fwd_pd.scratchpad_desc(),
                {{DNNL_ARG_SRC, src.mem}, {DNNL_ARG_WEIGHTS, l.weights.w.mem}, {DNNL_ARG_BIAS, l.bias.w.mem},
                 {DNNL_ARG_DST, l.dst.mem}});
  l.bwd_weights = r.add(BwdWeights(bw_pd), bw_pd.scratchpad_desc(),
                        {{DNNL_ARG_SRC, src.mem}, {DNNL_ARG_DIFF_DST, l.diff_dst.mem},
                         {DNNL_ARG_DIFF_WEIGHTS, l.weights.g.mem}, {DNNL_ARG_DIFF_BIAS, l.bias.g.mem}});
  if (diff_src != nullptr) {
    const BwdData::primitive_desc bd_pd({src_md, w_md, dst_md}, attr(), eng, fwd_pd);
    l.bwd_data = r.add(BwdData(bd_pd), bd_pd.scratchpad_desc(),
                       {{DNNL_ARG_DIFF_DST, l.diff_dst.mem}, {DNNL_ARG_WEIGHTS, l.weights.w.mem},
                        {DNNL_ARG_DIFF_SRC, diff_src->mem}});
  }
  return l;
}

/// Convolution k x k, stride 1, padding `pad`, +bias, fused relu; dst in
/// `dst_tag`. Each of the three primitives picks its own weights layout
/// (format_tag::any); where backward-data's differs from forward's, a reorder
/// (built once) refreshes its copy each step.
Layer convolution(Runner& r, const Tensor& src, const Tensor* diff_src, int64_t oc, int64_t k, int64_t pad,
                  tag dst_tag, std::mt19937& rng) {
  using Fwd = dnnl::convolution_forward;
  using BwdData = dnnl::convolution_backward_data;
  using BwdWeights = dnnl::convolution_backward_weights;
  const md src_md = src.desc();
  const dims s = src_md.dims();
  const dims w_dims{oc, s[1], k, k}, dst_dims{s[0], oc, s[2] + 2 * pad - k + 1, s[3] + 2 * pad - k + 1};
  const dims strides{1, 1}, pads{pad, pad};
  const md bias_md = plain({oc});
  const auto alg = dnnl::algorithm::convolution_direct;
  const auto& eng = r.engine();
  const Fwd::primitive_desc fwd_pd({kTraining, alg, src_md, any(w_dims), bias_md, md(dst_dims, kF32, dst_tag), strides,
                                    pads, pads},
                                   attr(true), eng);
  const md w_md = fwd_pd.weights_desc(), dst_md = fwd_pd.dst_desc();
  const BwdWeights::primitive_desc bw_pd({alg, src_md, w_md, bias_md, dst_md, strides, pads, pads}, attr(), eng,
                                         fwd_pd);
  Layer l{r.param(w_md), r.param(bias_md), r.tensor(dst_md), r.tensor(dst_md), true};
  init_uniform(r, l.weights, w_dims, s[1] * k * k, rng);
  init_uniform(r, l.bias, {oc}, s[1] * k * k, rng);
  l.fwd = r.add(Fwd(fwd_pd), fwd_pd.scratchpad_desc(),
                {{DNNL_ARG_SRC, src.mem}, {DNNL_ARG_WEIGHTS, l.weights.w.mem}, {DNNL_ARG_BIAS, l.bias.w.mem},
                 {DNNL_ARG_DST, l.dst.mem}});
  l.bwd_weights = r.add(BwdWeights(bw_pd), bw_pd.scratchpad_desc(),
                        {{DNNL_ARG_SRC, src.mem}, {DNNL_ARG_DIFF_DST, l.diff_dst.mem},
                         {DNNL_ARG_DIFF_WEIGHTS, l.weights.g.mem}, {DNNL_ARG_DIFF_BIAS, l.bias.g.mem}});
  if (diff_src != nullptr) {
    const BwdData::primitive_desc bd_pd({alg, src_md, any(w_dims), dst_md, strides, pads, pads}, attr(), eng, fwd_pd);
    Tensor w_bwd = l.weights.w;
    if (bd_pd.weights_desc() != w_md) {
      w_bwd = r.tensor(bd_pd.weights_desc());
      const dnnl::reorder::primitive_desc re(eng, w_md, eng, w_bwd.desc(), attr());
      l.weights_to_bwd = r.add(dnnl::reorder(re), re.scratchpad_desc(),
                               {{DNNL_ARG_FROM, l.weights.w.mem}, {DNNL_ARG_TO, w_bwd.mem}});
    }
    l.bwd_data = r.add(BwdData(bd_pd), bd_pd.scratchpad_desc(),
                       {{DNNL_ARG_DIFF_DST, l.diff_dst.mem}, {DNNL_ARG_WEIGHTS, w_bwd.mem},
                        {DNNL_ARG_DIFF_SRC, diff_src->mem}});
  }
  return l;
}

/// diff = diff where dst > 0, else 0 (the fused relu's backward, in place).
void relu_mask(const Tensor& dst, const Tensor& diff) {
  const float* y = dst.data();
  float* d = diff.data();
  const int64_t n = dst.size();
#pragma omp parallel for simd if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) d[i] = y[i] > 0.0f ? d[i] : 0.0f;
}

/// Runs a layer's backward: relu mask, backward-weights, backward-data.
void backward(Runner& r, const Layer& l) {
  if (l.relu) relu_mask(l.dst, l.diff_dst);
  r.run(l.bwd_weights);
  if (l.weights_to_bwd >= 0) r.run(l.weights_to_bwd);
  if (l.bwd_data >= 0) r.run(l.bwd_data);
  r.wait();
}

/// Max pool 2x2 stride 2 on [N, C, H, W] (H, W even). Every layout handled
/// is [outer, H, W, px] with px floats per pixel: nchw (px 1, outer N * C),
/// nhwc (px C, outer N), nChw8c/16c (px 8/16, outer N * C / px). dst may take
/// another of these layouts when `outer` agrees (nChw16c -> nhwc for C <= 16);
/// the window loop runs over dst's px. Backward finds the winner again (the
/// first input equal to the max, as forward's strict order picks it) instead of
/// storing an argmax, and writes every input it owns (the windows tile src;
/// blocked padding stays zero): diff_dst at the winner, 0 elsewhere.
struct Pool {
  Tensor src, diff_src, dst, diff_dst;
  int64_t outer = 0, oh = 0, ow = 0, src_px = 1, dst_px = 1;
};

struct PixelLayout {
  int64_t px = 0, outer = 0;
};

PixelLayout pixel_layout(const md& m) {
  const dims s = m.dims();
  for (auto [px, t] : {std::pair{int64_t{1}, tag::nchw}, std::pair{s[1], tag::nhwc}, std::pair{int64_t{8}, tag::nChw8c},
                       std::pair{int64_t{16}, tag::nChw16c}})
    if (md(s, kF32, t) == m) return {px, t == tag::nchw ? s[0] * s[1] : s[0] * ((s[1] + px - 1) / px)};
  throw std::logic_error("max_pool: layout is not nchw, nhwc or nChw8c/16c");
}

Pool max_pool(Runner& r, const Tensor& src, const Tensor& diff_src, tag dst_tag) {
  const dims s = src.desc().dims();
  if (s[2] % 2 != 0 || s[3] % 2 != 0) throw std::logic_error("max_pool: odd spatial size");
  const md dst_md({s[0], s[1], s[2] / 2, s[3] / 2}, kF32, dst_tag);
  const PixelLayout from = pixel_layout(src.desc()), to = pixel_layout(dst_md);
  if (from.outer != to.outer || to.px > from.px) throw std::logic_error("max_pool: src and dst layouts do not pair");
  return Pool{src, diff_src, r.tensor(dst_md), r.tensor(dst_md), to.outer, s[2] / 2, s[3] / 2, from.px, to.px};
}

// Calls f(src_px, dst_px) with compile-time constants for the pairs W2 meets
// (nChw16c -> nhwc with 6 channels, nhwc 16 channels, ...), so the inner loop
// is fully unrolled and vectorized; runtime values otherwise.
template <class F>
void with_pixels(int64_t src_px, int64_t dst_px, F&& f) {
  using std::integral_constant;
  if (src_px == 16 && dst_px == 6) f(integral_constant<int64_t, 16>{}, integral_constant<int64_t, 6>{});
  else if (src_px == 6 && dst_px == 6) f(integral_constant<int64_t, 6>{}, integral_constant<int64_t, 6>{});
  else if (src_px == 16 && dst_px == 16) f(integral_constant<int64_t, 16>{}, integral_constant<int64_t, 16>{});
  else f(src_px, dst_px);
}

void pool_forward(const Pool& p) {
  const float* src = p.src.data();
  float* dst = p.dst.data();
  const int64_t outer = p.outer, OH = p.oh, OW = p.ow;
  with_pixels(p.src_px, p.dst_px, [&](auto S, auto D) {
    const int64_t row = 2 * OW * S;  // one input row
#pragma omp parallel for if (outer * OH * OW * D >= kParallelMin)
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t y = 0; y < OH; ++y) {
        const float* s0 = src + (o * 2 * OH + 2 * y) * row;
        const float* s1 = s0 + row;
        float* d = dst + (o * OH + y) * OW * D;
        for (int64_t x = 0; x < OW; ++x)
#pragma omp simd
          for (int64_t b = 0; b < D; ++b) {
            const int64_t i = 2 * x * S + b;
            d[x * D + b] = std::max(std::max(s0[i], s0[i + S]), std::max(s1[i], s1[i + S]));
          }
      }
  });
}

void pool_backward(const Pool& p) {
  const float* src = p.src.data();
  const float* dst = p.dst.data();
  const float* diff_dst = p.diff_dst.data();
  float* diff_src = p.diff_src.data();
  const int64_t outer = p.outer, OH = p.oh, OW = p.ow;
  with_pixels(p.src_px, p.dst_px, [&](auto S, auto D) {
    const int64_t row = 2 * OW * S;
#pragma omp parallel for if (outer * OH * OW * D >= kParallelMin)
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t y = 0; y < OH; ++y) {
        const int64_t in = (o * 2 * OH + 2 * y) * row, out = (o * OH + y) * OW * D;
        const float *s0 = src + in, *s1 = s0 + row, *m = dst + out, *g = diff_dst + out;
        float *d0 = diff_src + in, *d1 = d0 + row;
        for (int64_t x = 0; x < OW; ++x)
#pragma omp simd
          for (int64_t b = 0; b < D; ++b) {
            // Branch-free (ties are data-dependent): `rest` is what the
            // inputs after the first match get.
            const int64_t i = 2 * x * S + b, j = x * D + b;
            const float mj = m[j];
            float rest = g[j];
            d0[i] = s0[i] == mj ? rest : 0.0f;
            rest = s0[i] == mj ? 0.0f : rest;
            d0[i + S] = s0[i + S] == mj ? rest : 0.0f;
            rest = s0[i + S] == mj ? 0.0f : rest;
            d1[i] = s1[i] == mj ? rest : 0.0f;
            d1[i + S] = s1[i] == mj ? 0.0f : rest;
          }
      }
  });
}

/// Mean softmax cross-entropy of logits [n, k]; diff = (softmax - onehot) / n.
float softmax_cross_entropy(const Tensor& logits, const std::vector<int>& labels, const Tensor& diff) {
  const int64_t n = static_cast<int64_t>(labels.size()), k = logits.size() / n;
  const float inv_n = 1.0f / static_cast<float>(n);
  double loss = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float* z = logits.data() + i * k;
    float* d = diff.data() + i * k;
    const float mx = *std::max_element(z, z + k);
    float sum = 0;
    for (int64_t j = 0; j < k; ++j) sum += d[j] = std::exp(z[j] - mx);
    loss += std::log(sum) + mx - z[labels[i]];
    const float scale = inv_n / sum;
    for (int64_t j = 0; j < k; ++j) d[j] *= scale;
    d[labels[i]] -= inv_n;
  }
  return static_cast<float>(loss / static_cast<double>(n));
}

/// m = 0.9 m + g; w -= 0.01 m.
void sgd_momentum(const Param& p) {
  float* w = p.w.data();
  float* m = p.m.data();
  const float* g = p.g.data();
  const int64_t n = p.w.size();
#pragma omp parallel for simd if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    m[i] = 0.9f * m[i] + g[i];
    w[i] -= 0.01f * m[i];
  }
}

/// Adam, lr 1e-3, betas (0.9, 0.999), eps 1e-8, bias-corrected; t counts from 1.
void adam(const Param& p, int64_t t) {
  constexpr float kLr = 1e-3f, kB1 = 0.9f, kB2 = 0.999f, kEps = 1e-8f;
  const float c1 = 1.0f / (1.0f - std::pow(kB1, static_cast<float>(t)));
  const float c2 = 1.0f / (1.0f - std::pow(kB2, static_cast<float>(t)));
  float* w = p.w.data();
  float* m = p.m.data();
  float* v = p.v.data();
  const float* g = p.g.data();
  const int64_t n = p.w.size();
#pragma omp parallel for simd if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    m[i] = kB1 * m[i] + (1.0f - kB1) * g[i];
    v[i] = kB2 * v[i] + (1.0f - kB2) * g[i] * g[i];
    w[i] -= kLr * (m[i] * c1) / (std::sqrt(v[i] * c2) + kEps);
  }
}

/// A learnable batch: sample i has class i % classes and is that class's
/// random prototype plus noise.
std::vector<int> synthetic_batch(const Tensor& x, int64_t n, int classes, std::mt19937& rng) {
  const int64_t features = x.size() / n;
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> protos(static_cast<size_t>(classes * features));
  for (float& v : protos) v = normal(rng);
  std::vector<int> labels(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    labels[i] = static_cast<int>(i % classes);
    for (int64_t f = 0; f < features; ++f)
      x.data()[i * features + f] = protos[labels[i] * features + f] + 0.5f * normal(rng);
  }
  return labels;
}

class Workload {
 public:
  virtual ~Workload() = default;
  /// One training step; returns the loss of its forward pass.
  virtual float step() = 0;
};

/// W1: MLP 784-256-256-10, relu, softmax cross-entropy, batch 128, SGD momentum.
class Mlp final : public Workload {
 public:
  explicit Mlp(uint32_t seed) {
    std::mt19937 rng(seed);
    x_ = r_.tensor(plain({kBatch, 784}));
    labels_ = synthetic_batch(x_, kBatch, 10, rng);
    layers_.reserve(3);
    layers_.push_back(inner_product(r_, x_, nullptr, 256, true, rng));
    layers_.push_back(inner_product(r_, layers_[0].dst, &layers_[0].diff_dst, 256, true, rng));
    layers_.push_back(inner_product(r_, layers_[1].dst, &layers_[1].diff_dst, 10, false, rng));
    r_.finalize();
  }

  float step() override {
    for (const Layer& l : layers_) r_.run(l.fwd);
    r_.wait();
    const float loss = softmax_cross_entropy(layers_[2].dst, labels_, layers_[2].diff_dst);
    for (int i = 2; i >= 0; --i) backward(r_, layers_[i]);
    for (const Layer& l : layers_) sgd_momentum(l.weights), sgd_momentum(l.bias);
    return loss;
  }

 private:
  static constexpr int64_t kBatch = 128;
  Runner r_;
  Tensor x_;
  std::vector<int> labels_;
  std::vector<Layer> layers_;
};

/// W2: LeNet-5 (conv5x5 6 pad 2, pool, conv5x5 16, pool, fc 120, 84, 10), batch 64, Adam.
class LeNet final : public Workload {
 public:
  explicit LeNet(uint32_t seed) {
    std::mt19937 rng(seed);
    x_ = r_.tensor(plain({kBatch, 1, 28, 28}));
    labels_ = synthetic_batch(x_, kBatch, 10, rng);
    conv1_ = convolution(r_, x_, nullptr, 6, 5, 2, tag::nChw16c, rng);  // layouts: top of file
    pool1_ = max_pool(r_, conv1_.dst, conv1_.diff_dst, tag::nhwc);
    conv2_ = convolution(r_, pool1_.dst, &pool1_.diff_dst, 16, 5, 0, tag::nhwc, rng);
    pool2_ = max_pool(r_, conv2_.dst, conv2_.diff_dst, tag::nhwc);
    fc1_ = inner_product(r_, pool2_.dst, &pool2_.diff_dst, 120, true, rng);
    fc2_ = inner_product(r_, fc1_.dst, &fc1_.diff_dst, 84, true, rng);
    fc3_ = inner_product(r_, fc2_.dst, &fc2_.diff_dst, 10, false, rng);
    r_.finalize();
  }

  float step() override {
    r_.run(conv1_.fwd);
    r_.wait();
    pool_forward(pool1_);
    r_.run(conv2_.fwd);
    r_.wait();
    pool_forward(pool2_);
    for (const Layer* l : {&fc1_, &fc2_, &fc3_}) r_.run(l->fwd);
    r_.wait();
    const float loss = softmax_cross_entropy(fc3_.dst, labels_, fc3_.diff_dst);
    for (const Layer* l : {&fc3_, &fc2_, &fc1_}) backward(r_, *l);
    pool_backward(pool2_);
    backward(r_, conv2_);
    pool_backward(pool1_);
    backward(r_, conv1_);
    ++t_;
    for (const Layer* l : {&conv1_, &conv2_, &fc1_, &fc2_, &fc3_}) adam(l->weights, t_), adam(l->bias, t_);
    return loss;
  }

 private:
  static constexpr int64_t kBatch = 64;
  Runner r_;
  Tensor x_;
  std::vector<int> labels_;
  Layer conv1_, conv2_, fc1_, fc2_, fc3_;
  Pool pool1_, pool2_;
  int64_t t_ = 0;
};

std::unique_ptr<Workload> make_workload(const std::string& name, uint32_t seed) {
  if (name == "mlp") return std::make_unique<Mlp>(seed);
  if (name == "lenet") return std::make_unique<LeNet>(seed);
  std::string known;
  for (const std::string& w : bound_workloads()) known += (known.empty() ? "" : ", ") + w;
  throw std::invalid_argument("no bound for workload '" + name + "' (known: " + known + ")");
}

// Sets the OpenMP thread count for a scope and restores it after.
class OmpThreads {
 public:
  explicit OmpThreads(int n) : saved_(omp_get_max_threads()) { omp_set_num_threads(std::max(1, n)); }
  ~OmpThreads() { omp_set_num_threads(saved_); }
  OmpThreads(const OmpThreads&) = delete;
  OmpThreads& operator=(const OmpThreads&) = delete;

 private:
  int saved_;
};

}  // namespace

std::vector<std::string> bound_workloads() { return {"mlp", "lenet"}; }

BoundTiming run_bound(const std::string& workload, int threads, int repeats, int steps, int warmup) {
  if (repeats < 1 || steps < 1)
    throw std::invalid_argument("run_bound needs repeats >= 1 and steps >= 1, got repeats " +
                                std::to_string(repeats) + ", steps " + std::to_string(steps));
  const OmpThreads scope(threads);  // before creation: primitives size their work by it
  const std::unique_ptr<Workload> w = make_workload(workload, 1234);
  for (int i = 0; i < warmup; ++i) w->step();
  BoundTiming t{workload, threads, {}, 0, 0, 0};
  for (int rep = 0; rep < repeats; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < steps; ++i) w->step();
    const std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - start;
    t.ms_per_step.push_back(elapsed.count() / steps);
  }
  std::vector<double> sorted = t.ms_per_step;
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();
  t.median_ms = n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  t.min_ms = sorted.front();
  t.max_ms = sorted.back();
  return t;
}

double bound_check(const std::string& workload) {
  const std::unique_ptr<Workload> w = make_workload(workload, 42);
  const float first = w->step();
  float last = first;
  for (int i = 1; i < 30; ++i) last = w->step();
  return static_cast<double>(last) / static_cast<double>(first);
}

}  // namespace plexus::bench
