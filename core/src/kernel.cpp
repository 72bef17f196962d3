#include <plexus/kernel.hpp>
#include <plexus/layout.hpp>
#include <plexus/profile.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include <boost/container/small_vector.hpp>
#include <omp.h>

namespace plexus {

// ---- attribute values -------------------------------------------------------

std::string AttrValue::type_name() const {
  switch (v_.index()) {
    case 1: return "f64";
    case 2: return "i64";
    case 3: return "bool";
    case 4: return "str";
    default: return "none";
  }
}

std::string AttrValue::str() const {
  switch (v_.index()) {
    case 1: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g", std::get<double>(v_));
      return buf;
    }
    case 2: return std::to_string(std::get<int64_t>(v_));
    case 3: return std::get<bool>(v_) ? "true" : "false";
    case 4: return std::get<std::string>(v_);
    default: return "";
  }
}

AttrValue AttrValue::parse(const std::string& text) {
  if (text == "true") return AttrValue(true);
  if (text == "false") return AttrValue(false);
  if (!text.empty()) {
    char* end = nullptr;
    errno = 0;
    long long i = std::strtoll(text.c_str(), &end, 10);
    if (*end == '\0' && errno == 0) return AttrValue(static_cast<int64_t>(i));
    double d = std::strtod(text.c_str(), &end);
    if (*end == '\0') return AttrValue(d);
  }
  return AttrValue(text);
}

const char* value_type_name(int32_t t) {
  switch (t) {
    case PLX_VALUE_F64: return "f64";
    case PLX_VALUE_I64: return "i64";
    case PLX_VALUE_BOOL: return "bool";
    case PLX_VALUE_STR: return "str";
    default: return "unknown";
  }
}

std::string value_to_string(const plx_value& v) {
  switch (v.type) {
    case PLX_VALUE_F64: return AttrValue(v.as.f64).str();
    case PLX_VALUE_I64: return std::to_string(v.as.i64);
    case PLX_VALUE_BOOL: return v.as.boolean ? "true" : "false";
    case PLX_VALUE_STR: return v.as.str ? std::string("\"") + v.as.str + "\"" : "\"\"";
    default: return "?";
  }
}

ResolvedAttrs resolve_values(const plx_hparam_desc* decl, uint32_t count, const AttrMap& given,
                             const std::string& where) {
  for (const auto& [name, value] : given) {
    bool known = false;
    for (uint32_t i = 0; i < count && !known; ++i) known = name == decl[i].name;
    if (!known) {
      std::string names;
      for (uint32_t i = 0; i < count; ++i) names += (i ? ", " : "") + std::string(decl[i].name);
      throw Error(ErrorCode::kInvalid, where + ": unknown attribute '" + name + "' (known: " +
                                           (names.empty() ? "none" : names) + ")");
    }
  }
  ResolvedAttrs r;
  r.values_.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    const plx_hparam_desc& d = decl[i];
    plx_value v = d.default_value;
    auto it = given.find(d.name);
    if (it == given.end()) {
      if (d.required)
        throw Error(ErrorCode::kInvalid, where + ": attribute '" + d.name + "' (" + value_type_name(d.default_value.type) +
                                             ") is required: " + (d.doc ? d.doc : ""));
      r.values_.push_back(v);
      continue;
    }
    const auto& g = it->second.get();
    auto mismatch = [&] {
      return Error(ErrorCode::kInvalid, where + ": attribute '" + d.name + "' expects " +
                                            value_type_name(d.default_value.type) + ", got " + it->second.type_name() +
                                            " " + it->second.str());
    };
    switch (d.default_value.type) {
      case PLX_VALUE_F64:
        if (auto p = std::get_if<double>(&g)) v.as.f64 = *p;
        else if (auto q = std::get_if<int64_t>(&g)) v.as.f64 = static_cast<double>(*q);
        else throw mismatch();
        break;
      case PLX_VALUE_I64:
        if (auto p = std::get_if<int64_t>(&g)) v.as.i64 = *p;
        else throw mismatch();
        break;
      case PLX_VALUE_BOOL:
        if (auto p = std::get_if<bool>(&g)) v.as.boolean = *p ? 1 : 0;
        else throw mismatch();
        break;
      case PLX_VALUE_STR:
        if (auto p = std::get_if<std::string>(&g)) {
          r.strings_.push_back(std::make_unique<std::string>(*p));
          v.as.str = r.strings_.back()->c_str();
        } else {
          throw mismatch();
        }
        break;
      default:
        throw Error(ErrorCode::kAbi, where + ": attribute '" + d.name + "' has an unknown declared type");
    }
    r.values_.push_back(v);
  }
  return r;
}

