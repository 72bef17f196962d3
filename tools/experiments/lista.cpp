// Experiment 6: learned ISTA (LISTA) against ISTA for sparse coding.
//
// Data: a dictionary W_d [64 x 256] with unit-norm Gaussian columns; codes
// with 10 nonzeros on a uniformly random support, each N(0, 1); signals
// x = W_d z + N(0, 0.01^2) noise. Targets z* = argmin 0.5 ||x - W_d z||^2 +
// alpha ||z||_1 (alpha = 0.1) by ISTA run to convergence in double precision,
// here and independently of the runtime. ISTA itself then runs through
// models/lista.pbtxt with the fixed ISTA weights (one model with T = kmax - 1
// gives every iterate 1..kmax), and LISTA-T trains the same model, starting
// from the ISTA weights (Gregor & LeCun's initialization), with Adam.
// Code error: mean ||z - z*||^2 over the test set / mean ||z*||^2.
//
// Full version (seed 1; 10,000 training and 1,000 test signals, 4,710 Adam
// steps per model, 23-26 s of training on 2 cores): LISTA-T beats ISTA
// after 8T iterations for every T, e.g. LISTA-8 (9 layers) 0.081 against
// ISTA-64 0.127; ISTA needs 48, 58, 69, 81, 95 iterations to match LISTA-T
// for T = 1, 2, 4, 8, 16.
#include "experiment.hpp"

#include "report_files.hpp"
#include "svg_chart.hpp"

#include <plexus/layout.hpp>
#include <plexus/npy.hpp>
#include <plexus/trainer.hpp>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace plexus::experiments {

