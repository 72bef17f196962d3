// plexus checkpoint export CKPT DIR | import MODEL DIR --out CKPT
#include "commands.hpp"
#include "common.hpp"

#include <plexus/checkpoint.hpp>
#include <plexus/error.hpp>

#include <cstdio>
#include <iostream>

namespace plexus::cli {

namespace {

int cmd_export(int argc, char** argv) {
  po::options_description o("options");
  o.add_options()("checkpoint", po::value<std::string>()->required(), "checkpoint file")
      ("dir", po::value<std::string>()->required(), "output folder (created)");
  po::positional_options_description pos;
  pos.add("checkpoint", 1).add("dir", 1);
  auto vm = parse(argc, argv, "plexus checkpoint export CKPT DIR", o, pos);
  if (!vm) return 0;
  Checkpoint ck = load_checkpoint((*vm)["checkpoint"].as<std::string>());
  export_checkpoint_npy(ck, (*vm)["dir"].as<std::string>());
  std::printf("exported %zu tensors to %s\n", ck.tensors.size(), (*vm)["dir"].as<std::string>().c_str());
  return 0;
}

int cmd_import(int argc, char** argv) {
  po::options_description o("options");
  o.add_options()("model", po::value<std::string>()->required(), "model definition")
      ("dir", po::value<std::string>()->required(), "folder of NAME.npy files, one per parameter")
      ("out", po::value<std::string>()->required(), "checkpoint to write");
  po::positional_options_description pos;
  pos.add("model", 1).add("dir", 1);
  auto vm = parse(argc, argv, "plexus checkpoint import MODEL DIR --out CKPT", o, pos);
  if (!vm) return 0;
  Runtime rt;
  const std::string path = (*vm)["model"].as<std::string>();
  Model model(rt, load_model_def(path), path);
  Checkpoint ck = import_checkpoint_npy(model.def(), model.param_shapes(), (*vm)["dir"].as<std::string>());
  save_checkpoint((*vm)["out"].as<std::string>(), ck);
  std::printf("imported %zu parameters into %s\n", ck.tensors.size(), (*vm)["out"].as<std::string>().c_str());
  return 0;
}

}  // namespace

int cmd_checkpoint(int argc, char** argv) {
  const std::string usage = "usage: plexus checkpoint export CKPT DIR\n       plexus checkpoint import MODEL DIR --out CKPT\n";
  if (argc < 2) {
    std::cerr << usage;
    return 2;
  }
  const std::string sub = argv[1];
  if (sub == "export") return cmd_export(argc - 1, argv + 1);
  if (sub == "import") return cmd_import(argc - 1, argv + 1);
  if (sub == "--help" || sub == "-h") {
    std::cout << usage;
    return 0;
  }
  std::cerr << "plexus checkpoint: unknown subcommand '" << sub << "'\n" << usage;
  return 2;
}

}  // namespace plexus::cli