// ---- OpKernel -----------------------------------------------------------------

namespace {

// Only the header and the message's first byte are set: zeroing all 520
// bytes on every op call cost more than a tiny op's compute. Read the
// message through message_of, which stops at the buffer's end.
plx_error fresh_error() {
  plx_error e;
  e.struct_size = sizeof(plx_error);
  e.code = 0;
  e.message[0] = '\0';
  return e;
}

std::string message_of(const plx_error& e) { return std::string(e.message, strnlen(e.message, sizeof e.message)); }

ErrorCode code_of(int32_t plx_code) {
  switch (plx_code) {
    case PLX_E_INVALID: return ErrorCode::kInvalid;
    case PLX_E_NUMERIC: return ErrorCode::kNumeric;
    case PLX_E_ABI: return ErrorCode::kAbi;
    default: return ErrorCode::kPlugin;
  }
}

std::string describe(const OpKernel& k) {
  return "kernel '" + k.name() + "' from " + k.origin().file;
}

}  // namespace

const plx_param_desc& param_entry(const plx_op_desc& d, uint32_t i) {
  const size_t stride = d.params[0].struct_size;
  return *reinterpret_cast<const plx_param_desc*>(reinterpret_cast<const unsigned char*>(d.params) + i * stride);
}

OpKernel::OpKernel(const plx_op_desc* desc, KernelOrigin origin) : desc_{}, origin_(std::move(origin)) {
  std::memcpy(&desc_, desc, std::min<size_t>(desc->struct_size, sizeof desc_));
  params_.resize(desc->param_count);
  for (uint32_t i = 0; i < desc->param_count; ++i) {
    const plx_param_desc& p = param_entry(*desc, i);
    std::memset(&params_[i], 0, sizeof params_[i]);
    std::memcpy(&params_[i], &p, std::min<size_t>(p.struct_size, sizeof params_[i]));
  }
  desc_.params = params_.empty() ? nullptr : params_.data();
}

bool OpKernel::param_is_state(uint32_t i) const {
  const plx_param_desc& p = desc_.params[i];
  return p.struct_size >= PLX_END_OF(plx_param_desc, flags) && (p.flags & PLX_PARAM_STATE) != 0;
}

namespace {
void* pool_scratch_alloc(size_t bytes) {
  try {
    return Pool::global()->allocate(bytes);
  } catch (...) {
    return nullptr;
  }
}
void pool_scratch_free(void* p, size_t bytes) { Pool::global()->release(p, bytes); }
}  // namespace

int OpKernel::param_index(const std::string& role) const {
  for (uint32_t i = 0; i < desc_.param_count; ++i)
    if (role == desc_.params[i].name) return static_cast<int>(i);
  return -1;
}

int OpKernel::input_index(const std::string& role) const {
  for (uint32_t i = 0; i < desc_.input_count; ++i)
    if (role == desc_.inputs[i]) return static_cast<int>(i);
  return -1;
}

ResolvedAttrs OpKernel::resolve_attrs(const AttrMap& given, const std::string& node) const {
  return resolve_values(desc_.attrs, desc_.attr_count, given, "node '" + node + "' (" + name() + ")");
}

InferResult OpKernel::infer(const std::string& node, const ResolvedAttrs& attrs, std::span<const Shape> inputs) const {
  if (inputs.size() != desc_.input_count)
    throw Error(ErrorCode::kInvalid, "node '" + node + "': kernel '" + name() + "' takes " +
                                         std::to_string(desc_.input_count) + " input(s), got " +
                                         std::to_string(inputs.size()));
  std::vector<plx_shape> in(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) in[i] = inputs[i].raw();
  plx_shape dst{};
  std::vector<plx_shape> params(desc_.param_count);
  std::vector<int64_t> fan(2 * desc_.param_count, 0);
  plx_infer_args a{};
  a.struct_size = sizeof a;
  a.node_name = node.c_str();
  a.attrs = attrs.data();
  a.input_count = static_cast<uint32_t>(in.size());
  a.inputs = in.data();
  a.dst = &dst;
  a.params = params.data();
  a.fan = fan.data();
  plx_error err = fresh_error();
  if (int32_t rc = desc_.infer(&a, &err); rc != PLX_OK)
    throw Error(code_of(rc), message_of(err) + " [" + describe(*this) + "]");
  InferResult r;
  r.dst = Shape(dst);
  for (uint32_t i = 0; i < desc_.param_count; ++i) {
    r.params.push_back(Shape(params[i]));
    r.fans.emplace_back(fan[2 * i], fan[2 * i + 1]);
  }
  return r;
}

