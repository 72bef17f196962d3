// The subcommands of `plexus`; each parses its own options (--help on each).
#ifndef PLEXUS_TOOLS_COMMANDS_HPP
#define PLEXUS_TOOLS_COMMANDS_HPP

namespace plexus::cli {

int cmd_train(int argc, char** argv);
int cmd_eval(int argc, char** argv);
int cmd_plugins(int argc, char** argv);
int cmd_checkpoint(int argc, char** argv);
int cmd_report(int argc, char** argv);
int cmd_experiment(int argc, char** argv);
int cmd_bench(int argc, char** argv);

}  // namespace plexus::cli

#endif
