// cmd_summary.cpp — `resnet summary MODEL`: the torchinfo-like table of a model at its native
// input (1x3x32x32 for CIFAR models, 1x3x224x224 for ImageNet ones). The last line is exactly
// `params <N> macs <M>`, for scripts. See models/registry.h and nn/summary.h.
#include <iostream>
#include <memory>
#include <string>

#include "app/commands.h"
#include "models/registry.h"
#include "nn/summary.h"

namespace dl::app {

namespace {

struct SummaryArgs {
  std::string model;
  std::string shortcut;
  int64_t num_classes = 0;
};

void run_summary(const SummaryArgs& args) {
  models::ModelOptions options;
  options.num_classes = args.num_classes;
  if (!args.shortcut.empty()) options.shortcut = models::parse_shortcut(args.shortcut);
  const auto model = models::create_model(args.model, options);
  const nn::Summary summary = nn::summarize(*model, models::native_input_shape(args.model));
  std::cout << summary.format() << "\n";
}

}  // namespace

void add_summary_command(CLI::App& app) {
  auto args = std::make_shared<SummaryArgs>();
  CLI::App* cmd = app.add_subcommand(
      "summary", "Print each layer's output shape, parameters and MACs for a model's native input");
  cmd->add_option("model", args->model, "Model name (resnet20, resnet50, preact_resnet164, ...)")
      ->required();
  cmd->add_option("--shortcut", args->shortcut,
                  "Shortcut option: A, A-append, B or C (default: the model family's)");
  cmd->add_option("--num-classes", args->num_classes,
                  "Number of classes (default: 10 for CIFAR models, 1000 for ImageNet ones)")
      ->check(CLI::NonNegativeNumber);
  cmd->footer("Models: " + [] {
    std::string s;
    for (const auto& n : models::model_names()) s += (s.empty() ? "" : ", ") + n;
    return s;
  }());
  cmd->callback([args] { run_summary(*args); });
}

}  // namespace dl::app
