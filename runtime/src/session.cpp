#include <plexus/error.hpp>
#include <plexus/layout.hpp>
#include <plexus/session.hpp>

#include <algorithm>

namespace plexus {

namespace {

std::string join(const std::vector<std::string>& names) {
  std::string r;
  for (const std::string& n : names) r += (r.empty() ? "" : ", ") + n;
  return r.empty() ? "none" : r;
}

}  // namespace

Session::Session(const Model& model, SessionOptions options) : model_(model), options_(options) {
  model_.context().require_runtime(model_.source());
  if (options_.threads_per_call < 0)
    throw Error(ErrorCode::kInvalid, model_.source() + ": session option 'threads_per_call' must be >= 0, got " +
                                         std::to_string(options_.threads_per_call));
  for (const proto::InputDef& in : model_.def().inputs()) {
    all_inputs_.push_back(in.name());
    if (in.source() != "labels") inputs_.push_back(in.name());
  }
  for (const proto::NodeDef& n : model_.def().nodes()) nodes_.push_back(n.name());
  model_.live_sessions_.fetch_add(1);
  model_.context().add_live(0, 1);
}

Session::~Session() {
  model_.context().add_live(0, -1);
  model_.live_sessions_.fetch_sub(1);
}

std::map<std::string, Tensor> Session::run(const std::map<std::string, Tensor>& inputs,
                                           const std::vector<std::string>& outputs) const {
  const std::string& src = model_.source();
  model_.context().require_runtime(src + ": Session::run");
  const proto::ModelDef& def = model_.def();
  const std::vector<std::string>& all_inputs = all_inputs_;
  const std::vector<std::string>& nodes = nodes_;
  for (const auto& [name, t] : inputs) {
    if (std::find(all_inputs.begin(), all_inputs.end(), name) == all_inputs.end())
      throw Error(ErrorCode::kInvalid, src + ": Session::run was given input '" + name +
                                           "', which the model does not have (inputs: " + join(all_inputs) + ")");
    if (!t.defined()) throw Error(ErrorCode::kInvalid, src + ": Session::run: input '" + name + "' is an empty tensor");
  }
  std::vector<std::string> wanted = outputs.empty() ? std::vector<std::string>{def.output()} : outputs;
  bool with_loss = false;
  for (const std::string& o : wanted) {
    const bool is_node = std::find(nodes.begin(), nodes.end(), o) != nodes.end();
    const bool is_input = std::find(all_inputs.begin(), all_inputs.end(), o) != all_inputs.end();
    if (!is_node && !is_input)
      throw Error(ErrorCode::kInvalid, src + ": Session::run: no node or input named '" + o +
                                           "' to return (nodes: " + join(nodes) + ")");
    if (!def.loss().empty() && o == def.loss()) with_loss = true;
  }

  RuntimeContext::ThreadShare share(model_.context(), options_.threads_per_call);
  Tape tape;
  NoGrad no_grad(tape);
  Model::Forward fw = model_.forward(tape, inputs, /*training=*/false, with_loss);
  std::map<std::string, Tensor> result;
  for (const std::string& o : wanted) {
    auto it = fw.values.find(o);
    if (it == fw.values.end())
      throw Error(ErrorCode::kInvalid, src + ": Session::run: node '" + o + "' did not run: one of its inputs was not fed");
    Tensor t = to_plain(it->second.data());  // users get plain row-major data
    // An output that is a fed input (or a view of one) must not alias the caller's buffer.
    for (const auto& [name, in] : inputs)
      if (in.data() == t.data()) t = t.clone();
    result[o] = t;
  }
  return result;
}

}  // namespace plexus
