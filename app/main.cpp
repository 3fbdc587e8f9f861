// main.cpp — the `resnet` command-line tool: the user's entry point to the libraries.
//   resnet train | eval | summary | forward | bench | plot   (resnet <cmd> --help for options)
#include <exception>
#include <iostream>

#include "app/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"resnet.cpp: train, evaluate, inspect and benchmark ResNets"};
  app.require_subcommand(1);
  dl::app::add_train_command(app);
  dl::app::add_eval_command(app);
  dl::app::add_summary_command(app);
  dl::app::add_forward_command(app);
  dl::app::add_bench_command(app);
  dl::app::add_plot_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    const auto cmds = app.get_subcommands();
    std::cerr << "resnet" << (cmds.empty() ? "" : " " + cmds[0]->get_name()) << ": " << e.what()
              << "\n";
    return 1;
  }
  return 0;
}
