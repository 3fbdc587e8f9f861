// gradcheck.h — checking a backward function against finite differences (tutorial chapter 3).
// In float64, a central difference (f(x+h) - f(x-h)) / 2h has truncation error O(h²) and
// rounding error O(ε/h); with h = 1e-6 both are near 1e-10, so analytic and numeric
// gradients must agree to about 1e-8 relative. In float32 (ε ≈ 1e-7) no h gets close: that
// is why checks run in double.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "autograd/variable.h"

namespace dl::ag {

/// Settings of gradcheck(). The defaults are the project's standard for every op.
struct GradcheckOptions {
  double eps = 1e-6;              ///< finite-difference step h
  double tolerance = 1e-6;        ///< max allowed relative error
  double floor = 1e-3;            ///< relative error = |a - n| / max(|a|, |n|, floor)
  int64_t full_jacobian_limit = 256;  ///< inputs up to this size check every element
  int64_t probes = 24;            ///< random directions per larger input
  uint64_t seed = 1234;           ///< for the upstream gradient and the probes
};

/// Outcome of gradcheck(): ok, the worst relative error, and a readable report of it.
struct GradcheckResult {
  bool ok = true;
  double max_rel_error = 0.0;
  std::string report;  ///< which input/element was worst, analytic vs numeric values
};

/// Function under test: maps input Variables to one output Variable.
using GradcheckFn = std::function<Variable(const std::vector<Variable>&)>;

/// Compares the vector-Jacobian product from backward() with central differences of
/// L(x) = Σ u ⊙ f(x), u a random (never all-ones) upstream gradient. Inputs must be float64;
/// those in @p check (all, when empty) are differentiated, the others held constant.
/// Small inputs get every element perturbed; larger ones get random probe directions v,
/// comparing ⟨∇L, v⟩ with (L(x+hv) - L(x-hv)) / 2h.
/// @throws std::invalid_argument if an input is not float64.
GradcheckResult gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& options = {}, std::vector<bool> check = {});

}  // namespace dl::ag
