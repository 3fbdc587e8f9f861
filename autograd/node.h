// node.h — one recorded op on the tape (tutorial chapter 2).
// A node knows its op's name, the shapes of its inputs, where each input's gradient goes
// (an earlier node, or a leaf Variable), and a backward function that captured exactly the
// tensors it needs. Its sequence number is its position on the tape: recorded order.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "autograd/variable.h"

namespace dl::ag {

/// Which inputs of a node need a gradient; a backward function skips the others.
using NeedsGrad = std::vector<bool>;
/// Maps the gradient of the node's output to one gradient per input (undefined Tensor for
/// inputs whose needs flag is false).
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output, const NeedsGrad&)>;

/// Where an input's gradient flows: into the node that produced it, or into a leaf.
/// Both null means the input needs no gradient.
struct Edge {
  std::shared_ptr<Node> node;
  std::shared_ptr<VariableImpl> leaf;
  bool needs_grad() const { return node || leaf; }
};

/// A recorded op. Created by record(); walked by Variable::backward().
class Node {
 public:
  std::string name;                 ///< e.g. "Conv2dBackward"
  uint64_t seq = 0;                 ///< position on the tape (recorded order)
  std::vector<Edge> edges;          ///< one per input
  std::vector<Shape> input_shapes;  ///< checked against the gradients backward returns
  Shape output_shape;
  BackwardFn backward;              ///< empty once released

  /// True after a backward pass freed the saved tensors (without retain_graph).
  bool released() const { return !backward; }
  /// Frees the captured tensors.
  void release() { backward = nullptr; }
};

/// Wraps an op's result. When grad mode is on and some input requires grad, appends a node
/// named @p name to the tape with @p backward; otherwise returns a plain (non-grad) Variable.
/// Every differentiable op ends with a call to this.
Variable record(const char* name, const std::vector<const Variable*>& inputs, Tensor output,
                BackwardFn backward);

/// Whether record() would append a node for these inputs (grad mode on, some input requiring
/// grad): lets an op skip computing what only its backward needs, e.g. max pooling's indices.
bool will_record(const std::vector<const Variable*>& inputs);

}  // namespace dl::ag
