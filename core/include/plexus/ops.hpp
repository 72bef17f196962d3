// Built-in core ops: small elementwise primitives the runtime composes
// (gradient sums, residual adds, reductions for tests and metrics). Layers,
// activations and losses are plugins; see kernel.hpp for how they run on a tape.
//
//   Value z = ops::add(tape, x, y);     // shapes must match
//   Value s = ops::sum(tape, z);        // shape [1]
#ifndef PLEXUS_OPS_HPP
#define PLEXUS_OPS_HPP

#include <plexus/tape.hpp>

namespace plexus::ops {

/// dst = a + b, same shapes.
Value add(Tape& tape, const Value& a, const Value& b);
/// dst = a * b elementwise, same shapes.
Value mul(Tape& tape, const Value& a, const Value& b);
/// dst = alpha * a.
Value scale(Tape& tape, const Value& a, float alpha);
/// dst = sum of all elements, shape [1].
Value sum(Tape& tape, const Value& a);

}  // namespace plexus::ops

#endif
