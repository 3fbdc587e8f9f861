// forward_check.cpp — helper of the `resnet forward` CLI smoke test (tests/CMakeLists.txt,
// label cli): writes an input batch as .npy, and checks the logits the CLI saved against the
// same forward pass run in-process through the library.
//   forward_check write X.npy                 float32 [2, 3, 32, 32], values from a fixed seed
//   forward_check check X.npy WEIGHTS Y.npy   resnet20 with WEIGHTS, eval mode: Y == model(X)?
#include <exception>
#include <iostream>
#include <string>

#include "autograd/grad_mode.h"
#include "models/registry.h"
#include "nn/npy.h"
#include "nn/state_io.h"
#include "tensor/ops.h"
#include "tensor/random.h"

int main(int argc, char** argv) {
  using namespace dl;
  const std::string mode = argc > 1 ? argv[1] : "";
  try {
    if (mode == "write" && argc == 3) {
      Generator gen(42);
      save_npy(argv[2], Tensor::randn({2, 3, 32, 32}, gen));
      return 0;
    }
    if (mode == "check" && argc == 5) {
      auto model = models::create_model("resnet20", {});
      nn::load_state_dict_file(argv[3], *model);
      model->eval();
      ag::NoGradGuard no_grad;
      const Tensor expected = (*model)(ag::Variable(load_npy(argv[2]))).data();
      const Tensor got = load_npy(argv[4]);
      if (got.shape() != expected.shape() || !allclose(got, expected, 1e-4, 1e-5)) {
        std::cerr << "forward_check: " << argv[4] << " " << shape_str(got.shape())
                  << " differs from the library's logits " << shape_str(expected.shape()) << "\n";
        return 1;
      }
      std::cout << "forward_check: " << argv[4] << " matches " << shape_str(got.shape()) << "\n";
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "forward_check: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "usage: forward_check write X.npy | check X.npy WEIGHTS Y.npy\n";
  return 2;
}
