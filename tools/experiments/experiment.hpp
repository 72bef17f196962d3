// The course's experiments (docs/experiments.md): each one trains or runs
// model definitions from models/ on seeded data, writes the numbers (CSV) and
// the pictures (SVG, and report.html embedding them) into an output folder,
// and returns its figures so that a test can check the claim on a reduced run.
//
//   plexus::experiments::Options o;
//   o.out_dir = "runs/approx";
//   o.reduced = true;                      // the test suite's small version
//   auto r = plexus::experiments::run_approximation(o);
//   // r.sup_error[i] for r.widths[i]; runs/approx/report.html, approx.csv, approx.svg
#ifndef PLEXUS_EXPERIMENTS_EXPERIMENT_HPP
#define PLEXUS_EXPERIMENTS_EXPERIMENT_HPP

#include <plexus/data.hpp>
#include <plexus/model.hpp>
#include <plexus/runtime.hpp>

#include <cstdint>
#include <functional>
#include <utility>
#include <string>
#include <vector>

namespace plexus::experiments {

struct Options {
  std::string models_dir = "models";  ///< where the experiment's model definitions are
  std::string out_dir = ".";          ///< created if missing; report.html, *.csv, *.svg go here
  bool reduced = false;               ///< the small version the test suite runs
  /// Thread budget; 0: the experiment's choice (one thread for the small
  /// models of experiments 1-4, whose ops are too small to split; all
  /// hardware threads for LISTA).
  int threads = 0;
  uint64_t seed = 1;                  ///< data, initialization and shuffling
  std::function<void(const std::string&)> log;  ///< progress lines; empty: silent
};

/// `models_dir/file`, checked to exist (the error says to run from the project
/// root or pass --models).
std::string model_path(const Options& o, const std::string& file);
/// Creates o.out_dir (and parents) if missing; returns `out_dir/file`.
std::string out_path(const Options& o, const std::string& file);
/// Passes a line to o.log if set.
void say(const Options& o, const std::string& line);
/// Runtime options with o.threads, or `default_threads` when that is 0.
RuntimeOptions runtime_options(const Options& o, int default_threads = 1);

/// A data set held in memory: features [N, dim]; labels [N] (label_dim 0: one
/// scalar per sample) or [N, label_dim].
Dataset make_dataset(std::vector<float> features, int64_t dim, std::vector<float> labels, int64_t label_dim,
                     const std::string& source);

/// The model's output for the rows of `x` ([n, dim] row-major), in eval mode
/// and without a tape, flattened row by row.
std::vector<float> predict(const Model& model, const std::vector<float>& x, int64_t dim);

/// Least-squares slope and intercept of y against x.
std::pair<double, double> fit_line(const std::vector<double>& x, const std::vector<double>& y);

// ---- 1. Logistic regression, separable vs non-separable (models/logreg_2d.pbtxt, models/mlp_rings.pbtxt)
struct SeparabilityResult {
  double logreg_separable_acc = 0.0;  ///< training accuracy, linearly separable blobs
  double logreg_rings_acc = 0.0;      ///< training accuracy, concentric rings
  double mlp_rings_acc = 0.0;         ///< training accuracy of the 16-unit ReLU network on the rings
};
SeparabilityResult run_separability(const Options& o);

// ---- 2. Universal approximation (models/approx_1d.pbtxt)
struct ApproximationResult {
  std::vector<int64_t> widths;        ///< hidden widths m
  std::vector<double> sup_error;      ///< max |f(a) - g(a)| on a fine grid of [0, 1]
};
ApproximationResult run_approximation(const Options& o);

// ---- 3. The non-convex toy f(a) = w2 w1 a (models/toy_w2w1.pbtxt)
struct ToyResult {
  struct Run {
    double w1_start, w2_start;
    double w1, w2;                    ///< where SGD ended
    double loss;                      ///< (1 - w2 w1)^2 there
  };
  double midpoint_convex_gap = 0.0;   ///< L((p+q)/2) - (L(p)+L(q))/2 > 0: not convex
  double midpoint_concave_gap = 0.0;  ///< (L(p)+L(q))/2 - L((p+q)/2) > 0 for other p, q: not concave
  std::vector<Run> runs;              ///< the last one starts at (0, 0)
};
ToyResult run_toy(const Options& o);

// ---- 4. SGD convergence rate (models/logreg_breast_cancer.pbtxt)
struct SgdRateResult {
  double lipschitz = 0.0;             ///< L of the full-batch loss gradient
  std::vector<int64_t> steps;         ///< N
  std::vector<double> mean_sq_grad;   ///< (1/N) sum_t ||grad L(theta_t)||^2
  double slope = 0.0;                 ///< least-squares slope of log(mean_sq_grad) against log(N)
};
SgdRateResult run_sgd_rate(const Options& o);

// ---- 6. LISTA vs ISTA (models/lista.pbtxt)
struct ListaResult {
  std::vector<int64_t> lista_T;        ///< T: LISTA-T has T+1 shrinkage layers (z_0 ... z_T)
  std::vector<double> lista_error;     ///< test code error of LISTA-T after training
  std::vector<double> ista_error;      ///< ista_error[k-1]: test code error after k ISTA iterations
  std::vector<int64_t> ista_matching;  ///< per T: the fewest ISTA iterations whose error <= LISTA-T's (0: none up to the last)
  double train_seconds = 0.0;          ///< training all LISTA models
  // The model's ISTA (f32, through the runtime) against ISTA in double, at a few k:
  std::vector<int64_t> ista_check_k;         ///< iteration counts checked
  std::vector<double> ista_check_max_diff;   ///< max |z_model - z_double| over test samples and units
  std::vector<double> ista_check_error;      ///< code error of the double ISTA after k iterations
};
ListaResult run_lista(const Options& o);

}  // namespace plexus::experiments

#endif
