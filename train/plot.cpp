// plot.cpp — SVG line charts and metrics.csv reading/writing.
#include "train/plot.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "train/fs_util.h"

namespace dl::train {

namespace {

// Tableau 10: distinct, colour-blind friendly.
const char* const kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
constexpr int kPaletteSize = 10;

std::string xml_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += ch;
    }
  }
  return out;
}

// Fixed-point number, locale-independent (snprintf uses the "C" locale unless the program
// changed LC_NUMERIC; to_chars never depends on the locale).
std::string num(double v, int decimals = 2) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  return std::string(buf, r.ptr);
}

// Tick label: as many decimals as the step needs, no trailing noise.
std::string tick_label(double v, double step) {
  int dec = 0;
  if (step > 0 && step < 1) dec = static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  dec = std::clamp(dec, 0, 10);
  if (std::fabs(v) < step * 1e-6) v = 0.0;  // avoid "-0"
  return num(v, dec);
}

double nice_step(double raw) {
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  const double nf = f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 5.0 ? 5.0 : 10.0;
  return nf * mag;
}

// Range of the finite values of @p get over all series.
template <typename F>
void data_range(const std::vector<Series>& series, F get, double& lo, double& hi) {
  lo = std::numeric_limits<double>::infinity();
  hi = -lo;
  for (const auto& s : series) {
    const size_t n = std::min(s.x.size(), s.y.size());
    for (size_t i = 0; i < n; ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      const double v = get(s, i);
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
}

std::vector<double> ticks_with_step(double lo, double hi, double step);

// Final axis range and ticks: explicit bounds win, else the data range widened to ticks.
void axis(double data_lo, double data_hi, double opt_lo, double opt_hi, double& lo, double& hi,
          std::vector<double>& ticks) {
  lo = std::isfinite(opt_lo) ? opt_lo : data_lo;
  hi = std::isfinite(opt_hi) ? opt_hi : data_hi;
  if (!std::isfinite(lo) || !std::isfinite(hi)) {  // no data
    lo = std::isfinite(lo) ? lo : (std::isfinite(hi) ? hi - 1.0 : 0.0);
    hi = std::isfinite(hi) ? hi : lo + 1.0;
  }
  if (hi < lo) std::swap(lo, hi);
  if (hi == lo) {
    const double pad = lo == 0 ? 1.0 : std::fabs(lo) * 0.1;
    if (!std::isfinite(opt_lo)) lo -= pad;
    if (!std::isfinite(opt_hi)) hi += pad;
    if (hi == lo) hi = lo + 1.0;
  }
  // Widen automatic bounds to whole ticks; among 5..8 target ticks take the step that widens
  // the range least (e.g. 1..160 -> 0..160 by 20 rather than 0..200 by 50).
  double best_lo = lo, best_hi = hi, best_span = std::numeric_limits<double>::infinity();
  double best_step = 1.0;
  for (int target = 5; target <= 8; ++target) {
    const double step = nice_step((hi - lo) / target);
    const double l = std::isfinite(opt_lo) ? lo : std::floor(lo / step + 1e-9) * step;
    const double h = std::isfinite(opt_hi) ? hi : std::ceil(hi / step - 1e-9) * step;
    if (h - l < best_span * (1 - 1e-9)) {
      best_span = h - l;
      best_lo = l;
      best_hi = h;
      best_step = step;
    }
  }
  lo = best_lo;
  hi = best_hi;
  ticks = ticks_with_step(lo, hi, best_step);
}

}  // namespace

std::string palette_color(int i) {
  return kPalette[((i % kPaletteSize) + kPaletteSize) % kPaletteSize];
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || hi <= lo || target < 1) return {};
  return ticks_with_step(lo, hi, nice_step((hi - lo) / target));
}

namespace {
std::vector<double> ticks_with_step(double lo, double hi, double step) {
  std::vector<double> ticks;
  const double first = std::ceil(lo / step - 1e-9);
  for (double k = first;; k += 1.0) {
    const double v = k * step;
    if (v > hi + step * 1e-9) break;
    ticks.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
    if (ticks.size() > 1000) break;
  }
  return ticks;
}
}  // namespace