namespace {

// An op that touches fewer elements than this (inputs, parameters and dst
// together) is created and run with a team of one OpenMP thread, whatever the
// caller's team: on so little work a team's fork and join cost more than
// they save (an empty parallel region takes 3.1 us on the project's 2-core
// machine). Measured there: logistic regression (30 -> 1, batch 32) took
// 13.9 us per training step with teams of 2 against 6.3 us serial, and the
// batch-1 MLP's last layer (256 -> 10) 4-5 us against 1 us. 32768 is also
// PyTorch's grain size for splitting elementwise work.
constexpr int64_t kSerialElements = 32768;

bool runs_serially(std::span<const Shape> inputs, const InferResult& shapes) {
  int64_t n = shapes.dst.numel();
  for (const Shape& s : inputs) n += s.numel();
  for (const Shape& s : shapes.params) n += s.numel();
  return n < kSerialElements;
}

}  // namespace

OpInstance::SerialTeam::SerialTeam(bool serial) {
  if (!serial) return;
  const int team = omp_get_max_threads();
  if (team <= 1) return;
  previous_ = team;
  omp_set_num_threads(1);
}

OpInstance::SerialTeam::~SerialTeam() {
  if (previous_ > 0) omp_set_num_threads(previous_);
}

std::shared_ptr<OpInstance> OpKernel::create(const std::string& node, const ResolvedAttrs& attrs,
                                             std::span<const Shape> inputs,
                                             std::span<const std::shared_ptr<const Layout>> src_layouts,
                                             bool layouts) const {
  InferResult shapes = infer(node, attrs, inputs);
  const bool serial = runs_serially(inputs, shapes);
  OpInstance::SerialTeam team(serial);  // oneDNN sizes some primitives for the team at creation
  std::vector<plx_shape> in(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) in[i] = inputs[i].raw();
  const bool aware = takes_layouts();
  std::vector<std::shared_ptr<const Layout>> given(inputs.size());
  if (aware)
    for (size_t i = 0; i < src_layouts.size() && i < given.size(); ++i) given[i] = src_layouts[i];
  for (int attempt = 0;; ++attempt) {
    std::vector<const void*> mds(inputs.size(), nullptr);
    for (size_t i = 0; i < given.size(); ++i) mds[i] = given[i] ? given[i]->md() : nullptr;
    const void* dst_md = nullptr;
    int64_t workspace = 0;
    plx_instance_args a{};
    a.struct_size = sizeof a;
    a.node_name = node.c_str();
    a.attrs = attrs.data();
    a.input_count = static_cast<uint32_t>(in.size());
    a.inputs = in.data();
    a.thread_budget = origin_.thread_budget;
    a.src_layouts = aware ? mds.data() : nullptr;
    a.layouts_enabled = aware && layouts ? 1 : 0;
    a.dst_layout = &dst_md;
    a.workspace_bytes = &workspace;
    a.scratch_alloc = &pool_scratch_alloc;
    a.scratch_free = &pool_scratch_free;
    void* handle = nullptr;
    plx_error err = fresh_error();
    const int32_t rc = desc_.create(&a, &handle, &err);
    const bool any_blocked = std::any_of(given.begin(), given.end(), [](const auto& l) { return l != nullptr; });
    if (rc == PLX_E_UNSUPPORTED && attempt == 0 && any_blocked) {
      std::fill(given.begin(), given.end(), nullptr);  // the op refused these layouts: give it plain data
      continue;
    }
    if (rc != PLX_OK) throw Error(code_of(rc), "node '" + node + "': " + message_of(err) + " [" + describe(*this) + "]");
    detail::count_instance(true);
    std::shared_ptr<const Layout> dst_layout;
    try {
      if (workspace < 0) throw Error(ErrorCode::kPlugin, "negative workspace size " + std::to_string(workspace));
      if (dst_md != nullptr && !a.layouts_enabled)
        throw Error(ErrorCode::kPlugin, "chose a blocked dst layout while layouts are disabled");
      dst_layout = Layout::intern(dst_md, shapes.dst);
    } catch (const Error& e) {
      desc_.destroy(handle);
      throw Error(ErrorCode::kPlugin, "node '" + node + "': " + e.what() + " [" + describe(*this) + "]");
    }
    auto inst = std::make_shared<OpInstance>(*this, node, handle, std::move(shapes), std::move(given),
                                             std::move(dst_layout), workspace);
    inst->serial_ = serial;
    return inst;
  }
}