namespace {

constexpr int64_t kDim = 64;       // signal size
constexpr int64_t kAtoms = 256;    // code size
constexpr int64_t kSparsity = 10;  // nonzeros per code
constexpr double kAlpha = 0.1;     // L1 weight
constexpr double kNoise = 0.01;    // std of the noise added to W_d z
constexpr double kTargetTol = 1e-7;       // ISTA to convergence: max change per iteration
constexpr int64_t kTargetMaxIters = 200000;

struct Sizes {
  int64_t train = 0, test = 0;
  int64_t ista_max = 0;     // ISTA iterations shown (kmax)
  std::vector<int64_t> lista_T;
};

// Both versions train with the model file's defaults (30 epochs of batch 64).
// The reduced one keeps most of the training set: with 4,000 signals LISTA-8
// overfits and no longer beats ISTA-64 (measured), with 8,000 it does with
// margin; it drops T = 16 and most of the test set instead.
Sizes sizes_for(const Options& o) {
  if (o.reduced) return {8000, 300, 512, {1, 2, 4, 8}};
  return {10000, 1000, 512, {1, 2, 4, 8, 16}};
}

/// The dictionary, its Gram matrix and ISTA's step 1/L, in double.
struct Problem {
  std::vector<double> atoms;  // column j of W_d at [j * kDim, (j + 1) * kDim)
  std::vector<double> gram;   // W_d^T W_d, [kAtoms, kAtoms] row-major
  double lipschitz = 0.0;     // largest eigenvalue of the Gram matrix
};

/// Power iteration (the Gram matrix is symmetric positive semi-definite).
double largest_eigenvalue(const std::vector<double>& gram, std::mt19937_64& rng) {
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> v(kAtoms), w(kAtoms);
  for (double& e : v) e = normal(rng);
  double lambda = 0.0;
  for (int it = 0; it < 20000; ++it) {
    const double norm = std::sqrt(std::inner_product(v.begin(), v.end(), v.begin(), 0.0));
    for (double& e : v) e /= norm;
    for (int64_t i = 0; i < kAtoms; ++i)
      w[i] = std::inner_product(v.begin(), v.end(), gram.begin() + i * kAtoms, 0.0);
    const double next = std::inner_product(v.begin(), v.end(), w.begin(), 0.0);  // Rayleigh quotient
    v.swap(w);
    if (std::abs(next - lambda) <= 1e-14 * next) return next;
    lambda = next;
  }
  return lambda;
}

Problem make_problem(std::mt19937_64& rng) {
  Problem p;
  std::normal_distribution<double> normal(0.0, 1.0);
  p.atoms.resize(kAtoms * kDim);
  for (int64_t j = 0; j < kAtoms; ++j) {
    double* a = p.atoms.data() + j * kDim;
    double sq = 0.0;
    for (int64_t i = 0; i < kDim; ++i) {
      a[i] = normal(rng);
      sq += a[i] * a[i];
    }
    for (int64_t i = 0; i < kDim; ++i) a[i] /= std::sqrt(sq);
  }
  p.gram.resize(kAtoms * kAtoms);
  for (int64_t j = 0; j < kAtoms; ++j)
    for (int64_t k = 0; k < kAtoms; ++k)
      p.gram[j * kAtoms + k] = std::inner_product(p.atoms.begin() + j * kDim, p.atoms.begin() + (j + 1) * kDim,
                                                  p.atoms.begin() + k * kDim, 0.0);
  p.lipschitz = largest_eigenvalue(p.gram, rng);
  return p;
}

/// n signals x = W_d z + noise, [n, kDim] row-major, from 10-sparse codes.
std::vector<float> draw_signals(const Problem& p, int64_t n, std::mt19937_64& rng) {
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<float> x(static_cast<size_t>(n * kDim));
  std::vector<int64_t> perm(kAtoms);
  std::vector<double> v(kDim);
  for (int64_t s = 0; s < n; ++s) {
    std::iota(perm.begin(), perm.end(), 0);
    for (int64_t i = 0; i < kDim; ++i) v[i] = kNoise * normal(rng);
    for (int64_t m = 0; m < kSparsity; ++m) {  // partial Fisher-Yates: a uniform support
      std::uniform_int_distribution<int64_t> pick(m, kAtoms - 1);
      std::swap(perm[m], perm[pick(rng)]);
      const double c = normal(rng);
      const double* a = p.atoms.data() + perm[m] * kDim;
      for (int64_t i = 0; i < kDim; ++i) v[i] += c * a[i];
    }
    for (int64_t i = 0; i < kDim; ++i) x[s * kDim + i] = static_cast<float>(v[i]);
  }
  return x;
}

/// ISTA from z = 0 in the Gram form, z <- shrink(z + (W_d^T x - G z) / L, alpha / L),
/// with G z summed over the nonzeros of z only. Stops after max_iters iterations
/// or once no entry moves by more than tol; on_iter(k, z) sees iterate k.
/// Returns the iterations run.
int64_t ista(const Problem& p, const float* x, int64_t max_iters, double tol, double* z,
             const std::function<void(int64_t, const double*)>& on_iter = {}) {
  std::vector<double> c(kAtoms), gz(kAtoms);
  std::vector<int64_t> nz;
  for (int64_t j = 0; j < kAtoms; ++j) {
    double s = 0.0;
    for (int64_t i = 0; i < kDim; ++i) s += p.atoms[j * kDim + i] * static_cast<double>(x[i]);
    c[j] = s;
  }
  std::fill(z, z + kAtoms, 0.0);
  const double step = 1.0 / p.lipschitz, theta = kAlpha / p.lipschitz;
  for (int64_t k = 1; k <= max_iters; ++k) {
    nz.clear();
    for (int64_t j = 0; j < kAtoms; ++j)
      if (z[j] != 0.0) nz.push_back(j);
    std::fill(gz.begin(), gz.end(), 0.0);
    for (int64_t j : nz) {  // G is symmetric: G z = sum_j z_j G[j, :]
      const double* row = p.gram.data() + j * kAtoms;
      for (int64_t i = 0; i < kAtoms; ++i) gz[i] += z[j] * row[i];
    }
    double change = 0.0;
    for (int64_t i = 0; i < kAtoms; ++i) {
      const double v = z[i] + step * (c[i] - gz[i]);
      const double m = std::abs(v) - theta;
      const double next = m > 0.0 ? std::copysign(m, v) : 0.0;
      change = std::max(change, std::abs(next - z[i]));
      z[i] = next;
    }
    if (on_iter) on_iter(k, z);
    if (change <= tol) return k;
  }
  return max_iters;
}

/// Converged codes z* [n, kAtoms] for the signals, in parallel over samples.
std::vector<float> optimal_codes(const Problem& p, const std::vector<float>& x, tbb::task_arena& arena,
                                 int64_t* max_iters_seen) {
  const int64_t n = static_cast<int64_t>(x.size()) / kDim;
  std::vector<float> z(static_cast<size_t>(n * kAtoms));
  std::vector<int64_t> iters(static_cast<size_t>(n));
  arena.execute([&] {
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, n, 16), [&](const tbb::blocked_range<int64_t>& r) {
      std::vector<double> zs(kAtoms);
      for (int64_t s = r.begin(); s < r.end(); ++s) {
        iters[s] = ista(p, x.data() + s * kDim, kTargetMaxIters, kTargetTol, zs.data());
        for (int64_t j = 0; j < kAtoms; ++j) z[s * kAtoms + j] = static_cast<float>(zs[j]);
      }
    });
  });
  *max_iters_seen = iters.empty() ? 0 : *std::max_element(iters.begin(), iters.end());
  return z;
}

