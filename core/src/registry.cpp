// Registry: validates a plugin's whole descriptor, then registers its kernels.
//
// Validation reads the plugin's tables field by field and trusts nothing it
// has not checked: the frozen prefix first (the only part that is stable
// across majors), then struct sizes, then every kernel. Every failure names
// the file, the plugin, the kernel and the field, and says what was expected
// and what was found. Nothing is registered unless everything passed.
#include <plexus/kernel.hpp>

#include <cstdio>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace plexus {

namespace {

/// The running context of one add_plugin call, for messages.
class Check {
 public:
  Check(const std::string& file, std::string plugin) : file_(file), plugin_(std::move(plugin)) {}

  void set_kernel(const std::string& what) { kernel_ = what; }

  /// Throws "plugin 'p' in <file>: <kernel>: <field>: <problem>" (kAbi unless told).
  [[noreturn]] void fail(const std::string& field, const std::string& problem,
                         ErrorCode code = ErrorCode::kAbi) const {
    std::string m = prefix();
    if (!kernel_.empty()) m += kernel_ + ": ";
    if (!field.empty()) m += field + ": ";
    throw Error(code, m + problem);
  }
  void require(bool ok, const std::string& field, const std::string& problem) const {
    if (!ok) fail(field, problem);
  }
  std::string prefix() const { return "plugin '" + plugin_ + "' in " + file_ + ": "; }

 private:
  const std::string& file_;
  std::string plugin_;
  std::string kernel_;
};

bool valid_kernel_name(const char* s) {
  if (s == nullptr || !(*s >= 'a' && *s <= 'z')) return false;
  for (const char* p = s + 1; *p != '\0'; ++p)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) return false;
  return true;
}

