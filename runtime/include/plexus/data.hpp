// Data sets: IDX (MNIST, gzip or plain), CSV (with or without the
// scikit-learn header line), NumPy .npy; preprocessing, seeded splits, batches.
//
//   plexus::DataSpec spec = plexus::parse_data_spec("idx:data/images-idx3-ubyte.gz,labels=data/labels-idx1-ubyte.gz,rows=0:8000,scale=0.00392156862745098");
//   plexus::Dataset train = plexus::load_dataset(spec);   // features [8000, 784], labels [8000]
//   auto order = plexus::batch_order(train.size(), /*shuffle=*/true, rng);
//   plexus::Tensor x = plexus::gather_rows(train.features, std::span(order).subspan(0, 32));
//
// Errors name the file and, where it applies, the line or byte offset and the
// expected vs found value.
#ifndef PLEXUS_DATA_HPP
#define PLEXUS_DATA_HPP

#include <plexus/tensor.hpp>

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace plexus {

namespace proto {
class DataSpec;
}

/// Where a data set comes from and how it is prepared. Mirrors proto::DataSpec.
struct DataSpec {
  std::string format;          // "idx" | "csv" | "npy"; empty: guessed from the path
  std::string path;            // features: idx images, csv file, npy array
  std::string labels_path;     // idx or npy labels: [N] or a target per sample [N, K...] (csv: a column)
  int64_t label_column = -1;   // csv: negative counts from the end
  std::string header = "auto"; // csv: auto | sklearn | none | names
  int64_t row_begin = 0;       // rows [row_begin, row_end) of the file; row_end 0 = all
  int64_t row_end = 0;
  std::string split;           // "" (all), "train", "test": seeded split of those rows
  double test_fraction = 0.2;
  uint64_t split_seed = 0;
  double scale = 0.0;          // features *= scale when non-zero (before standardizing)
  bool standardize = false;    // (x - mean) / std, statistics of the train part of the split
  std::string label_map = "index";  // index | pm1 (0/1 -> -1/+1) | onehot
  int64_t num_classes = 0;     // onehot; 0 = max label + 1
};

/// From a model file's DataSpec; relative paths resolve against `base_dir`.
DataSpec data_spec_from_proto(const proto::DataSpec& p, const std::string& base_dir);

/// Command-line form: "FORMAT:PATH[,key=value...]" or "PATH[,key=value...]".
/// Keys: labels, label_column, header, rows (B:E), split, test_fraction,
/// split_seed, scale, standardize (0/1), label_map, num_classes.
/// Relative paths resolve against `base_dir` (the working directory if empty).
DataSpec parse_data_spec(const std::string& text, const std::string& base_dir = "");

struct Dataset {
  Tensor features;             // [N, D...] f32
  Tensor labels;               // [N] (index, pm1), [N, num_classes] (onehot) or [N, K...] (targets from a labels file)
  std::string source;          // for messages: the path(s)
  int64_t size() const { return features.defined() ? features.dim(0) : 0; }
};

Dataset load_dataset(const DataSpec& spec);

/// The sample order for one epoch: 0..n-1, shuffled with `rng` if asked.
std::vector<int64_t> batch_order(int64_t n, bool shuffle, std::mt19937_64& rng);
/// Rows `index` of `src` (any rank >= 1), stacked into a new tensor.
Tensor gather_rows(const Tensor& src, std::span<const int64_t> index);

}  // namespace plexus

#endif
