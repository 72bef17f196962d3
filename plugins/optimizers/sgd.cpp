#include "sgd.hpp"

#include <string>

namespace plexus::plugins {

void Sgd::step(sdk::StepContext& ctx) {
  const sdk::Tensor param = ctx.param();
  const sdk::Tensor grad = ctx.grad();
  if (grad.numel() != param.numel())
    throw sdk::Error(PLX_E_INVALID, "sgd: gradient of '" + std::string(ctx.param_name()) + "' has " +
                                        std::to_string(grad.numel()) + " elements, the parameter " +
                                        std::to_string(param.numel()));
  if (ctx.begin() < 0 || ctx.begin() > ctx.end() || ctx.end() > param.numel())
    throw sdk::Error(PLX_E_INVALID, "sgd: element range [" + std::to_string(ctx.begin()) + ", " +
                                        std::to_string(ctx.end()) + ") is outside '" + ctx.param_name() +
                                        "' of " + std::to_string(param.numel()) + " elements");
  const double lr = ctx.lr();
  float* theta = param.data();
  const float* g = grad.data();
  for (int64_t i = ctx.begin(); i < ctx.end(); ++i)
    theta[i] = static_cast<float>(static_cast<double>(theta[i]) - lr * static_cast<double>(g[i]));
}

}  // namespace plexus::plugins
