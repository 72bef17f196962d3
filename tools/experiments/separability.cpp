// Experiment 1: logistic regression separates what a line separates, and no
// more; one hidden layer of ReLUs bends the boundary around concentric rings.
#include "experiment.hpp"
#include "report_files.hpp"
#include "svg_map.hpp"

#include <plexus/trainer.hpp>

#include <cmath>
#include <cstdio>
#include <numbers>
#include <random>

namespace plexus::experiments {

namespace {

struct Points {
  std::vector<float> x;  // [n, 2]
  std::vector<float> y;  // [n], -1 or +1
};

/// Uniform points in [-2, 2]^2 labelled by the side of the line
/// x1 + 0.5 x2 = 0.3; points closer than 0.25 to it are dropped (a margin).
Points separable(int64_t n, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(-2.0, 2.0);
  const double norm = std::sqrt(1.0 + 0.25);
  Points p;
  while (static_cast<int64_t>(p.y.size()) < n) {
    const double a = u(rng), b = u(rng);
    const double side = (a + 0.5 * b - 0.3) / norm;
    if (std::abs(side) < 0.25) continue;
    p.x.insert(p.x.end(), {static_cast<float>(a), static_cast<float>(b)});
    p.y.push_back(side > 0 ? 1.0f : -1.0f);
  }
  return p;
}

/// Two concentric rings, half the points each: radius in [0, 1] (label -1)
/// and in [1.4, 2.0] (label +1), uniform angle. No line does better than
/// labelling one side of a chord +1, far from separating them.
Points rings(int64_t n, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> angle(0.0, 2.0 * std::numbers::pi);
  std::uniform_real_distribution<double> inner(0.0, 1.0), outer(1.4, 2.0);
  Points p;
  for (int64_t i = 0; i < n; ++i) {
    const bool out = i % 2 == 1;
    const double r = out ? outer(rng) : inner(rng), t = angle(rng);
    p.x.insert(p.x.end(), {static_cast<float>(r * std::cos(t)), static_cast<float>(r * std::sin(t))});
    p.y.push_back(out ? 1.0f : -1.0f);
  }
  return p;
}

struct Fit {
  double accuracy = 0.0;
  svg::MapChart map;
};

/// Trains `model_file` on `data` with its own defaults (fewer epochs when
/// reduced) and draws its score on the plane with the zero contour.
Fit train_and_map(const Options& o, const std::string& model_file, const Points& data, const std::string& data_name) {
  Runtime rt(runtime_options(o));
  Model model(rt, model_path(o, model_file));
  TrainOptions opt = train_defaults(model);
  opt.seed = o.seed;
  if (o.reduced) opt.epochs = std::max<int64_t>(1, opt.epochs / 2);
  const int64_t n = static_cast<int64_t>(data.y.size());
  const Dataset train = make_dataset(data.x, 2, data.y, 0, data_name);
  Trainer trainer(model, opt);
  trainer.fit(train, nullptr);
  Fit f;
  f.accuracy = trainer.evaluate(train).accuracy;
  say(o, model.def().name() + " on " + data_name + ": training accuracy " + report::number(f.accuracy) + " (" +
             std::to_string(n) + " points, " + std::to_string(opt.epochs) + " epochs)");

  constexpr int kGrid = 41;
  std::vector<float> grid;
  for (int j = 0; j < kGrid; ++j)
    for (int i = 0; i < kGrid; ++i)
      grid.insert(grid.end(), {static_cast<float>(-2.5 + 5.0 * i / (kGrid - 1)), static_cast<float>(-2.5 + 5.0 * j / (kGrid - 1))});
  const std::vector<float> score = predict(model, grid, 2);
  svg::Grid g{-2.5, 2.5, -2.5, 2.5, kGrid, kGrid, {}};
  for (float s : score) g.z.push_back(std::tanh(static_cast<double>(s)));  // the class as a colour; boundary at 0
  char title[160];
  std::snprintf(title, sizeof title, "%s on %s: training accuracy %.3f", model.def().name().c_str(), data_name.c_str(),
                f.accuracy);
  f.map.title = title;
  f.map.x_label = "x1";
  f.map.y_label = "x2";
  f.map.heat = std::move(g);
  f.map.scale = svg::ColourScale::kDiverging;
  f.map.heat_label = "tanh(score)";
  f.map.contour_levels = {0.0};
  svg::ScatterGroup neg{"label -1", {}}, pos{"label +1", {}};
  for (int64_t k = 0; k < n; ++k)
    (data.y[static_cast<size_t>(k)] > 0 ? pos : neg).points.push_back({data.x[static_cast<size_t>(2 * k)], data.x[static_cast<size_t>(2 * k + 1)]});
  f.map.scatter = {neg, pos};
  return f;
}

void add_points(report::Csv& csv, const std::string& name, const Points& p) {
  for (size_t k = 0; k < p.y.size(); ++k)
    csv.add_row(std::vector<std::string>{name, report::number(p.x[2 * k]), report::number(p.x[2 * k + 1]), report::number(p.y[k])});
}

}  // namespace

SeparabilityResult run_separability(const Options& o) {
  std::mt19937_64 rng(o.seed);
  const int64_t n = o.reduced ? 200 : 400;
  const Points lin = separable(n, rng);
  const Points ring = rings(n, rng);

  const Fit a = train_and_map(o, "logreg_2d.pbtxt", lin, "separable");
  const Fit b = train_and_map(o, "logreg_2d.pbtxt", ring, "rings");
  const Fit c = train_and_map(o, "mlp_rings.pbtxt", ring, "rings");
  SeparabilityResult r{a.accuracy, b.accuracy, c.accuracy};

  report::Csv points({"data", "x1", "x2", "label"});
  add_points(points, "separable", lin);
  add_points(points, "rings", ring);
  report::write_atomically(out_path(o, "separability_points.csv"), points.text());
  report::Csv acc({"model", "data", "train_accuracy"});
  acc.add_row(std::vector<std::string>{"logreg_2d", "separable", report::number(r.logreg_separable_acc)});
  acc.add_row(std::vector<std::string>{"logreg_2d", "rings", report::number(r.logreg_rings_acc)});
  acc.add_row(std::vector<std::string>{"mlp_rings", "rings", report::number(r.mlp_rings_acc)});
  report::write_atomically(out_path(o, "separability.csv"), acc.text());

  const svg::Size size{560, 440, 64, 190, 40, 52};
  std::vector<std::string> maps;
  for (const Fit* f : {&a, &b, &c}) maps.push_back(svg::render_map_svg(f->map, size));
  report::write_atomically(out_path(o, "separability.svg"), svg::stack_svg(maps, size));
  report::Page page("Logistic regression, separable vs non-separable");
  page.add_text("Training accuracy of logistic regression (a straight decision boundary) on points a line separates "
                "with a margin, and on two concentric rings; then of a 2-16-1 ReLU network on the rings. The colour "
                "is tanh of the model's score, the dark line its decision boundary (score = 0).");
  page.add_table({"model", "data", "training accuracy"},
                 {{"logreg_2d", "separable", report::number(r.logreg_separable_acc)},
                  {"logreg_2d", "rings", report::number(r.logreg_rings_acc)},
                  {"mlp_rings (16 ReLU units)", "rings", report::number(r.mlp_rings_acc)}});
  for (const std::string& m : maps) page.add_svg(m);
  report::write_atomically(out_path(o, "report.html"), page.html());
  return r;
}

}  // namespace plexus::experiments
