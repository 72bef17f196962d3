// `plexus checkpoint export | import`: a checkpoint's tensors as one NumPy
// .npy file each (naming rule in docs/checkpoint-format.md).
#include <plexus/checkpoint.hpp>
#include <plexus/error.hpp>
#include <plexus/npy.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <system_error>

namespace plexus {

namespace fs = std::filesystem;

namespace {

/// "fc1.weights/sgd/m" -> "fc1.weights__sgd__m.npy". Removing '/' keeps
/// every file inside DIR whatever the name holds.
std::string npy_file_name(const std::string& tensor) {
  std::string out;
  for (char c : tensor) {
    if (c == '/') out += "__";
    else out += c;
  }
  return out + ".npy";
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

void export_checkpoint_npy(const Checkpoint& ck, const std::string& dir) {
  // Check every name before writing anything, so a bad checkpoint leaves no files behind.
  std::map<std::string, std::string> by_file;  // file name -> tensor name
  for (const CheckpointTensor& t : ck.tensors) {
    if (t.name.empty() || t.name.find('\0') != std::string::npos)
      throw Error(ErrorCode::kInvalid, "cannot export a tensor with an empty name or a NUL byte in its name to '" +
                                           dir + "'");
    if (!t.data.defined())
      throw Error(ErrorCode::kInvalid, "cannot export tensor '" + t.name + "' to '" + dir + "': it has no data");
    const std::string file = npy_file_name(t.name);
    auto [it, fresh] = by_file.emplace(file, t.name);
    if (!fresh)
      throw Error(ErrorCode::kInvalid, "cannot export to '" + dir + "': tensors '" + it->second + "' and '" + t.name +
                                           "' would both be written to " + file);
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(ErrorCode::kIo, "cannot create folder '" + dir + "': " + ec.message());
  for (const CheckpointTensor& t : ck.tensors) write_npy((fs::path(dir) / npy_file_name(t.name)).string(), t.data);
}

Checkpoint import_checkpoint_npy(const proto::ModelDef& model,
                                 const std::vector<std::pair<std::string, Shape>>& params,
                                 const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Error(ErrorCode::kNotFound, "cannot import parameters: '" + dir + "' is not a folder" +
                                          (ec ? " (" + ec.message() + ")" : std::string()));

  std::set<std::string> expected;
  for (const auto& [name, shape] : params) expected.insert(npy_file_name(name));

  // Besides the parameters, DIR may hold optimizer state as written by
  // export: "<param>__<optimizer>__<slot>.npy" for a parameter of the model.
  // Any other .npy is an error: it usually means a renamed parameter.
  std::vector<std::string> extra;
  std::vector<CheckpointTensor> state;
  std::string optimizer;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string file = it->path().filename().string();
    if (it->path().extension() != ".npy" || expected.count(file)) continue;
    const std::string stem = it->path().stem().string();
    bool is_state = false;
    for (const auto& [name, shape] : params) {
      const std::string prefix = name + "__";
      if (stem.rfind(prefix, 0) != 0) continue;
      const std::string rest = stem.substr(prefix.size());
      const size_t sep = rest.find("__");
      if (sep == std::string::npos || sep == 0 || sep + 2 >= rest.size() || rest.find("__", sep + 2) != std::string::npos)
        continue;
      const std::string opt = rest.substr(0, sep);
      if (!optimizer.empty() && opt != optimizer)
        throw Error(ErrorCode::kFormat, "cannot import from '" + dir + "': optimizer state of two optimizers ('" +
                                            optimizer + "' and '" + opt + "', in " + file + ")");
      optimizer = opt;
      state.push_back({name + "/" + opt + "/" + rest.substr(sep + 2), proto::TENSOR_ROLE_OPTIMIZER_STATE, name,
                       read_npy(it->path().string())});
      is_state = true;
      break;
    }
    if (!is_state) extra.push_back(file);
  }
  if (ec) throw Error(ErrorCode::kIo, "cannot list folder '" + dir + "': " + ec.message());
  std::sort(extra.begin(), extra.end());
  if (!extra.empty()) {
    std::vector<std::string> known(expected.begin(), expected.end());
    throw Error(ErrorCode::kFormat, "cannot import parameters from '" + dir + "': unexpected file" +
                                        (extra.size() > 1 ? "s " : " ") + join(extra) + " (the model's parameters are " +
                                        (known.empty() ? std::string("none") : join(known)) +
                                        "; optimizer state is PARAM__OPTIMIZER__SLOT.npy)");
  }

  std::vector<std::string> missing;
  for (const auto& [name, shape] : params) {
    const fs::path file = fs::path(dir) / npy_file_name(name);
    if (!fs::exists(file, ec)) missing.push_back(file.string() + " (parameter '" + name + "', shape " + shape.str() + ")");
  }
  if (!missing.empty())
    throw Error(ErrorCode::kNotFound, "cannot import parameters: missing file" + std::string(missing.size() > 1 ? "s " : " ") +
                                          join(missing));

  Checkpoint ck;
  ck.model = model;
  ck.step = 0;
  for (const auto& [name, shape] : params) {
    const std::string file = (fs::path(dir) / npy_file_name(name)).string();
    Tensor t = read_npy(file);
    if (t.shape() != shape)
      throw Error(ErrorCode::kFormat, "cannot import parameter '" + name + "' from '" + file + "': expected shape " +
                                          shape.str() + ", found " + t.shape().str());
    ck.tensors.push_back({name, proto::TENSOR_ROLE_PARAM, "", std::move(t)});
  }
  std::sort(state.begin(), state.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  for (CheckpointTensor& t : state) ck.tensors.push_back(std::move(t));
  ck.optimizer = optimizer;
  return ck;
}

}  // namespace plexus