std::string render_svg_chart(const std::vector<Series>& series, const std::string& title,
                             const std::string& xlabel, const std::string& ylabel,
                             const ChartOptions& opt) {
  const double W = std::max(opt.width, 200), H = std::max(opt.height, 150);
  const double ml = 70, mr = 20, mt = 40, mb = 55;  // margins
  const double pw = W - ml - mr, ph = H - mt - mb;   // plot area

  double dx0, dx1, dy0, dy1;
  data_range(series, [](const Series& s, size_t i) { return s.x[i]; }, dx0, dx1);
  data_range(series, [](const Series& s, size_t i) { return s.y[i]; }, dy0, dy1);
  for (double r : opt.y_reference)
    if (std::isfinite(r)) {
      dy0 = std::min(dy0, r);
      dy1 = std::max(dy1, r);
    }
  double x0, x1, y0, y1;
  std::vector<double> xt, yt;
  axis(dx0, dx1, opt.x_min, opt.x_max, x0, x1, xt);
  axis(dy0, dy1, opt.y_min, opt.y_max, y0, y1, yt);
  auto px = [&](double x) { return ml + (x - x0) / (x1 - x0) * pw; };
  auto py = [&](double y) { return mt + ph - (y - y0) / (y1 - y0) * ph; };

  std::ostringstream o;
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << num(W, 0) << "\" height=\""
    << num(H, 0) << "\" viewBox=\"0 0 " << num(W, 0) << " " << num(H, 0)
    << "\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n";
  o << "<rect x=\"0\" y=\"0\" width=\"" << num(W, 0) << "\" height=\"" << num(H, 0)
    << "\" fill=\"white\"/>\n";
  o << "<text x=\"" << num(W / 2) << "\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">"
    << xml_escape(title) << "</text>\n";

  // Grid and ticks.
  const double xstep = xt.size() > 1 ? xt[1] - xt[0] : 1.0;
  const double ystep = yt.size() > 1 ? yt[1] - yt[0] : 1.0;
  o << "<g stroke=\"#e0e0e0\" stroke-width=\"1\">\n";
  for (double v : xt)
    if (v >= x0 && v <= x1)
      o << "<line x1=\"" << num(px(v)) << "\" y1=\"" << num(mt) << "\" x2=\"" << num(px(v))
        << "\" y2=\"" << num(mt + ph) << "\"/>\n";
  for (double v : yt)
    if (v >= y0 && v <= y1)
      o << "<line x1=\"" << num(ml) << "\" y1=\"" << num(py(v)) << "\" x2=\"" << num(ml + pw)
        << "\" y2=\"" << num(py(v)) << "\"/>\n";
  o << "</g>\n";
  for (double r : opt.y_reference)
    if (std::isfinite(r) && r >= y0 && r <= y1)
      o << "<line x1=\"" << num(ml) << "\" y1=\"" << num(py(r)) << "\" x2=\"" << num(ml + pw)
        << "\" y2=\"" << num(py(r)) << "\" stroke=\"#999999\" stroke-width=\"1\" "
        << "stroke-dasharray=\"2,2\"/>\n";
  o << "<g fill=\"#333333\">\n";
  for (double v : xt)
    if (v >= x0 && v <= x1)
      o << "<text x=\"" << num(px(v)) << "\" y=\"" << num(mt + ph + 18)
        << "\" text-anchor=\"middle\">" << tick_label(v, xstep) << "</text>\n";
  for (double v : yt)
    if (v >= y0 && v <= y1)
      o << "<text x=\"" << num(ml - 8) << "\" y=\"" << num(py(v) + 4)
        << "\" text-anchor=\"end\">" << tick_label(v, ystep) << "</text>\n";
  o << "</g>\n";
  // Axes box and labels.
  o << "<rect x=\"" << num(ml) << "\" y=\"" << num(mt) << "\" width=\"" << num(pw)
    << "\" height=\"" << num(ph) << "\" fill=\"none\" stroke=\"#333333\" stroke-width=\"1\"/>\n";
  o << "<text x=\"" << num(ml + pw / 2) << "\" y=\"" << num(H - 12)
    << "\" text-anchor=\"middle\" font-size=\"14\">" << xml_escape(xlabel) << "</text>\n";
  o << "<text x=\"18\" y=\"" << num(mt + ph / 2) << "\" text-anchor=\"middle\" font-size=\"14\" "
    << "transform=\"rotate(-90 18 " << num(mt + ph / 2) << ")\">" << xml_escape(ylabel)
    << "</text>\n";

  // Series, clipped to the plot area.
  o << "<defs><clipPath id=\"plot-area\"><rect x=\"" << num(ml) << "\" y=\"" << num(mt)
    << "\" width=\"" << num(pw) << "\" height=\"" << num(ph) << "\"/></clipPath></defs>\n";
  std::vector<std::string> colors;
  int auto_color = 0;
  for (const auto& s : series)
    colors.push_back(!s.color.empty() ? s.color : kPalette[auto_color++ % kPaletteSize]);
  auto dash = [](const std::string& style) -> std::string {
    if (style == "dashed") return " stroke-dasharray=\"7,4\"";
    if (style == "dotted") return " stroke-dasharray=\"2,3\"";
    return "";
  };
  o << "<g clip-path=\"url(#plot-area)\" fill=\"none\" stroke-width=\"1.8\" "
    << "stroke-linejoin=\"round\">\n";
  for (size_t si = 0; si < series.size(); ++si) {
    const Series& s = series[si];
    std::string d;
    bool pen_down = false;
    const size_t n = std::min(s.x.size(), s.y.size());
    size_t npts = 0;
    for (size_t i = 0; i < n; ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) {
        pen_down = false;
        continue;
      }
      d += (pen_down ? " L" : (d.empty() ? "M" : " M")) + num(px(s.x[i])) + " " + num(py(s.y[i]));
      pen_down = true;
      ++npts;
    }
    if (npts == 0) continue;
    o << "<path d=\"" << d << "\" stroke=\"" << xml_escape(colors[si]) << "\"" << dash(s.style)
      << "><title>" << xml_escape(s.label) << "</title></path>\n";
    if (npts == 1) {  // a single point is invisible as a path; mark it
      for (size_t i = 0; i < n; ++i)
        if (std::isfinite(s.x[i]) && std::isfinite(s.y[i]))
          o << "<circle cx=\"" << num(px(s.x[i])) << "\" cy=\"" << num(py(s.y[i]))
            << "\" r=\"2.5\" fill=\"" << xml_escape(colors[si]) << "\"/>\n";
    }
  }
  o << "</g>\n";

  // Legend (top right inside the plot area).
  if (!series.empty()) {
    size_t longest = 0;
    for (const auto& s : series) longest = std::max(longest, s.label.size());
    const double lw = 44 + 7.0 * static_cast<double>(longest), lh = 8 + 18.0 * series.size();
    const double lx = ml + pw - lw - 8, ly = mt + 8;
    o << "<g class=\"legend\">\n";
    o << "<rect x=\"" << num(lx) << "\" y=\"" << num(ly) << "\" width=\"" << num(lw)
      << "\" height=\"" << num(lh) << "\" fill=\"white\" fill-opacity=\"0.85\" "
      << "stroke=\"#cccccc\"/>\n";
    for (size_t si = 0; si < series.size(); ++si) {
      const double yy = ly + 14 + 18.0 * si;
      o << "<line x1=\"" << num(lx + 6) << "\" y1=\"" << num(yy) << "\" x2=\"" << num(lx + 34)
        << "\" y2=\"" << num(yy) << "\" stroke=\"" << xml_escape(colors[si])
        << "\" stroke-width=\"1.8\"" << dash(series[si].style) << "/>\n";
      o << "<text x=\"" << num(lx + 40) << "\" y=\"" << num(yy + 4) << "\">"
        << xml_escape(series[si].label) << "</text>\n";
    }
    o << "</g>\n";
  }
  o << "</svg>\n";
  return o.str();
}

