// cmd_eval.cpp — `resnet eval`: test accuracy, per-class accuracy and confusion matrix of a
// run's model.safetensors or checkpoint.safetensors (tutorial chapter 10). The model name,
// shortcut option and normalisation default to what the trainer recorded in the file.
#include <iostream>

#include "app/commands.h"
#include "models/registry.h"
#include "train/augment.h"
#include "train/checkpoint.h"
#include "train/dataset.h"
#include "train/evaluate.h"
#include "train/trainer.h"

namespace dl::app {

namespace {

struct EvalArgs {
  std::string model, shortcut, weights, data;
  int64_t batch_size = 256;
};

/// @p given if set, else the file's metadata entry @p key, else @p fallback.
std::string choose(const std::string& given, const std::map<std::string, std::string>& meta,
                   const std::string& key, const std::string& fallback) {
  if (!given.empty()) return given;
  const auto it = meta.find(key);
  return it != meta.end() ? it->second : fallback;
}

void run_eval(const EvalArgs& args) {
  std::map<std::string, std::string> meta;
  const nn::StateDict state = train::read_model_weights(args.weights, &meta);
  const std::string model_name = choose(args.model, meta, "config.model", "resnet20");
  const std::string shortcut = choose(args.shortcut, meta, "config.shortcut", "");

  models::ModelOptions options;
  if (!shortcut.empty()) options.shortcut = models::parse_shortcut(shortcut);
  // The class count is the classifier's: a run on an image folder may have more than 10.
  for (const auto& [k, t] : state)
    if (k == "fc.weight" && t.dim() == 2) options.num_classes = t.size(0);
  auto model = models::create_model(model_name, options);
  try {
    model->load_state_dict(state);
  } catch (const std::exception& e) {
    throw std::runtime_error("weights '" + args.weights + "' do not fit " + model_name +
                             " (another --model or --shortcut?): " + e.what());
  }

  const std::string dir = args.data.empty() ? train::bundled_sample_dir() : args.data;
  const train::ImageDataset test = train::load_cifar10_dir(dir, false);
  const train::EvalResult r =
      train::evaluate(*model, test, train::normalizer_from_metadata(meta), args.batch_size);
  std::cout << "model " << model_name << ", weights " << args.weights << ", data " << dir << "\n"
            << r.format(test.class_names);
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand("eval", "Evaluate trained weights on a test set");
  cmd->add_option("--weights", args->weights, "A run's model.safetensors or checkpoint.safetensors")
      ->required();
  cmd->add_option("--model", args->model,
                  "Model name (default: the one recorded in the weights, else resnet20)");
  cmd->add_option("--shortcut", args->shortcut,
                  "Shortcut option A, A-append, B or C (default: recorded, else the model's)");
  cmd->add_option("--data", args->data, "CIFAR-10 directory (default: the bundled sample)");
  cmd->add_option("--batch-size", args->batch_size, "Images per batch")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->callback([args] { run_eval(*args); });
}

}  // namespace dl::app
