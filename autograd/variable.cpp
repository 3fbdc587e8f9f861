// variable.cpp — Variable's accessors, and record(), the one place nodes are created
// (tutorial chapter 2).
#include "autograd/variable.h"

#include <atomic>
#include <stdexcept>

#include "autograd/grad_mode.h"
#include "autograd/node.h"

namespace dl::ag {

Variable::Variable(Tensor data, bool requires_grad, std::string name)
    : impl_(std::make_shared<VariableImpl>()) {
  if (requires_grad && !is_floating(data.dtype()))
    throw std::invalid_argument(std::string("Variable: only float tensors can require grad, got ") +
                                dtype_name(data.dtype()));
  impl_->data = std::move(data);
  impl_->requires_grad = requires_grad;
  impl_->name = std::move(name);
}

Variable::Variable(Tensor data, std::shared_ptr<Node> grad_fn)
    : impl_(std::make_shared<VariableImpl>()) {
  impl_->data = std::move(data);
  impl_->requires_grad = true;
  impl_->grad_fn = std::move(grad_fn);
}

void Variable::check_defined(const char* op) const {
  if (!impl_) throw std::invalid_argument(std::string(op) + ": variable is undefined");
}

const Tensor& Variable::data() const {
  check_defined("data");
  return impl_->data;
}
Tensor& Variable::data() {
  check_defined("data");
  return impl_->data;
}
const Tensor& Variable::grad() const {
  check_defined("grad");
  return impl_->grad;
}

void Variable::set_grad(const Tensor& g) {
  check_defined("set_grad");
  if (g.defined() && g.shape() != impl_->data.shape())
    throw std::invalid_argument("set_grad: gradient shape " + shape_str(g.shape()) +
                                " differs from data shape " + shape_str(impl_->data.shape()));
  impl_->grad = g;
}

bool Variable::requires_grad() const { return impl_ && impl_->requires_grad; }

Variable& Variable::set_requires_grad(bool on) {
  check_defined("set_requires_grad");
  if (!is_leaf())
    throw std::runtime_error("set_requires_grad: only leaf variables can change requires_grad; "
                             "use detach() for a non-leaf");
  if (on && !is_floating(impl_->data.dtype()))
    throw std::invalid_argument(std::string("set_requires_grad: only float tensors can require grad, got ") +
                                dtype_name(impl_->data.dtype()));
  impl_->requires_grad = on;
  return *this;
}

bool Variable::is_leaf() const { return !impl_ || !impl_->grad_fn; }

const std::shared_ptr<Node>& Variable::grad_fn() const {
  check_defined("grad_fn");
  return impl_->grad_fn;
}

const std::string& Variable::name() const {
  check_defined("name");
  return impl_->name;
}

Variable& Variable::set_name(std::string name) {
  check_defined("set_name");
  impl_->name = std::move(name);
  return *this;
}

void Variable::zero_grad() {
  check_defined("zero_grad");
  impl_->grad = Tensor();
}

Variable Variable::detach() const {
  check_defined("detach");
  return Variable(impl_->data, false, impl_->name);
}

// ---- recording ---------------------------------------------------------------------------------

namespace {
std::atomic<uint64_t> next_seq{1};
}

bool will_record(const std::vector<const Variable*>& inputs) {
  if (!is_grad_enabled()) return false;
  for (const Variable* v : inputs)
    if (v->defined() && v->requires_grad()) return true;
  return false;
}

Variable record(const char* name, const std::vector<const Variable*>& inputs, Tensor output,
                BackwardFn backward) {
  if (!will_record(inputs)) return Variable(std::move(output));

  auto node = std::make_shared<Node>();
  node->name = name;
  node->seq = next_seq++;
  node->output_shape = output.shape();
  for (const Variable* v : inputs) {
    Edge e;
    if (v->defined() && v->requires_grad()) {
      if (v->is_leaf()) e.leaf = v->impl();
      else e.node = v->grad_fn();
    }
    node->edges.push_back(std::move(e));
    node->input_shapes.push_back(v->defined() ? v->shape() : Shape{});
  }
  node->backward = std::move(backward);
  return Variable(std::move(output), std::move(node));
}

}  // namespace dl::ag