/// Overwrites the model's parameters with ISTA's: W_e = W_d^T / L,
/// S = I - W_d^T W_d / L (if the model has S), theta = alpha / L.
void set_ista_weights(Model& model, const Problem& p) {
  const double inv_l = 1.0 / p.lipschitz;
  float* we = model.param("W_e").data();
  for (int64_t j = 0; j < kAtoms; ++j)
    for (int64_t i = 0; i < kDim; ++i) we[j * kDim + i] = static_cast<float>(p.atoms[j * kDim + i] * inv_l);
  const auto& shapes = model.param_shapes();
  if (std::any_of(shapes.begin(), shapes.end(), [](const auto& ps) { return ps.first == "S"; })) {  // T > 0
    float* s = model.param("S").data();
    for (int64_t j = 0; j < kAtoms; ++j)
      for (int64_t k = 0; k < kAtoms; ++k)
        s[j * kAtoms + k] = static_cast<float>((j == k ? 1.0 : 0.0) - p.gram[j * kAtoms + k] * inv_l);
  }
  model.param("theta").fill(static_cast<float>(kAlpha * inv_l));
}

double sum_sq_diff(const float* a, const float* b, int64_t n) {
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(a[i]) - b[i];
    s += d * d;
  }
  return s;
}

/// Runs `model` on rows [begin, end) of `data` (no tape recording, inference
/// mode) and hands the forward pass's values to `use`.
void run_batch(const Model& model, const Dataset& data, int64_t begin, int64_t end,
               const std::function<void(const Model::Forward&)>& use) {
  RuntimeContext::ThreadShare share(model.context());
  Tape tape;
  NoGrad no_grad(tape);
  const std::map<std::string, Tensor> feeds{{"x", data.features.rows(begin, end)},
                                            {"z_star", data.labels.rows(begin, end)}};
  use(model.forward(tape, feeds, /*training=*/false, /*with_loss=*/false));
}

/// The node holding ISTA iterate k (k >= 1) in models/lista.pbtxt.
std::string iterate_node(int64_t k) { return k == 1 ? "z0" : "lista." + std::to_string(k - 2) + ".z_next"; }

std::unique_ptr<Model> load_lista(const Runtime& rt, const proto::ModelDef& base, const std::string& path,
                                  int64_t t) {
  proto::ModelDef def = base;
  set_model_vars(def, {{"T", t}}, path);
  return std::make_unique<Model>(rt, std::move(def), path);
}

