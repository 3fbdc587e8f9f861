// cmd_eval.cpp — `resnet eval`: test accuracy, per-class accuracy and confusion matrix.
#include <iostream>

#include "app/commands.h"
#include "models/registry.h"
#include "nn/safetensors.h"
#include "train/augment.h"
#include "train/dataset.h"
#include "train/evaluate.h"
#include "train/trainer.h"

namespace dl::app {

void add_eval_command(CLI::App& app) {
  struct Opts {
    std::string model = "resnet20", weights, data;
    int64_t batch_size = 256;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* cmd = app.add_subcommand("eval", "Evaluate trained weights on a test set");
  cmd->add_option("--model", o->model, "Model name")->capture_default_str();
  cmd->add_option("--weights", o->weights, "model.safetensors or checkpoint.safetensors")->required();
  cmd->add_option("--data", o->data, "CIFAR-10 directory (default: the bundled sample)");
  cmd->add_option("--batch-size", o->batch_size, "Images per batch")->capture_default_str();
  cmd->callback([o] {
    const std::string dir = o->data.empty() ? train::bundled_sample_dir() : o->data;
    const train::ImageDataset test = train::load_cifar10_dir(dir, false);
    auto model = models::create_model(o->model, {});
    // A checkpoint stores the weights under "model."; a weights file stores them bare.
    nn::StateDict state;
    const SafetensorsFile file = load_safetensors(o->weights);
    const bool is_checkpoint = file.contains("progress");
    for (const auto& [k, t] : file.tensors) {
      if (!is_checkpoint) state.emplace_back(k, t);
      else if (k.rfind("model.", 0) == 0) state.emplace_back(k.substr(6), t);
    }
    try {
      model->load_state_dict(state);
    } catch (const std::exception& e) {
      throw std::runtime_error(o->weights + ": " + e.what());
    }
    const train::EvalResult r =
        train::evaluate(*model, test, train::Normalizer::cifar10(), o->batch_size);
    std::cout << "model " << o->model << ", weights " << o->weights << ", data " << dir << "\n"
              << r.format(test.class_names);
  });
}

}  // namespace dl::app