/// Well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
bool valid_utf8(const char* s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s);
  while (*p != 0) {
    unsigned c = *p;
    int extra = 0;
    unsigned min = 0, cp = 0;
    if (c < 0x80) { ++p; continue; }
    if ((c & 0xE0) == 0xC0) { extra = 1; cp = c & 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { extra = 2; cp = c & 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { extra = 3; cp = c & 0x07; min = 0x10000; }
    else return false;
    for (int i = 1; i <= extra; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;  // also stops at the terminating NUL
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    p += extra + 1;
  }
  return true;
}

std::string quoted_or_null(const char* s) { return s == nullptr ? "NULL" : "'" + std::string(s) + "'"; }

void check_name(const Check& c, const char* name, const std::string& field) {
  c.require(name != nullptr, field, "expected a name matching [a-z][a-z0-9_]*, found NULL");
  c.require(valid_kernel_name(name), field, "expected a name matching [a-z][a-z0-9_]*, found '" + std::string(name) + "'");
}

/// Optional text (docs): NULL is allowed, anything else must be UTF-8.
void check_text(const Check& c, const char* text, const std::string& field) {
  c.require(text == nullptr || valid_utf8(text), field, "expected UTF-8 text, found invalid bytes");
}

void check_struct_size(const Check& c, uint32_t found, size_t min, size_t max, const std::string& field) {
  c.require(found >= min, field,
            "expected at least " + std::to_string(min) + " (the ABI 1.0 size), found " + std::to_string(found));
  // Arrays of structs are indexed with this runtime's sizeof, and a plugin
  // never has a newer minor than the runtime, so a larger size is malformed.
  c.require(found <= max, field,
            "expected at most " + std::to_string(max) + " (this runtime's size), found " + std::to_string(found));
}

std::string hex(uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%x", v);
  return b;
}

void check_flags(const Check& c, uint32_t flags, uint32_t known, const std::string& field) {
  c.require((flags & ~known) == 0, field,
            "unknown flag bits " + hex(flags & ~known) + " (known bits: " + hex(known) + ")");
}

/// Attributes of an op or hyperparameters of an optimizer.
void check_hparams(const Check& c, const plx_hparam_desc* decl, uint32_t count, const char* what) {
  const std::string table = what;
  c.require(count == 0 || decl != nullptr, table,
            "count is " + std::to_string(count) + " but the table pointer is NULL");
  std::set<std::string_view> seen;
  for (uint32_t i = 0; i < count; ++i) {
    const plx_hparam_desc& d = decl[i];
    std::string field = table + "[" + std::to_string(i) + "]";
    check_struct_size(c, d.struct_size, PLX_END_OF(plx_hparam_desc, doc), sizeof(plx_hparam_desc), field + ".struct_size");
    check_name(c, d.name, field + ".name");
    field = table + "[" + std::to_string(i) + "] '" + d.name + "'";
    c.require(seen.insert(d.name).second, field, "the name is declared twice");
    const int32_t t = d.default_value.type;
    c.require(t >= PLX_VALUE_F64 && t <= PLX_VALUE_STR, field + ".default_value.type",
              "expected 1 (f64), 2 (i64), 3 (bool) or 4 (str), found " + std::to_string(t));
    if (t == PLX_VALUE_STR) {
      c.require(d.default_value.as.str != nullptr, field + ".default_value",
                "a str default must point to a string (use \"\" for empty), found NULL");
      check_text(c, d.default_value.as.str, field + ".default_value");
    }
    c.require(d.required == 0 || d.required == 1, field + ".required",
              "expected 0 or 1, found " + std::to_string(d.required));
    check_text(c, d.doc, field + ".doc");
  }
}

void check_op(const Check& c, const plx_op_desc& d) {
  check_struct_size(c, d.struct_size, PLX_END_OF(plx_op_desc, metric), sizeof(plx_op_desc), "struct_size");
  c.require(d.kind == PLX_KIND_LAYER || d.kind == PLX_KIND_ACTIVATION || d.kind == PLX_KIND_LOSS, "kind",
            "expected 1 (layer), 2 (activation) or 3 (loss), found " + std::to_string(d.kind));
  check_flags(c, d.flags, PLX_OP_SAVES_SRC | PLX_OP_SAVES_DST | PLX_OP_LAYOUTS, "flags");
  check_text(c, d.doc, "doc");
  check_hparams(c, d.attrs, d.attr_count, "attrs");

  c.require(d.input_count >= 1, "input_count", "expected at least 1 input, found 0");
  c.require(d.inputs != nullptr, "inputs",
            "input_count is " + std::to_string(d.input_count) + " but the table pointer is NULL");
  if (d.kind == PLX_KIND_LOSS)
    c.require(d.input_count == 2, "input_count",
              "a loss takes exactly 2 inputs (prediction, target), found " + std::to_string(d.input_count));
  std::set<std::string_view> roles;
  for (uint32_t i = 0; i < d.input_count; ++i) {
    const std::string field = "inputs[" + std::to_string(i) + "]";
    check_name(c, d.inputs[i], field);
    c.require(roles.insert(d.inputs[i]).second, field, "input role '" + std::string(d.inputs[i]) + "' is declared twice");
  }

  if (d.kind != PLX_KIND_LAYER)
    c.require(d.param_count == 0, "param_count",
              "only layers have parameters, found " + std::to_string(d.param_count) + " on a non-layer kernel");
  c.require(d.param_count == 0 || d.params != nullptr, "params",
            "param_count is " + std::to_string(d.param_count) + " but the table pointer is NULL");
  std::set<std::string_view> params;
  // The table's entries are as large as the plugin's plx_param_desc (40 bytes
  // in ABI 1.0, 48 since 1.1): step by the first entry's struct_size.
  if (d.param_count > 0)
    check_struct_size(c, d.params[0].struct_size, PLX_END_OF(plx_param_desc, doc), sizeof(plx_param_desc),
                      "params[0].struct_size");
  for (uint32_t i = 0; i < d.param_count; ++i) {
    const plx_param_desc& p = param_entry(d, i);
    std::string field = "params[" + std::to_string(i) + "]";
    check_struct_size(c, p.struct_size, PLX_END_OF(plx_param_desc, doc), sizeof(plx_param_desc), field + ".struct_size");
    check_name(c, p.name, field + ".name");
    field += " '" + std::string(p.name) + "'";
    c.require(params.insert(p.name).second, field, "the name is declared twice");
    c.require(p.default_init >= PLX_INIT_ZEROS && p.default_init <= PLX_INIT_HE_NORMAL, field + ".default_init",
              "expected a PLX_INIT_* value (1..6), found " + std::to_string(p.default_init));
    check_text(c, p.doc, field + ".doc");
    if (p.struct_size >= PLX_END_OF(plx_param_desc, flags)) check_flags(c, p.flags, PLX_PARAM_STATE, field + ".flags");
  }

  c.require(d.infer != nullptr, "infer", "expected a function, found NULL");
  c.require(d.create != nullptr, "create", "expected a function, found NULL");
  c.require(d.destroy != nullptr, "destroy", "expected a function, found NULL");
  c.require(d.forward != nullptr, "forward", "expected a function, found NULL");
  c.require(d.backward != nullptr, "backward", "expected a function, found NULL");
}

void check_optimizer(const Check& c, const plx_optimizer_desc& d) {
  check_struct_size(c, d.struct_size, PLX_END_OF(plx_optimizer_desc, step), sizeof(plx_optimizer_desc), "struct_size");
  check_flags(c, d.flags, PLX_OPT_ELEMENTWISE, "flags");
  check_text(c, d.doc, "doc");
  check_hparams(c, d.hparams, d.hparam_count, "hparams");
  c.require(d.state_count == 0 || d.states != nullptr, "states",
            "state_count is " + std::to_string(d.state_count) + " but the table pointer is NULL");
  std::set<std::string_view> seen;
  for (uint32_t i = 0; i < d.state_count; ++i) {
    const plx_state_desc& s = d.states[i];
    std::string field = "states[" + std::to_string(i) + "]";
    check_struct_size(c, s.struct_size, PLX_END_OF(plx_state_desc, init_value), sizeof(plx_state_desc), field + ".struct_size");
    check_name(c, s.name, field + ".name");
    field += " '" + std::string(s.name) + "'";
    c.require(seen.insert(s.name).second, field, "the name is declared twice");
    c.require(s.shape_rule == PLX_STATE_LIKE_PARAM || s.shape_rule == PLX_STATE_SCALAR, field + ".shape_rule",
              "expected 1 (like param) or 2 (scalar), found " + std::to_string(s.shape_rule));
  }
  c.require(d.step != nullptr, "step", "expected a function, found NULL");
}

/// The frozen prefix and the plugin-level fields.
void check_plugin(const plx_plugin_desc* desc, const std::string& file) {
  if (desc == nullptr)
    throw Error(ErrorCode::kAbi, file + ": the plugin entry returned a NULL descriptor without an error");
  // Only abi_major, abi_minor and struct_size are stable across majors, so
  // nothing else (not even the name) is read before the version is accepted.
  const std::string have = std::to_string(PLX_ABI_MAJOR) + "." + std::to_string(PLX_ABI_MINOR);
  const std::string want = std::to_string(desc->abi_major) + "." + std::to_string(desc->abi_minor);
  if (desc->abi_major != PLX_ABI_MAJOR)
    throw Error(ErrorCode::kAbi, "plugin in " + file + " was built for plugin ABI " + want +
                                     "; this runtime speaks " + have + " (rebuild the plugin against SDK " +
                                     have + ")");
  if (desc->struct_size < PLX_END_OF(plx_plugin_desc, optimizers))
    throw Error(ErrorCode::kAbi, "plugin in " + file + ": struct_size: expected at least " +
                                     std::to_string(PLX_END_OF(plx_plugin_desc, optimizers)) +
                                     " (the ABI 1.0 size), found " + std::to_string(desc->struct_size));
  const std::string name = desc->name == nullptr ? "?" : desc->name;
  if (desc->abi_minor > PLX_ABI_MINOR)
    throw Error(ErrorCode::kAbi, "plugin '" + name + "' in " + file + " needs plugin ABI " + want +
                                     ", this runtime provides " + have + "; upgrade Plexus or rebuild the plugin with SDK " +
                                     have);
  Check c(file, name);
  c.require(desc->name != nullptr && desc->name[0] != '\0' && valid_utf8(desc->name), "name",
            "expected a non-empty UTF-8 plugin name, found " + quoted_or_null(desc->name));
  c.require(desc->version != nullptr && valid_utf8(desc->version), "version",
            "expected a UTF-8 version string, found " + quoted_or_null(desc->version));
  check_text(c, desc->sdk_version, "sdk_version");
  c.require(desc->op_count == 0 || desc->ops != nullptr, "ops",
            "op_count is " + std::to_string(desc->op_count) + " but the table pointer is NULL");
  c.require(desc->optimizer_count == 0 || desc->optimizers != nullptr, "optimizers",
            "optimizer_count is " + std::to_string(desc->optimizer_count) + " but the table pointer is NULL");
}

std::string kind_word(int32_t kind) {
  switch (kind) {
    case PLX_KIND_LAYER: return "layer";
    case PLX_KIND_ACTIVATION: return "activation";
    case PLX_KIND_LOSS: return "loss";
    default: return "optimizer";
  }
}

std::string join_keys(const auto& map) {
  std::string r;
  for (const auto& [name, kernel] : map) r += (r.empty() ? "" : ", ") + name;
  return r;
}

}  // namespace

void Registry::add_plugin(const plx_plugin_desc* desc, const std::string& file, int32_t (*thread_budget)(void)) {
  check_plugin(desc, file);
  Check c(file, desc->name);
  const KernelOrigin origin{file, desc->name, desc->version, thread_budget, desc->abi_major, desc->abi_minor};

  // Names across both kinds, this plugin's and the registered ones: a model
  // file names kernels, and one name must mean one kernel.
  std::set<std::string_view> mine;
  auto check_unique = [&](const char* name) {
    if (!mine.insert(name).second)
      c.fail("", "kernel name '" + std::string(name) + "' is declared twice in this plugin", ErrorCode::kPlugin);
    const KernelOrigin* other = nullptr;
    if (auto it = ops_.find(name); it != ops_.end()) other = &it->second->origin();
    if (auto it = optimizers_.find(name); it != optimizers_.end()) other = &it->second->origin();
    if (other != nullptr)
      c.fail("", "kernel '" + std::string(name) + "' is already registered from " + other->file + " (plugin '" +
                     other->plugin + "'); kernel names must be unique across loaded plugins",
             ErrorCode::kPlugin);
  };

  std::map<std::string, std::unique_ptr<OpKernel>> new_ops;
  for (uint32_t i = 0; i < desc->op_count; ++i) {
    const plx_op_desc* d = desc->ops[i];
    const std::string at = "ops[" + std::to_string(i) + "]";
    c.require(d != nullptr, at, "expected a descriptor, found NULL");
    c.require(d->struct_size >= PLX_END_OF(plx_op_desc, name), at + ".struct_size",
              "expected at least " + std::to_string(PLX_END_OF(plx_op_desc, metric)) + " (the ABI 1.0 size), found " +
                  std::to_string(d->struct_size));
    check_name(c, d->name, at + ".name");
    c.set_kernel(kind_word(d->kind) + " '" + d->name + "'");
    check_op(c, *d);
    check_unique(d->name);
    new_ops.emplace(d->name, std::make_unique<OpKernel>(d, origin));
    c.set_kernel("");
  }

  std::map<std::string, std::unique_ptr<OptimizerKernel>> new_optimizers;
  for (uint32_t i = 0; i < desc->optimizer_count; ++i) {
    const plx_optimizer_desc* d = desc->optimizers[i];
    const std::string at = "optimizers[" + std::to_string(i) + "]";
    c.require(d != nullptr, at, "expected a descriptor, found NULL");
    c.require(d->struct_size >= PLX_END_OF(plx_optimizer_desc, name), at + ".struct_size",
              "expected at least " + std::to_string(PLX_END_OF(plx_optimizer_desc, step)) +
                  " (the ABI 1.0 size), found " + std::to_string(d->struct_size));
    check_name(c, d->name, at + ".name");
    c.set_kernel("optimizer '" + std::string(d->name) + "'");
    check_optimizer(c, *d);
    check_unique(d->name);
    new_optimizers.emplace(d->name, std::make_unique<OptimizerKernel>(d, origin));
    c.set_kernel("");
  }

  // Everything is valid and allocated; merge() moves nodes without
  // allocating, so registration is all or nothing.
  ops_.merge(new_ops);
  optimizers_.merge(new_optimizers);
}

const OpKernel* Registry::find_op(const std::string& name) const {
  auto it = ops_.find(name);
  return it == ops_.end() ? nullptr : it->second.get();
}

const OptimizerKernel* Registry::find_optimizer(const std::string& name) const {
  auto it = optimizers_.find(name);
  return it == optimizers_.end() ? nullptr : it->second.get();
}

const OpKernel& Registry::op(const std::string& name) const {
  if (const OpKernel* k = find_op(name)) return *k;
  std::string known = known_ops();
  std::string m = "unknown kernel '" + name + "' (known: " + (known.empty() ? "none; no plugin is loaded" : known) + ")";
  if (find_optimizer(name) != nullptr) m += "; '" + name + "' is an optimizer, not a layer, activation or loss";
  throw Error(ErrorCode::kNotFound, m);
}

const OptimizerKernel& Registry::optimizer(const std::string& name) const {
  if (const OptimizerKernel* k = find_optimizer(name)) return *k;
  std::string known = known_optimizers();
  std::string m =
      "unknown optimizer '" + name + "' (known: " + (known.empty() ? "none; no plugin is loaded" : known) + ")";
  if (find_op(name) != nullptr) m += "; '" + name + "' is a layer, activation or loss, not an optimizer";
  throw Error(ErrorCode::kNotFound, m);
}

std::string Registry::known_ops() const { return join_keys(ops_); }

std::string Registry::known_optimizers() const { return join_keys(optimizers_); }

}  // namespace plexus