/// For samples [begin, end) of `data`: the largest |z_model - z_double| of ISTA
/// iterate ks[c] (the model's in `model_z[c]`, f32 through the runtime) against
/// ISTA in double, into max_diff[c], and the double iterate's squared distance
/// to z* (the labels), added to sq_error[c].
void compare_with_double_ista(const Problem& p, const Dataset& data, int64_t begin, int64_t end,
                              const std::vector<int64_t>& ks, const std::vector<Tensor>& model_z, double* max_diff,
                              double* sq_error) {
  std::vector<double> zd(kAtoms);
  for (int64_t s = 0; s < end - begin; ++s) {
    const float* zs = data.labels.data() + (begin + s) * kAtoms;
    ista(p, data.features.data() + (begin + s) * kDim, ks.back(), /*tol=*/-1.0, zd.data(),
         [&](int64_t k, const double* z) {
           for (size_t c = 0; c < ks.size(); ++c) {
             if (ks[c] != k) continue;
             const float* zm = model_z[c].data() + s * kAtoms;
             for (int64_t j = 0; j < kAtoms; ++j) {
               max_diff[c] = std::max(max_diff[c], std::abs(static_cast<double>(zm[j]) - z[j]));
               sq_error[c] += (z[j] - zs[j]) * (z[j] - zs[j]);
             }
           }
         });
  }
}

/// Sum over the test set of ||z_k - z*||^2 for ISTA iterates k = 1..kmax, run
/// through the model with the ISTA weights (batches in parallel). Also fills
/// r's checks of those iterates against ISTA in double (errors unnormalized).
std::vector<double> ista_through_model(const Runtime& rt, const proto::ModelDef& base, const std::string& path,
                                       const Problem& p, int64_t kmax, const Dataset& test, tbb::task_arena& arena,
                                       uint64_t seed, ListaResult* r) {
  std::unique_ptr<Model> model = load_lista(rt, base, path, kmax - 1);
  model->init_params(seed);
  set_ista_weights(*model, p);
  const std::vector<int64_t>& ks = r->ista_check_k;
  for (int64_t k : {1, 2, 8, 64, 512})
    if (k <= kmax) r->ista_check_k.push_back(k);
  const size_t checks = ks.size();
  constexpr int64_t kBatch = 50;  // 3 values of [50, 256] per layer, 512 layers: about 80 MB per batch
  const int64_t batches = (test.size() + kBatch - 1) / kBatch;
  // Per batch: kmax squared errors, then per check the max difference and the double ISTA's squared error.
  std::vector<std::vector<double>> parts(static_cast<size_t>(batches));
  arena.execute([&] {
    tbb::parallel_for(int64_t{0}, batches, [&](int64_t b) {
      const int64_t begin = b * kBatch, end = std::min(test.size(), begin + kBatch);
      std::vector<double>& part = parts[b];
      part.assign(static_cast<size_t>(kmax) + 2 * checks, 0.0);
      run_batch(*model, test, begin, end, [&](const Model::Forward& fw) {
        auto iterate = [&](int64_t k) { return to_plain(fw.values.at(iterate_node(k)).data()); };
        for (int64_t k = 1; k <= kmax; ++k)
          part[k - 1] = sum_sq_diff(iterate(k).data(), test.labels.data() + begin * kAtoms, (end - begin) * kAtoms);
        std::vector<Tensor> model_z;
        for (int64_t k : ks) model_z.push_back(iterate(k));
        compare_with_double_ista(p, test, begin, end, ks, model_z, &part[kmax], &part[kmax + checks]);
      });
    });
  });
  std::vector<double> err(static_cast<size_t>(kmax), 0.0);
  r->ista_check_max_diff.assign(checks, 0.0);
  r->ista_check_error.assign(checks, 0.0);
  for (const std::vector<double>& part : parts) {
    for (int64_t k = 0; k < kmax; ++k) err[k] += part[k];
    for (size_t c = 0; c < checks; ++c) {
      r->ista_check_max_diff[c] = std::max(r->ista_check_max_diff[c], part[kmax + c]);
      r->ista_check_error[c] += part[kmax + checks + c];
    }
  }
  return err;
}