// ---- OpInstance ---------------------------------------------------------------

OpInstance::OpInstance(const OpKernel& kernel, std::string node, void* handle, InferResult shapes,
                       std::vector<std::shared_ptr<const Layout>> src_layouts,
                       std::shared_ptr<const Layout> dst_layout, int64_t workspace_bytes)
    : kernel_(kernel),
      node_(std::move(node)),
      handle_(handle),
      shapes_(std::move(shapes)),
      src_layouts_(std::move(src_layouts)),
      dst_layout_(std::move(dst_layout)),
      workspace_bytes_(workspace_bytes) {}

OpInstance::~OpInstance() {
  if (handle_ != nullptr) kernel_.desc().destroy(handle_);
}

void OpInstance::fail(const char* what, int32_t code, const plx_error& err) const {
  throw Error(code_of(code), "node '" + node_ + "': " + what + " failed: " + message_of(err) + " [" + describe(kernel_) + "]");
}

namespace {
// Per-call argument lists live on the stack: an op call made about twenty
// small heap allocations (vectors of views, values and tensors), which cost
// more than a tiny op's compute (logistic regression 30 -> 1, batch 32).
template <class T>
using Small = boost::container::small_vector<T, 8>;
template <class T>
std::span<T> span_of(Small<T>& v) {
  return {v.data(), v.size()};
}
template <class T>
std::span<const T> span_of(const Small<T>& v) {
  return {v.data(), v.size()};
}

Small<plx_tensor_view> views(std::span<const Tensor> ts) {
  Small<plx_tensor_view> v(ts.size());
  for (size_t i = 0; i < ts.size(); ++i) v[i] = ts[i].defined() ? ts[i].view() : plx_tensor_view{};
  return v;
}
}  // namespace

Tensor OpInstance::forward(std::span<const Tensor> src, std::span<const Tensor> params, bool training, uint64_t seed,
                           Tensor* workspace) const {
  const plx_op_desc& d = kernel_.desc();
  if (src.size() != d.input_count || params.size() != d.param_count)
    throw Error(ErrorCode::kInternal, "node '" + node_ + "': forward with a wrong number of inputs or parameters");
  for (size_t i = 0; i < src.size(); ++i)
    if (src[i].defined() && src[i].layout() != src_layouts_[i])
      throw Error(ErrorCode::kInternal, "node '" + node_ + "': input " + std::to_string(i) + " arrived in layout " +
                                            (src[i].blocked() ? src[i].layout()->str() : "plain") +
                                            ", the instance was made for " +
                                            (src_layouts_[i] ? src_layouts_[i]->str() : "plain"));
  for (size_t i = 0; i < params.size(); ++i)
    if (params[i].shape() != shapes_.params[i])
      throw Error(ErrorCode::kInvalid, "node '" + node_ + "': parameter '" + d.params[i].name + "' has shape " +
                                           params[i].shape().str() + ", expected " + shapes_.params[i].str());
  Tensor dst = Tensor::empty(shapes_.dst, dst_layout_);
  Tensor ws;
  if (workspace_bytes_ > 0)
    ws = Tensor::empty(Shape{(workspace_bytes_ + static_cast<int64_t>(sizeof(float)) - 1) /
                             static_cast<int64_t>(sizeof(float))});
  auto sv = views(src);
  auto pv = views(params);
  plx_forward_args a{};
  a.struct_size = sizeof a;
  a.instance = handle_;
  a.src = sv.data();
  a.params = pv.data();
  a.dst = dst.view();
  a.training = training ? 1 : 0;
  a.workspace = ws.defined() ? ws.data() : nullptr;
  a.seed = seed;
  plx_error err = fresh_error();
  SerialTeam team(serial_);
  Profile::Timer timer("forward", d.name);
  if (int32_t rc = d.forward(&a, &err); rc != PLX_OK) fail("forward", rc, err);
  if (workspace != nullptr) *workspace = std::move(ws);
  return dst;
}

