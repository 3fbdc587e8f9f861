// commands.h — the `resnet` tool's subcommands, one file each (cmd_<name>.cpp).
// Each add_* function registers its subcommand, options and callback on the CLI11 app.
// A callback that fails throws; main() prints "resnet <cmd>: <message>" and exits 1.
#pragma once

#include <CLI/CLI.hpp>

namespace dl::app {

void add_summary_command(CLI::App& app);
void add_forward_command(CLI::App& app);
void add_train_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_plot_command(CLI::App& app);
void add_bench_command(CLI::App& app);

}  // namespace dl::app
