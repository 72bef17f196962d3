// load_dataset: read the file(s), take the row range and the seeded split,
// scale and standardize the features, map the labels. Plus batch orders.
//
// Shuffles are our own Fisher-Yates over std::mt19937_64 (whose output the
// standard fixes), never std::shuffle or std::uniform_int_distribution (whose
// algorithms it does not), so a seed gives the same rows with every library.
#include "data_formats.hpp"

#include <plexus/data.hpp>
#include <plexus/error.hpp>
#include <plexus/npy.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>

namespace plexus {

namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

/// Uniform in [0, bound), bound >= 1, by rejection (no modulo bias).
uint64_t uniform_below(std::mt19937_64& rng, uint64_t bound) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;  // a multiple of bound
  uint64_t x = rng();
  while (x >= limit) x = rng();
  return x % bound;
}

void fisher_yates(std::vector<int64_t>& v, std::mt19937_64& rng) {
  for (size_t i = v.size(); i > 1; --i) {
    const auto j = static_cast<size_t>(uniform_below(rng, i));
    std::swap(v[i - 1], v[j]);
  }
}

std::string guess_format(const std::string& path) {
  const std::string name = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  auto ends_with = [&](const std::string& suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with(".npy")) return "npy";
  if (ends_with(".csv") || ends_with(".csv.gz")) return "csv";
  if (name.find("idx") != std::string::npos || name.find("ubyte") != std::string::npos) return "idx";
  throw Error(ErrorCode::kInvalid, "cannot guess the data format of '" + path +
                                       "' from its name (.npy, .csv, .csv.gz, or idx/ubyte in the name); "
                                       "give it as FORMAT:PATH or set format (known: idx, csv, npy)");
}

/// Labels read from their own file: one per sample ([N] or [N, 1], flattened
/// to [N]), or a target tensor per sample ([N, K...], kept: regression targets
/// such as the codes a sparse coder should output).
Tensor load_label_file(const std::string& format, const std::string& path) {
  Tensor y = format == "idx" ? detail::load_idx(path) : read_npy(path);
  if (y.ndim() < 1)
    throw Error(ErrorCode::kFormat, "labels file '" + path + "' holds a scalar; expected one label per sample, [N] "
                                        "or [N, 1], or a target per sample, [N, K...]");
  return y.numel() == y.dim(0) ? y.reshape({y.dim(0)}) : y;
}

struct Raw {
  Tensor features;
  Tensor labels;  // undefined when the spec names no labels
};

Raw load_raw(const std::string& format, const DataSpec& spec) {
  Raw raw;
  if (format == "csv") {
    if (!spec.labels_path.empty())
      throw Error(ErrorCode::kInvalid, "data spec for '" + spec.path + "': a CSV file holds its labels in a column "
                                           "(label_column); labels='" + spec.labels_path + "' is not used with csv");
    detail::CsvTable t = detail::load_csv(spec.path, spec.label_column, spec.header);
    raw.features = t.features;
    raw.labels = t.labels;
    return raw;
  }
  raw.features = format == "idx" ? detail::load_idx(spec.path) : read_npy(spec.path);
  if (raw.features.ndim() < 1)
    throw Error(ErrorCode::kFormat, "features file '" + spec.path + "' holds a scalar; expected [N, ...] samples");
  if (format == "idx" && raw.features.ndim() > 2) {  // images [N, 28, 28] -> [N, 784]
    const int64_t n = raw.features.dim(0);
    raw.features = raw.features.reshape({n, n == 0 ? 0 : raw.features.numel() / n});
  }
  if (!spec.labels_path.empty()) {
    raw.labels = load_label_file(format, spec.labels_path);
    if (raw.labels.dim(0) != raw.features.dim(0))
      throw Error(ErrorCode::kFormat, "labels file '" + spec.labels_path + "' has " +
                                          std::to_string(raw.labels.dim(0)) + " labels but features file '" +
                                          spec.path + "' has " + std::to_string(raw.features.dim(0)) + " samples");
  }
  return raw;
}

