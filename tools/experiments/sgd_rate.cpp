// Experiment 4: minibatch SGD with the course's constant rate
// lr = 1 / (L sqrt(N)) for N steps drives the average squared norm of the
// full-batch gradient down like 1 / sqrt(N).
#include "experiment.hpp"
#include "report_files.hpp"
#include "svg_chart.hpp"

#include <plexus/error.hpp>
#include <plexus/trainer.hpp>

#include <cmath>
#include <random>

namespace plexus::experiments {

namespace {

/// L of the mean logistic loss's gradient over the rows x_i of `x`, with a
/// bias: the Hessian is (1/n) sum s_i (1 - s_i) [x_i; 1][x_i; 1]^T with
/// s_i (1 - s_i) <= 1/4, so L = lambda_max(X~^T X~) / (4 n), X~ = [X, 1].
/// lambda_max by power iteration in double.
double logistic_lipschitz(const Tensor& x) {
  const int64_t n = x.dim(0), d = x.dim(1), da = d + 1;
  std::vector<double> gram(static_cast<size_t>(da * da), 0.0);
  for (int64_t r = 0; r < n; ++r) {
    const float* row = x.data() + r * d;
    for (int64_t i = 0; i < da; ++i) {
      const double xi = i < d ? row[i] : 1.0;
      for (int64_t j = 0; j < da; ++j) gram[static_cast<size_t>(i * da + j)] += xi * (j < d ? row[j] : 1.0);
    }
  }
  std::vector<double> v(static_cast<size_t>(da), 1.0), w(static_cast<size_t>(da));
  double lambda = 0.0;
  for (int it = 0; it < 1000; ++it) {
    double norm = 0.0;
    for (int64_t i = 0; i < da; ++i) {
      double s = 0.0;
      for (int64_t j = 0; j < da; ++j) s += gram[static_cast<size_t>(i * da + j)] * v[static_cast<size_t>(j)];
      w[static_cast<size_t>(i)] = s;
      norm += s * s;
    }
    norm = std::sqrt(norm);
    const double prev = lambda;
    lambda = norm;  // ||G v|| with ||v|| = 1 converges to lambda_max
    for (int64_t i = 0; i < da; ++i) v[static_cast<size_t>(i)] = w[static_cast<size_t>(i)] / norm;
    if (it > 0 && std::abs(lambda - prev) <= 1e-12 * lambda) break;
  }
  return lambda / (4.0 * static_cast<double>(n));
}

/// ||grad L(theta)||^2 of the mean loss over all of `data`, at the model's
/// current parameters.
double full_grad_sq_norm(const Model& model, const Dataset& data) {
  // The backward runs oneDNN primitives too: hold the runtime's thread share
  // around both passes, as a Trainer step does.
  RuntimeContext::ThreadShare share(model.context());
  Tape tape;
  const Model::Forward fw = model.forward(tape, {{model.feature_input(), data.features}, {model.label_input(), data.labels}},
                                          /*training=*/true, /*with_loss=*/true);
  tape.backward(fw.loss);
  double sum = 0.0;
  for (const auto& [name, v] : fw.params) {
    const Tensor g = tape.grad(v);
    if (!g.defined()) continue;
    for (int64_t i = 0; i < g.numel(); ++i) sum += static_cast<double>(g.data()[i]) * g.data()[i];
  }
  return sum;
}

}  // namespace

SgdRateResult run_sgd_rate(const Options& o) {
  const std::string path = model_path(o, "logreg_breast_cancer.pbtxt");
  Runtime rt(runtime_options(o));
  Model model(rt, path);
  if (!model.def().train().has_train_data())
    throw Error(ErrorCode::kInvalid, path + ": the experiment trains on the model's train.train_data, and it has none");
  const Dataset train = load_dataset(data_spec_from_proto(model.def().train().train_data(), report::folder_of(path)));

  SgdRateResult r;
  r.lipschitz = logistic_lipschitz(train.features);
  r.steps = o.reduced ? std::vector<int64_t>{100, 400, 1600} : std::vector<int64_t>{100, 400, 1600, 6400};
  say(o, train.source + ": " + std::to_string(train.size()) + " samples, L = " + report::number(r.lipschitz));
  report::Csv curve({"N", "step", "grad_sq_norm"});
  svg::Chart traces{"||grad L(theta_t)||^2 along each run", "step t", "squared gradient norm (full batch)", true, true, {}};
  for (int64_t n : r.steps) {
    TrainOptions opt = train_defaults(model, "sgd");
    opt.seed = o.seed;
    opt.hparams["lr_schedule"] = AttrValue(std::string("course"));  // lr = 1 / (L sqrt(N)), constant
    opt.hparams["lr_lipschitz"] = AttrValue(r.lipschitz);
    opt.hparams["lr_total"] = AttrValue(n);
    model.init_params(o.seed);
    Trainer trainer(model, opt);
    std::mt19937_64 rng(o.seed);
    std::vector<int64_t> order;
    size_t next = 0;
    double sum = 0.0;
    svg::Series s{"N = " + std::to_string(n), {}};
    for (int64_t t = 0; t < n; ++t) {
      const double g2 = full_grad_sq_norm(model, train);  // at theta_t, before step t
      sum += g2;
      if (t + 1 == 1 || (t + 1) % std::max<int64_t>(1, n / 200) == 0) {
        curve.add_row(std::vector<double>{static_cast<double>(n), static_cast<double>(t), g2});
        s.points.push_back({static_cast<double>(t + 1), g2});
      }
      if (next + static_cast<size_t>(opt.batch_size) > order.size()) {  // a new epoch of shuffled minibatches
        order = batch_order(train.size(), true, rng);
        next = 0;
      }
      const std::span<const int64_t> rows(order.data() + next, static_cast<size_t>(opt.batch_size));
      next += static_cast<size_t>(opt.batch_size);
      trainer.train_step({{model.feature_input(), gather_rows(train.features, rows)},
                          {model.label_input(), gather_rows(train.labels, rows)}});
    }
    r.mean_sq_grad.push_back(sum / static_cast<double>(n));
    traces.series.push_back(std::move(s));
    say(o, "N = " + std::to_string(n) + ": lr " + report::number(1.0 / (r.lipschitz * std::sqrt(static_cast<double>(n)))) +
               ", (1/N) sum ||grad||^2 = " + report::number(r.mean_sq_grad.back()));
  }
  std::vector<double> lx, ly;
  for (size_t i = 0; i < r.steps.size(); ++i) {
    lx.push_back(std::log(static_cast<double>(r.steps[i])));
    ly.push_back(std::log(r.mean_sq_grad[i]));
  }
  const auto [slope, intercept] = fit_line(lx, ly);
  r.slope = slope;
  say(o, "log-log slope " + report::number(slope) + " (theory: -1/2)");

  report::Csv csv({"N", "lr", "mean_sq_grad"});
  svg::Chart chart{"SGD with lr = 1/(L sqrt(N)): mean squared gradient norm against N", "N (steps)",
                   "(1/N) sum_t ||grad L(theta_t)||^2", true, true, {}};
  svg::Series measured{"measured", {}}, fitted{"fit: slope " + report::number(std::round(slope * 1000) / 1000), {}},
      theory{"theory: slope -1/2", {}};
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < r.steps.size(); ++i) {
    const double n = static_cast<double>(r.steps[i]);
    csv.add_row(std::vector<double>{n, 1.0 / (r.lipschitz * std::sqrt(n)), r.mean_sq_grad[i]});
    measured.points.push_back({n, r.mean_sq_grad[i]});
    fitted.points.push_back({n, std::exp(intercept + slope * std::log(n))});
    theory.points.push_back({n, r.mean_sq_grad[0] * std::sqrt(static_cast<double>(r.steps[0]) / n)});
    rows.push_back({std::to_string(r.steps[i]), report::number(1.0 / (r.lipschitz * std::sqrt(n))), report::number(r.mean_sq_grad[i])});
  }
  chart.series = {measured, fitted, theory};
  report::write_atomically(out_path(o, "sgd_rate.csv"), csv.text());
  report::write_atomically(out_path(o, "sgd_rate_traces.csv"), curve.text());
  const std::vector<std::string> charts{svg::render_svg(chart), svg::render_svg(traces)};
  report::write_atomically(out_path(o, "sgd_rate.svg"), svg::stack_svg(charts));
  report::Page page("SGD convergence rate with lr = 1/(L sqrt(N))");
  page.add_text("Logistic regression on the training part of breast_cancer (" + std::to_string(train.size()) +
                " samples, standardized), minibatch SGD (batch " + std::to_string(train_defaults(model).batch_size) +
                ") from zero for N steps at the constant rate 1/(L sqrt(N)), L = " + report::number(r.lipschitz) +
                " (the full-batch gradient's Lipschitz constant, lambda_max(X~^T X~)/(4n)). After each step's start, "
                "the full-batch gradient is measured; the figure is its mean squared norm over the N steps. Fitted "
                "log-log slope: " + report::number(slope) + " (theory: -1/2).");
  page.add_table({"N", "lr", "(1/N) sum ||grad||^2"}, rows);
  for (const std::string& c : charts) page.add_svg(c);
  report::write_atomically(out_path(o, "report.html"), page.html());
  return r;
}

}  // namespace plexus::experiments
