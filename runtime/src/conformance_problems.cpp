// The conformance checker's convergence problems: a quadratic of condition
// number 100, Rosenbrock, and full-batch logistic regression. Gradients are
// computed in double from the f32 parameter and rounded to f32 once, as the
// runtime hands them to a kernel.
#include "conformance_detail.hpp"

#include <cmath>
#include <cstdio>
#include <limits>

namespace plexus::conformance {

namespace {

class Problem {
 public:
  virtual ~Problem() = default;
  virtual const char* name() const = 0;
  virtual std::vector<float> x0() const = 0;
  virtual int64_t max_steps() const = 0;
  virtual double tolerance() const = 0;
  /// "f/f(x0)"-style text of what metric() measures.
  virtual const char* metric_name() const = 0;
  /// Writes the gradient at x into g; returns the convergence metric at x.
  virtual double eval(const float* x, float* g) const = 0;
  /// Past this metric the run has diverged and stops.
  virtual double diverged_above() const = 0;
};

class Quadratic : public Problem {
 public:
  Quadratic() {
    for (int i = 0; i < kDim; ++i) {
      a_[i] = std::pow(100.0, i / (kDim - 1.0));
      f0_ += 0.5 * a_[i];
    }
  }
  const char* name() const override { return "quadratic"; }
  std::vector<float> x0() const override { return std::vector<float>(kDim, 1.0f); }
  int64_t max_steps() const override { return 20000; }
  double tolerance() const override { return 1e-6; }
  const char* metric_name() const override { return "f/f(x0)"; }
  double diverged_above() const override { return 1e6; }
  double eval(const float* x, float* g) const override {
    double f = 0;
    for (int i = 0; i < kDim; ++i) {
      const double xi = x[i];
      g[i] = static_cast<float>(a_[i] * xi);
      f += 0.5 * a_[i] * xi * xi;
    }
    return f / f0_;
  }

 private:
  static constexpr int kDim = 10;
  double a_[kDim] = {};
  double f0_ = 0;
};

class Rosenbrock : public Problem {
 public:
  const char* name() const override { return "rosenbrock"; }
  std::vector<float> x0() const override { return {-1.2f, 1.0f}; }
  int64_t max_steps() const override { return 50000; }
  double tolerance() const override { return 1e-2; }
  const char* metric_name() const override { return "||(x, y) - (1, 1)||"; }
  double diverged_above() const override { return 1e3; }
  double eval(const float* p, float* g) const override {
    const double x = p[0], y = p[1], r = y - x * x;
    g[0] = static_cast<float>(-2.0 * (1.0 - x) - 400.0 * x * r);
    g[1] = static_cast<float>(200.0 * r);
    return std::hypot(x - 1.0, y - 1.0);
  }
};

/// mean_j log(1 + exp(-y_j (w0 u_j + w1 v_j + b))) on two overlapping Gaussian
/// clouds; the metric is the gap to the optimum L*.
class Logistic : public Problem {
 public:
  Logistic() {
    uint64_t state = 0x5eed;
    auto uniform = [&state] {  // splitmix64 in (0, 1]: the same data on every platform
      uint64_t z = (state += 0x9E3779B97F4A7C15ull);
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      return (static_cast<double>((z ^ (z >> 31)) >> 11) + 1.0) * 0x1.0p-53;
    };
    for (int j = 0; j < kPoints; ++j) {
      const double rad = std::sqrt(-2.0 * std::log(uniform())), ang = 6.283185307179586 * uniform();
      y_[j] = j % 2 == 0 ? 1.0 : -1.0;
      u_[j] = 2.0 + 1.0 * y_[j] + 3.0 * rad * std::cos(ang);  // features of different scales and
      v_[j] = -1.0 + 0.4 * y_[j] + 0.5 * rad * std::sin(ang);  // offsets: an ill-conditioned Hessian
    }
    optimum_ = reference_optimum();
  }
  const char* name() const override { return "logistic"; }
  std::vector<float> x0() const override { return {0.0f, 0.0f, 0.0f}; }
  int64_t max_steps() const override { return 20000; }
  double tolerance() const override { return 1e-3; }
  const char* metric_name() const override { return "loss - L*"; }
  double diverged_above() const override { return 1e2; }
  double eval(const float* x, float* g) const override {
    const double w[3] = {x[0], x[1], x[2]};
    double gd[3];
    const double loss = loss_and_grad(w, gd);
    for (int i = 0; i < 3; ++i) g[i] = static_cast<float>(gd[i]);
    return loss - optimum_;
  }

 private:
  static constexpr int kPoints = 200;

