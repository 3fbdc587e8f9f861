// Chapter 1 — tensors: storage, shape, strides and views; NCHW and channels-last; and one
// computation climbed through the layers kernel -> tensor -> autograd -> nn.
// Read README.md beside this file; every check() below is a claim the chapter makes.
#include <cstdint>
#include <iostream>
#include <vector>

#include "autograd/ops.h"
#include "common.h"
#include "nn/linear.h"
#include "tensor/kernels/gemm.h"
#include "tensor/ops.h"
#include "tensor/tensor.h"

using dl::Shape;
using dl::Tensor;
using tut::check;

namespace {

void storage_and_strides() {
  tut::section("1. A tensor is storage + shape + strides + offset");
  // [snippet:make]
  Tensor x = Tensor::arange(12).reshape({3, 4});  // 0..11 as a 3x4 matrix, float32
  std::cout << x << "\n";
  std::cout << "shape " << dl::shape_str(x.shape()) << ", strides " << dl::shape_str(x.strides())
            << ", offset " << x.offset() << ", storage " << x.storage()->nbytes() << " bytes\n";
  // [/snippet]
  check(x.strides() == Shape({4, 1}), "a contiguous [3, 4] tensor has strides [4, 1]");
  check(x.storage()->nbytes() == 12 * sizeof(float), "its storage is 12 floats = 48 bytes");

  // [snippet:address]
  // Element [i, j] lives at storage[offset + i*stride(0) + j*stride(1)].
  const float* base = x.data<float>();  // points at element [0, 0]
  auto element = [&](int64_t i, int64_t j) { return base[i * x.stride(0) + j * x.stride(1)]; };
  std::cout << "x[2, 1] by hand = " << element(2, 1) << ", by at() = " << x.at({2, 1}) << "\n";
  // [/snippet]
  check(element(2, 1) == 9.0f && x.at({2, 1}) == 9.0,
        "x[2, 1] = 2*4 + 1 = 9 at the computed address");
}

void views() {
  tut::section("2. Views: new strides over the same storage");
  Tensor x = Tensor::arange(12).reshape({3, 4});
  // [snippet:views]
  Tensor t = x.transpose(0, 1);           // [4, 3], strides [1, 4]: no data moved
  Tensor odd_cols = x.slice(1, 1, 4, 2);  // columns 1 and 3: [3, 2], strides [4, 2], offset 1
  Tensor row = Tensor::of({100, 200, 300, 400});
  Tensor rows = row.expand({3, 4});  // [3, 4], strides [0, 1]: one row seen three times
  t.set({1, 2}, -1.0);               // writes x[2, 1] through the view
  // [/snippet]
  std::cout << "transpose: shape " << dl::shape_str(t.shape()) << " strides "
            << dl::shape_str(t.strides()) << "\n";
  std::cout << "slice    : shape " << dl::shape_str(odd_cols.shape()) << " strides "
            << dl::shape_str(odd_cols.strides()) << " offset " << odd_cols.offset() << "\n";
  std::cout << "expand   : shape " << dl::shape_str(rows.shape()) << " strides "
            << dl::shape_str(rows.strides()) << "\n";
  std::cout << "x after writing t[1, 2] = -1:\n" << x << "\n";
  check(t.strides() == Shape({1, 4}) && t.shares_storage(x),
        "transpose swaps the strides and shares storage");
  check(!t.is_contiguous(), "a transposed matrix is not contiguous");
  check(x.at({2, 1}) == -1.0, "writing through the view changed x[2, 1]");
  check(odd_cols.strides() == Shape({4, 2}) && odd_cols.offset() == 1,
        "a stepped slice has stride 2 along the columns and starts at offset 1");
  check(odd_cols.at({2, 1}) == 11.0, "odd_cols[2, 1] is x[2, 3] = 11");
  check(rows.strides() == Shape({0, 1}) && rows.at({2, 3}) == 400.0,
        "expand repeats a row with stride 0 (no copy)");

  // [snippet:contiguous]
  Tensor c = t.contiguous();  // copies into row-major order: strides [3, 1]
  bool viewed = true;
  try {
    t.view({12});  // a view cannot flatten a transposed matrix...
  } catch (const std::invalid_argument& e) {
    viewed = false;
    std::cout << "view failed as expected: " << e.what() << "\n";
  }
  Tensor flat = t.reshape({12});  // ...reshape can, by copying first
  // [/snippet]
  check(!c.shares_storage(t) && c.strides() == Shape({3, 1}),
        "contiguous() copied into strides [3, 1]");
  check(!viewed, "view() refuses shapes the strides cannot express");
  check(!flat.shares_storage(x) && flat.at({1}) == 4.0,
        "reshape() of the transpose copied; flat[1] = t[0, 1] = x[1, 0] = 4");
  check(x.reshape({2, 6}).shares_storage(x), "reshape() of a contiguous tensor is a view");
}

void layouts() {
  tut::section("3. NCHW and channels-last: one logical image, two memory orders");
  const int64_t N = 1, C = 3, H = 2, W = 2;
  // [snippet:layouts]
  Tensor nchw = Tensor::arange(N * C * H * W).reshape({N, C, H, W});
  // Channels-last keeps the logical NCHW indexing but stores the C values of one pixel together:
  // lay the data out as NHWC, then permute the view back to NCHW order.
  Tensor nhwc_memory = nchw.permute({0, 2, 3, 1}).contiguous();  // [N, H, W, C] in memory
  Tensor channels_last = nhwc_memory.permute({0, 3, 1, 2});      // viewed as [N, C, H, W]
  std::cout << "NCHW          strides " << dl::shape_str(nchw.strides()) << "\n"
            << "channels-last strides " << dl::shape_str(channels_last.strides()) << "\n";
  auto memory = [](const Tensor& t) {  // the storage, in address order
    const float* p = static_cast<const float*>(t.storage()->data());
    return std::vector<float>(p, p + t.numel());
  };
  // [/snippet]
  auto print = [](const char* name, const std::vector<float>& v) {
    std::cout << name;
    for (float f : v) std::cout << " " << f;
    std::cout << "\n";
  };
  print("NCHW memory         :", memory(nchw));
  print("channels-last memory:", memory(channels_last));
  check(nchw.strides() == Shape({12, 4, 2, 1}),
        "NCHW strides are [C*H*W, H*W, W, 1] = [12, 4, 2, 1]");
  check(channels_last.strides() == Shape({12, 1, 6, 3}),
        "channels-last strides are [H*W*C, 1, W*C, C] = [12, 1, 6, 3]");
  check(dl::allclose(nchw, channels_last), "both hold the same values at every [n, c, h, w]");
  const std::vector<float> m = memory(channels_last);
  check(m[0] == 0 && m[1] == 4 && m[2] == 8,
        "in channels-last memory the 3 channels of pixel (0, 0) are adjacent: 0 4 8");
  check(memory(nchw)[1] == 1, "in NCHW memory the next float is the next pixel of channel 0");
}

void climb_the_layers() {
  tut::section("4. One computation, four layers: y = x W^T + b");
  // x [2, 3], W [2, 3], b [2]; by hand: y = [[8, 23], [8, 27.5]].
  const std::vector<float> xs = {1, 2, 3, 4, 5, 6}, ws = {1, 0, -1, 0.5f, 0.5f, 0.5f},
                           bs = {10, 20};
  const std::vector<double> expected = {8, 23, 8, 27.5};

  // [snippet:kernel]
  // kernels: raw pointers and sizes. C[M,N] = A[M,K] * B[K,N]^T with M = 2, N = 2, K = 3.
  std::vector<float> y(4);
  dl::kernels::gemm(/*trans_a=*/false, /*trans_b=*/true, 2, 2, 3, 1.0f, xs.data(), 3, ws.data(), 3,
                    /*beta=*/0.0f, y.data(), 2);
  for (int n = 0; n < 2; ++n)
    for (int o = 0; o < 2; ++o) y[n * 2 + o] += bs[o];
  // [/snippet]
  check(std::vector<double>(y.begin(), y.end()) == expected,
        std::string("kernel : gemm + bias loop gives [[8, 23], [8, 27.5]] (backend: ") +
            dl::kernels::gemm_backend() + ")");

  // [snippet:tensor]
  // tensor: shapes, views and broadcasting; transpose is a view, b broadcasts over rows.
  Tensor x = Tensor::from_vector(xs, {2, 3});
  Tensor w = Tensor::from_vector(ws, {2, 3});
  Tensor b = Tensor::from_vector(bs, {2});
  Tensor y_tensor = dl::matmul(x, w.transpose(0, 1)) + b;
  // [/snippet]
  check(y_tensor.to_vector() == expected, "tensor : matmul(x, w.T) + b gives the same numbers");

  // [snippet:autograd]
  // autograd: the same math on Variables records a tape; backward() fills the gradients.
  dl::ag::Variable xv(x), wv(w, /*requires_grad=*/true), bv(b, /*requires_grad=*/true);
  dl::ag::Variable y_var = dl::ag::linear(xv, wv, bv);
  dl::ag::sum(y_var).backward();  // d(sum y)/dW[o, i] = sum_n x[n, i];  d/db[o] = N = 2
  // [/snippet]
  check(y_var.data().to_vector() == expected, "autograd: ag::linear gives the same numbers");
  check(wv.grad().to_vector() == std::vector<double>({5, 7, 9, 5, 7, 9}),
        "autograd: grad W = column sums of x = [[5, 7, 9], [5, 7, 9]]");
  check(bv.grad().to_vector() == std::vector<double>({2, 2}), "autograd: grad b = [2, 2]");

  // [snippet:nn]
  // nn: a Module owns W and b as named parameters and calls ag::linear in forward().
  dl::nn::Linear layer(3, 2);
  layer.weight().data().copy_(w);
  layer.bias().data().copy_(b);
  dl::ag::Variable y_nn = layer(xv);
  for (const auto& [name, p] : layer.named_parameters())
    std::cout << "parameter " << name << " " << dl::shape_str(p.shape()) << "\n";
  // [/snippet]
  check(y_nn.data().to_vector() == expected, "nn     : nn::Linear gives the same numbers");
  check(layer.num_parameters() == 8, "nn     : Linear(3, 2) has 2*3 + 2 = 8 parameters");
}

}  // namespace

int main() {
  return tut::run([] {
    storage_and_strides();
    views();
    layouts();
    climb_the_layers();
  });
}