/// Scales `x` in place, then standardizes each feature with the mean and
/// standard deviation (population, ddof 0) of rows `stat_rows` of `src`
/// scaled the same way. A feature with zero spread is only centred.
void preprocess(Tensor& x, const Tensor& src, const std::vector<int64_t>& stat_rows, const DataSpec& spec) {
  const int64_t n = x.dim(0);
  const int64_t d = n == 0 ? 0 : x.numel() / n;
  const double scale = spec.scale != 0.0 ? spec.scale : 1.0;
  float* px = x.data();
  if (spec.scale != 0.0)
    for (int64_t i = 0; i < x.numel(); ++i) px[i] = static_cast<float>(px[i] * scale);
  if (!spec.standardize) return;
  std::vector<double> mean(static_cast<size_t>(d), 0.0), var(static_cast<size_t>(d), 0.0);
  const float* ps = src.data();
  for (int64_t r : stat_rows)
    for (int64_t j = 0; j < d; ++j) mean[static_cast<size_t>(j)] += ps[r * d + j] * scale;
  const double count = static_cast<double>(stat_rows.size());
  for (double& m : mean) m /= count;
  for (int64_t r : stat_rows)
    for (int64_t j = 0; j < d; ++j) {
      const double e = ps[r * d + j] * scale - mean[static_cast<size_t>(j)];
      var[static_cast<size_t>(j)] += e * e;
    }
  for (int64_t j = 0; j < d; ++j) {
    const double sd = std::sqrt(var[static_cast<size_t>(j)] / count);
    const double inv = sd > 0.0 ? 1.0 / sd : 1.0;
    for (int64_t i = 0; i < n; ++i) {
      float& v = px[i * d + j];
      v = static_cast<float>((v - mean[static_cast<size_t>(j)]) * inv);
    }
  }
}

/// Maps labels `y` (gathered rows `rows` of the file, for messages) as asked;
/// `all` are every label of the file, which fix num_classes for onehot so that
/// every part of a split gets the same width.
Tensor map_labels(const Tensor& y, const Tensor& all, const std::vector<int64_t>& rows, const DataSpec& spec,
                  const std::string& file) {
  if (spec.label_map == "index") return y;
  const float* py = y.data();
  if (spec.label_map == "pm1") {
    Tensor out = Tensor::empty(y.shape());
    for (int64_t i = 0; i < y.numel(); ++i) {
      if (py[i] != 0.0f && py[i] != 1.0f)
        throw Error(ErrorCode::kInvalid, "label_map=pm1 needs labels 0 or 1, found " + num(py[i]) +
                                             " in sample " + std::to_string(rows[static_cast<size_t>(i)]) + " of '" +
                                             file + "'; use label_map=index or onehot for more classes");
      out.data()[i] = py[i] == 0.0f ? -1.0f : 1.0f;
    }
    return out;
  }
  // onehot
  if (y.numel() != y.dim(0))
    throw Error(ErrorCode::kInvalid, "label_map=onehot needs one class index per sample, but '" + file +
                                         "' holds a target of shape " + Shape(std::span<const int64_t>(y.shape().data() + 1, static_cast<size_t>(y.ndim() - 1))).str() +
                                         " per sample");
  auto check_index = [&](float v, int64_t row) {
    if (!(v >= 0.0f) || v != std::floor(v) || v > 1e9f)
      throw Error(ErrorCode::kInvalid, "label_map=onehot needs class indices 0, 1, 2, ...; found " +
                                           num(v) + " in sample " + std::to_string(row) + " of '" + file + "'");
  };
  int64_t classes = spec.num_classes;
  if (classes == 0) {
    for (int64_t i = 0; i < all.numel(); ++i) {
      check_index(all.data()[i], i);
      classes = std::max(classes, static_cast<int64_t>(all.data()[i]) + 1);
    }
  }
  const int64_t n = y.numel();
  Tensor out = Tensor::zeros({n, classes});
  for (int64_t i = 0; i < n; ++i) {
    const int64_t row = rows[static_cast<size_t>(i)];
    check_index(py[i], row);
    const auto c = static_cast<int64_t>(py[i]);
    if (c >= classes)
      throw Error(ErrorCode::kInvalid, "label " + std::to_string(c) + " in sample " + std::to_string(row) + " of '" +
                                           file + "' is not below num_classes " + std::to_string(classes));
    out.data()[i * classes + c] = 1.0f;
  }
  return out;
}

}  // namespace

