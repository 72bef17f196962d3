// plexus plugins [--json]: every loaded kernel with its declaration.
// plexus plugins --check FILE.so: the conformance checks of one plugin file,
// one "PASS  name  detail" / "FAIL  name  detail" line each; exit 1 on any FAIL.
#include "commands.hpp"
#include "common.hpp"

#include <plexus/conformance.hpp>
#include <plexus/optimizer.hpp>

#include <cstdio>
#include <string>
#include <vector>

namespace plexus::cli {

namespace {

const char* kind_name(int32_t k) {
  switch (k) {
    case PLX_KIND_LAYER: return "layer";
    case PLX_KIND_ACTIVATION: return "activation";
    case PLX_KIND_LOSS: return "loss";
    case PLX_KIND_OPTIMIZER: return "optimizer";
    default: return "unknown";
  }
}

std::string json_str(const std::string& s) {
  std::string r = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') r += '\\', r += c;
    else if (c == '\n') r += "\\n";
    else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      r += buf;
    } else r += c;
  }
  return r + "\"";
}

std::string json_value(const plx_value& v) {
  switch (v.type) {
    case PLX_VALUE_STR: return json_str(v.as.str ? v.as.str : "");
    case PLX_VALUE_BOOL: return v.as.boolean ? "true" : "false";
    default: return value_to_string(v);
  }
}

struct Entry {
  int32_t kind;
  std::string name;
  uint32_t version;
  const KernelOrigin* origin;
  const char* doc;
  const plx_hparam_desc* attrs;
  uint32_t attr_count;
};

void print_text(const Entry& e) {
  std::printf("%-10s %-24s v%u  %s (%s)\n", kind_name(e.kind), e.name.c_str(), e.version, e.origin->file.c_str(),
              e.origin->plugin.c_str());
  if (e.doc && *e.doc) std::printf("    %s\n", e.doc);
  for (uint32_t i = 0; i < e.attr_count; ++i) {
    const plx_hparam_desc& a = e.attrs[i];
    std::printf("    %-16s %-5s %s%-10s %s\n", a.name, value_type_name(a.default_value.type),
                a.required ? "required " : "= ", a.required ? "" : value_to_string(a.default_value).c_str(),
                a.doc ? a.doc : "");
  }
}

void print_json(const Entry& e) {
  std::string s = "{\"kind\": " + json_str(kind_name(e.kind)) + ", \"name\": " + json_str(e.name) +
                  ", \"version\": " + std::to_string(e.version) + ", \"file\": " + json_str(e.origin->file) +
                  ", \"plugin\": " + json_str(e.origin->plugin) + ", \"doc\": " + json_str(e.doc ? e.doc : "") +
                  ", \"attributes\": [";
  for (uint32_t i = 0; i < e.attr_count; ++i) {
    const plx_hparam_desc& a = e.attrs[i];
    s += std::string(i ? ", " : "") + "{\"name\": " + json_str(a.name) + ", \"type\": " +
         json_str(value_type_name(a.default_value.type)) + ", \"default\": " + json_value(a.default_value) +
         ", \"required\": " + (a.required ? "true" : "false") + ", \"doc\": " + json_str(a.doc ? a.doc : "") + "}";
  }
  std::printf("%s]}\n", s.c_str());
}

int run_checks(const std::string& file) {
  const std::vector<CheckResult> results = check_plugin(file);
  size_t failed = 0;
  for (const CheckResult& r : results) {
    failed += r.passed ? 0 : 1;
    std::printf("%s  %s  %s\n", r.passed ? "PASS" : "FAIL", r.name.c_str(), r.detail.c_str());
  }
  std::printf("%zu check(s): %zu passed, %zu failed\n", results.size(), results.size() - failed, failed);
  return failed == 0 ? 0 : 1;
}

}  // namespace

int cmd_plugins(int argc, char** argv) {
  po::options_description o("options");
  o.add_options()("json", "one JSON object per kernel")(
      "check", po::value<std::string>()->value_name("FILE.so"),
      "load only FILE.so and run the conformance checks on its kernels (exit 1 if any fails)");
  auto vm = parse(argc, argv, "plexus plugins [--json] | plexus plugins --check FILE.so", o, {});
  if (!vm) return 0;
  if (vm->count("check")) return run_checks((*vm)["check"].as<std::string>());
  Runtime rt;
  const bool json = vm->count("json") > 0;
  for (const auto& [name, k] : rt.registry().ops()) {
    const plx_op_desc& d = k->desc();
    Entry e{d.kind, name, d.version, &k->origin(), d.doc, d.attrs, d.attr_count};
    json ? print_json(e) : print_text(e);
  }
  for (const auto& [name, k] : rt.registry().optimizers()) {
    const plx_optimizer_desc& d = k->desc();
    Entry e{PLX_KIND_OPTIMIZER, name, d.version, &k->origin(), d.doc, d.hparams, d.hparam_count};
    json ? print_json(e) : print_text(e);
  }
  // Options the runtime applies for every optimizer (plexus/optimizer.hpp).
  if (json) {
    std::string s = "{\"kind\": \"shared_optimizer_options\", \"options\": [";
    bool first = true;
    for (const auto& [name, doc] : OptimizerConfig::shared_options()) {
      s += std::string(first ? "" : ", ") + "{\"name\": " + json_str(name) + ", \"doc\": " + json_str(doc) + "}";
      first = false;
    }
    std::printf("%s]}\n", s.c_str());
  } else {
    std::printf("options shared by every optimizer (--opt key=value):\n");
    for (const auto& [name, doc] : OptimizerConfig::shared_options()) std::printf("    %-16s %s\n", name.c_str(), doc.c_str());
  }
  return 0;
}

}  // namespace plexus::cli
