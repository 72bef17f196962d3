// plexus train MODEL [--data SPEC] [--test-data SPEC] ...
#include "commands.hpp"
#include "common.hpp"
#include "progress.hpp"

#include <plexus/checkpoint.hpp>
#include <plexus/error.hpp>
#include <plexus/profile.hpp>
#include <plexus/trainer.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>
#include <unistd.h>

namespace plexus::cli {

namespace {

/// One training run: which optimizer, its hyperparameters from --opt, and
/// where its metrics and checkpoint go.
struct Run {
  std::string optimizer;  // empty: --optimizer or the model's
  AttrMap opt;            // --opt entries that apply to this run
  std::string metrics, save;
};

/// The --profile table: each phase of the steps, and within a phase each op
/// kind, then what the framework itself took (the phase less its ops).
void print_profile(const Profile& prof) {
  double total = 0.0;
  for (const auto& [key, e] : prof.entries())
    if (key.second.empty()) total += e.seconds;
  const double steps = static_cast<double>(std::max<int64_t>(1, prof.steps));
  std::printf("profile: %lld steps, %.3f s in steps, %.3f ms a step\n", static_cast<long long>(prof.steps), total,
              total / steps * 1e3);
  std::printf("  %-28s %10s %10s %10s %7s\n", "phase / op", "calls", "total s", "ms/step", "share");
  const auto row = [&](const std::string& name, const std::string& calls, double seconds) {
    std::printf("  %-28s %10s %10.3f %10.4f %6.1f%%\n", name.c_str(), calls.c_str(), seconds, seconds / steps * 1e3,
                total > 0 ? 100.0 * seconds / total : 0.0);
  };
  for (const char* phase : {"data", "forward", "backward", "metric", "update"}) {
    const Profile::Entry whole = prof.phase(phase);
    if (whole.calls == 0) continue;
    row(phase, std::to_string(whole.calls), whole.seconds);
    std::vector<std::pair<std::string, Profile::Entry>> ops;
    double in_ops = 0.0;
    for (const auto& [key, e] : prof.entries())
      if (key.first == phase && !key.second.empty()) ops.emplace_back(key.second, e), in_ops += e.seconds;
    if (ops.empty()) continue;
    std::sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) { return a.second.seconds > b.second.seconds; });
    for (const auto& [op, e] : ops) row("  " + op, std::to_string(e.calls), e.seconds);
    row("  (framework)", "-", std::max(0.0, whole.seconds - in_ops));
  }
  std::fflush(stdout);
}

