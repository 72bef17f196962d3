// Experiment 3: f(a) = w2 w1 a with one sample (1, 1). The loss
// (1 - w2 w1)^2 is neither convex nor concave; every minimum lies on the
// hyperbola w1 w2 = 1, and (0, 0) is a saddle where the gradient vanishes.
#include "experiment.hpp"
#include "report_files.hpp"
#include "svg_map.hpp"

#include <plexus/trainer.hpp>

#include <cmath>
#include <cstdio>

namespace plexus::experiments {

namespace {

/// The course's loss (1 - w2 w1)^2 at (w1, w2), computed by the model: twice
/// its squared_error loss 0.5 (1 - w2 w1)^2 on the sample (1, 1).
double course_loss(Model& model, double w1, double w2) {
  model.param("w1").data()[0] = static_cast<float>(w1);
  model.param("w2").data()[0] = static_cast<float>(w2);
  Tape tape;
  NoGrad no_grad(tape);
  const Tensor one = Tensor::full(Shape{1, 1}, 1.0f);
  const Model::Forward fw = model.forward(tape, {{"a", one}, {"y", one}}, false, true);
  return 2.0 * static_cast<double>(fw.loss.data().data()[0]);
}

}  // namespace

ToyResult run_toy(const Options& o) {
  Runtime rt(runtime_options(o));
  const std::string path = model_path(o, "toy_w2w1.pbtxt");
  Model model(rt, path);
  model.init_params(o.seed);
  ToyResult r;

  // Convex would need L(mid) <= mean of the ends for every pair; concave >=.
  const double l_p = course_loss(model, 1, 1), l_q = course_loss(model, -1, -1), l_mid = course_loss(model, 0, 0);
  r.midpoint_convex_gap = l_mid - 0.5 * (l_p + l_q);
  const double c_p = course_loss(model, 0, 0), c_q = course_loss(model, 2, 2), c_mid = course_loss(model, 1, 1);
  r.midpoint_concave_gap = 0.5 * (c_p + c_q) - c_mid;
  say(o, "convexity: L(1,1) = " + report::number(l_p) + ", L(-1,-1) = " + report::number(l_q) +
             ", L(0,0) at their midpoint = " + report::number(l_mid) + " > their mean: not convex");
  say(o, "concavity: L(0,0) = " + report::number(c_p) + ", L(2,2) = " + report::number(c_q) +
             ", L(1,1) at their midpoint = " + report::number(c_mid) + " < their mean: not concave");

  const std::vector<std::pair<double, double>> starts{{2.0, -1.0}, {-1.5, -0.3}, {0.2, 0.1}, {1.8, 1.6}, {-0.5, 2.0}, {0.0, 0.0}};
  TrainOptions opt = train_defaults(model);
  const int64_t steps = o.reduced ? opt.epochs / 2 : opt.epochs;
  const Tensor one = Tensor::full(Shape{1, 1}, 1.0f);
  report::Csv csv({"run", "step", "w1", "w2", "loss"});
  svg::MapChart map;
  map.title = "loss (1 - w2 w1)^2 and SGD trajectories";
  map.x_label = "w1";
  map.y_label = "w2";
  map.heat = svg::sample_grid(-2.5, 2.5, -2.5, 2.5, 51, 51, [](double w1, double w2) {
    const double d = 1.0 - w1 * w2;
    return d * d;
  });
  map.heat_log = true;
  map.heat_label = "loss (log scale)";
  map.contour_levels = {0.01, 0.1, 1.0, 10.0};
  for (double sign : {1.0, -1.0}) {  // the minima: w2 = 1 / w1 on both branches
    svg::Polyline h{sign > 0 ? "w1 w2 = 1 (minima)" : "", {}, true, false, "#ffffff"};
    for (int i = 0; i <= 100; ++i) {
      const double w1 = sign * (0.4 + 2.1 * i / 100.0);
      h.points.push_back({w1, 1.0 / w1});
    }
    map.lines.push_back(h);
  }
  for (size_t k = 0; k < starts.size(); ++k) {
    const auto [w1_0, w2_0] = starts[k];
    model.param("w1").data()[0] = static_cast<float>(w1_0);
    model.param("w2").data()[0] = static_cast<float>(w2_0);
    Trainer trainer(model, opt);
    char label[64];
    std::snprintf(label, sizeof label, "SGD from (%g, %g)", w1_0, w2_0);
    svg::Polyline path{label, {{w1_0, w2_0}}, false, true, ""};
    csv.add_row(std::vector<double>{static_cast<double>(k), 0, w1_0, w2_0, (1 - w1_0 * w2_0) * (1 - w1_0 * w2_0)});
    for (int64_t t = 1; t <= steps; ++t) {
      trainer.train_step({{"a", one}, {"y", one}});
      const double w1 = model.param("w1").data()[0], w2 = model.param("w2").data()[0];
      if (t <= 100 || t % 20 == 0 || t == steps) path.points.push_back({w1, w2});  // the path barely moves later
      if (t <= 100 || t % 10 == 0) csv.add_row(std::vector<double>{static_cast<double>(k), static_cast<double>(t), w1, w2, (1 - w1 * w2) * (1 - w1 * w2)});
    }
    ToyResult::Run run{w1_0, w2_0, model.param("w1").data()[0], model.param("w2").data()[0], 0.0};
    run.loss = course_loss(model, run.w1, run.w2);
    r.runs.push_back(run);
    say(o, std::string(label) + ": ends at (" + report::number(run.w1) + ", " + report::number(run.w2) +
               "), w1 w2 = " + report::number(run.w1 * run.w2) + ", loss " + report::number(run.loss) + " after " +
               std::to_string(steps) + " steps");
    map.lines.push_back(std::move(path));
  }
  report::write_atomically(out_path(o, "toy_trajectories.csv"), csv.text());
  report::Csv summary({"w1_start", "w2_start", "w1_end", "w2_end", "loss_end"});
  std::vector<std::vector<std::string>> rows;
  for (const auto& run : r.runs) {
    summary.add_row(std::vector<double>{run.w1_start, run.w2_start, run.w1, run.w2, run.loss});
    rows.push_back({"(" + report::number(run.w1_start) + ", " + report::number(run.w2_start) + ")",
                    "(" + report::number(run.w1) + ", " + report::number(run.w2) + ")", report::number(run.w1 * run.w2),
                    report::number(run.loss)});
  }
  report::write_atomically(out_path(o, "toy.csv"), summary.text());
  const std::string svg = svg::render_map_svg(map);
  report::write_atomically(out_path(o, "toy.svg"), svg);
  report::Page page("The non-convex toy: f(a) = w2 w1 a");
  page.add_text("One sample (a, y) = (1, 1), loss L(w1, w2) = (1 - w2 w1)^2. Not convex: L(1, 1) = L(-1, -1) = 0 but "
                "L(0, 0) = 1 at their midpoint. Not concave: L(0, 0) = 1 and L(2, 2) = 9, but L(1, 1) = 0 at their "
                "midpoint. SGD (lr " + opt.hparams.at("lr").str() + ", " + std::to_string(steps) +
                " steps) from each start ends on the hyperbola w1 w2 = 1; from (0, 0) the gradient is exactly zero and it never moves.");
  page.add_table({"start (w1, w2)", "end (w1, w2)", "w1 w2", "loss"}, rows);
  page.add_svg(svg);
  report::write_atomically(out_path(o, "report.html"), page.html());
  return r;
}

}  // namespace plexus::experiments
