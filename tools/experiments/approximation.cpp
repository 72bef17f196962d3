// Experiment 2: one hidden layer approximates a continuous function on an
// interval, better as it grows wider (the universal approximation theorem).
#include "experiment.hpp"
#include "report_files.hpp"
#include "svg_chart.hpp"

#include <plexus/error.hpp>
#include <plexus/trainer.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numbers>
#include <random>

namespace plexus::experiments {

namespace {

double target(double a) { return std::sin(2.0 * std::numbers::pi * a) + 0.5 * a; }

void set_width(proto::ModelDef& def, int64_t m, const std::string& source) {
  for (proto::NodeDef& n : *def.mutable_nodes()) {
    if (n.name() != "hidden") continue;
    (*n.mutable_attrs())["out_features"].set_i(m);
    return;
  }
  throw Error(ErrorCode::kInvalid, source + ": the experiment sets the width of a node named 'hidden', and there is none");
}

}  // namespace

ApproximationResult run_approximation(const Options& o) {
  // Small enough (about 2 s on one thread) that the reduced run is the full one.
  const std::string path = model_path(o, "approx_1d.pbtxt");
  ApproximationResult r;
  r.widths = {2, 4, 8, 16, 64};

  // Training samples: seeded uniform points of [0, 1]; the error is measured
  // on a grid 8 times finer than their mean spacing, endpoints included.
  const int64_t n = 256;
  std::mt19937_64 rng(o.seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<float> a, g;
  for (int64_t i = 0; i < n; ++i) {
    const double x = u(rng);
    a.push_back(static_cast<float>(x));
    g.push_back(static_cast<float>(target(x)));
  }
  const Dataset train = make_dataset(a, 1, g, 1, "g(a) = sin(2 pi a) + 0.5 a");
  const int64_t grid_n = 2049;
  std::vector<float> grid;
  for (int64_t i = 0; i < grid_n; ++i) grid.push_back(static_cast<float>(static_cast<double>(i) / (grid_n - 1)));

  svg::Chart curves{"fitted curves f_m(a) against g(a)", "a", "value", false, false, {}};
  svg::Series truth{"g(a)", {}};
  for (int64_t i = 0; i < grid_n; i += 8) truth.points.push_back({grid[static_cast<size_t>(i)], target(grid[static_cast<size_t>(i)])});
  curves.series.push_back(truth);
  std::vector<std::vector<float>> fitted;

  for (int64_t m : r.widths) {
    proto::ModelDef def = load_model_def(path);
    set_width(def, m, path);
    Runtime rt(runtime_options(o));
    Model model(rt, def, path);
    TrainOptions opt = train_defaults(model);
    opt.seed = o.seed;
    const auto t0 = std::chrono::steady_clock::now();
    Trainer trainer(model, opt);
    trainer.fit(train, nullptr);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::vector<float> f = predict(model, grid, 1);
    double sup = 0.0;
    for (size_t i = 0; i < f.size(); ++i) sup = std::max(sup, std::abs(static_cast<double>(f[i]) - target(grid[i])));
    r.sup_error.push_back(sup);
    fitted.push_back(f);
    say(o, "m = " + std::to_string(m) + ": sup error " + report::number(sup) + " after " + std::to_string(opt.epochs) +
               " epochs (" + report::number(std::round(seconds * 100) / 100) + " s)");
    svg::Series s{"m = " + std::to_string(m), {}};
    for (int64_t i = 0; i < grid_n; i += 8) s.points.push_back({grid[static_cast<size_t>(i)], f[static_cast<size_t>(i)]});
    curves.series.push_back(std::move(s));
  }

  std::vector<std::string> header{"a", "g"};
  for (int64_t m : r.widths) header.push_back("f_" + std::to_string(m));
  report::Csv csv(header);
  for (int64_t i = 0; i < grid_n; ++i) {
    std::vector<double> row{grid[static_cast<size_t>(i)], target(grid[static_cast<size_t>(i)])};
    for (const auto& f : fitted) row.push_back(f[static_cast<size_t>(i)]);
    csv.add_row(row);
  }
  report::write_atomically(out_path(o, "approximation_curves.csv"), csv.text());
  report::Csv err({"width", "sup_error"});
  svg::Chart errors{"sup-norm error against width", "hidden width m", "max |f_m(a) - g(a)|", true, true, {}};
  svg::Series e{"sup error", {}};
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < r.widths.size(); ++i) {
    err.add_row(std::vector<double>{static_cast<double>(r.widths[i]), r.sup_error[i]});
    e.points.push_back({static_cast<double>(r.widths[i]), r.sup_error[i]});
    rows.push_back({std::to_string(r.widths[i]), report::number(r.sup_error[i])});
  }
  errors.series.push_back(e);
  report::write_atomically(out_path(o, "approximation.csv"), err.text());
  const std::vector<std::string> charts{svg::render_svg(curves), svg::render_svg(errors)};
  report::write_atomically(out_path(o, "approximation.svg"), svg::stack_svg(charts));
  report::Page page("Universal approximation: one hidden layer, growing width");
  page.add_text("f(a) = beta^T tanh(W a + b) with m hidden units, fitted by Adam to " + std::to_string(n) +
                " seeded samples of g(a) = sin(2 pi a) + 0.5 a on [0, 1]. The error is the largest |f(a) - g(a)| on " +
                std::to_string(grid_n) + " evenly spaced points of [0, 1].");
  page.add_table({"width m", "sup error"}, rows);
  for (const std::string& c : charts) page.add_svg(c);
  report::write_atomically(out_path(o, "report.html"), page.html());
  return r;
}

}  // namespace plexus::experiments