// ---- metrics.csv ----

const std::string& metrics_csv_header() {
  static const std::string h =
      "epoch,lr,train_loss,train_error,test_loss,test_error,images_per_sec,seconds";
  return h;
}

namespace {

std::string fmt_double(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest exact round trip
  return std::string(buf, r.ptr);
}

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r')) --e;
  return s.substr(b, e - b);
}

std::vector<std::string> split_commas(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t c = line.find(',', start);
    out.push_back(trim(line.substr(start, c == std::string::npos ? std::string::npos : c - start)));
    if (c == std::string::npos) break;
    start = c + 1;
  }
  return out;
}

// Parses the content of a metrics file (@p path is only used in messages).
std::vector<MetricsRow> parse_metrics(const std::string& text, const std::string& path) {
  std::vector<MetricsRow> rows;
  std::istringstream in(text);
  std::string line;
  int64_t lineno = 0;
  bool header_seen = false;
  auto fail = [&](const std::string& why) {
    throw std::runtime_error(path + ":" + std::to_string(lineno) + ": " + why);
  };
  while (std::getline(in, line)) {
    ++lineno;
    const std::string t = trim(line);
    if (t.empty()) continue;
    if (!header_seen) {
      if (t != metrics_csv_header())
        fail("unexpected header \"" + t + "\" (expected \"" + metrics_csv_header() + "\")");
      header_seen = true;
      continue;
    }
    const auto f = split_commas(t);
    if (f.size() != 8)
      fail("expected 8 fields, got " + std::to_string(f.size()) + " in \"" + t + "\"");
    MetricsRow r;
    {
      const char* b = f[0].data();
      const char* e = b + f[0].size();
      auto res = std::from_chars(b, e, r.epoch);
      if (f[0].empty() || res.ec != std::errc() || res.ptr != e)
        fail("epoch \"" + f[0] + "\" is not an integer");
    }
    double* dst[7] = {&r.lr,         &r.train_loss,     &r.train_error, &r.test_loss,
                      &r.test_error, &r.images_per_sec, &r.seconds};
    static const char* names[7] = {"lr",         "train_loss",     "train_error", "test_loss",
                                   "test_error", "images_per_sec", "seconds"};
    for (int k = 0; k < 7; ++k) {
      const std::string& s = f[k + 1];
      if (s.empty()) {
        *dst[k] = std::numeric_limits<double>::quiet_NaN();
        continue;
      }
      const char* b = s.data();
      const char* e = b + s.size();
      auto res = std::from_chars(b, e, *dst[k]);
      if (res.ec != std::errc() || res.ptr != e)
        fail(std::string(names[k]) + " \"" + s + "\" is not a number");
    }
    rows.push_back(r);
  }
  return rows;
}

