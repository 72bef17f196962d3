// plexus eval MODEL --weights CKPT [--data SPEC] [--json]
#include "commands.hpp"
#include "common.hpp"

#include <plexus/checkpoint.hpp>
#include <plexus/error.hpp>
#include <plexus/trainer.hpp>

#include <cstdio>

namespace plexus::cli {

int cmd_eval(int argc, char** argv) {
  po::options_description o("options");
  o.add_options()
      ("model", po::value<std::string>()->required(), "model definition")
      ("weights", po::value<std::string>()->required(), "checkpoint with the trained parameters")
      ("data", po::value<std::string>(), "data SPEC (default: the model's test_data)")
      ("batch-size", po::value<int64_t>()->default_value(256), "evaluation batch size")
      ("json", "print one JSON object instead of text")
      ("threads", po::value<int>()->default_value(0), "thread budget (0: all hardware threads)")
      ("set", po::value<std::vector<std::string>>()->multitoken(),
       "NAME=VALUE: set a model variable, e.g. a repeat count (--set T=8)")
      ("plain-layouts", "keep every tensor plain row-major (no oneDNN blocked layouts between ops)");
  po::positional_options_description pos;
  pos.add("model", 1);
  auto vm = parse(argc, argv, "plexus eval MODEL --weights CKPT [--data SPEC] [--json]", o, pos);
  if (!vm) return 0;

  RuntimeOptions ro;
  ro.threads = (*vm)["threads"].as<int>();
  ro.blocked_layouts = vm->count("plain-layouts") == 0;
  Runtime rt(ro);
  const std::string path = (*vm)["model"].as<std::string>();
  Model model(rt, load_model_with_sets(path, *vm), path);
  auto spec = data_spec_or_default(*vm, "data", model, true);
  if (!spec) throw Error(ErrorCode::kInvalid, "no data: pass --data SPEC or give the model a train.test_data");
  Dataset data = load_dataset(*spec);
  load_params(model, load_checkpoint((*vm)["weights"].as<std::string>()));
  const EvalResult r = evaluate(model, data, (*vm)["batch-size"].as<int64_t>());
  if (vm->count("json")) {
    std::printf("{\"samples\": %lld, \"loss\": %.9g, \"accuracy\": %.9g, \"correct\": %lld, \"counted\": %lld}\n",
                static_cast<long long>(r.samples), r.loss, r.accuracy, static_cast<long long>(r.correct),
                static_cast<long long>(r.counted));
  } else {
    std::printf("samples %lld  loss %.6f  accuracy %.4f (%lld/%lld)\n", static_cast<long long>(r.samples), r.loss,
                r.accuracy, static_cast<long long>(r.correct), static_cast<long long>(r.counted));
  }
  return 0;
}

}  // namespace plexus::cli
