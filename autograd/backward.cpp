// backward.cpp — reverse-mode differentiation: walk the tape backwards (tutorial chapter 2).
// The nodes behind the loss are visited newest first. Each node's output gradient is
// complete by then, because every consumer of its output ran later and so was visited
// earlier. Gradients are summed (+=) where one value fed several ops (a ResNet shortcut).
#include <stdexcept>
#include <unordered_map>

#include "autograd/node.h"
#include "autograd/tape.h"
#include "tensor/ops.h"

namespace dl::ag {

namespace {

/// grad += g, allocating on first use. Clones so a gradient never aliases another tensor.
void accumulate(Tensor& grad, const Tensor& g) {
  if (grad.defined()) grad.add_(g);
  else grad = g.clone();
}

}  // namespace

void Variable::backward(const Tensor& grad_output, bool retain_graph) const {
  check_defined("backward");
  if (!requires_grad())
    throw std::runtime_error("backward: this variable of shape " + shape_str(shape()) +
                             " does not require grad (no input of the ops behind it did)");
  Tensor seed = grad_output;
  if (!seed.defined()) {
    if (numel() != 1)
      throw std::invalid_argument("backward: a gradient can be implied only for a one-element "
                                  "output; this one has shape " + shape_str(shape()) +
                                  ", pass grad_output");
    seed = Tensor::ones(shape(), dtype());
  } else if (seed.shape() != shape() || seed.dtype() != dtype()) {
    throw std::invalid_argument("backward: grad_output " + shape_str(seed.shape()) + " " +
                                dtype_name(seed.dtype()) + " does not match output " +
                                shape_str(shape()) + " " + dtype_name(dtype()));
  }
  if (is_leaf()) {
    accumulate(impl_->grad, seed);
    return;
  }

  const std::vector<std::shared_ptr<Node>> tape = tape_of(*this);
  std::unordered_map<const Node*, Tensor> pending;  // output gradient of each node so far
  pending[grad_fn().get()] = seed;
  for (auto it = tape.rbegin(); it != tape.rend(); ++it) {
    Node& node = **it;
    auto found = pending.find(&node);
    if (found == pending.end()) continue;
    const Tensor grad_out = std::move(found->second);
    pending.erase(found);
    if (node.released())
      throw std::runtime_error("backward: the graph through " + node.name +
                               " was already freed by an earlier backward(); pass "
                               "retain_graph=true to the first call to backpropagate twice");
    NeedsGrad needs(node.edges.size());
    for (size_t i = 0; i < needs.size(); ++i) needs[i] = node.edges[i].needs_grad();
    const std::vector<Tensor> grads = node.backward(grad_out, needs);
    if (grads.size() != node.edges.size())
      throw std::logic_error("backward: " + node.name + " returned " +
                             std::to_string(grads.size()) + " gradients for " +
                             std::to_string(node.edges.size()) + " inputs");
    for (size_t i = 0; i < grads.size(); ++i) {
      const Edge& e = node.edges[i];
      if (!e.needs_grad() || !grads[i].defined()) continue;
      if (grads[i].shape() != node.input_shapes[i])
        throw std::logic_error("backward: " + node.name + " returned a gradient of shape " +
                               shape_str(grads[i].shape()) + " for input " + std::to_string(i) +
                               " of shape " + shape_str(node.input_shapes[i]));
      if (e.node) {
        Tensor& slot = pending[e.node.get()];
        slot = slot.defined() ? add(slot, grads[i]) : grads[i];
      } else {
        accumulate(e.leaf->grad, grads[i]);
      }
    }
    if (!retain_graph) node.release();
  }
}

}  // namespace dl::ag