void train_once(const po::variables_map& vm, const Run& run) {
  RuntimeOptions ro;
  ro.threads = vm["threads"].as<int>();
  ro.blocked_layouts = vm.count("plain-layouts") == 0;
  Runtime rt(ro);
  const std::string path = vm["model"].as<std::string>();
  Model model(rt, load_model_with_sets(path, vm), path);

  TrainOptions opt = train_defaults(model, run.optimizer);
  if (vm.count("epochs")) opt.epochs = vm["epochs"].as<int64_t>();
  if (vm.count("batch-size")) opt.batch_size = vm["batch-size"].as<int64_t>();
  for (const auto& [k, v] : run.opt) opt.hparams[k] = v;
  if (vm.count("seed")) opt.seed = vm["seed"].as<uint64_t>();
  opt.shuffle = !vm.count("no-shuffle");
  opt.metrics_csv = run.metrics;
  opt.save_path = run.save;
  opt.save_every = vm["save-every"].as<int64_t>();
  opt.on_nan = vm["on-nan"].as<std::string>();
  Profile profile;
  if (vm.count("profile")) opt.profile = &profile;

  auto train_spec = data_spec_or_default(vm, "data", model, false);
  if (!train_spec)
    throw Error(ErrorCode::kInvalid, "no training data: pass --data SPEC or give the model a train.train_data");
  Dataset train = load_dataset(*train_spec);
  std::optional<Dataset> test;
  if (auto ts = data_spec_or_default(vm, "test-data", model, true)) test = load_dataset(*ts);

  Trainer trainer(model, opt);
  if (vm.count("init")) trainer.restore(load_checkpoint(vm["init"].as<std::string>()));

  std::printf("plexus train %s: %lld training samples%s, %lld epochs, batch %lld, optimizer %s, lr %g, %d threads\n",
              path.c_str(), static_cast<long long>(train.size()),
              test ? (", " + std::to_string(test->size()) + " test samples").c_str() : "",
              static_cast<long long>(opt.epochs), static_cast<long long>(opt.batch_size), opt.optimizer.c_str(),
              trainer.lr(), rt.threads());
  std::fflush(stdout);
  Progress progress(opt.epochs, ::isatty(STDOUT_FILENO) != 0);
  TrainCallbacks cb;
  cb.on_step = [&](const StepInfo& s) { progress.step(s); };
  cb.on_epoch = [&](const EpochInfo& e) { progress.epoch(e); };
  auto history = trainer.fit(train, test ? &*test : nullptr, cb);

  const EvalResult final_eval = test ? trainer.evaluate(*test) : trainer.evaluate(train);
  std::printf("%s accuracy: %.4f (%lld/%lld), loss %.4f\n", test ? "test" : "train", final_eval.accuracy,
              static_cast<long long>(final_eval.correct), static_cast<long long>(final_eval.counted), final_eval.loss);
  if (!opt.save_path.empty()) std::printf("checkpoint: %s\n", opt.save_path.c_str());
  if (!opt.metrics_csv.empty()) std::printf("metrics: %s\n", opt.metrics_csv.c_str());
  if (opt.profile != nullptr) print_profile(profile);
}

// "runs/mlp.csv" + "adam" -> "runs/mlp.adam.csv"
std::string with_tag(const std::string& path, const std::string& tag) {
  const size_t slash = path.find_last_of('/');
  const size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return path + "." + tag;
  return path.substr(0, dot) + "." + tag + path.substr(dot);
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t comma = std::min(text.find(',', pos), text.size());
    out.push_back(text.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return out;
}

// The same model from the same initialization once per optimizer: one
// metrics CSV each, then a chart comparing them (plexus report).
int compare_optimizers(const po::variables_map& vm, const std::vector<std::string>& names) {
  const std::string model = vm["model"].as<std::string>();
  const std::string stem = model.substr(model.find_last_of('/') + 1);
  const std::string base = vm.count("metrics") ? vm["metrics"].as<std::string>()
                                               : stem.substr(0, stem.find_last_of('.')) + ".csv";
  const AttrMap given = vm.count("opt") ? parse_key_values(vm["opt"].as<std::vector<std::string>>(), "--opt") : AttrMap{};
  for (const auto& [k, v] : given)
    if (const size_t dot = k.find('.'); dot != std::string::npos &&
                                        std::find(names.begin(), names.end(), k.substr(0, dot)) == names.end())
      throw Error(ErrorCode::kInvalid, "--opt " + k + ": '" + k.substr(0, dot) + "' is not one of the optimizers run");
  std::vector<std::string> csvs;
  for (const std::string& name : names) {
    if (name.empty()) throw Error(ErrorCode::kInvalid, "--optimizer: an empty name in the list");
    Run run{name, {}, with_tag(base, name), vm.count("save") ? with_tag(vm["save"].as<std::string>(), name) : ""};
    // "lr=0.1" for all, then "adam.lr=0.001" for adam only (the specific one wins).
    for (const auto& [k, v] : given)
      if (k.find('.') == std::string::npos) run.opt[k] = v;
    for (const auto& [k, v] : given)
      if (const size_t dot = k.find('.'); dot != std::string::npos && k.substr(0, dot) == name)
        run.opt[k.substr(dot + 1)] = v;
    std::printf("== %s ==\n", name.c_str());
    train_once(vm, run);
    csvs.push_back(run.metrics);
  }
  const std::string tagged = with_tag(base, "compare");  // mlp.compare.csv -> mlp.compare.html
  const std::string out =
      vm.count("report") ? vm["report"].as<std::string>() : tagged.substr(0, tagged.find_last_of('.')) + ".html";
  std::string labels;
  for (const std::string& n : names) labels += (labels.empty() ? "" : ",") + n;
  std::vector<std::string> args{"report"};
  args.insert(args.end(), csvs.begin(), csvs.end());
  for (const char* a : {"--out", out.c_str(), "--labels", labels.c_str(), "--title", stem.c_str()}) args.push_back(a);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return cmd_report(static_cast<int>(argv.size()), argv.data());
}

}  // namespace

