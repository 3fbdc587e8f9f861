// Chapter 7 — the degradation problem and the residual block (He et al. 2015,
// arXiv:1512.03385): a BasicBlock computes ReLU(F(x) + x), so doing nothing is easy for it and
// hard for a plain block; shapes that change need a shortcut option A, B or C, which the
// parameter counts of ResNet-20 tell apart.
// Read README.md beside this file; every check() below is a claim the chapter makes.
#include <iostream>
#include <memory>

#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "common.h"
#include "models/blocks.h"
#include "models/registry.h"
#include "tensor/ops.h"

using dl::Tensor;
using dl::ag::Variable;
using tut::check;
namespace ag = dl::ag;
namespace models = dl::models;

namespace {

void the_block() {
  tut::section("1. A BasicBlock: out = ReLU(BN(conv(ReLU(BN(conv(x))))) + x)");
  // [snippet:block]
  models::BasicBlock block(/*in_channels=*/16, /*planes=*/16, /*stride=*/1, models::Shortcut::A);
  for (const auto& [name, child] : block.named_children())
    std::cout << "child " << name << " (" << child->type_name() << ")\n";
  std::cout << "parameters: " << block.num_parameters() << "\n";
  // [/snippet]
  check(block.num_parameters() == 2 * (16 * 16 * 9) + 2 * (16 + 16),
        "two 3x3 convs 16->16 (2 * 2304) and two BNs (2 * 32): 4,672 parameters");
  check(!block.has_projection(),
        "same shape in and out: the shortcut is the identity, no parameters");
}

void identity_is_easy() {
  tut::section("2. Doing nothing: easy for a residual block, hard for a plain one");
  dl::Generator gen(3);
  // [snippet:identity]
  models::BasicBlock residual(16, 16, 1, models::Shortcut::A);
  models::PlainBasicBlock plain(16, 16, 1);
  plain.load_state_dict(residual.state_dict());  // the very same weights
  residual.last_bn().weight().data().zero_();    // F(x) = BN2(...) = 0·(...) + 0
  plain.last_bn().weight().data().zero_();
  Variable x(dl::relu(Tensor::randn({2, 16, 8, 8}, gen)));  // a ReLU output: x >= 0
  Tensor out_residual = residual(x).data();                 // ReLU(0 + x) = x
  Tensor out_plain = plain(x).data();                       // ReLU(0) = 0
  // [/snippet]
  std::cout << "residual block with F = 0: max |out - x| = "
            << dl::max(dl::abs(out_residual - x.data())).item()
            << "\nplain block with the same weights: max |out| = "
            << dl::max(dl::abs(out_plain)).item() << "\n";
  check(dl::allclose(out_residual, x.data()),
        "with its branch silenced, the residual block is the identity");
  check(dl::max(dl::abs(out_plain)).item() == 0.0,
        "the plain block with the same weights outputs all zeros");
}

void shortcut_a_on_a_tiny_tensor() {
  tut::section("3. Option A: when the shape changes, subsample and pad with zero channels");
  // [snippet:option_a]
  Variable x(Tensor::arange(2 * 4 * 4).reshape({1, 2, 4, 4}));       // 2 channels, 4x4
  Variable s = ag::shortcut_a(x, /*out_channels=*/4, /*stride=*/2);  // -> [1, 4, 2, 2]
  std::cout << s.data() << "\n";
  // [/snippet]
  check(s.shape() == dl::Shape({1, 4, 2, 2}), "shortcut_a: [1, 2, 4, 4] -> [1, 4, 2, 2]");
  const Tensor zero_channels = dl::concat({s.data().select(1, 0), s.data().select(1, 3)}, 0);
  check(dl::max(dl::abs(zero_channels)).item() == 0.0,
        "one new zero channel before and one after the old ones");
  check(s.data().at({0, 1, 1, 1}) == 10.0 && s.data().at({0, 2, 0, 1}) == 18.0,
        "the old channels are x[:, :, ::2, ::2] (pixel (1,1) of channel 0 is x[0, 0, 2, 2] = 10)");
}

void parameter_counts() {
  tut::section("4. ResNet-20 under shortcut options A, B, C (and plain-20)");
  // [snippet:options]
  int64_t params[3];
  const models::Shortcut options[3] = {models::Shortcut::A, models::Shortcut::B,
                                       models::Shortcut::C};
  for (int i = 0; i < 3; ++i) {
    models::ModelOptions opt;
    opt.shortcut = options[i];
    params[i] = models::create_model("resnet20", opt)->num_parameters();
    std::cout << "resnet20, option " << models::shortcut_name(options[i]) << ": " << params[i]
              << " parameters\n";
  }
  const int64_t plain = models::create_model("plain20")->num_parameters();
  std::cout << "plain20:            " << plain << " parameters\n";
  // [/snippet]
  check(params[0] == 269722, "option A: 269,722 parameters (the paper's 0.27M)");
  check(plain == params[0], "option A adds no parameters: plain-20 has exactly as many");
  check(params[1] - params[0] == (16 * 32 + 2 * 32) + (32 * 64 + 2 * 64),
        "option B adds two 1x1 projections + BN, at the two stage changes: 2,752 parameters");
  check(params[2] - params[0] == 14240,
        "option C adds a projection to all 9 blocks: 14,240 parameters");

  // The residual block costs no extra computation either: the same forward, one add per element.
  auto resnet = models::create_model("resnet20");
  ag::NoGradGuard no_grad;
  dl::Generator gen(1);
  Tensor logits = (*resnet)(Variable(Tensor::randn({2, 3, 32, 32}, gen))).data();
  check(logits.shape() == dl::Shape({2, 10}),
        "resnet20 maps [2, 3, 32, 32] images to [2, 10] logits");
}

}  // namespace

int main() {
  return tut::run([] {
    the_block();
    identity_is_easy();
    shortcut_a_on_a_tiny_tensor();
    parameter_counts();
  });
}
