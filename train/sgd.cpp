// sgd.cpp — the SGD update as one fused pass over each parameter (tutorial chapter 10).
// The rule is torch.optim.SGD's (see sgd.h); tests/train/test_sgd.cpp checks it against steps
// worked out by hand, and tests/golden against a PyTorch step of ResNet-20.
#include "train/sgd.h"

#include <stdexcept>

#include "tensor/ops.h"

namespace dl::train {

Sgd::Sgd(std::vector<std::pair<std::string, ag::Variable>> params, SgdOptions options)
    : options_(options) {
  if (options.lr < 0 || options.momentum < 0 || options.weight_decay < 0)
    throw std::invalid_argument("Sgd: lr, momentum and weight_decay must be >= 0");
  if (options.nesterov && options.momentum == 0)
    throw std::invalid_argument("Sgd: Nesterov momentum needs momentum > 0");
  for (auto& [name, p] : params) {
    if (!p.requires_grad()) continue;
    const bool decay = options.decay_bn_and_bias || p.dim() > 1;
    slots_.push_back({name, p, Tensor(), decay});
  }
}

namespace {
/// p -= lr·d where g = grad + wd·p, buf = m·buf + g (or g on the first step), and
/// d = buf, or g + m·buf with Nesterov. One pass over memory per parameter.
template <class T>
void sgd_update(T* p, const T* grad, T* buf, int64_t n, bool first, double lr, double m, double wd,
                bool nesterov) {
  const T tlr = T(lr), tm = T(m), twd = T(wd);
#ifdef DL_WITH_OPENMP
#pragma omp parallel for simd schedule(static) if (n > 65536)
#endif
  for (int64_t i = 0; i < n; ++i) {
    const T g = grad[i] + twd * p[i];
    T d = g;
    if (buf) {
      buf[i] = first ? g : tm * buf[i] + g;
      d = nesterov ? g + tm * buf[i] : buf[i];
    }
    p[i] -= tlr * d;
  }
}
}  // namespace

void Sgd::step() {
  for (Slot& s : slots_) {
    const Tensor& grad = s.param.grad();
    if (!grad.defined()) continue;
    Tensor& p = s.param.data();
    if (!p.is_contiguous())
      throw std::logic_error("Sgd: parameter " + s.name + " is not contiguous");
    const bool first = !s.momentum_buffer.defined();
    if (options_.momentum > 0 && first) s.momentum_buffer = Tensor::empty(p.shape(), p.dtype());
    const Tensor g = grad.to(p.dtype()).contiguous();
    const double wd = s.decay ? options_.weight_decay : 0.0;
    dispatch_floating(p.dtype(), "Sgd::step", [&](auto tag) {
      using T = decltype(tag);
      sgd_update<T>(p.data<T>(), g.data<T>(),
                    options_.momentum > 0 ? s.momentum_buffer.data<T>() : nullptr, p.numel(), first,
                    options_.lr, options_.momentum, wd, options_.nesterov);
    });
  }
}

void Sgd::zero_grad() {
  for (Slot& s : slots_) s.param.zero_grad();
}

nn::StateDict Sgd::state_dict() const {
  nn::StateDict out;
  for (const Slot& s : slots_)
    if (s.momentum_buffer.defined())
      out.emplace_back("momentum_buffer." + s.name, s.momentum_buffer);
  return out;
}

void Sgd::load_state_dict(const nn::StateDict& state) {
  std::vector<Tensor> loaded(slots_.size());
  for (const auto& [key, t] : state) {
    bool found = false;
    for (size_t i = 0; i < slots_.size() && !found; ++i) {
      if (key != "momentum_buffer." + slots_[i].name) continue;
      if (t.shape() != slots_[i].param.shape())
        throw std::invalid_argument("Sgd::load_state_dict: " + key + " has shape " +
                                    shape_str(t.shape()) + ", parameter has " +
                                    shape_str(slots_[i].param.shape()));
      loaded[i] = t.to(slots_[i].param.dtype()).clone();
      found = true;
    }
    if (!found) throw std::invalid_argument("Sgd::load_state_dict: unexpected key " + key);
  }
  for (size_t i = 0; i < slots_.size(); ++i) slots_[i].momentum_buffer = loaded[i];
}

}  // namespace dl::train