Dataset load_dataset(const DataSpec& spec) {
  detail::validate_data_spec(spec, "data spec for '" + spec.path + "'");
  const std::string format = spec.format.empty() ? guess_format(spec.path) : spec.format;
  Raw raw = load_raw(format, spec);
  const std::string label_file = format == "csv" ? spec.path : spec.labels_path;

  const int64_t total = raw.features.dim(0);
  const int64_t begin = spec.row_begin;
  const int64_t end = spec.row_end == 0 ? total : spec.row_end;
  if (begin > end || end > total)
    throw Error(ErrorCode::kInvalid, "rows " + std::to_string(begin) + ":" + std::to_string(end) +
                                         " are out of range: '" + spec.path + "' has " + std::to_string(total) + " rows");

  std::vector<int64_t> order(static_cast<size_t>(end - begin));
  std::iota(order.begin(), order.end(), begin);
  std::vector<int64_t> train = order, selected = order;
  if (!spec.split.empty()) {
    std::mt19937_64 rng(spec.split_seed);
    fisher_yates(order, rng);
    const auto n_test = static_cast<size_t>(std::llround(spec.test_fraction * static_cast<double>(order.size())));
    const auto cut = order.begin() + static_cast<std::ptrdiff_t>(order.size() - n_test);
    train.assign(order.begin(), cut);
    selected = spec.split == "train" ? train : std::vector<int64_t>(cut, order.end());
  }
  if (selected.empty())
    throw Error(ErrorCode::kInvalid, "data spec for '" + spec.path + "' selects no rows (rows " +
                                         std::to_string(begin) + ":" + std::to_string(end) +
                                         (spec.split.empty() ? "" : ", split=" + spec.split + ", test_fraction=" + num(spec.test_fraction)) + ")");
  if (spec.standardize && train.empty())
    throw Error(ErrorCode::kInvalid, "data spec for '" + spec.path + "': standardize needs training rows, but "
                                         "test_fraction=" + num(spec.test_fraction) + " leaves none");

  Dataset ds;
  ds.source = spec.labels_path.empty() ? spec.path : spec.path + " + " + spec.labels_path;
  ds.features = gather_rows(raw.features, selected);
  preprocess(ds.features, raw.features, train, spec);
  if (raw.labels.defined()) {
    ds.labels = map_labels(gather_rows(raw.labels, selected), raw.labels, selected, spec, label_file);
  } else if (spec.label_map != "index") {
    throw Error(ErrorCode::kInvalid, "data spec for '" + spec.path + "': label_map=" + spec.label_map +
                                         " needs labels, but no labels file is given (labels=PATH)");
  }
  return ds;
}

std::vector<int64_t> batch_order(int64_t n, bool shuffle, std::mt19937_64& rng) {
  if (n < 0) throw Error(ErrorCode::kInvalid, "batch_order: negative sample count " + std::to_string(n));
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  if (shuffle) fisher_yates(order, rng);
  return order;
}

Tensor gather_rows(const Tensor& src, std::span<const int64_t> index) {
  if (!src.defined() || src.ndim() < 1)
    throw Error(ErrorCode::kInvalid, "gather_rows: the source must be a defined tensor of rank >= 1, got " +
                                         (src.defined() ? src.shape().str() : std::string("an undefined tensor")));
  const int64_t n = src.dim(0);
  const int64_t row = n == 0 ? 0 : src.numel() / n;
  Shape shape = src.shape();
  shape[0] = static_cast<int64_t>(index.size());
  Tensor dst = Tensor::empty(shape);
  for (size_t i = 0; i < index.size(); ++i) {
    const int64_t r = index[i];
    if (r < 0 || r >= n)
      throw Error(ErrorCode::kInvalid, "gather_rows: row index " + std::to_string(r) + " at position " +
                                           std::to_string(i) + " is outside [0, " + std::to_string(n) + ") of " +
                                           src.shape().str());
    std::memcpy(dst.data() + static_cast<int64_t>(i) * row, src.data() + r * row,
                static_cast<size_t>(row) * sizeof(float));
  }
  return dst;
}

}  // namespace plexus
