#include "workloads.hpp"

#include <plexus/error.hpp>
#include <plexus/layout.hpp>
#include <plexus/model.hpp>
#include <plexus/session.hpp>
#include <plexus/trainer.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <random>

namespace plexus::bench {

namespace {

// The models, written as a user would (docs/model-format.md), with the
// fused activations conv2d and linear offer.
const char* const kMlp = R"(
name: "bench_mlp"
inputs { name: "x" shape: 784 source: "features" }
inputs { name: "y" source: "labels" }
nodes { name: "fc1" kernel: "linear" inputs: "x" attrs { key: "out_features" value { i: 256 } }
        attrs { key: "activation" value { s: "relu" } } }
nodes { name: "fc2" kernel: "linear" inputs: "fc1" attrs { key: "out_features" value { i: 256 } }
        attrs { key: "activation" value { s: "relu" } } }
nodes { name: "fc3" kernel: "linear" inputs: "fc2" attrs { key: "out_features" value { i: 10 } } }
nodes { name: "xent" kernel: "softmax_cross_entropy" inputs: "fc3" inputs: "y" }
output: "fc3"
loss: "xent"
)";

const char* const kLenet = R"(
name: "bench_lenet"
inputs { name: "x" shape: 1 shape: 28 shape: 28 source: "features" }
inputs { name: "y" source: "labels" }
nodes { name: "conv1" kernel: "conv2d" inputs: "x" attrs { key: "out_channels" value { i: 6 } }
        attrs { key: "kernel" value { i: 5 } } attrs { key: "padding" value { i: 2 } }
        attrs { key: "activation" value { s: "relu" } } }
nodes { name: "pool1" kernel: "max_pool2d" inputs: "conv1" attrs { key: "kernel" value { i: 2 } } }
nodes { name: "conv2" kernel: "conv2d" inputs: "pool1" attrs { key: "out_channels" value { i: 16 } }
        attrs { key: "kernel" value { i: 5 } } attrs { key: "activation" value { s: "relu" } } }
nodes { name: "pool2" kernel: "max_pool2d" inputs: "conv2" attrs { key: "kernel" value { i: 2 } } }
nodes { name: "flat" kernel: "flatten" inputs: "pool2" }
nodes { name: "fc1" kernel: "linear" inputs: "flat" attrs { key: "out_features" value { i: 120 } }
        attrs { key: "activation" value { s: "relu" } } }
nodes { name: "fc2" kernel: "linear" inputs: "fc1" attrs { key: "out_features" value { i: 84 } }
        attrs { key: "activation" value { s: "relu" } } }
nodes { name: "fc3" kernel: "linear" inputs: "fc2" attrs { key: "out_features" value { i: 10 } } }
nodes { name: "xent" kernel: "softmax_cross_entropy" inputs: "fc3" inputs: "y" }
output: "fc3"
loss: "xent"
)";

const char* const kLogreg = R"(
name: "bench_logreg"
inputs { name: "x" shape: 30 source: "features" }
inputs { name: "y" source: "labels" }
nodes { name: "score" kernel: "linear" inputs: "x" attrs { key: "out_features" value { i: 1 } } }
nodes { name: "loss" kernel: "logistic" inputs: "score" inputs: "y" }
output: "score"
loss: "loss"
)";

const char* const kLista = R"(
name: "bench_lista"
inputs { name: "x" shape: 64 source: "features" }
inputs { name: "z_star" shape: 256 source: "labels" }
nodes { name: "b" kernel: "linear" inputs: "x" attrs { key: "out_features" value { i: 256 } }
        attrs { key: "bias" value { b: false } } params { role: "weights" name: "W_e" } }
nodes { name: "z0" kernel: "soft_threshold" inputs: "b" attrs { key: "per_unit" value { b: true } }
        params { role: "theta" name: "theta" } }
repeats {
  name: "lista" times: "T" carry: "z" init: "z0" result: "z_next"
  nodes { name: "s" kernel: "linear" inputs: "z" attrs { key: "out_features" value { i: 256 } }
          attrs { key: "bias" value { b: false } } params { role: "weights" name: "S" } }
  nodes { name: "pre" kernel: "add" inputs: "b" inputs: "s" }
  nodes { name: "z_next" kernel: "soft_threshold" inputs: "pre" attrs { key: "per_unit" value { b: true } }
          params { role: "theta" name: "theta" } }
}
vars { key: "T" value: 16 }
nodes { name: "loss" kernel: "squared_error" inputs: "lista" inputs: "z_star" }
output: "lista"
loss: "loss"
)";

struct Workload {
  const char* name;
  const char* summary;
  const char* model;
  int64_t batch;
  const char* optimizer;
  AttrMap hparams;
  int64_t steps;   // per timed run at scale 1
  int64_t warmup;  // untimed steps first
  bool inference;  // mlp_infer1: Session::run at batch 1, us/call
};

const std::vector<Workload>& workloads() {
  static const std::vector<Workload> w = {
      {"mlp", "W1: MLP 784-256-256-10, ReLU, softmax cross-entropy, batch 128, SGD momentum 0.9 lr 0.01", kMlp, 128,
       "momentum", {{"lr", AttrValue(0.01)}, {"rho", AttrValue(0.9)}}, 100, 20, false},
      {"lenet", "W2: LeNet-5 (conv5x5 6, pool, conv5x5 16, pool, fc 120-84-10), batch 64, Adam lr 1e-3", kLenet, 64,
       "adam", {{"lr", AttrValue(0.001)}}, 50, 10, false},
      {"logreg", "W3: logistic regression 30 -> 1, logistic loss, batch 32, SGD lr 0.1", kLogreg, 32, "sgd",
       {{"lr", AttrValue(0.1)}}, 5000, 500, false},
      {"lista", "W4: LISTA T=16 (W_e 256x64, S 256x256, per-unit theta), batch 256, Adam lr 1e-3", kLista, 256, "adam",
       {{"lr", AttrValue(0.001)}}, 15, 3, false},
      {"mlp_infer1", "W5: the W1 MLP, inference at batch 1 without a tape (Session::run)", kMlp, 1, "", {}, 5000, 500,
       true},
  };
  return w;
}

