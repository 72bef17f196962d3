#include "experiment.hpp"

#include <plexus/error.hpp>

#include <algorithm>
#include <filesystem>
#include <span>
#include <system_error>

namespace plexus::experiments {

std::string model_path(const Options& o, const std::string& file) {
  const std::string path = o.models_dir + "/" + file;
  if (!std::filesystem::is_regular_file(path))
    throw Error(ErrorCode::kNotFound, path + ": no such model definition (run from the project root, or pass "
                                             "--models DIR with the folder holding " + file + ")");
  return path;
}

std::string out_path(const Options& o, const std::string& file) {
  std::error_code ec;
  std::filesystem::create_directories(o.out_dir, ec);
  if (ec) throw Error(ErrorCode::kInvalid, "cannot create the output folder '" + o.out_dir + "': " + ec.message());
  return o.out_dir + "/" + file;
}

void say(const Options& o, const std::string& line) {
  if (o.log) o.log(line);
}

RuntimeOptions runtime_options(const Options& o, int default_threads) {
  RuntimeOptions ro;
  ro.threads = o.threads != 0 ? o.threads : default_threads;
  return ro;
}

Dataset make_dataset(std::vector<float> features, int64_t dim, std::vector<float> labels, int64_t label_dim,
                     const std::string& source) {
  const int64_t n = dim > 0 ? static_cast<int64_t>(features.size()) / dim : 0;
  if (n * dim != static_cast<int64_t>(features.size()) ||
      static_cast<int64_t>(labels.size()) != n * std::max<int64_t>(label_dim, 1))
    throw Error(ErrorCode::kInternal, source + ": features and labels do not hold the same number of samples");
  Dataset d;
  d.features = Tensor::from(Shape{n, dim}, features);
  d.labels = label_dim == 0 ? Tensor::from(Shape{n}, labels) : Tensor::from(Shape{n, label_dim}, labels);
  d.source = source;
  return d;
}

std::vector<float> predict(const Model& model, const std::vector<float>& x, int64_t dim) {
  const int64_t n = static_cast<int64_t>(x.size()) / dim;
  constexpr int64_t kBatch = 1024;
  std::vector<float> out;
  for (int64_t b = 0; b < n; b += kBatch) {
    const int64_t rows = std::min(kBatch, n - b);
    Tape tape;
    NoGrad no_grad(tape);
    const Tensor in = Tensor::from(Shape{rows, dim}, std::span<const float>(x.data() + b * dim, static_cast<size_t>(rows * dim)));
    const Model::Forward fw = model.forward(tape, {{model.feature_input(), in}}, /*training=*/false, /*with_loss=*/false);
    const Tensor& y = fw.output.data();
    out.insert(out.end(), y.data(), y.data() + y.numel());
  }
  return out;
}

std::pair<double, double> fit_line(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sx += x[i];
    sy += y[i];
    sxx += x[i] * x[i];
    sxy += x[i] * y[i];
  }
  const double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  return {slope, (sy - slope * sx) / n};
}

}  // namespace plexus::experiments