struct TrainedLista {
  double error = 0.0;  // test code error
  int64_t steps = 0;
  double seconds = 0.0;
};

/// LISTA-T from the ISTA weights, trained with the model file's defaults; its test code error.
TrainedLista train_lista(const Options& o, const Runtime& rt, const proto::ModelDef& base, const std::string& path,
                         const Problem& p, int64_t t, const Dataset& train, const Dataset& test, double z_norm) {
  std::unique_ptr<Model> model = load_lista(rt, base, path, t);
  model->init_params(o.seed);
  set_ista_weights(*model, p);
  TrainOptions topt = train_defaults(*model);
  topt.seed = o.seed;
  const auto start = std::chrono::steady_clock::now();
  Trainer trainer(*model, topt);
  trainer.fit(train, nullptr);
  TrainedLista r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.steps = trainer.step();
  for (int64_t begin = 0; begin < test.size(); begin += 250)
    run_batch(*model, test, begin, std::min(test.size(), begin + 250), [&](const Model::Forward& fw) {
      const Tensor z = to_plain(fw.output.data());
      r.error += sum_sq_diff(z.data(), test.labels.data() + begin * kAtoms, z.numel());
    });
  r.error /= z_norm;
  return r;
}

std::string fixed(double v, const char* fmt = "%.4g") {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

/// Log-log: ISTA's error against its iterations, LISTA-T's at its T + 1 layers.
std::string render_chart(const ListaResult& r) {
  svg::Chart chart{.title = "Sparse coding: test code error", .x_label = "layers = ISTA iterations",
                   .y_label = "mean ||z - z*||^2 / mean ||z*||^2", .log_x = true, .log_y = true, .series = {}};
  auto positive = [](double v) { return v > 0.0 ? v : NAN; };  // a gap rather than a log of 0
  svg::Series ista_line{"ISTA", {}};
  for (size_t k = 1; k <= r.ista_error.size(); ++k)
    ista_line.points.push_back({static_cast<double>(k), positive(r.ista_error[k - 1])});
  svg::Series lista_line{"LISTA-T (T+1 layers)", {}};
  for (size_t i = 0; i < r.lista_T.size(); ++i)
    lista_line.points.push_back({static_cast<double>(r.lista_T[i] + 1), positive(r.lista_error[i])});
  chart.series = {ista_line, lista_line};
  return svg::render_svg(chart);
}

/// lista.csv, lista_models.csv, lista.svg and report.html in o.out_dir.
void write_outputs(const Options& o, const ListaResult& r, double lipschitz, const Sizes& sz) {
  report::Csv curve({"k", "error"});
  for (size_t k = 1; k <= r.ista_error.size(); ++k)
    curve.add_row(std::vector<double>{static_cast<double>(k), r.ista_error[k - 1]});
  report::write_atomically(out_path(o, "lista.csv"), curve.text());

  report::Csv models({"T", "layers", "error", "ista_matching"});
  std::vector<std::vector<std::string>> rows;
  auto ista_at = [&](int64_t k) {
    return k >= 1 && k <= static_cast<int64_t>(r.ista_error.size()) ? fixed(r.ista_error[k - 1]) : std::string("-");
  };
  for (size_t i = 0; i < r.lista_T.size(); ++i) {
    const int64_t t = r.lista_T[i];
    models.add_row(std::vector<double>{static_cast<double>(t), static_cast<double>(t + 1), r.lista_error[i],
                                       static_cast<double>(r.ista_matching[i])});
    rows.push_back({std::to_string(t), std::to_string(t + 1), fixed(r.lista_error[i]), ista_at(t + 1),
                    ista_at(8 * t), r.ista_matching[i] > 0 ? std::to_string(r.ista_matching[i]) : "> kmax"});
  }
  report::write_atomically(out_path(o, "lista_models.csv"), models.text());

  const std::string svg_text = render_chart(r);
  report::write_atomically(out_path(o, "lista.svg"), svg_text);

  report::Page page("LISTA vs ISTA");
  page.add_text("Sparse coding of x in a dictionary W_d of 256 unit-norm Gaussian atoms in R^64: z* = argmin 0.5 "
                "||x - W_d z||^2 + alpha ||z||_1 with alpha = " + fixed(kAlpha) + ". Codes have " +
                std::to_string(kSparsity) + " nonzeros, N(0, 1), on a random support; x = W_d z + N(0, " +
                fixed(kNoise) + "^2) noise; z* is ISTA run to convergence in double. " +
                std::to_string(sz.train) + " training and " + std::to_string(sz.test) + " test signals; L = " +
                fixed(lipschitz) + ".");
  page.add_text("ISTA runs through models/lista.pbtxt with the fixed weights W_e = W_d^T / L, S = I - W_d^T W_d / "
                "L, theta = alpha / L; LISTA-T (T + 1 shrinkage layers, W_e, S and a per-unit theta shared by "
                "the layers) starts from those weights and is trained with Adam to output z*. Code error: mean "
                "||z - z*||^2 over the test set divided by mean ||z*||^2. Training all LISTA models took " +
                fixed(r.train_seconds, "%.1f") + " s.");
  std::string claim = "Claim: for T = 1, 2, 4, 8, LISTA-T is at least as good as ISTA after 8T iterations.";
  for (size_t i = 0; i < r.lista_T.size(); ++i) {
    const int64_t t = r.lista_T[i];
    if (t > 8 || 8 * t > static_cast<int64_t>(r.ista_error.size())) continue;
    claim += " T = " + std::to_string(t) + ": " + (r.lista_error[i] <= r.ista_error[8 * t - 1] ? "holds" : "fails") +
             " (" + fixed(r.lista_error[i]) + " vs " + fixed(r.ista_error[8 * t - 1]) + ").";
  }
  page.add_text(claim);
  page.add_table({"T", "layers", "LISTA-T error", "ISTA error, T+1 iterations", "ISTA error, 8T iterations",
                  "ISTA iterations to match"},
                 rows);
  page.add_svg(svg_text);
  report::write_atomically(out_path(o, "report.html"), page.html());
}


/// The dictionary, the training and test signals with their optimal codes z*.
struct Data {
  Problem p;
  Dataset train, test;
  double z_norm = 0.0;  // sum over the test set of ||z*||^2
};

Data make_data(const Options& o, const Sizes& sz, tbb::task_arena& arena) {
  std::mt19937_64 rng(o.seed);
  Data d;
  d.p = make_problem(rng);
  const std::vector<float> x_train = draw_signals(d.p, sz.train, rng);
  const std::vector<float> x_test = draw_signals(d.p, sz.test, rng);
  const auto start = std::chrono::steady_clock::now();
  int64_t iters_train = 0, iters_test = 0;
  std::vector<float> z_train = optimal_codes(d.p, x_train, arena, &iters_train);
  std::vector<float> z_test = optimal_codes(d.p, x_test, arena, &iters_test);
  say(o, "lista: L = " + fixed(d.p.lipschitz) + "; z* by ISTA to convergence: at most " +
             std::to_string(std::max(iters_train, iters_test)) + " iterations, " +
             fixed(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), "%.1f") + " s");
  for (float v : z_test) d.z_norm += static_cast<double>(v) * v;
  d.train = make_dataset(x_train, kDim, std::move(z_train), kAtoms, "lista train (generated)");
  d.test = make_dataset(x_test, kDim, std::move(z_test), kAtoms, "lista test (generated)");
  return d;
}

