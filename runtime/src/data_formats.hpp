// Internal to libplexus_runtime: the per-format readers behind load_dataset
// (data.cpp) and read_npy (npy.cpp). Not installed.
#ifndef PLEXUS_RUNTIME_DATA_FORMATS_HPP
#define PLEXUS_RUNTIME_DATA_FORMATS_HPP

#include <plexus/data.hpp>
#include <plexus/tensor.hpp>

#include <cstdint>
#include <string>

namespace plexus::detail {

/// The whole content of `path`. With `gunzip`, a file starting with the gzip
/// magic bytes 1f 8b is decompressed (zlib); otherwise the bytes are returned
/// as they are. Throws Error(kIo) when the file cannot be opened or read and
/// Error(kFormat) for a corrupt or truncated gzip stream.
std::string read_file_bytes(const std::string& path, bool gunzip);

/// An IDX file (gzip or plain), any IDX element type, as an f32 tensor with
/// the file's shape: [N] for labels, [N, 28, 28] for MNIST images.
Tensor load_idx(const std::string& path);

struct CsvTable {
  Tensor features;  // [N, columns - 1]
  Tensor labels;    // [N]
};

/// A CSV file of numbers (gzip or plain). `header`: auto | sklearn | none |
/// names; `label_column` may be negative (counted from the end).
CsvTable load_csv(const std::string& path, int64_t label_column, const std::string& header);

/// Checks the values of a DataSpec that need no file (header, split,
/// label_map, ranges); throws Error(kInvalid) starting with `where`.
void validate_data_spec(const DataSpec& spec, const std::string& where);

}  // namespace plexus::detail

#endif
