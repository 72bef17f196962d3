// NumPy .npy files (format 1.0 to 3.0, C order): read any of f32, f64,
// signed/unsigned integers and uint8 into an f32 Tensor; write f32.
//
//   plexus::Tensor w = plexus::read_npy("fc1.weights.npy");
//   plexus::write_npy("out/fc1.weights.npy", w);   // temporary file + rename
#ifndef PLEXUS_NPY_HPP
#define PLEXUS_NPY_HPP

#include <plexus/tensor.hpp>

#include <string>

namespace plexus {

/// Throws Error(kFormat) naming the file and the problem (bad magic, Fortran
/// order, unsupported dtype, size mismatch with the header's shape).
Tensor read_npy(const std::string& path);
/// Writes little-endian f32 '<f4', C order; atomically (temp file, fsync, rename).
void write_npy(const std::string& path, const Tensor& t);

}  // namespace plexus

#endif