/// Every LISTA-T of sz.lista_T, the models side by side (one per worker of
/// `arena`), deepest first so that the longest jobs are not queued behind
/// each other.
std::vector<TrainedLista> train_all(const Options& o, const Runtime& rt, const proto::ModelDef& base,
                                    const std::string& path, const Sizes& sz, const Data& d, tbb::task_arena& arena) {
  std::vector<TrainedLista> trained(sz.lista_T.size());
  std::vector<size_t> order(sz.lista_T.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return sz.lista_T[a] > sz.lista_T[b]; });
  std::atomic<size_t> next{0};
  arena.execute([&] {
    tbb::parallel_for(0, arena.max_concurrency(), [&](int) {
      for (size_t n = next++; n < order.size(); n = next++)
        trained[order[n]] = train_lista(o, rt, base, path, d.p, sz.lista_T[order[n]], d.train, d.test, d.z_norm);
    });
  });
  return trained;
}

}  // namespace

ListaResult run_lista(const Options& o) {
  const Sizes sz = sizes_for(o);
  tbb::task_arena arena(o.threads > 0 ? o.threads : tbb::task_arena::automatic);
  const Data d = make_data(o, sz, arena);
  // One thread per model run, the runs side by side on `arena` (o.threads of
  // them): the matrices are small, and an OpenMP team of 2 on a busy 2-core
  // machine spends its time spinning (training was 35x slower, measured).
  RuntimeOptions one_thread = runtime_options(o);
  one_thread.threads = 1;
  Runtime rt(one_thread);
  const std::string path = model_path(o, "lista.pbtxt");
  const proto::ModelDef base = load_model_def(path);
  ListaResult r;

  // The generated data and the ISTA weights as files, so that plain `plexus
  // train|eval models/lista.pbtxt --set T=N` can use them (docs/experiments.md).
  write_npy(out_path(o, "train_x.npy"), d.train.features);
  write_npy(out_path(o, "train_z.npy"), d.train.labels);
  write_npy(out_path(o, "test_x.npy"), d.test.features);
  write_npy(out_path(o, "test_z.npy"), d.test.labels);
  {
    std::unique_ptr<Model> ista_model = load_lista(rt, base, path, 1);  // T >= 1: S is a parameter
    ista_model->init_params(o.seed);
    set_ista_weights(*ista_model, d.p);
    ista_model->save_weights(out_path(o, "ista.ckpt"));
  }

  // ISTA: one model with T = kmax - 1 and the fixed weights; iterate k is a node.
  r.ista_error = ista_through_model(rt, base, path, d.p, sz.ista_max, d.test, arena, o.seed, &r);
  for (double& e : r.ista_error) e /= d.z_norm;
  for (double& e : r.ista_check_error) e /= d.z_norm;
  auto ista_at = [&](int64_t k) { return k <= sz.ista_max ? fixed(r.ista_error[k - 1]) : std::string("-"); };
  say(o, "lista: ISTA error after 1, 8, 64, " + std::to_string(sz.ista_max) + " iterations: " + ista_at(1) + ", " +
             ista_at(8) + ", " + ista_at(64) + ", " + ista_at(sz.ista_max));

  // LISTA-T: trained from the ISTA weights.
  const auto start = std::chrono::steady_clock::now();
  const std::vector<TrainedLista> trained = train_all(o, rt, base, path, sz, d, arena);
  r.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (size_t i = 0; i < trained.size(); ++i) {
    const int64_t t = sz.lista_T[i];
    int64_t matching = 0;
    for (int64_t k = 1; k <= sz.ista_max && matching == 0; ++k)
      if (r.ista_error[k - 1] <= trained[i].error) matching = k;
    r.lista_T.push_back(t);
    r.lista_error.push_back(trained[i].error);
    r.ista_matching.push_back(matching);
    say(o, "lista: T = " + std::to_string(t) + ", " + std::to_string(trained[i].steps) + " steps, test error " +
               fixed(trained[i].error) + " (ISTA: " + ista_at(t + 1) + " after T+1, " + ista_at(8 * t) +
               " after 8T; matched by " + std::to_string(matching) + " iterations), " +
               fixed(trained[i].seconds, "%.1f") + " s");
  }
  say(o, "lista: training all " + std::to_string(trained.size()) + " models took " + fixed(r.train_seconds, "%.1f") +
             " s");
  write_outputs(o, r, d.p.lipschitz, sz);
  return r;
}

}  // namespace plexus::experiments
