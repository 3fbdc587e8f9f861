// registry.cpp — the table from model names to ResNetConfigs (tutorial chapter 7).
// Stage depths: He et al. 2015 Table 1 (ImageNet) and §4.2 (CIFAR, n = (depth-2)/6);
// He et al. 2016 "Identity Mappings" §5 (ResNet-164/1001 bottlenecks, n = (depth-2)/9).
#include "models/registry.h"

#include <stdexcept>

#include "models/resnet.h"

namespace dl::models {

namespace {

/// One row of the table: a name and how to build its config (shortcut and classes aside).
struct Entry {
  std::string name;
  BlockType block;
  Stem stem;
  std::vector<int64_t> blocks;
};

std::vector<Entry> make_table() {
  std::vector<Entry> t;
  // ImageNet: torchvision's stage depths.
  const std::vector<std::pair<int, std::vector<int64_t>>> imagenet = {
      {18, {2, 2, 2, 2}}, {34, {3, 4, 6, 3}}, {50, {3, 4, 6, 3}},
      {101, {3, 4, 23, 3}}, {152, {3, 8, 36, 3}}};
  for (const auto& [depth, blocks] : imagenet)
    t.push_back({"resnet" + std::to_string(depth),
                 depth < 50 ? BlockType::Basic : BlockType::Bottleneck, Stem::ImageNet, blocks});
  for (const auto& [depth, blocks] : imagenet)
    t.push_back({"preact_resnet" + std::to_string(depth),
                 depth < 50 ? BlockType::PreActBasic : BlockType::PreActBottleneck,
                 Stem::ImageNet, blocks});
  for (const auto& [depth, blocks] : imagenet)
    if (depth < 50) t.push_back({"plain" + std::to_string(depth), BlockType::PlainBasic,
                                 Stem::ImageNet, blocks});
  // CIFAR: 6n+2 layers = conv1 + 3 stages of n two-layer blocks + fc.
  for (int depth : {20, 32, 44, 56, 110, 1202}) {
    const int64_t n = (depth - 2) / 6;
    t.push_back({"resnet" + std::to_string(depth), BlockType::Basic, Stem::Cifar, {n, n, n}});
  }
  for (int depth : {20, 32, 44, 56, 110}) {
    const int64_t n = (depth - 2) / 6;
    t.push_back({"plain" + std::to_string(depth), BlockType::PlainBasic, Stem::Cifar, {n, n, n}});
  }
  t.push_back({"preact_resnet110", BlockType::PreActBasic, Stem::Cifar, {18, 18, 18}});
  // 9n+2 layers = conv1 + 3 stages of n three-layer bottlenecks + fc.
  for (int depth : {164, 1001}) {
    const int64_t n = (depth - 2) / 9;
    t.push_back({"preact_resnet" + std::to_string(depth), BlockType::PreActBottleneck,
                 Stem::Cifar, {n, n, n}});
  }
  return t;
}

const std::vector<Entry>& table() {
  static const std::vector<Entry> t = make_table();
  return t;
}

const Entry& find(const std::string& name, const char* op) {
  for (const Entry& e : table())
    if (e.name == name) return e;
  std::string known;
  for (const Entry& e : table()) known += (known.empty() ? "" : ", ") + e.name;
  throw std::invalid_argument(std::string(op) + ": unknown model '" + name +
                              "'; known models: " + known);
}

}  // namespace

std::shared_ptr<nn::Module> create_model(const std::string& name, const ModelOptions& options) {
  const Entry& e = find(name, "create_model");
  if (options.num_classes < 0)
    throw std::invalid_argument("create_model: num_classes must be positive (0 = default), got " +
                                std::to_string(options.num_classes));
  ResNetConfig c;
  c.block = e.block;
  c.stem = e.stem;
  c.blocks = e.blocks;
  c.widths = e.stem == Stem::Cifar ? std::vector<int64_t>{16, 32, 64}
                                   : std::vector<int64_t>{64, 128, 256, 512};
  const bool cifar = e.stem == Stem::Cifar;
  c.num_classes = options.num_classes > 0 ? options.num_classes : (cifar ? 10 : 1000);

  if (is_plain(e.block)) {
    if (options.shortcut && *options.shortcut != Shortcut::None)
      throw std::invalid_argument("create_model: " + name + " is a plain network without "
                                  "shortcuts; shortcut option " +
                                  shortcut_name(*options.shortcut) + " does not apply");
    c.shortcut = Shortcut::None;
  } else {
    // The paper's CIFAR nets use option A ("identity shortcuts in all cases", §4.2), so that
    // they have exactly as many parameters as their plain counterparts; torchvision and the
    // pre-activation paper's code use projections (B) where the shape changes.
    const Shortcut fallback = (cifar && !is_preact(e.block)) ? Shortcut::A : Shortcut::B;
    c.shortcut = options.shortcut.value_or(fallback);
    if (c.shortcut == Shortcut::None)
      throw std::invalid_argument("create_model: " + name + " is a residual network; for no "
                                  "shortcuts use its plain counterpart (plain20, plain34, ...)");
  }
  c.zero_init_residual = options.zero_init_residual;
  c.seed = options.seed;
  return std::make_shared<ResNet>(c);
}

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (const Entry& e : table()) names.push_back(e.name);
  return names;
}

bool is_cifar_model(const std::string& name) {
  return find(name, "is_cifar_model").stem == Stem::Cifar;
}

Shape native_input_shape(const std::string& name) {
  return find(name, "native_input_shape").stem == Stem::Cifar ? Shape{1, 3, 32, 32}
                                                              : Shape{1, 3, 224, 224};
}

}  // namespace dl::models
