// Helpers shared by the plexus subcommands.
#ifndef PLEXUS_TOOLS_COMMON_HPP
#define PLEXUS_TOOLS_COMMON_HPP

#include <plexus/data.hpp>
#include <plexus/kernel.hpp>
#include <plexus/model.hpp>
#include <plexus/runtime.hpp>

#include <boost/program_options.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace plexus::cli {

namespace po = boost::program_options;

/// Parses argv (argv[0] is the subcommand); returns nullopt after printing help.
std::optional<po::variables_map> parse(int argc, char** argv, const std::string& usage,
                                       const po::options_description& options,
                                       const po::positional_options_description& positional);

/// The folder of a file path ("." if none), for resolving model-relative data paths.
std::string folder_of(const std::string& path);

/// "key=value" pairs into an AttrMap (values typed by AttrValue::parse).
AttrMap parse_key_values(const std::vector<std::string>& items, const std::string& flag);

/// The model file at `path` with `--set NAME=VALUE ...` applied to its
/// variables (repeat counts), ready for plexus::Model.
proto::ModelDef load_model_with_sets(const std::string& path, const po::variables_map& vm);

/// --data SPEC if given, else the model's default data (train or test).
std::optional<DataSpec> data_spec_or_default(const po::variables_map& vm, const std::string& flag,
                                             const Model& model, bool test);

}  // namespace plexus::cli

#endif
