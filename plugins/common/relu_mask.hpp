// relu's backward from its dst: out = diff_dst where dst > 0, else +0, also
// where diff_dst is NaN, inf or negative (PyTorch's threshold_backward; not
// oneDNN's diff_dst * 0, which passes NaN and gives -0). Elementwise, so the
// bits do not depend on how the work is split. Compiled into each plugin
// that uses it (relu_mask.cpp; the parallel form needs OpenMP).
#ifndef PLEXUS_PLUGINS_COMMON_RELU_MASK_HPP
#define PLEXUS_PLUGINS_COMMON_RELU_MASK_HPP

#include <cstdint>

namespace plexus::plugins {

/// On the calling thread.
void relu_mask(const float* dst, const float* diff_dst, float* out, int64_t n);
/// Split over the calling thread's OpenMP team (16K floats a work item).
void relu_mask_parallel(const float* dst, const float* diff_dst, float* out, int64_t n);

}  // namespace plexus::plugins

#endif  // PLEXUS_PLUGINS_COMMON_RELU_MASK_HPP
