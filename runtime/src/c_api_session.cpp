// The C embedding API (plexus.h): inference sessions and trainers.
#include "c_api_handles.hpp"

#include <mutex>
#include <shared_mutex>

namespace plexus::capi {

namespace {

/// Throws unless the model's parameters were set (a checkpoint, init or a trainer).
void require_params(const Model& m) {
  if (!m.params_set() && !m.param_shapes().empty())
    throw StatusError(PLX_STATUS_INVALID, "the parameters of " + m.source() +
                                              " are not set: pass a checkpoint to plx_model_load, or call "
                                              "plx_model_init_params or plx_model_load_weights first");
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\n") - b + 1);
}

/// "lr=0.05,momentum=0.9" -> {lr: 0.05, momentum: 0.9}.
AttrMap parse_hparams(const char* text) {
  AttrMap m;
  if (text == nullptr) return m;
  const std::string all = text;
  size_t begin = 0;
  while (begin <= all.size()) {
    size_t end = all.find(',', begin);
    if (end == std::string::npos) end = all.size();
    const std::string item = trim(all.substr(begin, end - begin));
    begin = end + 1;
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    if (eq == std::string::npos || trim(item.substr(0, eq)).empty())
      throw StatusError(PLX_STATUS_INVALID, "hparams \"" + all + "\": item '" + item +
                                                "' is not key=value; expected e.g. \"lr=0.05,momentum=0.9\"");
    m[trim(item.substr(0, eq))] = AttrValue::parse(trim(item.substr(eq + 1)));
  }
  return m;
}

/// The model file's train defaults, overridden by the caller's choices.
TrainOptions train_options(const Model& model, const char* optimizer, const char* hparams, uint64_t seed) {
  TrainOptions o = train_defaults(model, optimizer != nullptr ? optimizer : "");
  for (auto& [k, v] : parse_hparams(hparams)) o.hparams[k] = v;
  o.seed = seed;
  return o;
}

/// Registers every tensor of `made` or none.
void register_all(std::vector<std::unique_ptr<plx_tensor>>& made, plx_tensor** outputs) {
  size_t done = 0;
  try {
    for (; done < made.size(); ++done) register_handle(static_cast<const void*>(made[done].get()), made[done].get());
  } catch (...) {
    for (size_t i = 0; i < done; ++i) unregister_handle(made[i].get(), Kind::kTensor, "outputs").release();
    throw;
  }
  for (size_t i = 0; i < made.size(); ++i) outputs[i] = made[i].release();
}

}  // namespace

}  // namespace plexus::capi

using namespace plexus;
using namespace plexus::capi;

extern "C" {

// ---- inference -------------------------------------------------------------

plx_status plx_session_create(plx_model* model, plx_session** out) {
  return guarded("plx_session_create", [&] {
    require(out, "out", "a pointer to a plx_session* to fill");
    *out = nullptr;
    Pinned<plx_model> m(model, Kind::kModel, "model");
    *out = make_handle<plx_session>(m.get(), plexus::SessionOptions{});
  });
}

plx_status plx_session_create_pinned(plx_model* model, int32_t threads_per_call, plx_session** out) {
  return guarded("plx_session_create_pinned", [&] {
    require(out, "out", "a pointer to a plx_session* to fill");
    *out = nullptr;
    if (threads_per_call < 1)
      throw StatusError(PLX_STATUS_INVALID, "threads_per_call is " + std::to_string(threads_per_call) + "; expected >= 1");
    Pinned<plx_model> m(model, Kind::kModel, "model");
    *out = make_handle<plx_session>(m.get(), plexus::SessionOptions{threads_per_call});
  });
}

plx_status plx_session_run(plx_session* session, int32_t n_inputs, const char* const* input_names,
                           const plx_view* inputs, int32_t n_outputs, const char* const* output_names,
                           plx_tensor** outputs) {
  return guarded("plx_session_run", [&] {
    require(outputs, "outputs", "an array of n_outputs plx_tensor* to fill");
    if (n_outputs < 1)
      throw StatusError(PLX_STATUS_INVALID, "n_outputs is " + std::to_string(n_outputs) + "; expected >= 1");
    for (int32_t j = 0; j < n_outputs; ++j) outputs[j] = nullptr;
    Pinned<plx_session> s(session, Kind::kSession, "session");
    std::vector<std::string> wanted;
    if (output_names == nullptr) {
      if (n_outputs != 1)
        throw StatusError(PLX_STATUS_INVALID, "output_names is NULL with n_outputs " + std::to_string(n_outputs) +
                                                  "; expected n_outputs names, or n_outputs 1 for the model's output");
      wanted.push_back(s->session.output_name());
    } else {
      for (int32_t j = 0; j < n_outputs; ++j) {
        const std::string param = "output_names[" + std::to_string(j) + "]";
        require_string(output_names[j], param.c_str());
        wanted.push_back(output_names[j]);
      }
    }
    const std::map<std::string, Tensor> feeds = feeds_from(n_inputs, input_names, inputs);
    std::map<std::string, Tensor> result;
    {
      std::shared_lock<std::shared_mutex> lock(s->owner->params_mu);
      require_params(s->owner->model);
      result = s->session.run(feeds, wanted);
    }
    std::vector<std::unique_ptr<plx_tensor>> made;
    for (const std::string& name : wanted) made.push_back(std::make_unique<plx_tensor>(result.at(name)));
    register_all(made, outputs);
  });
}

plx_status plx_session_destroy(plx_session* session) {
  return guarded("plx_session_destroy", [&] { unregister_handle(session, Kind::kSession, "session"); });
}

// ---- training --------------------------------------------------------------

plx_status plx_trainer_create(plx_model* model, const char* optimizer, const char* hparams, uint64_t seed,
                              plx_trainer** out) {
  return guarded("plx_trainer_create", [&] {
    require(out, "out", "a pointer to a plx_trainer* to fill");
    *out = nullptr;
    Pinned<plx_model> m(model, Kind::kModel, "model");
    *out = make_handle<plx_trainer>(m.get(), train_options(m->model, optimizer, hparams, seed));
  });
}

plx_status plx_trainer_step(plx_trainer* trainer, int32_t n_inputs, const char* const* input_names,
                            const plx_view* inputs, double* loss) {
  return guarded("plx_trainer_step", [&] {
    Pinned<plx_trainer> t(trainer, Kind::kTrainer, "trainer");
    const std::map<std::string, Tensor> feeds = feeds_from(n_inputs, input_names, inputs);
    std::unique_lock<std::shared_mutex> lock(t->owner->params_mu);
    const StepResult r = t->trainer.train_step(feeds);
    if (loss != nullptr) *loss = r.loss;
  });
}

plx_status plx_trainer_save(plx_trainer* trainer, const char* checkpoint_path) {
  return guarded("plx_trainer_save", [&] {
    Pinned<plx_trainer> t(trainer, Kind::kTrainer, "trainer");
    require_string(checkpoint_path, "checkpoint_path");
    std::shared_lock<std::shared_mutex> lock(t->owner->params_mu);
    t->trainer.save(checkpoint_path);
  });
}

plx_status plx_trainer_destroy(plx_trainer* trainer) {
  return guarded("plx_trainer_destroy", [&] { unregister_handle(trainer, Kind::kTrainer, "trainer"); });
}

}  // extern "C"
