// plot.h — self-drawn SVG line charts (no external libraries) and the run's metrics.csv.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace dl::train {

// ---- SVG charts ----

/// One line of a chart. Points with a non-finite x or y break the line.
struct Series {
  std::string label;
  std::vector<double> x, y;
  std::string style = "solid";  ///< "solid", "dashed" or "dotted"
  std::string color;            ///< CSS colour; empty = next colour of the built-in palette
};

struct ChartOptions {
  int width = 800, height = 500;
  /// Axis ranges; NaN = automatic (data range widened to "nice" tick values).
  double x_min = std::numeric_limits<double>::quiet_NaN();
  double x_max = std::numeric_limits<double>::quiet_NaN();
  double y_min = std::numeric_limits<double>::quiet_NaN();
  double y_max = std::numeric_limits<double>::quiet_NaN();
  /// Optional horizontal reference lines (drawn thin and grey), e.g. a target error.
  std::vector<double> y_reference;
};

/// Renders a line chart as a standalone SVG document: title, axes with "nice" ticks, grid,
/// axis labels, one polyline per series (distinct palette colours unless set, dashed/dotted
/// styles) and a legend. Text is XML-escaped. Numbers are written locale-independently.
std::string render_svg_chart(const std::vector<Series>& series, const std::string& title,
                             const std::string& xlabel, const std::string& ylabel,
                             const ChartOptions& options = {});

/// Colour @p i of the built-in palette (Tableau 10, wraps around).
std::string palette_color(int i);

/// "Nice" tick positions (steps of 1, 2 or 5 x 10^k) covering [lo, hi], about @p target of them.
std::vector<double> nice_ticks(double lo, double hi, int target = 6);

// ---- metrics.csv ----

/// One row of RUN_DIR/metrics.csv. Errors are fractions in [0, 1]; a value not measured
/// in that epoch (e.g. no test pass) is NaN and written as "nan".
struct MetricsRow {
  int64_t epoch = 0;
  double lr = 0, train_loss = 0, train_error = 0, test_loss = 0, test_error = 0;
  double images_per_sec = 0, seconds = 0;
};

/// "epoch,lr,train_loss,train_error,test_loss,test_error,images_per_sec,seconds"
const std::string& metrics_csv_header();
/// One CSV line (no newline); doubles are written in the shortest form that reads back exactly.
std::string format_metrics_row(const MetricsRow& row);
/// Reads a metrics file. Throws std::runtime_error "PATH:LINE: reason" for a wrong header,
/// a wrong number of fields or a field that is not a number (empty fields and "nan" read as
/// NaN, except epoch which must be an integer). Blank lines are skipped.
std::vector<MetricsRow> read_metrics_csv(const std::string& path);
/// Appends @p row, creating the file with its header if it does not exist or is empty. The
/// existing content is validated first; the file is rewritten with write_file_atomic, so a
/// crash never leaves a partial line.
void append_metrics_csv(const std::string& path, const MetricsRow& row);
/// Replaces the file with the header and @p rows (atomically); e.g. to drop rows after the
/// epoch a run resumes from.
void write_metrics_csv(const std::string& path, const std::vector<MetricsRow>& rows);

/// The two curves of the ResNet paper's Fig. 6 for one run: train error (dashed) and test
/// error (solid) in percent vs epoch, same colour (@p color, or palette_color(0) when empty),
/// labelled "<name> train" / "<name> test".
/// Rows with a NaN error are left out of that curve.
std::vector<Series> error_curves(const std::vector<MetricsRow>& rows, const std::string& name,
                                 const std::string& color = "");

}  // namespace dl::train
