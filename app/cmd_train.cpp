// cmd_train.cpp — `resnet train`: train a ResNet on CIFAR-10 (tutorial chapter 10).
// Options map one to one onto train::TrainConfig (train/trainer.h). The run directory (--out)
// receives metrics.csv, curves.svg, checkpoint.safetensors and model.safetensors. Ctrl-C saves
// a checkpoint and exits with status 130; `--resume` continues from it bit for bit.
#include <cstdlib>
#include <iostream>
#include <set>
#include <string>

#include "app/commands.h"
#include "train/checkpoint.h"
#include "train/fs_util.h"
#include "train/trainer.h"

namespace dl::app {

void add_train_command(CLI::App& app) {
  auto cfg = std::make_shared<train::TrainConfig>();
  CLI::App* cmd = app.add_subcommand(
      "train", "Train a model; with no --data, on the CIFAR-10 sample bundled in data/");
  cmd->add_option("--model", cfg->model, "Model name (resnet summary lists the zoo)")
      ->capture_default_str();
  cmd->add_option("--data", cfg->data_dir,
                  "CIFAR-10 directory: *.bin batches or train/ test/ class folders");
  cmd->add_option("--epochs", cfg->epochs, "Epochs to train")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--batch-size", cfg->batch_size, "Images per step")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--lr", cfg->lr, "Base learning rate")->capture_default_str();
  cmd->add_option("--schedule", cfg->schedule, "multistep | cosine | onecycle | plateau | constant")
      ->capture_default_str();
  cmd->add_option("--warmup-steps", cfg->warmup_steps, "Linear warm-up iterations")
      ->capture_default_str();
  cmd->add_option("--warmup-lr", cfg->warmup_lr, "Learning rate at the start of warm-up")
      ->capture_default_str();
  cmd->add_option("--momentum", cfg->momentum, "SGD momentum")->capture_default_str();
  cmd->add_option("--wd", cfg->weight_decay, "Weight decay")->capture_default_str();
  cmd->add_flag("--nesterov", cfg->nesterov, "Nesterov momentum");
  cmd->add_flag("--no-bn-decay", cfg->no_bn_decay, "No weight decay on BN and bias parameters");
  cmd->add_option("--label-smoothing", cfg->label_smoothing, "Label smoothing epsilon")
      ->capture_default_str();
  cmd->add_option("--holdout", cfg->holdout,
                  "Hold out this many train images for validation (paper: 5000)");
  cmd->add_flag("--per-pixel-mean", cfg->per_pixel_mean,
                "Subtract the per-pixel mean image (the paper) instead of mean/std");
  cmd->add_option("--shortcut", cfg->shortcut, "Shortcut option A, B or C (default: the model's)");
  cmd->add_option("--seed", cfg->seed, "Seed for init, shuffling and augmentation")
      ->capture_default_str();
  cmd->add_option("--threads", cfg->threads,
                  "Compute threads (default: OMP_NUM_THREADS or all cores)");
  cmd->add_option("--loader-threads", cfg->loader_threads, "Background data threads")
      ->capture_default_str();
  cmd->add_option("--max-train-images", cfg->max_train_images,
                  "Use only this many training images");
  cmd->add_option("--out", cfg->out_dir, "Run directory: metrics.csv, curves.svg, checkpoints")
      ->capture_default_str();
  cmd->add_flag("--resume", cfg->resume,
                "Continue from OUT/checkpoint.safetensors with the run's settings (options given "
                "again override them, e.g. more --epochs)");
  cmd->callback([cfg, cmd] {
    // `--out DIR --resume` continues with the run's own settings; options given again on
    // this command line (e.g. more --epochs) take precedence.
    const std::string ckpt = cfg->out_dir + "/checkpoint.safetensors";
    if (cfg->resume && train::file_exists(ckpt)) {
      std::set<std::string> given;
      for (const CLI::Option* opt : cmd->get_options())
        if (opt->count() > 0) given.insert(opt->get_single_name());
      train::restore_config(train::read_checkpoint_metadata(ckpt), given, *cfg);
    }
    const train::TrainResult r = train::run_training(*cfg, std::cout);
    if (r.interrupted) {
      std::cout.flush();
      std::exit(130);  // the shell's convention for "stopped by SIGINT"
    }
  });
}

}  // namespace dl::app