std::string render_metrics(const std::vector<MetricsRow>& rows) {
  std::string out = metrics_csv_header() + "\n";
  for (const auto& r : rows) out += format_metrics_row(r) + "\n";
  return out;
}

}  // namespace

std::string format_metrics_row(const MetricsRow& r) {
  return std::to_string(r.epoch) + "," + fmt_double(r.lr) + "," + fmt_double(r.train_loss) + "," +
         fmt_double(r.train_error) + "," + fmt_double(r.test_loss) + "," +
         fmt_double(r.test_error) + "," + fmt_double(r.images_per_sec) + "," +
         fmt_double(r.seconds);
}

std::vector<MetricsRow> read_metrics_csv(const std::string& path) {
  return parse_metrics(read_file(path), path);
}

void append_metrics_csv(const std::string& path, const MetricsRow& row) {
  std::vector<MetricsRow> rows;
  if (file_exists(path)) rows = parse_metrics(read_file(path), path);
  rows.push_back(row);
  write_file_atomic(path, render_metrics(rows));
}

void write_metrics_csv(const std::string& path, const std::vector<MetricsRow>& rows) {
  write_file_atomic(path, render_metrics(rows));
}

std::vector<Series> error_curves(const std::vector<MetricsRow>& rows, const std::string& name,
                                 const std::string& color) {
  Series tr, te;
  tr.label = name.empty() ? "train" : name + " train";
  te.label = name.empty() ? "test" : name + " test";
  tr.style = "dashed";
  te.style = "solid";
  tr.color = te.color = color.empty() ? palette_color(0) : color;
  for (const auto& r : rows) {
    if (std::isfinite(r.train_error)) {
      tr.x.push_back(static_cast<double>(r.epoch));
      tr.y.push_back(100.0 * r.train_error);
    }
    if (std::isfinite(r.test_error)) {
      te.x.push_back(static_cast<double>(r.epoch));
      te.y.push_back(100.0 * r.test_error);
    }
  }
  return {tr, te};
}

}  // namespace dl::train
