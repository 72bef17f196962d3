// plexus: the command line. A thin client of libplexus_runtime.
#include "commands.hpp"

#include <plexus/error.hpp>

#include <cstring>
#include <iostream>
#include <string>

namespace {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);
};

const Command kCommands[] = {
    {"train", "train a model definition on a data set", &plexus::cli::cmd_train},
    {"eval", "evaluate a trained checkpoint: loss and accuracy", &plexus::cli::cmd_eval},
    {"plugins", "list every loaded kernel with its attributes", &plexus::cli::cmd_plugins},
    {"checkpoint", "export a checkpoint to .npy files, or import them", &plexus::cli::cmd_checkpoint},
    {"report", "line charts (SVG or HTML) of metrics CSV files", &plexus::cli::cmd_report},
    {"experiment", "run one of the course's experiments: CSV, SVG charts, report.html", &plexus::cli::cmd_experiment},
    {"bench", "time the benchmark workloads (training steps/s, inference latency)", &plexus::cli::cmd_bench},
};

void usage(std::ostream& os) {
  os << "usage: plexus <command> [options]   (plexus <command> --help for details)\n\ncommands:\n";
  for (const Command& c : kCommands) os << "  " << c.name << std::string(12 - std::strlen(c.name), ' ') << c.summary << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(std::cerr);
    return 2;
  }
  const std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    usage(std::cout);
    return 0;
  }
  for (const Command& c : kCommands) {
    if (cmd != c.name) continue;
    try {
      return c.run(argc - 1, argv + 1);
    } catch (const plexus::Error& e) {
      std::cerr << "plexus " << cmd << ": error: " << e.what() << "\n";
      return 1;
    } catch (const std::exception& e) {
      std::cerr << "plexus " << cmd << ": error: " << e.what() << "\n";
      return 1;
    }
  }
  std::cerr << "plexus: unknown command '" << cmd << "'\n";
  usage(std::cerr);
  return 2;
}
