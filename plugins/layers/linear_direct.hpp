// linear's own loops for the shapes where oneDNN's inner product costs more
// to call than to compute: a single sample (a matrix-vector product) and tiny
// layers. Plain row-major buffers, as in Linear:
//   src [batch, in], weights [out, in], bias [out] (or null), dst [batch, out].
//
// Each dst element is one dot product summed in a fixed order, so results do
// not depend on the OpenMP team size. The forward dot products are summed in
// eight-lane vectors, the backward ones with `omp simd` loops; either way
// lanes are added in a tree, not left to right.
#ifndef PLEXUS_PLUGINS_LAYERS_LINEAR_DIRECT_HPP
#define PLEXUS_PLUGINS_LAYERS_LINEAR_DIRECT_HPP

#include <cstdint>

namespace plexus::plugins::linear_direct {

/// dst = src W^T + b, then max(., 0) when `relu`. Splits the outputs over the
/// OpenMP team when the layer is large enough to pay for it.
void forward(const float* src, const float* weights, const float* bias, float* dst, int64_t batch, int64_t in,
             int64_t out, bool relu);

/// diff_src = diff_dst W.
void backward_data(const float* diff_dst, const float* weights, float* diff_src, int64_t batch, int64_t in,
                   int64_t out);

/// diff_weights = diff_dst^T src (when non-null), diff_bias = column sums of
/// diff_dst (when non-null).
void backward_weights(const float* src, const float* diff_dst, float* diff_weights, float* diff_bias, int64_t batch,
                      int64_t in, int64_t out);

}  // namespace plexus::plugins::linear_direct

#endif  // PLEXUS_PLUGINS_LAYERS_LINEAR_DIRECT_HPP