const Workload& find(const std::string& name) {
  for (const Workload& w : workloads())
    if (name == w.name) return w;
  std::string known;
  for (const Workload& w : workloads()) known += (known.empty() ? "" : ", ") + std::string(w.name);
  throw Error(ErrorCode::kNotFound, "unknown workload '" + name + "' (known: " + known + ")");
}

/// Seeded synthetic inputs of the model's shapes: features N(0, 1); labels
/// a class index (softmax cross-entropy), -1/+1 (logistic) or N(0, 1) targets.
std::map<std::string, Tensor> make_feeds(const Model& model, int64_t batch) {
  std::mt19937_64 rng(42);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::map<std::string, Tensor> feeds;
  for (const proto::InputDef& in : model.def().inputs()) {
    std::vector<int64_t> dims{batch};
    for (int64_t d : in.shape()) dims.push_back(d);
    Tensor t = Tensor::empty(Shape(std::span<const int64_t>(dims)));
    const std::string& loss_kernel = [&]() -> const std::string& {
      for (const proto::NodeDef& n : model.def().nodes())
        if (n.name() == model.def().loss()) return n.kernel();
      return model.def().loss();
    }();
    for (float& v : t.span()) {
      if (in.source() != "labels") v = normal(rng);
      else if (loss_kernel == "softmax_cross_entropy") v = static_cast<float>(rng() % 10);
      else if (loss_kernel == "logistic") v = rng() % 2 ? 1.0f : -1.0f;
      else v = normal(rng);
    }
    feeds[in.name()] = t;
  }
  return feeds;
}

double peak_rss_mb() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // kilobytes on Linux
}

uint64_t hits(const CacheStats& s) { return s.op_instance_hits + s.reorder_hits; }
uint64_t misses(const CacheStats& s) { return s.op_instances_created + s.reorders_created; }

}  // namespace

const std::vector<std::string>& workload_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const Workload& w : workloads()) n.push_back(w.name);
    return n;
  }();
  return names;
}

std::string workload_summary(const std::string& name) { return find(name).summary; }

Result run_workload(const std::string& name, const Options& o) {
  const Workload& w = find(name);
  RuntimeOptions ro;
  ro.threads = o.threads;
  Runtime rt(ro);
  Model model(rt, parse_model_def_text(w.model, std::string("plexus bench ") + w.name), std::string("bench:") + w.name);
  model.init_params(1);
  std::map<std::string, Tensor> feeds = make_feeds(model, w.batch);

  // One step (or call) of the workload.
  std::function<void()> step;
  std::unique_ptr<Trainer> trainer;
  std::unique_ptr<Session> session;
  std::map<std::string, Tensor> infer_feeds;
  if (w.inference) {
    session = std::make_unique<Session>(model);
    infer_feeds = {{model.feature_input(), feeds.at(model.feature_input())}};
    step = [&] { session->run(infer_feeds); };
  } else {
    TrainOptions opt;
    opt.optimizer = w.optimizer;
    opt.hparams = w.hparams;
    opt.batch_size = w.batch;
    opt.seed = 1;
    trainer = std::make_unique<Trainer>(model, opt);
    step = [&] { trainer->train_step(feeds); };
  }

  const int64_t steps = std::max<int64_t>(1, std::llround(static_cast<double>(w.steps) * o.scale));
  const int64_t warmup = std::max<int64_t>(1, std::llround(static_cast<double>(w.warmup) * o.scale));
  for (int64_t i = 0; i < warmup; ++i) step();

  const uint64_t allocs0 = Pool::global()->system_allocations();
  const CacheStats cache0 = cache_stats();
  std::vector<double> ms;  // per step, one entry per run
  for (int r = 0; r < std::max(1, o.repeats); ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < steps; ++i) step();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ms.push_back(1000.0 * seconds / static_cast<double>(steps));
  }
  const CacheStats cache1 = cache_stats();
  const uint64_t allocs1 = Pool::global()->system_allocations();

  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();
  const double median_ms = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  Result res;
  res.workload = w.name;
  res.threads = rt.threads();
  res.repeats = static_cast<int>(n);
  res.steps_per_run = steps;
  res.ms_per_step = median_ms;
  if (w.inference) {  // latency
    res.unit = "us/call";
    res.median = 1000.0 * median_ms;
    res.min = 1000.0 * sorted.front();
    res.max = 1000.0 * sorted.back();
  } else {
    res.unit = "steps/s";
    res.median = 1000.0 / median_ms;
    res.min = 1000.0 / sorted.back();
    res.max = 1000.0 / sorted.front();
  }
  const double timed_steps = static_cast<double>(steps) * static_cast<double>(n);
  res.allocs_per_step = static_cast<double>(allocs1 - allocs0) / timed_steps;
  res.cache_hits = hits(cache1) - hits(cache0);
  res.cache_misses = misses(cache1) - misses(cache0);
  res.peak_rss_mb = peak_rss_mb();
  return res;
}

}  // namespace plexus::bench
