// plexus experiment NAME [--out DIR] [--models DIR] [--reduced] ...: the
// course's experiments (docs/experiments.md), each writing CSV, SVG and a
// report.html into the output folder and printing its figures.
#include "commands.hpp"
#include "common.hpp"

#include "experiment.hpp"

#include <plexus/error.hpp>

#include <cmath>
#include <cstdio>
#include <functional>
#include <iostream>

namespace plexus::cli {

namespace {

namespace ex = plexus::experiments;

void print_separability(const ex::Options& o) {
  const ex::SeparabilityResult r = ex::run_separability(o);
  std::printf("training accuracy: logistic regression, separable %.4f; logistic regression, rings %.4f; "
              "16-unit ReLU network, rings %.4f\n",
              r.logreg_separable_acc, r.logreg_rings_acc, r.mlp_rings_acc);
}

void print_approximation(const ex::Options& o) {
  const ex::ApproximationResult r = ex::run_approximation(o);
  std::printf("%8s %12s\n", "width m", "sup error");
  for (size_t i = 0; i < r.widths.size(); ++i) std::printf("%8lld %12.5f\n", static_cast<long long>(r.widths[i]), r.sup_error[i]);
}

void print_toy(const ex::Options& o) {
  const ex::ToyResult r = ex::run_toy(o);
  std::printf("not convex:  L(midpoint) - mean of the ends = %+.4f > 0\n", r.midpoint_convex_gap);
  std::printf("not concave: mean of the ends - L(midpoint) = %+.4f > 0\n", r.midpoint_concave_gap);
  std::printf("%18s %24s %12s %12s\n", "start (w1, w2)", "end (w1, w2)", "w1 w2", "loss");
  for (const auto& run : r.runs)
    std::printf("   (%6.2f, %6.2f)   (%9.5f, %9.5f) %12.8f %12.3e\n", run.w1_start, run.w2_start, run.w1, run.w2,
                run.w1 * run.w2, run.loss);
}

void print_sgd_rate(const ex::Options& o) {
  const ex::SgdRateResult r = ex::run_sgd_rate(o);
  std::printf("L = %.5f\n%8s %14s %22s\n", r.lipschitz, "N", "lr", "(1/N) sum ||grad||^2");
  for (size_t i = 0; i < r.steps.size(); ++i)
    std::printf("%8lld %14.6g %22.6g\n", static_cast<long long>(r.steps[i]),
                1.0 / (r.lipschitz * std::sqrt(static_cast<double>(r.steps[i]))), r.mean_sq_grad[i]);
  std::printf("log-log slope: %.3f (theory: -0.5)\n", r.slope);
}

void print_lista(const ex::Options& o) {
  const ex::ListaResult r = ex::run_lista(o);
  std::printf("%4s %8s %14s %14s %22s\n", "T", "layers", "LISTA error", "ISTA at 8T", "ISTA iterations to match");
  for (size_t i = 0; i < r.lista_T.size(); ++i) {
    const int64_t t = r.lista_T[i];
    const size_t k8 = static_cast<size_t>(8 * t);
    const std::string at8 = k8 <= r.ista_error.size() ? std::to_string(r.ista_error[k8 - 1]) : "-";
    const std::string match = r.ista_matching[i] > 0 ? std::to_string(r.ista_matching[i])
                                                     : "> " + std::to_string(r.ista_error.size());
    std::printf("%4lld %8lld %14.6g %14s %22s\n", static_cast<long long>(t), static_cast<long long>(t + 1),
                r.lista_error[i], at8.c_str(), match.c_str());
  }
  std::printf("training the LISTA models: %.1f s\n", r.train_seconds);
}

struct Experiment {
  const char* name;
  const char* summary;
  std::function<void(const ex::Options&)> run;
};

const Experiment kExperiments[] = {
    {"separability", "1. logistic regression on separable points and on rings; a 16-unit ReLU network on the rings",
     print_separability},
    {"approximation", "2. one hidden layer fits sin(2 pi a) + a/2 on [0, 1]: sup error against width", print_approximation},
    {"toy", "3. the non-convex toy (1 - w2 w1)^2: midpoint checks, SGD to the hyperbola, stuck at the saddle", print_toy},
    {"sgd-rate", "4. SGD with lr = 1/(L sqrt(N)) on breast_cancer: mean squared gradient norm against N", print_sgd_rate},
    {"lista", "6. learned ISTA vs ISTA for sparse coding: code error against layers/iterations", print_lista},
};

std::string experiment_list() {
  std::string s = "experiments:\n";
  for (const Experiment& e : kExperiments) s += "  " + std::string(e.name) + std::string(16 - std::string(e.name).size(), ' ') + e.summary + "\n";
  return s + "(5, the optimizer comparison, is `plexus train models/mnist_mlp.pbtxt --optimizer sgd,momentum,...`: "
             "see docs/experiments.md)";
}

}  // namespace

int cmd_experiment(int argc, char** argv) {
  po::options_description o("options");
  o.add_options()
      ("name", po::value<std::string>()->required(), "the experiment (see the list below)")
      ("out", po::value<std::string>(), "output folder (default: runs/NAME)")
      ("models", po::value<std::string>()->default_value("models"), "folder with the model definitions")
      ("reduced", "the small version the test suite runs")
      ("seed", po::value<uint64_t>()->default_value(1), "seed of the data, initialization and shuffling")
      ("threads", po::value<int>()->default_value(0), "thread budget (0: the experiment's choice: 1 for the small models of 1-4, all hardware threads for lista)");
  po::positional_options_description pos;
  pos.add("name", 1);
  auto vm = parse(argc, argv, "plexus experiment NAME [options]\n\n" + experiment_list(), o, pos);
  if (!vm) return 0;
  const std::string name = (*vm)["name"].as<std::string>();
  for (const Experiment& e : kExperiments) {
    if (name != e.name) continue;
    ex::Options opt;
    opt.models_dir = (*vm)["models"].as<std::string>();
    opt.out_dir = vm->count("out") ? (*vm)["out"].as<std::string>() : "runs/" + name;
    opt.reduced = vm->count("reduced") != 0;
    opt.seed = (*vm)["seed"].as<uint64_t>();
    opt.threads = (*vm)["threads"].as<int>();
    opt.log = [](const std::string& line) {
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
    };
    std::printf("plexus experiment %s%s -> %s\n", name.c_str(), opt.reduced ? " (reduced)" : "", opt.out_dir.c_str());
    e.run(opt);
    std::printf("report: %s/report.html\n", opt.out_dir.c_str());
    return 0;
  }
  throw Error(ErrorCode::kNotFound, "unknown experiment '" + name + "'\n" + experiment_list());
}

}  // namespace plexus::cli
