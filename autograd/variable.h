// variable.h — a Tensor that remembers how it was computed (tutorial chapter 2).
// A Variable pairs a value (data) with an optional gradient and a link to the Node that made
// it. Leaves (parameters, inputs) have no node; calling backward() on a result walks the
// nodes behind it in reverse recorded order and accumulates (+=) into every leaf's grad().
#pragma once

#include <memory>
#include <string>

#include "tensor/tensor.h"

namespace dl::ag {

class Node;

/// Shared state of a Variable; copies of a Variable share it (like PyTorch tensors).
struct VariableImpl {
  Tensor data;
  Tensor grad;                    ///< undefined until a backward pass reaches this leaf
  bool requires_grad = false;
  std::shared_ptr<Node> grad_fn;  ///< the node that produced data; null for leaves
  std::string name;               ///< optional label shown in tape printouts and DOT graphs
};

/// A value on the autograd tape.
///
/// @code
///   Variable w(Tensor::randn({3}, gen, DType::Float64), /*requires_grad=*/true);
///   Variable loss = ag::sum(ag::mul(w, w));
///   loss.backward();           // w.grad() == 2 * w.data()
/// @endcode
class Variable {
 public:
  /// Undefined variable (no data).
  Variable() = default;
  /// A leaf wrapping @p data (shared, not copied).
  explicit Variable(Tensor data, bool requires_grad = false, std::string name = "");
  /// A result of an op: wraps @p data produced by @p grad_fn (requires_grad is true).
  Variable(Tensor data, std::shared_ptr<Node> grad_fn);

  bool defined() const { return impl_ != nullptr; }
  /// The value. Mutating it in place (optimisers do, under NoGradGuard) is visible to all copies.
  const Tensor& data() const;
  Tensor& data();
  /// Accumulated gradient; undefined until backward reaches this leaf or after zero_grad().
  const Tensor& grad() const;
  /// Replaces the gradient (optimisers and tests; must match data's shape or be undefined).
  void set_grad(const Tensor& g);
  bool requires_grad() const;
  /// Marks a leaf as a parameter to differentiate; throws for non-leaves.
  Variable& set_requires_grad(bool on);
  /// True when no node produced this variable.
  bool is_leaf() const;
  const std::shared_ptr<Node>& grad_fn() const;
  const std::string& name() const;
  Variable& set_name(std::string name);

  /// Backpropagates from this variable. With no @p grad_output the variable must hold one
  /// element (a loss) and the seed gradient is 1. Saved tensors are freed afterwards unless
  /// @p retain_graph, so a second call on the same graph throws std::runtime_error.
  /// @throws std::runtime_error if this variable does not require grad.
  /// @throws std::invalid_argument if grad_output's shape differs from data's.
  void backward(const Tensor& grad_output = Tensor(), bool retain_graph = false) const;
  /// Drops the accumulated gradient (the next backward starts from zero).
  void zero_grad();
  /// The same data with no history: a new leaf that does not require grad.
  Variable detach() const;

  // Shape conveniences forwarded to data().
  const Shape& shape() const { return data().shape(); }
  DType dtype() const { return data().dtype(); }
  int64_t dim() const { return data().dim(); }
  int64_t size(int64_t d) const { return data().size(d); }
  int64_t numel() const { return data().numel(); }
  double item() const { return data().item(); }

  /// Identity of the shared state (used to key gradients by leaf).
  const std::shared_ptr<VariableImpl>& impl() const { return impl_; }

 private:
  void check_defined(const char* op) const;
  std::shared_ptr<VariableImpl> impl_;
};

}  // namespace dl::ag
