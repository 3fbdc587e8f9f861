// cmd_forward.cpp — `resnet forward`: logits of a saved model for a batch stored as .npy, for
// comparing with PyTorch or scripting inference:
//   resnet forward --model resnet20 --weights w.safetensors --input x.npy --output y.npy
// The model runs in eval mode (BN running statistics) without recording a tape.
#include <chrono>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "app/commands.h"
#include "autograd/grad_mode.h"
#include "models/registry.h"
#include "nn/npy.h"
#include "nn/safetensors.h"
#include "tensor/kernels/gemm.h"

namespace dl::app {

namespace {

struct ForwardArgs {
  std::string model, weights, input, output, shortcut;
  int64_t num_classes = 0;
  int threads = 0;
};

/// The model's weights from a weights file (bare keys) or a training checkpoint (keys under
/// "model.", recognised by its "progress" entry, as `resnet eval` does).
nn::StateDict read_weights(const std::string& path) {
  const SafetensorsFile file = load_safetensors(path);
  const bool is_checkpoint = file.contains("progress");
  nn::StateDict state;
  for (const auto& [k, t] : file.tensors) {
    if (!is_checkpoint) state.emplace_back(k, t);
    else if (k.rfind("model.", 0) == 0) state.emplace_back(k.substr(6), t);
  }
  return state;
}

/// Checks x is a float32 [N, 3, H, W] batch; the message names the shape and what was expected.
void check_input(const Tensor& x, const std::string& path) {
  if (x.dtype() != DType::Float32)
    throw std::invalid_argument("input '" + path + "' is " + dtype_name(x.dtype()) + " " +
                                shape_str(x.shape()) +
                                "; expected float32 (numpy: x.astype(np.float32))");
  if (x.dim() != 4 || x.size(1) != 3 || x.numel() == 0)
    throw std::invalid_argument("input '" + path + "' has shape " + shape_str(x.shape()) +
                                "; expected a non-empty NCHW batch [N, 3, H, W]");
}

void run_forward(const ForwardArgs& args) {
  if (args.threads > 0) {
#ifdef _OPENMP
    omp_set_num_threads(args.threads);
#endif
    kernels::set_blas_num_threads(args.threads);
  }
  // Read and check everything before building the model, so errors come out quickly.
  const Tensor x = load_npy(args.input);
  check_input(x, args.input);
  const nn::StateDict state = read_weights(args.weights);

  models::ModelOptions options;
  options.num_classes = args.num_classes;
  if (!args.shortcut.empty()) options.shortcut = models::parse_shortcut(args.shortcut);
  // Without --num-classes, take the class count from the classifier the weights hold.
  if (options.num_classes == 0)
    for (const auto& [k, t] : state)
      if (k == "fc.weight" && t.dim() == 2) options.num_classes = t.size(0);
  const auto model = models::create_model(args.model, options);
  try {
    model->load_state_dict(state);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("weights '" + args.weights + "' do not fit " + args.model +
                                " (another model, --shortcut or --num-classes?): " + e.what());
  }

  model->eval();
  ag::NoGradGuard no_grad;
  const auto start = std::chrono::steady_clock::now();
  const ag::Variable logits = (*model)(ag::Variable(x));
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  save_npy(args.output, logits.data());
  std::cout << args.model << ": " << shape_str(x.shape()) << " -> " << args.output << " "
            << shape_str(logits.shape()) << " in " << ms << " ms\n";
}

}  // namespace

void add_forward_command(CLI::App& app) {
  auto args = std::make_shared<ForwardArgs>();
  CLI::App* cmd = app.add_subcommand(
      "forward", "Run a model in eval mode on a float32 NCHW .npy batch and save the logits");
  cmd->add_option("--model", args->model, "Model name (see `resnet summary --help`)")->required();
  cmd->add_option("--weights", args->weights, "Weights (.safetensors state dict or checkpoint)")
      ->required();
  cmd->add_option("--input", args->input, "Input batch, float32 [N, 3, H, W] .npy")->required();
  cmd->add_option("--output", args->output, "Where to write the logits [N, classes] .npy")
      ->required();
  cmd->add_option("--threads", args->threads, "Threads (default: OpenMP's default)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--shortcut", args->shortcut,
                  "Shortcut option the weights were trained with: A, A-append, B or C");
  cmd->add_option("--num-classes", args->num_classes,
                  "Number of classes (default: read from the weights' fc.weight)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([args] { run_forward(*args); });
}

}  // namespace dl::app
