// Function multiversioning for the plugins' own loops.
//
// The plugins are built for baseline x86-64 (SSE2), so a loop GCC vectorizes
// gets 4 floats per instruction on a machine that could do 16. A function
// marked PLEXUS_CLONES is compiled three times, for AVX-512 (x86-64-v4),
// AVX2 + FMA (x86-64-v3) and the baseline, and the dynamic loader picks the
// best one for the CPU once, at load time (an ifunc).
//
//   PLEXUS_CLONES void kernel(const float* x, float* y, int64_t n);
//
// With `flatten` as well, everything it calls is inlined into each clone,
// so templates and helpers are compiled for the clone's instruction set too.
// Mark only the loops: GCC outlines an OpenMP parallel region into a function
// of its own, which is not cloned, so keep regions in unmarked callers.
#ifndef PLEXUS_PLUGINS_CLONES_HPP
#define PLEXUS_PLUGINS_CLONES_HPP

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define PLEXUS_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#define PLEXUS_CLONES_FLATTEN __attribute__((flatten, target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define PLEXUS_CLONES
#define PLEXUS_CLONES_FLATTEN __attribute__((flatten))
#endif

#endif  // PLEXUS_PLUGINS_CLONES_HPP
