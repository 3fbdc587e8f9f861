// Chapter 2 — autograd: ops record nodes on a tape; backward() walks it in reverse, applying
// the chain rule and adding gradients where one value fed several ops. Prints the tape, writes
// its Graphviz graph to autograd_graph.dot, and re-implements the backward walk by hand.
// Read README.md beside this file; every check() below is a claim the chapter makes.
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <vector>

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "common.h"
#include "nn/activation.h"
#include "nn/batchnorm.h"
#include "nn/conv2d.h"
#include "tensor/ops.h"

using dl::DType;
using dl::Tensor;
using dl::ag::Variable;
using tut::check;
namespace ag = dl::ag;

namespace {

Tensor vec(std::initializer_list<double> v) { return Tensor::of(v, DType::Float64); }

bool same(const Tensor& a, const Tensor& b) { return dl::allclose(a, b, 1e-12, 1e-12); }

// A tiny residual computation: loss = sum(y * y) with y = relu(x * w) + x.
Variable tiny_residual(const Variable& x, const Variable& w) {
  // [snippet:forward]
  Variable h = ag::relu(x * w);    // MulBackward, then ReluBackward
  Variable y = h + x;              // AddBackward: x is used twice (a shortcut)
  Variable loss = ag::sum(y * y);  // MulBackward (y twice), SumBackward
  // [/snippet]
  return loss;
}

void forward_and_tape() {
  tut::section("1. The forward pass records a tape");
  // [snippet:leaves]
  Variable x(vec({1, -2, 3}), /*requires_grad=*/true, "x");
  Variable w(vec({0.5, 0.5, -1}), /*requires_grad=*/true, "w");
  Variable loss = tiny_residual(x, w);
  std::cout << "loss = " << loss.item() << "\n" << ag::format_tape(loss);
  // [/snippet]
  check(loss.item() == 15.25, "loss = 1.5^2 + (-2)^2 + 3^2 = 15.25");
  const auto tape = ag::tape_of(loss);
  check(tape.size() == 5, "the tape holds 5 nodes: Mul, Relu, Add, Mul, Sum");
  check(tape.front()->name == "MulBackward" && tape.back()->name == "SumBackward",
        "nodes are in the order the ops ran: the first is x*w, the last is the sum");
  check(x.is_leaf() && !loss.is_leaf() && loss.grad_fn() == tape.back(),
        "x is a leaf (no node); loss points at the last node");

  // [snippet:dot]
  // Render with Graphviz: dot -Tsvg -O autograd_graph.dot
  std::ofstream("autograd_graph.dot") << ag::to_dot(loss);
  // [/snippet]
  std::ifstream in("autograd_graph.dot");
  std::stringstream dot;
  dot << in.rdbuf();
  std::cout << "wrote autograd_graph.dot (" << dot.str().size() << " bytes)\n";
  check(dot.str().rfind("digraph", 0) == 0 && dot.str().find("ReluBackward") != std::string::npos,
        "autograd_graph.dot is a Graphviz digraph naming the ops");
  check(dot.str().find("x\\n[3]") != std::string::npos &&
            dot.str().find("w\\n[3]") != std::string::npos,
        "the leaves appear in the graph with their names and shapes");
}

void backward_matches_hand_derivation() {
  tut::section("2. backward() applies the chain rule in reverse");
  Variable x(vec({1, -2, 3}), true, "x");
  Variable w(vec({0.5, 0.5, -1}), true, "w");
  Variable loss = tiny_residual(x, w);
  loss.backward();
  std::cout << "grad x = " << x.grad() << "\ngrad w = " << w.grad() << "\n";
  // By hand: y = [1.5, -2, 3], dL/dy = 2y = [3, -4, 6], relu'(x*w) = [1, 0, 0];
  // dL/dx = dL/dy * (relu' * w + 1) = [4.5, -4, 6];  dL/dw = dL/dy * relu' * x = [3, 0, 0].
  check(same(x.grad(), vec({4.5, -4, 6})),
        "grad x = [4.5, -4, 6]: the shortcut adds dL/dy to x's gradient");
  check(same(w.grad(), vec({3, 0, 0})),
        "grad w = [3, 0, 0]: ReLU passes no gradient where x*w < 0");
}

// [snippet:walk]
// backward() by hand: walk the tape newest first; each node turns the gradient of its output
// into gradients of its inputs, which are added (+=) into earlier nodes or into leaves.
std::map<const ag::VariableImpl*, Tensor> backward_by_hand(const Variable& loss) {
  const std::vector<std::shared_ptr<ag::Node>> tape = ag::tape_of(loss);
  std::map<const ag::Node*, Tensor> grad_out;       // d loss / d (node's output)
  std::map<const ag::VariableImpl*, Tensor> grads;  // d loss / d leaf
  grad_out[tape.back().get()] = Tensor::ones(loss.shape(), loss.dtype());  // d loss/d loss = 1
  auto add_into = [](Tensor& slot, const Tensor& g) { slot = slot.defined() ? slot + g : g; };
  for (auto it = tape.rbegin(); it != tape.rend(); ++it) {
    const ag::Node& node = **it;
    ag::NeedsGrad needs;
    for (const ag::Edge& e : node.edges) needs.push_back(e.needs_grad());
    std::vector<Tensor> g = node.backward(grad_out.at(&node), needs);
    for (size_t i = 0; i < node.edges.size(); ++i) {
      if (node.edges[i].node)
        add_into(grad_out[node.edges[i].node.get()], g[i]);
      else if (node.edges[i].leaf)
        add_into(grads[node.edges[i].leaf.get()], g[i]);
    }
  }
  return grads;
}
// [/snippet]

void walk_the_tape_by_hand() {
  tut::section("3. The whole backward pass is one loop");
  Variable x(vec({1, -2, 3}), true, "x");
  Variable w(vec({0.5, 0.5, -1}), true, "w");
  Variable loss = tiny_residual(x, w);
  auto grads = backward_by_hand(loss);  // does not free the tape...
  loss.backward();                      // ...so the library's backward can run afterwards
  check(same(grads.at(x.impl().get()), x.grad()),
        "the hand-written walk gives the library's grad x");
  check(same(grads.at(w.impl().get()), w.grad()),
        "the hand-written walk gives the library's grad w");
}

void tape_rules() {
  tut::section("4. Rules of the tape");
  Variable x(vec({1, -2, 3}), true, "x");
  Variable w(vec({0.5, 0.5, -1}), true, "w");

  // [snippet:rules]
  Variable loss = tiny_residual(x, w);
  loss.backward();  // frees the saved tensors as it goes
  std::string error;
  try {
    loss.backward();  // the graph is gone: throws
  } catch (const std::runtime_error& e) {
    error = e.what();
  }
  tiny_residual(x, w).backward();  // a new graph: gradients add up (+=)...
  Tensor twice = x.grad().clone();
  x.zero_grad();  // ...until zeroed, as an optimiser does every step
  {
    ag::NoGradGuard no_grad;  // evaluation: nothing is recorded
    Variable eval_loss = tiny_residual(x, w);
    std::cout << "under NoGradGuard: requires_grad = " << eval_loss.requires_grad() << "\n";
  }
  // [/snippet]
  std::cout << "second backward: " << error << "\n";
  check(!error.empty(), "a second backward() through a freed graph throws");
  check(same(twice, vec({9, -8, 12})),
        "two backward passes without zero_grad() give twice the gradient");
  check(!x.grad().defined(), "zero_grad() drops the gradient");
  {
    ag::NoGradGuard no_grad;
    Variable eval_loss = tiny_residual(x, w);
    check(!eval_loss.requires_grad() && eval_loss.is_leaf(),
          "under NoGradGuard ops record no node");
  }
  check(ag::is_grad_enabled(), "recording is back on after the guard's scope");
}

void tape_of_a_block() {
  tut::section("5. The tape of a conv-BN-ReLU layer with a shortcut");
  dl::Generator gen(0);
  // [snippet:block]
  dl::nn::Conv2d conv(4, 4, 3, /*stride=*/1, /*padding=*/1, /*bias=*/false);
  dl::nn::BatchNorm2d bn(4);
  dl::nn::ReLU relu;
  Variable x(Tensor::randn({2, 4, 8, 8}, gen), /*requires_grad=*/true, "x");
  Variable out = relu(bn(conv(x)) + x);
  std::cout << ag::format_tape(ag::mean(out));
  // [/snippet]
  const auto tape = ag::tape_of(ag::mean(out));
  std::string names;
  for (const auto& n : tape) names += n->name + " ";
  check(names.find("Conv2dBackward") != std::string::npos &&
            names.find("ReluBackward") != std::string::npos,
        "layers add nodes named after their ops (" + names + ")");
  check(tape.front()->output_shape == dl::Shape({2, 4, 8, 8}),
        "each node records its output shape");
}

// [snippet:op]
// A new differentiable op: y = a², dy/da = 2a. The forward value is computed with the tensor
// layer; the lambda captures the input it will need and maps grad_y to grad_a.
Variable square(const Variable& a) {
  const Tensor x = a.data();
  return ag::record("SquareBackward", {&a}, dl::mul(x, x),
                    [x](const Tensor& grad_y, const ag::NeedsGrad& needs) -> std::vector<Tensor> {
                      return {needs[0] ? dl::mul(grad_y, x) * 2.0 : Tensor()};
                    });
}
// [/snippet]

void write_an_op() {
  tut::section("6. Writing an op: value, node, backward lambda");
  Variable a(vec({1, -2, 3}), true, "a");
  Variable s = ag::sum(square(a));
  std::cout << ag::format_tape(s);
  s.backward();
  check(s.item() == 14.0, "sum(a^2) = 1 + 4 + 9 = 14");
  check(same(a.grad(), vec({2, -4, 6})), "grad a = 2a = [2, -4, 6]");
}

}  // namespace

int main() {
  return tut::run([] {
    forward_and_tape();
    backward_matches_hand_derivation();
    walk_the_tape_by_hand();
    tape_rules();
    tape_of_a_block();
    write_an_op();
  });
}