void OpInstance::backward(std::span<const Tensor> src, std::span<const Tensor> params, const Tensor& dst,
                          const Tensor& diff_dst, std::span<Tensor> diff_src, std::span<Tensor> diff_params,
                const Tensor& workspace) const {
  if (workspace_bytes_ > 0 && !workspace.defined())
    throw Error(ErrorCode::kInternal, "node '" + node_ + "': backward without the forward's workspace");
  auto sv = views(src);
  auto pv = views(params);
  auto dsv = views(diff_src);
  auto dpv = views(diff_params);
  plx_backward_args a{};
  a.struct_size = sizeof a;
  a.instance = handle_;
  a.src = sv.data();
  a.params = pv.data();
  a.dst = dst.defined() ? dst.view() : plx_tensor_view{};
  a.diff_dst = diff_dst.view();
  a.diff_src = dsv.data();
  a.diff_params = dpv.data();
  a.workspace = workspace.defined() ? workspace.data() : nullptr;
  plx_error err = fresh_error();
  SerialTeam team(serial_);
  Profile::Timer timer("backward", kernel_.desc().name);
  if (int32_t rc = kernel_.desc().backward(&a, &err); rc != PLX_OK) fail("backward", rc, err);
}

std::pair<int64_t, int64_t> OpInstance::metric(const Tensor& prediction, const Tensor& target) const {
  if (kernel_.desc().metric == nullptr) return {0, 0};
  const Tensor p = to_plain(prediction), t = to_plain(target);
  plx_tensor_view v[2] = {p.view(), t.view()};
  int64_t correct = 0, counted = 0;
  plx_metric_args a{};
  a.struct_size = sizeof a;
  a.instance = handle_;
  a.src = v;
  a.correct = &correct;
  a.counted = &counted;
  plx_error err = fresh_error();
  if (int32_t rc = kernel_.desc().metric(&a, &err); rc != PLX_OK) fail("metric", rc, err);
  return {correct, counted};
}

// ---- apply on a tape ----------------------------------------------------------

namespace {

struct PluginNodeState : NodeState {
  std::shared_ptr<const OpInstance> inst;
  Small<Shape> src_shapes;  // known even when the data is not saved
  bool saved_src = false;
  bool saved_dst = false;
  bool has_workspace = false;
};

// Saved tensors are laid out as [src... if saved_src] [params...] [dst if saved_dst] [workspace].
void plugin_backward(BackwardCall& call) {
  const auto& st = static_cast<const PluginNodeState&>(*call.node.state);
  const size_t ns = st.src_shapes.size();
  const size_t np = call.node.inputs.size() - ns;
  // The saved tensors are passed where they lie (no copies): sources and
  // parameters are runs of `saved`; sources not saved are undefined.
  const std::vector<Tensor>& saved = call.node.saved;
  static const Tensor kNone;
  Small<Tensor> unsaved;
  std::span<const Tensor> src;
  size_t k = 0;
  if (st.saved_src) {
    src = {saved.data(), ns};
    k = ns;
  } else {
    unsaved.resize(ns);
    src = span_of(std::as_const(unsaved));
  }
  const std::span<const Tensor> params(saved.data() + k, np);
  k += np;
  const Tensor& dst = st.saved_dst ? saved[k++] : kNone;
  const Tensor& workspace = st.has_workspace ? saved[k++] : kNone;
  // Gradients are made in place in the call's list: sources, then parameters.
  const std::span<Tensor> diff_src = call.diff_inputs.subspan(0, ns), diff_params = call.diff_inputs.subspan(ns, np);
  for (size_t i = 0; i < ns; ++i)
    if (call.needs_grad(i)) diff_src[i] = Tensor::empty(st.src_shapes[i], st.inst->src_layouts()[i]);
  for (size_t i = 0; i < np; ++i)
    if (call.needs_grad(ns + i)) diff_params[i] = Tensor::empty(st.inst->shapes().params[i]);
  st.inst->backward(src, params, dst, call.diff_dst, diff_src, diff_params, workspace);
}

struct ReorderState : NodeState {
  std::shared_ptr<const Layout> src_layout;  // the gradient goes back into this one
};

void reorder_backward(BackwardCall& call) {
  const auto& st = static_cast<const ReorderState&>(*call.node.state);
  Profile::Timer timer("backward", "(layout reorder)");
  call.diff_inputs[0] = to_layout(to_plain(call.diff_dst), st.src_layout);
}

}  // namespace