  double loss_and_grad(const double* w, double* g) const {
    double loss = 0;
    g[0] = g[1] = g[2] = 0;
    for (int j = 0; j < kPoints; ++j) {
      const double m = -y_[j] * (w[0] * u_[j] + w[1] * v_[j] + w[2]);
      loss += std::max(m, 0.0) + std::log1p(std::exp(-std::abs(m)));
      const double s = -y_[j] / (1.0 + std::exp(-m));  // d loss_j / d z_j
      g[0] += s * u_[j];
      g[1] += s * v_[j];
      g[2] += s;
    }
    for (int i = 0; i < 3; ++i) g[i] /= kPoints;
    return loss / kPoints;
  }

  /// Plain gradient descent in double with step 1/L, L = trace bound of the
  /// Hessian, until ||grad|| < 1e-10 (the data are not separable).
  double reference_optimum() const {
    double lip = 0;
    for (int j = 0; j < kPoints; ++j) lip += 0.25 * (u_[j] * u_[j] + v_[j] * v_[j] + 1.0) / kPoints;
    double w[3] = {0, 0, 0}, g[3];
    double loss = loss_and_grad(w, g);
    for (int it = 0; it < 1000000 && std::sqrt(g[0] * g[0] + g[1] * g[1] + g[2] * g[2]) >= 1e-10; ++it) {
      for (int i = 0; i < 3; ++i) w[i] -= g[i] / lip;
      loss = loss_and_grad(w, g);
    }
    return loss;
  }

  double u_[kPoints] = {}, v_[kPoints] = {}, y_[kPoints] = {};
  double optimum_ = 0;
};

struct Outcome {
  bool converged = false;
  bool failed = false;  // the kernel returned an error
  int64_t steps = 0;
  double metric = 0;
  std::string message;
};

Outcome run(Stepper& s, const Problem& p, double lr) {
  const std::vector<float> x0 = p.x0();
  s.reset(x0);
  Outcome o;
  for (int64_t t = 0;; ++t) {
    o.steps = t;
    o.metric = p.eval(s.param(), s.grad());
    if (o.metric < p.tolerance()) {
      o.converged = true;
      return o;
    }
    if (!std::isfinite(o.metric) || o.metric > p.diverged_above() || t == p.max_steps()) return o;
    if (!s.step(t, lr, o.message)) {
      o.failed = true;
      return o;
    }
  }
}

std::string sci(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3e", v);
  return buf;
}

CheckResult check_problem(const OptimizerKernel& k, const ResolvedAttrs& hp, const Problem& p) {
  const std::string name = k.name() + "." + p.name();
  const std::string goal = std::string(p.metric_name()) + " < " + lr_text(p.tolerance()) + " within " +
                           std::to_string(p.max_steps()) + " steps";
  Stepper s(k, hp, static_cast<int64_t>(p.x0().size()));
  double best = std::numeric_limits<double>::infinity(), best_lr = 0;
  for (double lr : kLearningRateGrid) {
    const Outcome o = run(s, p, lr);
    if (o.failed) return {name, false, "lr " + lr_text(lr) + ": " + o.message};
    if (o.converged)
      return {name, true, "lr " + lr_text(lr) + ": " + p.metric_name() + " = " + sci(o.metric) + " < " +
                              lr_text(p.tolerance()) + " after " + std::to_string(o.steps) + " of " +
                              std::to_string(p.max_steps()) + " steps"};
    if (std::isfinite(o.metric) && o.metric <= p.diverged_above() && o.metric < best) best = o.metric, best_lr = lr;
  }
  std::string grid;
  for (double lr : kLearningRateGrid) grid += (grid.empty() ? "" : ", ") + lr_text(lr);
  return {name, false, "no lr in {" + grid + "} reached " + goal + "; " +
                           (std::isfinite(best) ? "best: " + sci(best) + " with lr " + lr_text(best_lr)
                                                : std::string("every lr diverged or went non-finite"))};
}

}  // namespace

std::vector<CheckResult> check_convergence(const OptimizerKernel& kernel) {
  const ResolvedAttrs hp = default_hparams(kernel);
  const Quadratic quadratic;
  const Rosenbrock rosenbrock;
  const Logistic logistic;
  std::vector<CheckResult> out;
  for (const Problem* p : {static_cast<const Problem*>(&quadratic), static_cast<const Problem*>(&rosenbrock),
                           static_cast<const Problem*>(&logistic)}) {
    try {
      out.push_back(check_problem(kernel, hp, *p));
    } catch (const std::exception& e) {
      out.push_back({kernel.name() + "." + p->name(), false, e.what()});
    }
  }
  return out;
}

}  // namespace plexus::conformance
