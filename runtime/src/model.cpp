#include <plexus/checkpoint.hpp>
#include <plexus/error.hpp>
#include <plexus/layout.hpp>
#include <plexus/model.hpp>
#include <plexus/trainer.hpp>

#include "init.hpp"

#include <omp.h>

#include <boost/container/small_vector.hpp>

#include <algorithm>
#include <deque>
#include <set>
#include <stdexcept>

namespace plexus {

struct Model::NodePlan {
  const proto::NodeDef* def = nullptr;
  const OpKernel* kernel = nullptr;
  ResolvedAttrs attrs;
  std::vector<std::string> params;  // parameter name per declared role
  mutable std::map<std::vector<int64_t>, std::shared_ptr<const OpInstance>> instances;
  // The instance of the previous call and its key: steps of one shape find it
  // without building a std::vector key or searching the map.
  mutable std::vector<int64_t> last_key;
  mutable std::shared_ptr<const OpInstance> last;
  bool is_loss = false;
  std::vector<uint32_t> in_slots;     // Forward::values slot of each input
  uint32_t out_slot = 0;              // and of this node's output
  std::vector<uint32_t> param_slots;  // Forward::params slot per declared role
  uint64_t name_hash = 0;             // detail::name_hash of the node's name, for its seed
  // The relu-after-pool rewrite (plan_relu_after_pool), run by forward() with
  // `rewrite`. A conv2d whose fused relu moves runs `without_relu` instead; a
  // relu node that moves does not run here (`relu_moved`). The max_pool2d
  // after either pools `pre_relu_src` into `pre_relu_slot`, and `moved_relu`
  // reads that and writes this node's slot.
  std::unique_ptr<NodePlan> without_relu;
  bool relu_moved = false;
  std::unique_ptr<NodePlan> moved_relu;
  uint32_t pre_relu_src = 0, pre_relu_slot = 0;
};

uint32_t NamedValues::Names::add(const std::string& name) {
  const auto i = static_cast<uint32_t>(list.size());
  list.push_back(name);
  index.emplace(name, i);
  return i;
}

const Value& NamedValues::at(std::string_view name) const {
  auto it = find(name);
  if (it == end()) throw std::out_of_range("no value named '" + std::string(name) + "'");
  return slots_[it.i_];
}

NamedValues::const_iterator NamedValues::find(std::string_view name) const {
  if (!names_) return end();
  auto it = names_->index.find(name);
  if (it == names_->index.end() || !slots_[it->second].valid()) return end();
  return {this, it->second};
}

uint32_t NamedValues::slot_of(std::string_view name) const {
  if (names_)
    if (auto it = names_->index.find(name); it != names_->index.end()) return it->second;
  throw std::out_of_range("no value named '" + std::string(name) + "'");
}

size_t NamedValues::size() const {
  return static_cast<size_t>(std::count_if(slots_.begin(), slots_.end(), [](const Value& v) { return v.valid(); }));
}

namespace {

AttrMap attrs_of(const google::protobuf::Map<std::string, proto::AttrValue>& m) {
  AttrMap r;
  for (const auto& [k, v] : m) {
    switch (v.value_case()) {
      case proto::AttrValue::kF: r[k] = AttrValue(v.f()); break;
      case proto::AttrValue::kI: r[k] = AttrValue(static_cast<int64_t>(v.i())); break;
      case proto::AttrValue::kB: r[k] = AttrValue(v.b()); break;
      case proto::AttrValue::kS: r[k] = AttrValue(v.s()); break;
      default: r[k] = AttrValue(); break;
    }
  }
  return r;
}

using Key = boost::container::small_vector<int64_t, 32>;

Key shape_key(std::span<const Shape> shapes) {
  Key k;
  for (const Shape& s : shapes) {
    k.push_back(s.ndim());
    for (int i = 0; i < s.ndim(); ++i) k.push_back(s[i]);
  }
  return k;
}

}  // namespace

Model::Model(const Runtime& runtime, proto::ModelDef def, std::string source)
    : ctx_(runtime.context()), source_(std::move(source)) {
  ctx_->require_runtime(source_);
  def_ = unroll_repeats(def, source_);  // the dynamic graph runs the unrolled steps
  validate();
  ctx_->add_live(1, 0);
}

Model::Model(const Runtime& runtime, const std::string& path) : Model(runtime, load_model_def(path), path) {}

Model::~Model() {
  ctx_->add_live(-1, 0);
  if (const int n = live_sessions_.load(); n > 0)
    ctx_->log(LogLevel::kError, source_ + ": Model destroyed while " + std::to_string(n) +
                                    " Session(s) on it are alive; destroy Sessions first");
}

void Model::validate() {
  const std::string& src = source_;
  auto fail = [&](const std::string& where, const std::string& what) -> Error {
    return Error(ErrorCode::kInvalid, src + ": " + where + ": " + what);
  };
  if (def_.format_version() > 1)
    throw fail("field 'format_version'", "version " + std::to_string(def_.format_version()) +
                                             " is newer than this Plexus reads (1)");
  if (def_.nodes_size() == 0) throw fail("field 'nodes'", "the model has no nodes");

  // Names: inputs and nodes share one namespace.
  std::map<std::string, Shape> shapes;  // value name -> shape at batch 1
  for (const proto::InputDef& in : def_.inputs()) {
    if (in.name().empty()) throw fail("field 'inputs'", "an input has no name");
    if (shapes.count(in.name())) throw fail("input '" + in.name() + "'", "duplicate name");
    std::vector<int64_t> dims{1};
    for (int64_t d : in.shape()) {
      if (d <= 0) throw fail("input '" + in.name() + "', field 'shape'", "dimensions must be positive, got " + std::to_string(d));
      dims.push_back(d);
    }
    shapes[in.name()] = Shape(std::span<const int64_t>(dims));
    if (in.source() == "features") feature_input_ = in.name();
    else if (in.source() == "labels") label_input_ = in.name();
    else if (!in.source().empty())
      throw fail("input '" + in.name() + "', field 'source'", "expected 'features' or 'labels', got '" + in.source() + "'");
  }
  std::map<std::string, int> node_index;
  for (int i = 0; i < def_.nodes_size(); ++i) {
    const auto& n = def_.nodes(i);
    if (n.name().empty()) throw fail("node #" + std::to_string(i), "field 'name' is empty");
    if (shapes.count(n.name()) || node_index.count(n.name())) throw fail("node '" + n.name() + "'", "duplicate name");
    node_index[n.name()] = i;
  }

  // Execution order: Kahn's algorithm over node -> node edges (no recursion).
  std::vector<int> pending(static_cast<size_t>(def_.nodes_size()), 0);
  std::vector<std::vector<int>> users(static_cast<size_t>(def_.nodes_size()));
  for (int i = 0; i < def_.nodes_size(); ++i) {
    const auto& n = def_.nodes(i);
    for (const std::string& in : n.inputs()) {
      if (shapes.count(in)) continue;
      auto it = node_index.find(in);
      if (it == node_index.end())
        throw fail("node '" + n.name() + "', field 'inputs'", "'" + in + "' is neither a model input nor a node");
      ++pending[static_cast<size_t>(i)];
      users[static_cast<size_t>(it->second)].push_back(i);
    }
  }
  std::deque<int> ready;
  for (int i = 0; i < def_.nodes_size(); ++i)
    if (pending[static_cast<size_t>(i)] == 0) ready.push_back(i);
  std::vector<int> order;
  while (!ready.empty()) {
    int i = ready.front();
    ready.pop_front();
    order.push_back(i);
    for (int u : users[static_cast<size_t>(i)])
      if (--pending[static_cast<size_t>(u)] == 0) ready.push_back(u);
  }
  if (order.size() != static_cast<size_t>(def_.nodes_size())) {
    std::string cyc;
    for (int i = 0; i < def_.nodes_size(); ++i)
      if (pending[static_cast<size_t>(i)] > 0) cyc += (cyc.empty() ? "" : ", ") + def_.nodes(i).name();
    throw fail("field 'nodes'", "the graph has a cycle through: " + cyc);
  }

  // Kernels, attributes, parameters and shapes, in execution order.
  const Registry& reg = ctx_->registry();
  value_names_ = std::make_shared<NamedValues::Names>();
  param_names_ = std::make_shared<NamedValues::Names>();
  for (const proto::InputDef& in : def_.inputs()) value_names_->add(in.name());
  std::map<std::string, std::string> first_user;  // parameter -> the node that declared it first
  for (int i : order) {
    const proto::NodeDef& n = def_.nodes(i);
    const std::string where = "node '" + n.name() + "'";
    NodePlan p;
    p.def = &n;
    p.is_loss = n.name() == def_.loss();
    p.name_hash = detail::name_hash(n.name());
    p.kernel = reg.find_op(n.kernel());
    if (p.kernel == nullptr)
      throw Error(ErrorCode::kNotFound, src + ": " + where + ", field 'kernel': unknown kernel '" + n.kernel() +
                                            "' (known: " + reg.known_ops() + ")");
    try {
      p.attrs = p.kernel->resolve_attrs(attrs_of(n.attrs()), n.name());
    } catch (const Error& e) {
      throw Error(e.code(), src + ": " + e.what() + " (field 'attrs')");
    }
    const plx_op_desc& d = p.kernel->desc();
    std::vector<Shape> in_shapes;
    for (const std::string& in : n.inputs()) in_shapes.push_back(shapes.at(in));
    if (in_shapes.size() != d.input_count)
      throw fail(where + ", field 'inputs'", "kernel '" + n.kernel() + "' takes " + std::to_string(d.input_count) +
                                                 " input(s), got " + std::to_string(in_shapes.size()));
    InferResult r;
    try {
      r = p.kernel->infer(n.name(), p.attrs, in_shapes);
    } catch (const Error& e) {
      throw Error(ErrorCode::kInvalid, src + ": shape check failed: " + e.what());
    }
    // Parameter bindings: declared roles, default names, shared names.
    p.params.resize(d.param_count);
    std::vector<const proto::ParamBinding*> bound(d.param_count, nullptr);
    for (const proto::ParamBinding& b : n.params()) {
      int k = p.kernel->param_index(b.role());
      if (k < 0) {
        std::string roles;
        for (uint32_t j = 0; j < d.param_count; ++j) roles += (j ? ", " : "") + std::string(d.params[j].name);
        throw fail(where + ", field 'params'", "kernel '" + n.kernel() + "' has no parameter '" + b.role() +
                                                   "' (known: " + (roles.empty() ? "none" : roles) + ")");
      }
      bound[static_cast<size_t>(k)] = &b;
    }
    for (uint32_t k = 0; k < d.param_count; ++k) {
      const proto::ParamBinding* b = bound[k];
      std::string name = (b && !b->name().empty()) ? b->name() : n.name() + "." + d.params[k].name;
      const Shape& s = r.params[k];
      auto it = std::find_if(param_shapes_.begin(), param_shapes_.end(), [&](const auto& e) { return e.first == name; });
      if (it != param_shapes_.end()) {
        const std::string& first = first_user.at(name);
        if (it->second != s)
          throw fail(where + ", field 'params'", "shared parameter '" + name + "' has shape " + it->second.str() +
                                                     " in node '" + first + "' but this node needs " + s.str());
        if (p.kernel->param_is_state(k) != (state_params_.count(name) > 0))
          throw fail(where + ", field 'params'", "parameter '" + name + "' is a running state here and a learned "
                                                     "parameter in node '" + first + "' (or the other way round)");
      } else {
        first_user[name] = n.name();
        param_shapes_.emplace_back(name, s);
        if (p.kernel->param_is_state(k)) state_params_.insert(name);
        else learned_shapes_.emplace_back(name, s);
        if (b && b->has_init()) inits_[name] = b->init();
        fans_[name] = r.fans[k];
        default_inits_[name] = d.params[k].default_init;
        default_init_values_[name] = d.params[k].default_init_value;
      }
      p.params[k] = name;
    }
    shapes[n.name()] = r.dst;
    for (const std::string& in : n.inputs()) p.in_slots.push_back(value_names_->index.at(in));
    p.out_slot = value_names_->add(n.name());
    plan_.push_back(std::move(p));
  }

  if (def_.output().empty()) throw fail("field 'output'", "no output node named");
  if (!node_index.count(def_.output()))
    throw fail("field 'output'", "'" + def_.output() + "' is not a node");
  if (!def_.loss().empty()) {
    auto it = node_index.find(def_.loss());
    if (it == node_index.end()) throw fail("field 'loss'", "'" + def_.loss() + "' is not a node");
    const OpKernel* k = reg.find_op(def_.nodes(it->second).kernel());
    if (k->kind() != PLX_KIND_LOSS)
      throw fail("field 'loss'", "node '" + def_.loss() + "' runs kernel '" + k->name() + "', which is not a loss");
  }
  for (const auto& [name, shape] : param_shapes_) {
    params_[name] = Tensor::zeros(shape);
    param_names_->add(name);
    param_tensors_.push_back(&params_.at(name));  // map nodes stay put
    param_learned_.push_back(state_params_.count(name) ? 0 : 1);
  }
  for (NodePlan& p : plan_)
    for (const std::string& name : p.params) p.param_slots.push_back(param_names_->index.at(name));
  plan_relu_after_pool(reg);
}

// relu -> max_pool2d, the pool the relu's only reader, can run as
// max_pool2d -> relu, whether the relu is a node of its own or fused into a
// conv2d (activation relu). Max commutes with a non-decreasing function, so
// the pool's values are the same (NaN included; a zero's sign may differ),
// and so are all gradients: a window whose maximum is <= 0 passes nothing
// back either way (before, the pool routed to a dead unit and the relu's mask
// zeroed it; now the relu's mask zeroes it first). The relu then works on
// the pooled values, a quarter of the floats: in LeNet its backward mask
// covered 3.2 MB a step. What changes is the relu's own value (a relu node's
// is not computed, a conv2d's is taken before its relu), so the rewrite runs
// only for callers that do not read it (Trainer steps), and forward() leaves
// that node out of `values` when it runs.
void Model::plan_relu_after_pool(const Registry& reg) {
  const OpKernel* relu = reg.find_op("relu");
  if (relu == nullptr) return;
  std::map<std::string, int> reads;  // value name -> input references to it
  for (const proto::NodeDef& n : def_.nodes())
    for (const std::string& in : n.inputs()) ++reads[in];
  std::map<std::string, size_t> at;
  for (size_t i = 0; i < plan_.size(); ++i) at[plan_[i].def->name()] = i;
  for (NodePlan& q : plan_) {
    if (q.kernel->name() != "max_pool2d" || q.def->inputs_size() != 1) continue;
    auto it = at.find(q.def->inputs(0));
    if (it == at.end()) continue;  // pools a model input
    NodePlan& p = plan_[it->second];
    const proto::NodeDef& pd = *p.def;
    const bool relu_node = p.kernel == relu;
    auto act = pd.attrs().find("activation");
    const bool fused = p.kernel->name() == "conv2d" && act != pd.attrs().end() && act->second.s() == "relu";
    if (!relu_node && !fused) continue;
    if (reads[pd.name()] != 1 || pd.name() == def_.output() || pd.name() == def_.loss()) continue;
    const std::string pooled = q.def->name() + " (before the relu moved from " + pd.name() + ")";
    if (value_names_->index.count(pooled)) continue;

    if (fused) {
      AttrMap attrs = attrs_of(pd.attrs());
      attrs["activation"] = AttrValue(std::string("none"));
      auto bare = std::make_unique<NodePlan>();
      bare->def = p.def;
      bare->kernel = p.kernel;
      bare->attrs = p.kernel->resolve_attrs(attrs, pd.name());
      bare->params = p.params;
      bare->in_slots = p.in_slots;
      bare->out_slot = p.out_slot;
      bare->param_slots = p.param_slots;
      bare->name_hash = p.name_hash;
      p.without_relu = std::move(bare);
      q.pre_relu_src = p.out_slot;
    } else {
      p.relu_moved = true;
      q.pre_relu_src = p.in_slots[0];
    }
    q.pre_relu_slot = value_names_->add(pooled);
    auto r = std::make_unique<NodePlan>();
    r->def = relu_node ? p.def : q.def;  // names the instance: the relu node, or the pool whose value it writes
    r->kernel = relu;
    r->attrs = relu->resolve_attrs({}, r->def->name());
    r->in_slots = {q.pre_relu_slot};
    r->out_slot = q.out_slot;
    r->name_hash = p.name_hash;
    q.moved_relu = std::move(r);
  }
}

std::pair<int64_t, int64_t> Model::Forward::metric() const {
  if (!loss_instance) return {0, 0};
  return loss_instance->metric(loss_src.data(), loss_target.data());
}

bool Model::is_state_param(const std::string& name) const { return state_params_.count(name) > 0; }

Tensor& Model::param(const std::string& name) {
  auto it = params_.find(name);
  if (it == params_.end()) throw Error(ErrorCode::kNotFound, source_ + ": no parameter named '" + name + "'");
  return it->second;
}

const Tensor& Model::param(const std::string& name) const { return const_cast<Model*>(this)->param(name); }

void Model::init_params(uint64_t seed) {
  for (const auto& [name, shape] : param_shapes_) {
    auto it = inits_.find(name);
    proto::Initializer init = it == inits_.end() ? proto::Initializer() : it->second;
    const auto [fan_in, fan_out] = fans_.at(name);
    detail::initialize(params_.at(name), init, default_inits_.at(name), default_init_values_.at(name), fan_in,
                       fan_out, detail::derive_seed(seed, name), source_ + ": parameter '" + name + "'");
  }
  params_set_ = true;
}

void Model::load_weights(const std::string& checkpoint_path) {
  const Checkpoint ck = load_checkpoint(checkpoint_path);
  try {
    load_params(*this, ck);
  } catch (const Error& e) {
    throw Error(e.code(), checkpoint_path + ": " + e.what() + " (model " + source_ + ")");
  }
}

void Model::save_weights(const std::string& checkpoint_path) const {
  Checkpoint ck;
  ck.model = def_;
  for (const auto& [name, shape] : param_shapes_)
    ck.tensors.push_back({name, proto::TENSOR_ROLE_PARAM, "", params_.at(name)});
  save_checkpoint(checkpoint_path, ck);
}

Shape Model::input_shape(const std::string& name) const {
  for (const proto::InputDef& in : def_.inputs())
    if (in.name() == name) return Shape(std::span<const int64_t>(in.shape().data(), static_cast<size_t>(in.shape_size())));
  throw Error(ErrorCode::kNotFound, source_ + ": no input named '" + name + "'");
}

std::shared_ptr<const OpInstance> Model::instance(const NodePlan& p, std::span<const Shape> inputs,
                                                 std::span<const std::shared_ptr<const Layout>> layouts) const {
  // The primitive cache: one instance (and its oneDNN primitives) per node,
  // input shapes, input layouts and team size. oneDNN sizes some primitives
  // for the OpenMP team size at creation, so a call with a smaller share of
  // the thread budget gets its own instance.
  auto key = shape_key(inputs);
  const bool aware = p.kernel->takes_layouts() && ctx_->blocked_layouts();
  for (const auto& l : layouts) key.push_back(aware && l ? static_cast<int64_t>(l->id()) : 0);
  key.push_back(omp_get_max_threads());
  std::lock_guard<std::mutex> lock(cache_mu_);
  if (p.last && std::equal(key.begin(), key.end(), p.last_key.begin(), p.last_key.end())) {
    detail::count_instance(false);
    return p.last;
  }
  std::vector<int64_t> full(key.begin(), key.end());
  auto it = p.instances.find(full);
  if (it == p.instances.end()) {
    auto inst = aware ? p.kernel->create(p.def->name(), p.attrs, inputs, layouts, true)
                      : p.kernel->create(p.def->name(), p.attrs, inputs);
    it = p.instances.emplace(full, std::move(inst)).first;
  } else {
    detail::count_instance(false);
  }
  p.last_key = std::move(full);
  p.last = it->second;
  return p.last;
}

Model::Forward Model::forward(Tape& tape, const std::map<std::string, Tensor>& feeds, bool training,
                              bool with_loss, uint64_t seed, bool rewrite) const {
  ctx_->require_runtime(source_);
  RuntimeContext::ThreadShare share(*ctx_);  // keeps the caller's share if it holds one
  Forward fw;
  fw.values = NamedValues(value_names_);
  fw.params = NamedValues(param_names_);
  NamedValues& env = fw.values;
  for (int k = 0; k < def_.inputs_size(); ++k) {
    const proto::InputDef& in = def_.inputs(k);
    auto it = feeds.find(in.name());
    if (it == feeds.end()) {
      if (!with_loss && in.source() == "labels") continue;  // labels only feed the loss
      throw Error(ErrorCode::kInvalid, source_ + ": input '" + in.name() + "' was not fed");
    }
    const Tensor& t = it->second;
    if (t.ndim() != in.shape_size() + 1)
      throw Error(ErrorCode::kInvalid, source_ + ": input '" + in.name() + "' fed with shape " + t.shape().str() +
                                           "; expected a batch of " + input_shape(in.name()).str());
    for (int d = 0; d < in.shape_size(); ++d)
      if (t.dim(d + 1) != in.shape(d))
        throw Error(ErrorCode::kInvalid, source_ + ": input '" + in.name() + "' fed with shape " + t.shape().str() +
                                             "; expected a batch of " + input_shape(in.name()).str());
    env.slot(static_cast<uint32_t>(k)) = tape.leaf(t, false);  // inputs take the first slots
  }
  for (uint32_t i = 0; i < param_tensors_.size(); ++i)
    fw.params.slot(i) = tape.leaf(*param_tensors_[i], training && param_learned_[i]);

  // Plain versions of blocked values, made on demand, by value slot.
  boost::container::small_vector<Value, 16> plain;
  // Runs p on the values in slots `in` into `out_slot`; false if one has none.
  auto run = [&](const NodePlan& p, std::span<const uint32_t> in, uint32_t out_slot) {
    boost::container::small_vector<Value, 4> src;
    boost::container::small_vector<Shape, 4> shapes;
    boost::container::small_vector<std::shared_ptr<const Layout>, 4> layouts;
    for (uint32_t k : in) {
      const Value& v = env.slot(k);
      if (!v.valid()) return false;  // depends on an input not fed (labels at inference)
      src.push_back(v);
      shapes.push_back(v.data().shape());
      layouts.push_back(v.data().layout());
    }
    boost::container::small_vector<Value, 4> params;
    for (uint32_t k : p.param_slots) params.push_back(fw.params.slot(k));
    auto inst = instance(p, {shapes.data(), shapes.size()}, {layouts.data(), layouts.size()});
    // A plain-only consumer of a blocked value: reorder once, shared by every
    // such consumer of this forward (apply would reorder again per consumer).
    for (size_t k = 0; k < src.size(); ++k)
      if (src[k].data().blocked() && !inst->src_layouts()[k]) {
        if (plain.size() <= in[k]) plain.resize(value_names_->list.size());
        if (!plain[in[k]].valid()) plain[in[k]] = to_plain(tape, src[k]);
        src[k] = plain[in[k]];
      }
    Value out = apply(tape, inst, {src.data(), src.size()}, {params.data(), params.size()}, training,
                      detail::mix_seed(seed, p.name_hash));
    env.slot(out_slot) = out;
    if (p.is_loss) {
      fw.loss = out;
      fw.loss_instance = inst;
      fw.loss_src = src[0];
      fw.loss_target = src[1];
    }
    return true;
  };
  for (const NodePlan& p : plan_) {
    if (p.is_loss && !with_loss) continue;
    if (rewrite && p.without_relu) {
      run(*p.without_relu, p.in_slots, p.out_slot);
    } else if (rewrite && p.moved_relu) {
      const uint32_t src[] = {p.pre_relu_src};
      if (run(p, src, p.pre_relu_slot)) run(*p.moved_relu, p.moved_relu->in_slots, p.out_slot);
    } else if (!(rewrite && p.relu_moved)) {
      run(p, p.in_slots, p.out_slot);
    }
  }
  if (rewrite)  // the relus' values before the move, and the pooled values before their relu, are nobody's
    for (const NodePlan& p : plan_) {
      if (p.without_relu) env.slot(p.out_slot) = Value();
      if (p.moved_relu) env.slot(p.pre_relu_slot) = Value();
    }
  auto out = env.find(def_.output());
  if (out == env.end())
    throw Error(ErrorCode::kInvalid, source_ + ": output node '" + def_.output() + "' could not run on the given inputs");
  fw.output = to_plain(tape, out->second);
  if (with_loss && !fw.loss.valid())
    throw Error(ErrorCode::kInvalid, source_ + ": the model names no loss node (field 'loss'), or its inputs were not fed");
  return fw;
}

}  // namespace plexus
