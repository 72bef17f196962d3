#include "common.hpp"

#include <plexus/error.hpp>

#include <iostream>

namespace plexus::cli {

std::optional<po::variables_map> parse(int argc, char** argv, const std::string& usage,
                                       const po::options_description& options,
                                       const po::positional_options_description& positional) {
  po::options_description all;
  all.add(options);
  all.add_options()("help,h", "show this help");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    if (vm.count("help")) {
      std::cout << "usage: " << usage << "\n\n" << all << "\n";
      return std::nullopt;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw Error(ErrorCode::kInvalid, std::string(e.what()) + "\nusage: " + usage);
  }
  return vm;
}

std::string folder_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

AttrMap parse_key_values(const std::vector<std::string>& items, const std::string& flag) {
  AttrMap m;
  for (const std::string& kv : items) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error(ErrorCode::kInvalid, flag + " '" + kv + "': expected key=value");
    m[kv.substr(0, eq)] = AttrValue::parse(kv.substr(eq + 1));
  }
  return m;
}

proto::ModelDef load_model_with_sets(const std::string& path, const po::variables_map& vm) {
  proto::ModelDef def = load_model_def(path);
  if (!vm.count("set")) return def;
  std::map<std::string, int64_t> values;
  for (const auto& [name, value] : parse_key_values(vm["set"].as<std::vector<std::string>>(), "--set")) {
    const auto* v = std::get_if<int64_t>(&value.get());
    if (v == nullptr) throw Error(ErrorCode::kInvalid, "--set " + name + "=" + value.str() + ": expected an integer");
    values[name] = *v;
  }
  set_model_vars(def, values, path);
  return def;
}

std::optional<DataSpec> data_spec_or_default(const po::variables_map& vm, const std::string& flag,
                                             const Model& model, bool test) {
  if (vm.count(flag)) return parse_data_spec(vm[flag].as<std::string>());
  const auto& t = model.def().train();
  const proto::DataSpec& p = test ? t.test_data() : t.train_data();
  if (p.path().empty()) return std::nullopt;
  return data_spec_from_proto(p, folder_of(model.source()));
}

}  // namespace plexus::cli
