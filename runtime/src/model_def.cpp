// Reading model definitions: protobuf text format or binary.
#include <plexus/error.hpp>
#include <plexus/model.hpp>

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace plexus {
namespace {

class CollectErrors : public google::protobuf::io::ErrorCollector {
 public:
  explicit CollectErrors(std::string source) : source_(std::move(source)) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column, const std::string& message) override {
    if (first_.empty())
      first_ = source_ + ":" + std::to_string(line + 1) + ":" + std::to_string(column + 1) + ": " + message;
  }
  void AddWarning(int, google::protobuf::io::ColumnNumber, const std::string&) override {}
  const std::string& first() const { return first_; }

 private:
  std::string source_;
  std::string first_;
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

proto::ModelDef parse_model_def_text(const std::string& text, const std::string& source) {
  proto::ModelDef def;
  google::protobuf::TextFormat::Parser parser;
  CollectErrors errors(source);
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, &def))
    throw Error(ErrorCode::kFormat, "malformed model definition " +
                                        (errors.first().empty() ? source : errors.first()));
  return def;
}

proto::ModelDef load_model_def(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::kIo, "cannot open model definition '" + path + "'");
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string bytes = buf.str();
  if (ends_with(path, ".pbtxt") || ends_with(path, ".prototxt") || ends_with(path, ".txt"))
    return parse_model_def_text(bytes, path);
  proto::ModelDef def;
  if (def.ParseFromString(bytes)) return def;
  // Not binary: perhaps text under another extension; report the text error.
  return parse_model_def_text(bytes, path);
}

}  // namespace plexus

namespace plexus {

void set_model_vars(proto::ModelDef& def, const std::map<std::string, int64_t>& values, const std::string& source) {
  for (const auto& [name, value] : values) {
    auto it = def.mutable_vars()->find(name);
    if (it == def.mutable_vars()->end()) {
      std::string known;
      for (const auto& [k, v] : def.vars()) known += (known.empty() ? "" : ", ") + k;
      throw Error(ErrorCode::kInvalid, source + ": --set " + name + ": the model has no variable '" + name +
                                           "' (field 'vars' has: " + (known.empty() ? "none" : known) + ")");
    }
    if (value < 0)
      throw Error(ErrorCode::kInvalid, source + ": --set " + name + "=" + std::to_string(value) + ": must be >= 0");
    it->second = value;
  }
}

namespace {

// The step count of `r`: a number or a variable.
int64_t repeat_times(const proto::ModelDef& def, const proto::RepeatDef& r, const std::string& where) {
  const std::string& t = r.times();
  if (t.empty()) throw Error(ErrorCode::kInvalid, where + ", field 'times': empty; give a count or a variable name");
  if (std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (t.size() > 9) throw Error(ErrorCode::kInvalid, where + ", field 'times': " + t + " steps is too many");
    return std::stoll(t);
  }
  auto it = def.vars().find(t);
  if (it == def.vars().end())
    throw Error(ErrorCode::kInvalid, where + ", field 'times': '" + t + "' is neither a count nor a variable in 'vars'");
  if (it->second < 0)
    throw Error(ErrorCode::kInvalid, where + ": variable '" + t + "' is " + std::to_string(it->second) + "; must be >= 0");
  return it->second;
}

void check_repeat(const proto::RepeatDef& r, const std::string& where) {
  if (r.name().empty()) throw Error(ErrorCode::kInvalid, where + ": field 'name' is empty");
  if (r.carry().empty()) throw Error(ErrorCode::kInvalid, where + ": field 'carry' is empty");
  if (r.init().empty()) throw Error(ErrorCode::kInvalid, where + ": field 'init' is empty");
  std::set<std::string> block;
  for (const proto::NodeDef& n : r.nodes()) {
    if (n.name().empty() || n.name() == r.carry() || !block.insert(n.name()).second)
      throw Error(ErrorCode::kInvalid, where + ", field 'nodes': node name '" + n.name() +
                                           "' is empty, repeated, or the carry name");
  }
  if (!block.count(r.result()))
    throw Error(ErrorCode::kInvalid, where + ", field 'result': '" + r.result() + "' is not a node of the block");
}

}  // namespace

proto::ModelDef unroll_repeats(const proto::ModelDef& def, const std::string& source) {
  if (def.repeats_size() == 0) return def;
  proto::ModelDef out = def;
  out.clear_repeats();
  std::map<std::string, std::string> result_of;  // repeat name -> the value it stands for
  for (const proto::RepeatDef& r : def.repeats()) {
    const std::string where = source + ": repeat '" + r.name() + "'";
    check_repeat(r, where);
    if (result_of.count(r.name()))
      throw Error(ErrorCode::kInvalid, where + ": a second repeat has this name");
    const int64_t times = repeat_times(def, r, where);
    std::set<std::string> block;
    for (const proto::NodeDef& n : r.nodes()) block.insert(n.name());
    std::string carried = r.init();
    for (int64_t k = 0; k < times; ++k) {
      const std::string prefix = r.name() + "." + std::to_string(k) + ".";
      for (const proto::NodeDef& n : r.nodes()) {
        proto::NodeDef* u = out.add_nodes();
        *u = n;
        u->set_name(prefix + n.name());
        for (std::string& in : *u->mutable_inputs()) {
          if (in == r.carry()) in = carried;
          else if (block.count(in)) in = prefix + in;
        }
      }
      carried = prefix + r.result();
    }
    result_of[r.name()] = carried;
  }
  // References to a repeat's name (from nodes, later repeats' steps, output,
  // loss) mean its last result. A repeat reading another's result before it
  // is unrolled gets the same treatment here.
  auto resolve = [&](std::string& name) {
    for (int hops = 0; hops < def.repeats_size() && result_of.count(name); ++hops) name = result_of.at(name);
  };
  for (proto::NodeDef& n : *out.mutable_nodes())
    for (std::string& in : *n.mutable_inputs()) resolve(in);
  std::string output = out.output(), loss = out.loss();
  resolve(output);
  resolve(loss);
  out.set_output(output);
  out.set_loss(loss);
  return out;
}

}  // namespace plexus