int cmd_train(int argc, char** argv) {
  po::options_description o("options");
  o.add_options()
      ("model", po::value<std::string>()->required(), "model definition (.pbtxt or binary)")
      ("data", po::value<std::string>(), "training data SPEC (default: the model's train_data)")
      ("test-data", po::value<std::string>(), "test data SPEC, evaluated each epoch (default: the model's test_data)")
      ("epochs", po::value<int64_t>(), "epochs (default: the model's, else 1)")
      ("batch-size", po::value<int64_t>(), "minibatch size (default: the model's, else 32)")
      ("optimizer", po::value<std::string>(), "optimizer kernel (default: the model's, else sgd)")
      ("opt", po::value<std::vector<std::string>>()->composing(),
       "optimizer hyperparameter key=value (repeatable), e.g. lr=0.1; shared by all optimizers: lr, weight_decay, "
       "clip_norm, lr_schedule (constant|step|exponential|cosine|inv_sqrt|course), lr_step, lr_gamma, lr_warmup, "
       "lr_min, lr_total, lr_lipschitz")
      ("seed", po::value<uint64_t>(), "seed for initialization and shuffling (default: the model's, else 0)")
      ("init", po::value<std::string>(), "start from this checkpoint")
      ("save", po::value<std::string>(), "write a checkpoint here at the end")
      ("save-every", po::value<int64_t>()->default_value(0), "also checkpoint every N steps (with --save)")
      ("metrics", po::value<std::string>(), "write per-epoch metrics to this CSV file")
      ("no-shuffle", "keep the data order")
      ("on-nan", po::value<std::string>()->default_value("stop"),
       "on a NaN/Inf loss, gradient or parameter: stop (error, nothing saved after it) or skip-step")
      ("threads", po::value<int>()->default_value(0), "thread budget (0: all hardware threads)")
      ("set", po::value<std::vector<std::string>>()->multitoken(),
       "NAME=VALUE: set a model variable, e.g. a repeat count (--set T=8)")
      ("plain-layouts", "keep every tensor plain row-major (no oneDNN blocked layouts between ops)")
      ("profile", "after training, print where the steps' time went: per phase (data, forward, backward, "
                  "metric, update) and per op kind")
      ("report", po::value<std::string>(), "with several optimizers: the comparison chart (.html or .svg; "
                                           "default: next to the metrics, *.compare.html)");
  po::positional_options_description pos;
  pos.add("model", 1);
  auto vm = parse(argc, argv, "plexus train MODEL [options]\n\nSPEC: FORMAT:PATH[,key=value...], e.g. "
                              "idx:images.gz,labels=labels.gz,rows=0:8000,scale=0.00392156862745098\n"
                              "--optimizer a,b,c trains once per optimizer from the same initialization and "
                              "charts them (--opt b.lr=0.01 sets one optimizer's value)",
                  o, pos);
  if (!vm) return 0;
  if (vm->count("optimizer")) {
    const std::vector<std::string> names = split_commas((*vm)["optimizer"].as<std::string>());
    if (names.size() > 1) return compare_optimizers(*vm, names);
  }
  Run run;
  if (vm->count("optimizer")) run.optimizer = (*vm)["optimizer"].as<std::string>();
  if (vm->count("opt")) run.opt = parse_key_values((*vm)["opt"].as<std::vector<std::string>>(), "--opt");
  if (vm->count("metrics")) run.metrics = (*vm)["metrics"].as<std::string>();
  if (vm->count("save")) run.save = (*vm)["save"].as<std::string>();
  train_once(*vm, run);
  return 0;
}

}  // namespace plexus::cli
