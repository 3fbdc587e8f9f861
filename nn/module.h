// module.h — the Module base class: named parameters, buffers and children (tutorial ch. 4).
// Registering state by name is what makes checkpoint keys like `layer1.0.conv1.weight` come
// for free: a key is the path of child names down to the parameter, exactly as in PyTorch,
// so weights move between resnet.cpp and PyTorch/torchvision unchanged.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/variable.h"
#include "tensor/tensor.h"

namespace dl::nn {

/// Ordered (name, tensor) pairs: parameters and buffers, as a checkpoint stores them.
using StateDict = std::vector<std::pair<std::string, Tensor>>;

/// Base of every layer and model. Subclasses register their state in the constructor and
/// implement forward(); layers never write a backward (autograd ops provide it).
class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  /// The computation. Most layers map one tensor to one tensor, and so does every ResNet.
  virtual ag::Variable forward(const ag::Variable& x) = 0;
  /// Calls forward(); also reports the call to an active summary recorder (nn/summary.h).
  ag::Variable operator()(const ag::Variable& x);

  /// Class name as shown in summaries ("Conv2d", "BasicBlock").
  virtual std::string type_name() const = 0;
  /// Multiply-accumulates of one forward call with these input/output shapes (0 for layers
  /// whose cost is not counted, like BN and ReLU, following torchinfo's convention of
  /// counting conv and linear layers).
  virtual int64_t macs(const Shape& input, const Shape& output) const;

  /// Switches training mode (BN batch statistics, dropout) here and in every child.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  /// All parameters, depth-first in registration order, with dotted names.
  std::vector<std::pair<std::string, ag::Variable>> named_parameters() const;
  std::vector<ag::Variable> parameters() const;
  /// All buffers (running statistics), with dotted names. The Tensors share storage with
  /// the module's own, so writing into them writes into the module.
  std::vector<std::pair<std::string, Tensor>> named_buffers() const;
  /// Direct children in registration order.
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const {
    return children_;
  }
  /// This module ("") and every descendant, with dotted names, depth-first.
  std::vector<std::pair<std::string, Module*>> named_modules();
  /// Total number of parameter elements.
  int64_t num_parameters() const;

  /// Parameters then buffers of each module, depth-first: PyTorch's state_dict order.
  StateDict state_dict() const;
  /// Copies values into the existing tensors (in place). With @p strict, missing keys,
  /// unexpected keys and shape mismatches are all collected and reported in one
  /// std::invalid_argument, and nothing is modified. Values are converted to each tensor's dtype.
  void load_state_dict(const StateDict& state, bool strict = true);

  /// Calls @p fn on every module, children first (used for custom initialisation).
  void apply(const std::function<void(Module&)>& fn);
  /// Drops every parameter's gradient.
  void zero_grad();
  /// Converts every parameter and buffer to @p dtype (float64 for gradient checks).
  void to(DType dtype);

  /// Looks up a child by name; throws std::out_of_range listing the children otherwise.
  Module& child(const std::string& name) const;

 protected:
  /// Adds a trainable tensor under @p name and returns its Variable (shares the data).
  ag::Variable register_parameter(const std::string& name, Tensor init, bool requires_grad = true);
  /// Adds non-trainable state (running statistics) under @p name; returns a view of it.
  Tensor register_buffer(const std::string& name, Tensor init);
  /// Adds a child module under @p name.
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    add_child(name, m);
    return m;
  }
  /// The registered parameter / buffer called @p name (own, not children's).
  ag::Variable& param(const std::string& name);
  const ag::Variable& param(const std::string& name) const;
  Tensor& buffer(const std::string& name);
  const Tensor& buffer(const std::string& name) const;

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> m);
  std::vector<std::pair<std::string, ag::Variable>> params_;
  std::vector<std::pair<std::string, Tensor>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

/// Children called in order; keys "0", "1", ... as in torch.nn.Sequential.
class Sequential : public Module {
 public:
  Sequential() = default;
  /// Appends @p m under the next index; returns this for chaining.
  Sequential& push_back(std::shared_ptr<Module> m);
  /// Appends @p m under an explicit name (torchvision names some children, e.g. downsample).
  Sequential& push_back(const std::string& name, std::shared_ptr<Module> m);
  size_t size() const { return named_children().size(); }
  Module& operator[](size_t i) const { return *named_children().at(i).second; }
  ag::Variable forward(const ag::Variable& x) override;
  std::string type_name() const override { return "Sequential"; }
};

/// Holds children by index without calling them (a model's forward decides the order).
class ModuleList : public Module {
 public:
  ModuleList& push_back(std::shared_ptr<Module> m);
  size_t size() const { return named_children().size(); }
  Module& operator[](size_t i) const { return *named_children().at(i).second; }
  /// Throws std::logic_error: a ModuleList has no forward of its own.
  ag::Variable forward(const ag::Variable& x) override;
  std::string type_name() const override { return "ModuleList"; }
};

/// Watches Module calls; the summary (nn/summary.h) uses one to record output shapes and
/// MACs of every layer during a single forward pass.
class CallObserver {
 public:
  virtual ~CallObserver() = default;
  /// Called before forward() of @p m.
  virtual void enter(Module& m, const Shape& input) = 0;
  /// Called after forward() of @p m returned @p output.
  virtual void leave(Module& m, const Shape& input, const Shape& output) = 0;
};
/// Installs @p observer for this thread (nullptr removes it); returns the previous one.
CallObserver* set_call_observer(CallObserver* observer);
/// The observer installed for this thread, or nullptr. Fused fast paths check it so that
/// an observer still sees every module call.
CallObserver* call_observer();

/// Passes its input through unchanged (a shortcut with nothing to do).
class Identity : public Module {
 public:
  ag::Variable forward(const ag::Variable& x) override { return x; }
  std::string type_name() const override { return "Identity"; }
};

}  // namespace dl::nn
