// Chapter 9 — pre-activation (v2) vs post-activation (v1) residual units (He et al. 2016,
// "Identity Mappings in Deep Residual Networks", arXiv:1603.05027): where BN and ReLU sit, and
// what that does to the identity path through a deep stack — exact in v2, masked by a ReLU at
// every unit in v1.
// Read README.md beside this file; every check() below is a claim the chapter makes.
#include <cmath>
#include <iostream>
#include <memory>
#include <string>

#include "autograd/ops.h"
#include "common.h"
#include "models/blocks.h"
#include "models/registry.h"
#include "models/resnet.h"
#include "tensor/ops.h"

using dl::Tensor;
using dl::ag::Variable;
using tut::check;
namespace models = dl::models;
namespace nn = dl::nn;

namespace {

double norm(const Tensor& t) { return std::sqrt(dl::sum(t * t).item()); }

void where_bn_and_relu_go() {
  tut::section("1. The two units, child by child");
  // [snippet:units]
  models::BasicBlock v1(16, 16);        // conv1 bn1 relu conv2 bn2 (+x) relu
  models::PreActBasicBlock v2(16, 16);  // bn1 relu conv1 bn2 relu conv2 (+x)
  for (auto* block : {static_cast<nn::Module*>(&v1), static_cast<nn::Module*>(&v2)}) {
    std::cout << block->type_name() << ":";
    for (const auto& [name, child] : block->named_children()) std::cout << " " << name;
    std::cout << "  (" << block->num_parameters() << " parameters)\n";
  }
  // [/snippet]
  check(v1.num_parameters() == v2.num_parameters(),
        "same layers, same parameter count: only the order differs");
  check(v2.named_children().front().first == "bn1",
        "v2 starts with BN: the unit pre-activates its input");

  models::ModelOptions option_a;
  option_a.shortcut = models::Shortcut::A;  // the same shortcuts for both (v2's default is B)
  auto r110 = models::create_model("resnet110", option_a);
  auto p110 = models::create_model("preact_resnet110", option_a);
  std::string head;
  for (const auto& [name, child] : p110->named_children()) head += name + " ";
  std::cout << "preact_resnet110 children: " << head << "\n";
  check(head.find("bn_final") != std::string::npos,
        "a v2 network adds one final BN-ReLU before pooling: its last unit's output is not "
        "normalised");
  check(p110->num_parameters() == r110->num_parameters(),
        "ResNet-110 v1 and v2 with option-A shortcuts have the same " +
            std::to_string(r110->num_parameters()) + " parameters");
}

// A stack of `depth` units of 16 channels, v1 or v2, MSRA-initialised, in training mode.
std::shared_ptr<nn::ModuleList> make_stack(bool preact, int depth) {
  auto stack = std::make_shared<nn::ModuleList>();
  for (int i = 0; i < depth; ++i) {
    if (preact)
      stack->push_back(std::make_shared<models::PreActBasicBlock>(16, 16));
    else
      stack->push_back(std::make_shared<models::BasicBlock>(16, 16));
  }
  models::init_weights(*stack, /*seed=*/1);
  return stack;
}

// Multiplies the last layer of every residual branch by `scale`: bn2's gamma in v1, conv2's
// weight in v2. scale = 0 silences every branch F, leaving only the shortcuts.
void scale_branches(nn::Module& stack, bool preact, double scale) {
  const std::string last = preact ? "conv2.weight" : "bn2.weight";
  for (auto& [name, p] : stack.named_parameters())
    if (name.size() > last.size() &&
        name.compare(name.size() - last.size(), last.size(), last) == 0)
      p.data().mul_(scale);
}

void silenced_branches() {
  tut::section("2. Only the shortcuts: 30 units with every branch F = 0");
  dl::Generator gen(2);
  const Tensor x0 = Tensor::randn({4, 16, 16, 16}, gen);
  const Tensor g = Tensor::randn({4, 16, 16, 16}, gen);  // the gradient arriving at the output
  for (bool preact : {false, true}) {
    // [snippet:silenced]
    auto stack = make_stack(preact, 30);
    scale_branches(*stack, preact, 0.0);
    Variable x(x0, /*requires_grad=*/true), h = x;
    for (size_t i = 0; i < stack->size(); ++i) h = (*stack)[i](h);
    h.backward(g);
    const double ratio = norm(x.grad()) / norm(g);
    // [/snippet]
    std::cout << (preact ? "v2" : "v1")
              << ": |grad at input| / |grad at output| = " << tut::fixed(ratio, 4)
              << ", output equals input: " << (dl::allclose(h.data(), x0) ? "yes" : "no") << "\n";
    if (preact) {
      check(dl::allclose(x.grad(), g) && dl::allclose(h.data(), x0),
            "v2: x_L = x_0 and the gradient reaches the input unchanged, element for element");
    } else {
      check(ratio < 0.8 && !dl::allclose(h.data(), x0),
            "v1: the ReLU after each addition clips the signal; the input gets only the gradient "
            "of x > 0");
    }
  }
}

void direct_path_at_init() {
  tut::section("3. Standard initialisation, 30 units: what flows along the shortcuts alone");
  dl::Generator gen(3);
  const Tensor x0 = Tensor::randn({4, 16, 16, 16}, gen);
  const Tensor g = Tensor::randn({4, 16, 16, 16}, gen);
  double total[2] = {0, 0}, direct_v1 = 0;
  for (bool preact : {false, true}) {
    auto stack = make_stack(preact, 30);
    // [snippet:direct]
    Variable x(x0, /*requires_grad=*/true), h = x;
    Tensor open = Tensor::ones(x0.shape());  // 1 where every ReLU after an addition let it through
    for (size_t i = 0; i < stack->size(); ++i) {
      h = (*stack)[i](h);
      if (!preact) open = open * dl::gt(h.data(), Tensor::scalar(0.0));  // v1: out = ReLU(x + F)
      if ((i + 1) % 10 == 0 && !preact)
        std::cout << "  v1 after " << i + 1
                  << " units: " << tut::fixed(100 * dl::mean(open).item(), 1)
                  << "% of entries still on the pure identity path\n";
    }
    h.backward(g);
    const double direct = norm(g * open) / norm(g);  // the shortcut-only term of grad x
    // [/snippet]
    total[preact] = norm(x.grad()) / norm(g);
    if (!preact) direct_v1 = direct;
  }
  std::cout << "|shortcut-only term| / |grad at output|: v1 " << tut::fixed(direct_v1, 3)
            << ", v2 1 (exactly)\n"
            << "|total grad at input| / |grad at output|: v1 " << tut::fixed(total[0], 2) << ", v2 "
            << tut::fixed(total[1], 2) << "\n";
  check(direct_v1 < 0.5,
        "v1: after 30 units, less than half the gradient's norm survives on the identity path");
  check(
      total[0] > 0.5 && total[1] > 0.5,
      "with BN, neither stack's total gradient vanishes at initialisation (the branches carry it)");
}

}  // namespace

int main() {
  return tut::run([] {
    where_bn_and_relu_go();
    silenced_branches();
    direct_path_at_init();
  });
}
