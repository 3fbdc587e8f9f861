// cmd_plot.cpp — `resnet plot`: overlay the error curves of several runs in one SVG
// (e.g. plain-20/56 against resnet-20/56: the degradation experiment, chapter 11).
#include <filesystem>
#include <iostream>

#include "app/commands.h"
#include "train/fs_util.h"
#include "train/plot.h"

namespace dl::app {

void add_plot_command(CLI::App& app) {
  struct Opts {
    std::vector<std::string> runs;
    std::string output = "curves.svg", title = "CIFAR-10 error (dashed: train, solid: test)";
  };
  auto o = std::make_shared<Opts>();
  CLI::App* cmd = app.add_subcommand("plot", "Overlay the train/test error curves of runs");
  cmd->add_option("runs", o->runs, "Run directories (each with metrics.csv)")->required();
  cmd->add_option("-o,--output", o->output, "SVG file to write")->capture_default_str();
  cmd->add_option("--title", o->title, "Chart title");
  cmd->callback([o] {
    std::vector<train::Series> series;
    for (size_t i = 0; i < o->runs.size(); ++i) {
      const std::string& run = o->runs[i];
      const auto rows = train::read_metrics_csv(run + "/metrics.csv");
      // The legend names a run by its directory: "runs/r20/" and "runs/r20" are both "r20".
      std::filesystem::path dir(run);
      if (dir.filename().empty()) dir = dir.parent_path();
      const std::string name = dir.filename().empty() ? run : dir.filename().string();
      for (auto& s : train::error_curves(rows, name, train::palette_color(int(i))))
        series.push_back(std::move(s));
    }
    train::write_file_atomic(o->output,
                             train::render_svg_chart(series, o->title, "epoch", "error (%)"));
    std::cout << "wrote " << o->output << " (" << o->runs.size() << " runs)\n";
  });
}

}  // namespace dl::app
