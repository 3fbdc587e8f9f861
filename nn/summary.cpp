// summary.cpp — recording a forward pass into a layer table (tutorial chapter 4).
#include "nn/summary.h"

#include <algorithm>
#include <iomanip>
#include <map>
#include <sstream>

#include "autograd/grad_mode.h"

namespace dl::nn {

namespace {

/// Elements of the parameters registered on @p m itself: named_parameters() lists a
/// module's own parameters under plain names and its children's under dotted ones.
int64_t own_params(const Module& m) {
  int64_t n = 0;
  for (const auto& [name, v] : m.named_parameters())
    if (name.find('.') == std::string::npos) n += v.numel();
  return n;
}

/// Appends a row at enter() and fills its shape and MACs at leave(); a stack of open rows
/// gives each call its depth.
class Recorder : public CallObserver {
 public:
  explicit Recorder(const std::map<const Module*, std::string>& names) : names_(names) {}

  void enter(Module& m, const Shape&) override {
    SummaryRow row;
    auto it = names_.find(&m);
    row.name = it == names_.end() ? "?" : it->second;
    row.type = m.type_name();
    row.depth = static_cast<int>(open_.size());
    row.params = own_params(m);
    open_.push_back(rows.size());
    rows.push_back(std::move(row));
  }

  void leave(Module& m, const Shape& input, const Shape& output) override {
    SummaryRow& row = rows[open_.back()];
    open_.pop_back();
    row.output = output;
    // Only leaves: a container's work is its children's, already counted in their rows.
    if (m.named_children().empty()) row.macs = m.macs(input, output);
  }

  std::vector<SummaryRow> rows;

 private:
  const std::map<const Module*, std::string>& names_;
  std::vector<size_t> open_;
};

/// Installs an observer for a scope and puts the previous one back, even on exceptions.
class ObserverScope {
 public:
  explicit ObserverScope(CallObserver* o) : previous_(set_call_observer(o)) {}
  ~ObserverScope() { set_call_observer(previous_); }
  ObserverScope(const ObserverScope&) = delete;
  ObserverScope& operator=(const ObserverScope&) = delete;

 private:
  CallObserver* previous_;
};

/// Remembers every module's training flag and restores it on scope exit. Modules are
/// visited parent first, and train() propagates down, so each child's own flag wins.
class TrainingModeScope {
 public:
  explicit TrainingModeScope(Module& model) {
    for (auto& [_, m] : model.named_modules()) saved_.emplace_back(m, m->is_training());
  }
  ~TrainingModeScope() {
    for (auto& [m, on] : saved_) m->train(on);
  }
  TrainingModeScope(const TrainingModeScope&) = delete;
  TrainingModeScope& operator=(const TrainingModeScope&) = delete;

 private:
  std::vector<std::pair<Module*, bool>> saved_;
};

/// 1234567 -> "1,234,567" for the table (the last line keeps plain integers).
std::string grouped(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

}  // namespace

Summary summarize(Module& model, const Shape& input_shape) {
  std::map<const Module*, std::string> names;
  for (auto& [name, m] : model.named_modules()) names.emplace(m, name);

  const auto params = model.named_parameters();
  const DType dtype = params.empty() ? DType::Float32 : params.front().second.dtype();

  Summary s;
  Recorder recorder(names);
  {
    TrainingModeScope restore(model);
    model.eval();
    ag::NoGradGuard no_grad;
    ObserverScope observe(&recorder);
    model(ag::Variable(Tensor::zeros(input_shape, dtype)));
  }
  s.rows = std::move(recorder.rows);
  for (const auto& [_, v] : params) {
    s.total_params += v.numel();
    if (v.requires_grad()) s.trainable_params += v.numel();
  }
  for (const SummaryRow& r : s.rows) s.total_macs += r.macs;
  return s;
}

std::string Summary::format() const {
  // Column widths adapt to the longest entry, so deep ResNet names still line up.
  std::vector<std::string> layer, shape, par, mac;
  for (const SummaryRow& r : rows) {
    const std::string label = r.name.empty() ? r.type : r.name + " (" + r.type + ")";
    layer.push_back(std::string(2 * r.depth, ' ') + label);
    shape.push_back(shape_str(r.output));
    // "--" for none, as torchinfo prints it (containers' parameters sit in their children).
    par.push_back(r.params > 0 ? grouped(r.params) : "--");
    mac.push_back(r.macs > 0 ? grouped(r.macs) : "--");
  }
  auto width = [](const std::vector<std::string>& col, const std::string& head) {
    size_t w = head.size();
    for (const auto& c : col) w = std::max(w, c.size());
    return static_cast<int>(w);
  };
  const int w0 = width(layer, "Layer (type)"), w1 = width(shape, "Output Shape");
  const int w2 = width(par, "Params"), w3 = width(mac, "MACs");
  const std::string rule(static_cast<size_t>(w0 + w1 + w2 + w3 + 6), '=');

  std::ostringstream os;
  auto line = [&](const std::string& a, const std::string& b, const std::string& c,
                  const std::string& d) {
    os << std::left << std::setw(w0) << a << "  " << std::setw(w1) << b << "  " << std::right
       << std::setw(w2) << c << "  " << std::setw(w3) << d << '\n';
  };
  os << rule << '\n';
  line("Layer (type)", "Output Shape", "Params", "MACs");
  os << rule << '\n';
  for (size_t i = 0; i < rows.size(); ++i) line(layer[i], shape[i], par[i], mac[i]);
  os << rule << '\n';
  os << "Total params: " << grouped(total_params) << '\n';
  os << "Trainable params: " << grouped(trainable_params) << '\n';
  os << "Non-trainable params: " << grouped(total_params - trainable_params) << '\n';
  os << "Total MACs: " << grouped(total_macs) << '\n';
  os << rule << '\n';
  os << "params " << total_params << " macs " << total_macs;
  return os.str();
}

}  // namespace dl::nn
