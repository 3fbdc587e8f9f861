// test_conv_epilogue.cpp — conv2d_forward with a Conv2dEpilogue equals, bit for bit, the
// convolution followed by batch_norm_eval_forward and add_relu (the ops a ResNet runs at
// inference), in float and double; bad epilogue tensors are rejected naming the shapes.
#include <gtest/gtest.h>

#include "test_util.h"
#include "tensor/batch_norm.h"
#include "tensor/conv2d.h"
#include "tensor/random.h"

namespace dl {
namespace {

using test::error_of;

struct Layer {
  Tensor x, w, gamma, beta, running_mean, running_var, residual;
};

Layer make_layer(DType dtype) {
  Generator gen(11);
  Layer l;
  l.x = Tensor::randn({2, 5, 9, 9}, gen, dtype);
  l.w = Tensor::randn({7, 5, 3, 3}, gen, dtype);
  l.gamma = Tensor::randn({7}, gen, dtype);
  l.beta = Tensor::randn({7}, gen, dtype);
  l.running_mean = Tensor::randn({7}, gen, dtype);
  l.running_var = Tensor::uniform({7}, 0.5, 2.0, gen, dtype);
  l.residual = Tensor::randn({2, 7, 9, 9}, gen, dtype);
  return l;
}

TEST(Conv2dEpilogue, EqualsBatchNormThenAddRelu) {
  for (DType dtype : {DType::Float32, DType::Float64}) {
    const Layer l = make_layer(dtype);
    const Conv2dArgs args = Conv2dArgs::square(1, 1);
    const double eps = 1e-5;
    const Tensor conv = conv2d_forward(l.x, l.w, Tensor(), args);
    const BatchNormAffine f =
        batch_norm_eval_affine(l.gamma, l.beta, l.running_mean, l.running_var, eps, dtype);

    const Tensor bn_relu =
        batch_norm_eval_forward(conv, l.gamma, l.beta, l.running_mean, l.running_var, eps, true).y;
    const Tensor fused_bn_relu =
        conv2d_forward(l.x, l.w, Tensor(), args, {f.mean, f.scale, f.shift, Tensor(), true});
    EXPECT_EQ(fused_bn_relu.to_vector(), bn_relu.to_vector()) << dtype_name(dtype);

    const Tensor bn =
        batch_norm_eval_forward(conv, l.gamma, l.beta, l.running_mean, l.running_var, eps).y;
    const Tensor block_end = add_relu(bn, l.residual);
    const Tensor fused_block_end =
        conv2d_forward(l.x, l.w, Tensor(), args, {f.mean, f.scale, f.shift, l.residual, true});
    EXPECT_EQ(fused_block_end.to_vector(), block_end.to_vector()) << dtype_name(dtype);
  }
}

TEST(Conv2dEpilogue, WrongShapesAreNamed) {
  const Layer l = make_layer(DType::Float32);
  const Conv2dArgs args = Conv2dArgs::square(1, 1);
  Conv2dEpilogue e;
  e.mean = Tensor::zeros({5});
  e.scale = Tensor::ones({7});
  e.shift = Tensor::zeros({7});
  std::string msg = error_of([&] { conv2d_forward(l.x, l.w, Tensor(), args, e); });
  EXPECT_NE(msg.find("epilogue mean [5] must be [7] for weight [7, 5, 3, 3]"), std::string::npos)
      << msg;

  e.mean = Tensor();  // only some of the three
  msg = error_of([&] { conv2d_forward(l.x, l.w, Tensor(), args, e); });
  EXPECT_NE(msg.find("epilogue mean undefined"), std::string::npos) << msg;

  Conv2dEpilogue r;
  r.residual = Tensor::zeros({2, 7, 8, 9});
  msg = error_of([&] { conv2d_forward(l.x, l.w, Tensor(), args, r); });
  EXPECT_NE(msg.find("residual [2, 7, 8, 9] does not match the output [2, 7, 9, 9]"),
            std::string::npos)
      << msg;

  r.residual = Tensor::zeros({2, 7, 9, 9}, DType::Float64);
  msg = error_of([&] { conv2d_forward(l.x, l.w, Tensor(), args, r); });
  EXPECT_NE(msg.find("dtypes differ"), std::string::npos) << msg;
}

}  // namespace
}  // namespace dl
