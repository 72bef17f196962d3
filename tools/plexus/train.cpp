// plexus train MODEL [--data SPEC] [--test-data SPEC] ...
#include "commands.hpp"
#include "common.hpp"
#include "progress.hpp"

#include <plexus/checkpoint.hpp>
#include <plexus/error.hpp>
#include <plexus/trainer.hpp>

#include <cstdio>
#include <iostream>
#include <unistd.h>

namespace plexus::cli {

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
      ("plain-layouts", "keep every tensor plain row-major (no oneDNN blocked layouts between ops)");
  po::positional_options_description pos;
  pos.add("model", 1);
  auto vm = parse(argc, argv, "plexus train MODEL [options]\n\nSPEC: FORMAT:PATH[,key=value...], e.g. "
                              "idx:images.gz,labels=labels.gz,rows=0:8000,scale=0.00392156862745098",
                  o, pos);
  if (!vm) return 0;

  RuntimeOptions ro;
  ro.threads = (*vm)["threads"].as<int>();
  ro.blocked_layouts = vm->count("plain-layouts") == 0;
  Runtime rt(ro);
  const std::string path = (*vm)["model"].as<std::string>();
  Model model(rt, load_model_with_sets(path, *vm), path);
  const proto::TrainDefaults& d = model.def().train();

  TrainOptions opt;
  opt.epochs = vm->count("epochs") ? (*vm)["epochs"].as<int64_t>() : (d.epochs() > 0 ? d.epochs() : 1);
  opt.batch_size = vm->count("batch-size") ? (*vm)["batch-size"].as<int64_t>() : (d.batch_size() > 0 ? d.batch_size() : 32);
  opt.optimizer = vm->count("optimizer") ? (*vm)["optimizer"].as<std::string>() : (d.optimizer().empty() ? "sgd" : d.optimizer());
  if (!vm->count("optimizer") || opt.optimizer == d.optimizer()) {
    for (const auto& [k, v] : d.optimizer_hparams()) {
      switch (v.value_case()) {
        case proto::AttrValue::kF: opt.hparams[k] = AttrValue(v.f()); break;
        case proto::AttrValue::kI: opt.hparams[k] = AttrValue(static_cast<int64_t>(v.i())); break;
        case proto::AttrValue::kB: opt.hparams[k] = AttrValue(v.b()); break;
        case proto::AttrValue::kS: opt.hparams[k] = AttrValue(v.s()); break;
        default: break;
      }
    }
  }
  if (vm->count("opt"))
    for (auto& [k, v] : parse_key_values((*vm)["opt"].as<std::vector<std::string>>(), "--opt")) opt.hparams[k] = v;
  opt.seed = vm->count("seed") ? (*vm)["seed"].as<uint64_t>() : d.seed();
  opt.shuffle = !vm->count("no-shuffle");
  if (vm->count("metrics")) opt.metrics_csv = (*vm)["metrics"].as<std::string>();
  if (vm->count("save")) opt.save_path = (*vm)["save"].as<std::string>();
  opt.save_every = (*vm)["save-every"].as<int64_t>();
  opt.on_nan = (*vm)["on-nan"].as<std::string>();

  auto train_spec = data_spec_or_default(*vm, "data", model, false);
  if (!train_spec)
    throw Error(ErrorCode::kInvalid, "no training data: pass --data SPEC or give the model a train.train_data");
  Dataset train = load_dataset(*train_spec);
  std::optional<Dataset> test;
  if (auto ts = data_spec_or_default(*vm, "test-data", model, true)) test = load_dataset(*ts);

  Trainer trainer(model, opt);
  if (vm->count("init")) trainer.restore(load_checkpoint((*vm)["init"].as<std::string>()));

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
  return 0;
}

}  // namespace plexus::cli