Value to_layout(Tape& tape, const Value& v, const std::shared_ptr<const Layout>& layout) {
  const Tensor& t = v.data();
  if (t.layout() == layout) return v;
  Tensor out;
  {
    Profile::Timer timer("forward", "(layout reorder)");
    out = to_layout(t, layout);
  }
  const Value in[1] = {v};
  if (!tape.should_record(in)) return tape.record("reorder", in, std::move(out), nullptr);
  auto st = std::make_unique<ReorderState>();
  st->src_layout = t.layout();
  return tape.record("reorder", in, std::move(out), &reorder_backward, {}, std::move(st));
}

Value to_plain(Tape& tape, const Value& v) { return to_layout(tape, v, nullptr); }

Value apply(Tape& tape, const std::shared_ptr<const OpInstance>& inst, std::span<const Value> src_in,
            std::span<const Value> params_in, bool training, uint64_t seed) {
  const OpKernel& kernel = inst->kernel();
  const plx_op_desc& d = kernel.desc();
  Small<Value> src(src_in.begin(), src_in.end());
  for (size_t i = 0; i < src.size() && i < inst->src_layouts().size(); ++i)
    src[i] = to_layout(tape, src[i], inst->src_layouts()[i]);
  const std::span<const Value> params = params_in;
  Small<Tensor> src_t(src.size()), param_t(params.size());
  for (size_t i = 0; i < src.size(); ++i) src_t[i] = src[i].data();
  for (size_t i = 0; i < params.size(); ++i) param_t[i] = params[i].data();

  Small<Value> all(src.begin(), src.end());
  all.insert(all.end(), params.begin(), params.end());
  // State parameters take no gradient: leave them out of what decides recording.
  Small<Value> learned(src.begin(), src.end());
  for (size_t i = 0; i < params.size(); ++i)
    if (!kernel.param_is_state(static_cast<uint32_t>(i))) learned.push_back(params[i]);
  const bool record = tape.should_record(span_of(std::as_const(learned)));
  Tensor workspace;
  Tensor dst = inst->forward(span_of(std::as_const(src_t)), span_of(std::as_const(param_t)), training, seed,
                             record ? &workspace : nullptr);
  if (!record) return tape.record(d.name, span_of(std::as_const(all)), std::move(dst), nullptr);

  auto st = std::make_unique<PluginNodeState>();
  st->inst = inst;
  st->saved_src = (d.flags & PLX_OP_SAVES_SRC) != 0;
  st->saved_dst = (d.flags & PLX_OP_SAVES_DST) != 0;
  st->has_workspace = workspace.defined();
  std::vector<Tensor> saved;
  saved.reserve(src_t.size() + param_t.size() + 2);
  for (const Tensor& t : src_t) {
    st->src_shapes.push_back(t.shape());
    if (st->saved_src) saved.push_back(t);
  }
  for (const Tensor& t : param_t) saved.push_back(t);
  if (st->saved_dst) saved.push_back(dst);
  if (st->has_workspace) saved.push_back(std::move(workspace));
  return tape.record(d.name, span_of(std::as_const(all)), std::move(dst), &plugin_backward, std::move(saved),
                     std::move(st));
}

// ---- OptimizerKernel ------------------------------------------------------------

ResolvedAttrs OptimizerKernel::resolve_hparams(const AttrMap& given) const {
  return resolve_values(desc_->hparams, desc_->hparam_count, given, "optimizer '" + name() + "'");
}

void OptimizerKernel::step(const std::string& param_name, int64_t t, double lr, const ResolvedAttrs& hparams,
                           Tensor& param, const Tensor& grad, std::span<Tensor> state, int64_t begin,
                           int64_t end) const {
  Small<plx_tensor_view> sv(state.size());
  for (size_t i = 0; i < state.size(); ++i) sv[i] = state[i].view();
  plx_step_args a{};
  a.struct_size = sizeof a;
  a.param_name = param_name.c_str();
  a.step = t;
  a.lr = lr;
  a.hparams = hparams.data();
  a.param = param.view();
  a.grad = grad.view();
  a.state = sv.data();
  a.begin = begin;
  a.end = end;
  plx_error err = fresh_error();
  if (int32_t rc = desc_->step(&a, &err); rc != PLX_OK)
    throw Error(code_of(rc), "optimizer '" + name() + "' (plugin '" + origin_.plugin + "', " + origin_.file +
                                 ") failed on parameter '" + param_name + "' at step " + std::to_string(t) + ": " +
                                 message_of(err));
}

}  // namespace plexus
