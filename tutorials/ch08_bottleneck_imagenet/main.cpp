// Chapter 8 — bottleneck blocks and the ImageNet ResNets 18/34/50/101/152: what a 1x1-3x3-1x1
// block saves, and the parameters and multiply-accumulates (MACs) of each network, counted
// layer by layer and checked against the real models built by models::create_model.
// Read README.md beside this file; every check() below is a claim the chapter makes.
#include <cmath>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "common.h"
#include "models/blocks.h"
#include "models/registry.h"
#include "nn/summary.h"

using tut::check;
namespace models = dl::models;

namespace {

void bottleneck_versus_basic() {
  tut::section("1. A bottleneck block at 256 channels vs basic blocks");
  // [snippet:blocks]
  models::Bottleneck bottleneck(/*in_channels=*/256, /*planes=*/64);  // 256 -> 64 -> 64 -> 256
  models::BasicBlock basic64(64, 64);                                 // 64 -> 64 -> 64
  models::BasicBlock basic256(256, 256);                              // 256 -> 256 -> 256
  std::cout << "Bottleneck(256, 64):  " << bottleneck.num_parameters() << " parameters\n"
            << "BasicBlock(64, 64):   " << basic64.num_parameters() << " parameters\n"
            << "BasicBlock(256, 256): " << basic256.num_parameters() << " parameters\n";
  // [/snippet]
  check(bottleneck.num_parameters() == (256 * 64 + 64 * 64 * 9 + 64 * 256) + 2 * (64 + 64 + 256),
        "bottleneck: 1x1 (16,384) + 3x3 (36,864) + 1x1 (16,384) weights + 3 BNs = 70,400");
  check(bottleneck.num_parameters() < basic64.num_parameters(),
        "a 256-channel bottleneck costs less than a 64-channel basic block");
  check(basic256.num_parameters() > 16 * bottleneck.num_parameters(),
        "two 3x3 convolutions at 256 channels would cost over 16x more");
}

// [snippet:counter]
// Parameters and multiply-accumulates of an ImageNet ResNet, counted from the architecture
// (paper Table 1, torchvision's v1.5 bottleneck, option-B shortcuts) for an image x image input.
struct Count {
  int64_t params = 0, macs = 0;
};

// A bias-free k x k convolution C -> OC producing out x out pixels, followed by BatchNorm.
void conv_bn(Count& n, int64_t C, int64_t OC, int64_t k, int64_t out) {
  n.params += OC * C * k * k + 2 * OC;   // weights + BN gamma, beta
  n.macs += OC * C * k * k * out * out;  // one multiply-add per weight per output pixel
}

Count count_imagenet_resnet(bool bottleneck, const std::vector<int>& blocks, int64_t image = 224) {
  Count n;
  int64_t hw = image / 2;  // 7x7 stride-2 stem
  conv_bn(n, 3, 64, 7, hw);
  hw /= 2;  // 3x3 stride-2 max pool
  int64_t in = 64;
  const int64_t widths[4] = {64, 128, 256, 512};
  for (int stage = 0; stage < 4; ++stage)
    for (int b = 0; b < blocks[stage]; ++b) {
      const int64_t stride = (stage > 0 && b == 0) ? 2 : 1, out_hw = hw / stride;
      const int64_t planes = widths[stage], out = bottleneck ? 4 * planes : planes;
      if (bottleneck) {
        conv_bn(n, in, planes, 1, hw);          // 1x1 reduce
        conv_bn(n, planes, planes, 3, out_hw);  // 3x3 (carries the stride)
        conv_bn(n, planes, out, 1, out_hw);     // 1x1 expand, 4x the width
      } else {
        conv_bn(n, in, planes, 3, out_hw);
        conv_bn(n, planes, planes, 3, out_hw);
      }
      if (stride != 1 || in != out) conv_bn(n, in, out, 1, out_hw);  // projection shortcut
      in = out;
      hw = out_hw;
    }
  n.params += in * 1000 + 1000;  // global average pool, then the 1000-way classifier
  n.macs += in * 1000;
  return n;
}
// [/snippet]

void check_counter_against_models() {
  tut::section("2. The counter agrees with the real models (one of each block type)");
  for (const std::string name : {"resnet18", "resnet50"}) {
    const bool bottleneck = name == "resnet50";
    const std::vector<int> blocks =
        bottleneck ? std::vector<int>{3, 4, 6, 3} : std::vector<int>{2, 2, 2, 2};
    // [snippet:summary]
    auto model = models::create_model(name);
    dl::nn::Summary s = dl::nn::summarize(*model, {1, 3, 64, 64});  // one small forward pass
    // [/snippet]
    const Count c = count_imagenet_resnet(bottleneck, blocks, 64);
    std::cout << name << ": model " << model->num_parameters() << " params, " << s.total_macs
              << " MACs at 64x64; counter " << c.params << " params, " << c.macs << " MACs\n";
    check(c.params == model->num_parameters() && c.macs == s.total_macs,
          name + ": counted parameters and MACs equal the model's");
  }
  // At 224x224 every feature map is 3.5x larger per side, so the conv MACs are 12.25x larger.
  auto resnet18 = models::create_model("resnet18");
  dl::nn::Summary s224 = dl::nn::summarize(*resnet18, {1, 3, 224, 224});
  std::cout << "resnet18 at 224x224, stage outputs:\n";
  for (const auto& row : s224.rows)
    if (row.depth == 1 &&
        (row.name == "conv1" || row.name == "maxpool" || row.name.rfind("layer", 0) == 0))
      std::cout << "  " << row.name << " " << dl::shape_str(row.output) << "\n";
  check(s224.total_macs == count_imagenet_resnet(false, {2, 2, 2, 2}).macs,
        "resnet18 at 224x224: " + std::to_string(s224.total_macs) + " MACs, as counted");
}

void the_table() {
  tut::section("3. The ImageNet ResNets at 224x224");
  struct Row {
    const char* name;
    bool bottleneck;
    std::vector<int> blocks;
    int64_t torchvision_params;  // torchvision.models.<name>().parameters(), summed
    double paper_gflops;         // paper Table 1 ("FLOPs" there are multiply-adds)
  };
  const std::vector<Row> rows = {{"resnet18", false, {2, 2, 2, 2}, 11689512, 1.8},
                                 {"resnet34", false, {3, 4, 6, 3}, 21797672, 3.6},
                                 {"resnet50", true, {3, 4, 6, 3}, 25557032, 3.8},
                                 {"resnet101", true, {3, 4, 23, 3}, 44549160, 7.6},
                                 {"resnet152", true, {3, 8, 36, 3}, 60192808, 11.3}};
  std::cout << "  model       blocks/stage   params      MACs     paper\n";
  for (const Row& r : rows) {
    const Count c = count_imagenet_resnet(r.bottleneck, r.blocks);
    std::string blocks;
    for (int b : r.blocks) blocks += std::to_string(b) + " ";
    std::cout << "  " << r.name << std::string(12 - std::string(r.name).size(), ' ') << blocks
              << std::string(15 - blocks.size(), ' ') << tut::fixed(c.params / 1e6, 2) << "M    "
              << tut::fixed(c.macs / 1e9, 2) << "G    " << r.paper_gflops << "G\n";
    check(c.params == r.torchvision_params, std::string(r.name) + ": " + std::to_string(c.params) +
                                                " parameters, exactly torchvision's");
    check(std::fabs(c.macs / 1e9 / r.paper_gflops - 1) < 0.09,
          std::string(r.name) + ": MACs within 9% of the paper's Table 1");
  }
  const Count r34 = count_imagenet_resnet(false, {3, 4, 6, 3}),
              r50 = count_imagenet_resnet(true, {3, 4, 6, 3});
  check(r50.macs < 1.15 * r34.macs,
        "50 layers with bottlenecks cost about the same as 34 with basic blocks (" +
            tut::fixed(double(r50.macs) / r34.macs, 2) + "x)");
}

}  // namespace

int main() {
  return tut::run([] {
    bottleneck_versus_basic();
    check_counter_against_models();
    the_table();
  });
}
