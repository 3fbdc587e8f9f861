// module.cpp — registration, traversal and state dicts of Module (tutorial chapter 4).
#include "nn/module.h"

#include "nn/conv_bn.h"

#include <sstream>
#include <stdexcept>

namespace dl::nn {

namespace {
thread_local CallObserver* observer = nullptr;

std::string join(const std::string& prefix, const std::string& name) {
  if (prefix.empty()) return name;
  if (name.empty()) return prefix;  // named_modules() lists each module itself as ""
  return prefix + "." + name;
}

/// Checks a new name is non-empty, has no dot, and is not taken yet.
template <class List>
void check_new_name(const List& list, const std::string& name, const char* what) {
  if (name.empty() || name.find('.') != std::string::npos)
    throw std::invalid_argument(std::string("register_") + what + ": invalid name '" + name +
                                "' (must be non-empty, without dots)");
  for (const auto& [n, _] : list)
    if (n == name)
      throw std::invalid_argument(std::string("register_") + what + ": name '" + name +
                                  "' is already registered");
}
}  // namespace

CallObserver* set_call_observer(CallObserver* o) {
  CallObserver* previous = observer;
  observer = o;
  return previous;
}

CallObserver* call_observer() { return observer; }

ag::Variable Module::operator()(const ag::Variable& x) {
  if (!observer) return forward(x);
  observer->enter(*this, x.shape());
  ag::Variable y = forward(x);
  observer->leave(*this, x.shape(), y.shape());
  return y;
}

int64_t Module::macs(const Shape&, const Shape&) const { return 0; }

void Module::train(bool on) {
  training_ = on;
  for (auto& [_, c] : children_) c->train(on);
}

ag::Variable Module::register_parameter(const std::string& name, Tensor init, bool requires_grad) {
  check_new_name(params_, name, "parameter");
  params_.emplace_back(name, ag::Variable(std::move(init), requires_grad, name));
  return params_.back().second;
}

Tensor Module::register_buffer(const std::string& name, Tensor init) {
  check_new_name(buffers_, name, "buffer");
  buffers_.emplace_back(name, std::move(init));
  return buffers_.back().second;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> m) {
  check_new_name(children_, name, "module");
  if (!m) throw std::invalid_argument("register_module: module '" + name + "' is null");
  children_.emplace_back(name, std::move(m));
}

ag::Variable& Module::param(const std::string& name) {
  for (auto& [n, v] : params_)
    if (n == name) return v;
  throw std::out_of_range(type_name() + ": no parameter named '" + name + "'");
}

Tensor& Module::buffer(const std::string& name) {
  for (auto& [n, t] : buffers_)
    if (n == name) return t;
  throw std::out_of_range(type_name() + ": no buffer named '" + name + "'");
}

const ag::Variable& Module::param(const std::string& name) const {
  return const_cast<Module*>(this)->param(name);
}

const Tensor& Module::buffer(const std::string& name) const {
  return const_cast<Module*>(this)->buffer(name);
}

Module& Module::child(const std::string& name) const {
  std::string names;
  for (const auto& [n, c] : children_) {
    if (n == name) return *c;
    names += (names.empty() ? "" : ", ") + n;
  }
  throw std::out_of_range(type_name() + ": no child named '" + name + "' (children: " + names + ")");
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out{{"", this}};
  for (auto& [n, c] : children_)
    for (auto& [sub, m] : c->named_modules()) out.emplace_back(join(n, sub), m);
  return out;
}

std::vector<std::pair<std::string, ag::Variable>> Module::named_parameters() const {
  std::vector<std::pair<std::string, ag::Variable>> out(params_.begin(), params_.end());
  for (const auto& [n, c] : children_)
    for (auto& [sub, v] : c->named_parameters()) out.emplace_back(join(n, sub), v);
  return out;
}

std::vector<ag::Variable> Module::parameters() const {
  std::vector<ag::Variable> out;
  for (auto& [_, v] : named_parameters()) out.push_back(v);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers() const {
  std::vector<std::pair<std::string, Tensor>> out(buffers_.begin(), buffers_.end());
  for (const auto& [n, c] : children_)
    for (auto& [sub, t] : c->named_buffers()) out.emplace_back(join(n, sub), t);
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const auto& [_, v] : named_parameters()) n += v.numel();
  return n;
}

StateDict Module::state_dict() const {
  StateDict out;
  for (const auto& [n, v] : params_) out.emplace_back(n, v.data());
  for (const auto& [n, t] : buffers_) out.emplace_back(n, t);
  for (const auto& [n, c] : children_)
    for (auto& [sub, t] : c->state_dict()) out.emplace_back(join(n, sub), t);
  return out;
}

void Module::load_state_dict(const StateDict& state, bool strict) {
  StateDict mine = state_dict();
  std::vector<std::string> missing, unexpected, mismatched;
  std::vector<std::pair<Tensor, const Tensor*>> copies;
  for (auto& [name, dst] : mine) {
    const Tensor* src = nullptr;
    for (const auto& [k, t] : state)
      if (k == name) src = &t;
    if (!src) {
      missing.push_back(name);
    } else if (src->shape() != dst.shape()) {
      mismatched.push_back(name + " (checkpoint " + shape_str(src->shape()) + ", model " +
                           shape_str(dst.shape()) + ")");
    } else {
      copies.emplace_back(dst, src);
    }
  }
  for (const auto& [k, _] : state) {
    bool known = false;
    for (const auto& [name, __] : mine) known = known || name == k;
    if (!known) unexpected.push_back(k);
  }
  // Validate everything first, so a failed load leaves the model untouched.
  if (!mismatched.empty() || (strict && (!missing.empty() || !unexpected.empty()))) {
    std::ostringstream os;
    os << "load_state_dict: state does not match the " << type_name() << " model";
    auto list = [&os](const char* what, const std::vector<std::string>& keys) {
      if (keys.empty()) return;
      os << "; " << what << ":";
      for (const auto& k : keys) os << ' ' << k;
    };
    list("missing keys", missing);
    list("unexpected keys", unexpected);
    list("shape mismatches", mismatched);
    throw std::invalid_argument(os.str());
  }
  for (auto& [dst, src] : copies) dst.copy_(*src);
}

void Module::apply(const std::function<void(Module&)>& fn) {
  for (auto& [_, c] : children_) c->apply(fn);
  fn(*this);
}

void Module::zero_grad() {
  for (auto& [_, v] : named_parameters()) v.zero_grad();
}

void Module::to(DType dtype) {
  for (auto& [_, v] : params_) v.data() = v.data().to(dtype);
  for (auto& [_, t] : buffers_)
    if (is_floating(t.dtype())) t = t.to(dtype);
  for (auto& [_, c] : children_) c->to(dtype);
}

Sequential& Sequential::push_back(std::shared_ptr<Module> m) {
  return push_back(std::to_string(size()), std::move(m));
}

Sequential& Sequential::push_back(const std::string& name, std::shared_ptr<Module> m) {
  register_module(name, std::move(m));
  return *this;
}

ag::Variable Sequential::forward(const ag::Variable& x) {
  std::vector<Module*> children;
  for (const auto& [_, c] : named_children()) children.push_back(c.get());
  return forward_in_order(children, x);  // folds Conv2d -> BatchNorm2d at inference
}

ModuleList& ModuleList::push_back(std::shared_ptr<Module> m) {
  register_module(std::to_string(size()), std::move(m));
  return *this;
}

ag::Variable ModuleList::forward(const ag::Variable&) {
  throw std::logic_error("ModuleList: has no forward; call its children from the parent module");
}

}  // namespace dl::nn
