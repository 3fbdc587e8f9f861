// conv2d.cpp — Tensor-level 2-D convolution (tutorial chapter 5): validate the shapes once,
// make the operands contiguous, and hand raw pointers to the kernel dispatcher, which picks
// direct loops, im2col + GEMM or Winograd. The bias gradient is a plain reduction done here.
#include "tensor/conv2d.h"

#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace dl {

namespace {

void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument("conv2d: " + message);
}

/// The geometry again from shapes alone (the backward functions get no x or no w).
kernels::ConvGeom geom_from_shapes(const Shape& x, const Shape& w, const Conv2dArgs& a) {
  require(x.size() == 4, "input must be [N, C, H, W], got " + shape_str(x));
  require(w.size() == 4, "weight must be [OC, C, KH, KW], got " + shape_str(w));
  require(x[1] == w[1], "input " + shape_str(x) + " has " + std::to_string(x[1]) +
                            " channels but weight " + shape_str(w) + " expects " +
                            std::to_string(w[1]));
  require(a.stride_h >= 1 && a.stride_w >= 1 && a.dil_h >= 1 && a.dil_w >= 1,
          "stride and dilation must be >= 1, got stride (" + std::to_string(a.stride_h) + ", " +
              std::to_string(a.stride_w) + ") dilation (" + std::to_string(a.dil_h) + ", " +
              std::to_string(a.dil_w) + ")");
  require(a.pad_h >= 0 && a.pad_w >= 0, "padding must be >= 0, got (" + std::to_string(a.pad_h) +
                                            ", " + std::to_string(a.pad_w) + ")");
  kernels::ConvGeom g;
  g.N = x[0];
  g.C = x[1];
  g.H = x[2];
  g.W = x[3];
  g.OC = w[0];
  g.KH = w[2];
  g.KW = w[3];
  g.stride_h = a.stride_h;
  g.stride_w = a.stride_w;
  g.pad_h = a.pad_h;
  g.pad_w = a.pad_w;
  g.dil_h = a.dil_h;
  g.dil_w = a.dil_w;
  // The dilated kernel must fit inside the padded input, or there is no output pixel.
  const int64_t span_h = a.dil_h * (g.KH - 1) + 1, span_w = a.dil_w * (g.KW - 1) + 1;
  require(span_h <= g.H + 2 * g.pad_h && span_w <= g.W + 2 * g.pad_w,
          "weight " + shape_str(w) + " (dilated to " + std::to_string(span_h) + "x" +
              std::to_string(span_w) + ") is larger than input " + shape_str(x) +
              " padded by (" + std::to_string(g.pad_h) + ", " + std::to_string(g.pad_w) + ")");
  return g;
}

Shape output_shape(const kernels::ConvGeom& g) { return {g.N, g.OC, g.out_h(), g.out_w()}; }

void check_grad_output(const Tensor& grad_y, const kernels::ConvGeom& g, const char* which) {
  require(grad_y.defined(), std::string(which) + ": grad_output is undefined");
  require(grad_y.shape() == output_shape(g),
          std::string(which) + ": grad_output " + shape_str(grad_y.shape()) +
              " does not match the forward output " + shape_str(output_shape(g)));
}

void check_dtypes(const Tensor& a, const Tensor& b, const char* what_a, const char* what_b) {
  require(is_floating(a.dtype()), std::string(what_a) + " must be float32 or float64, got " +
                                      dtype_name(a.dtype()));
  require(a.dtype() == b.dtype(), std::string("dtypes differ: ") + what_a + " " +
                                      dtype_name(a.dtype()) + ", " + what_b + " " +
                                      dtype_name(b.dtype()));
}

// The float weights w prepared for this call's forward algorithm, kept with w's storage while
// it is unchanged (Storage::derived()); null when the algorithm reads w as it is. The key
// names the view, the algorithm and the kernels' layout: one buffer may hold several weights,
// one layer may run F(2x2) at batch 1 and F(4x4) at batch 16, and tests switch kernel sets.
std::shared_ptr<const kernels::PreparedFilters> prepared_filters(const kernels::ConvGeom& g,
                                                                 const Tensor& w,
                                                                 kernels::ConvAlgo requested) {
  const kernels::ConvAlgo algo =
      kernels::conv2d_forward_algo<float>(g, requested, /*filters_prepared=*/true);
  if (algo != kernels::ConvAlgo::Winograd2x2 && algo != kernels::ConvAlgo::Winograd4x4)
    return nullptr;
  const std::string key = std::string("conv2d_forward ") + kernels::conv_algo_name(algo) +
                          " " + kernels::winograd_filters_layout() + " offset " +
                          std::to_string(w.offset()) + " " + shape_str(w.shape());
  return w.storage()->derived<kernels::PreparedFilters>(key, [&] {
    return std::make_shared<const kernels::PreparedFilters>(
        kernels::prepare_conv2d_filters(g, w.data<float>(), algo));
  });
}

}  // namespace

kernels::ConvGeom conv2d_geom(const Tensor& x, const Tensor& w, const Conv2dArgs& args) {
  require(x.defined() && w.defined(), "input or weight is undefined");
  check_dtypes(x, w, "input", "weight");
  return geom_from_shapes(x.shape(), w.shape(), args);
}

Tensor conv2d_forward(const Tensor& x_in, const Tensor& w_in, const Tensor& b_in,
                      const Conv2dArgs& args) {
  return conv2d_forward(x_in, w_in, b_in, args, Conv2dEpilogue());
}

Tensor conv2d_forward(const Tensor& x_in, const Tensor& w_in, const Tensor& b_in,
                      const Conv2dArgs& args, const Conv2dEpilogue& epilogue) {
  const kernels::ConvGeom g = conv2d_geom(x_in, w_in, args);
  const bool bn = epilogue.mean.defined() || epilogue.scale.defined() || epilogue.shift.defined();
  const auto check_channels = [&](const Tensor& t, const char* name) {
    require(t.defined() && t.shape() == Shape{g.OC},
            std::string("epilogue ") + name + " " +
                (t.defined() ? shape_str(t.shape()) : std::string("undefined")) + " must be [" +
                std::to_string(g.OC) + "] for weight " + shape_str(w_in.shape()));
    check_dtypes(t, x_in, name, "input");
  };
  if (bn) {
    check_channels(epilogue.mean, "mean");
    check_channels(epilogue.scale, "scale");
    check_channels(epilogue.shift, "shift");
  }
  if (epilogue.residual.defined()) {
    require(epilogue.residual.shape() == output_shape(g),
            "epilogue residual " + shape_str(epilogue.residual.shape()) +
                " does not match the output " + shape_str(output_shape(g)));
    check_dtypes(epilogue.residual, x_in, "residual", "input");
  }
  if (b_in.defined()) {
    require(b_in.shape() == Shape{g.OC}, "bias " + shape_str(b_in.shape()) + " must be [" +
                                             std::to_string(g.OC) + "] for weight " +
                                             shape_str(w_in.shape()));
    check_dtypes(b_in, x_in, "bias", "input");
  }
  const Tensor x = x_in.contiguous(), w = w_in.contiguous();
  const Tensor b = b_in.defined() ? b_in.contiguous() : Tensor();
  Tensor y = Tensor::empty(output_shape(g), x.dtype());
  if (y.numel() == 0) return y;
  dispatch_floating(x.dtype(), "conv2d", [&](auto tag) {
    using T = decltype(tag);
    std::shared_ptr<const kernels::PreparedFilters> prepared;
    if constexpr (std::is_same_v<T, float>) {
      if (args.reuse_prepared_weights) prepared = prepared_filters(g, w, args.algo);
    }
    // Contiguous copies (or the tensors themselves) that outlive the kernel call.
    const Tensor mean = bn ? epilogue.mean.contiguous() : Tensor();
    const Tensor scale = bn ? epilogue.scale.contiguous() : Tensor();
    const Tensor shift = bn ? epilogue.shift.contiguous() : Tensor();
    const Tensor residual =
        epilogue.residual.defined() ? epilogue.residual.contiguous() : Tensor();
    kernels::ConvEpilogue<T> ep;
    if (bn) {
      ep.mean = mean.data<T>();
      ep.scale = scale.data<T>();
      ep.shift = shift.data<T>();
    }
    if (residual.defined()) ep.residual = residual.data<T>();
    ep.relu = epilogue.relu;
    const bool any = bn || residual.defined() || epilogue.relu;
    kernels::conv2d_forward<T>(g, x.data<T>(), w.data<T>(), b.defined() ? b.data<T>() : nullptr,
                               y.data<T>(), args.algo, prepared.get(), any ? &ep : nullptr);
  });
  return y;
}

Tensor conv2d_backward_input(const Tensor& grad_y, const Tensor& w_in, const Shape& x_shape,
                             const Conv2dArgs& args) {
  require(w_in.defined(), "backward_input: weight is undefined");
  const kernels::ConvGeom g = geom_from_shapes(x_shape, w_in.shape(), args);
  check_grad_output(grad_y, g, "backward_input");
  check_dtypes(grad_y, w_in, "grad_output", "weight");
  const Tensor dy = grad_y.contiguous(), w = w_in.contiguous();
  // The kernels overwrite every element, so no zero-fill pass (except when there is no work).
  if (shape_numel(x_shape) == 0 || dy.numel() == 0) return Tensor::zeros(x_shape, dy.dtype());
  Tensor dx = Tensor::empty(x_shape, dy.dtype());
  dispatch_floating(dy.dtype(), "conv2d", [&](auto tag) {
    using T = decltype(tag);
    kernels::conv2d_backward_input<T>(g, dy.data<T>(), w.data<T>(), dx.data<T>(),
                                      args.algo_for_backward());
  });
  return dx;
}

Tensor conv2d_backward_weight(const Tensor& grad_y, const Tensor& x_in, const Shape& w_shape,
                              const Conv2dArgs& args) {
  require(x_in.defined(), "backward_weight: input is undefined");
  const kernels::ConvGeom g = geom_from_shapes(x_in.shape(), w_shape, args);
  check_grad_output(grad_y, g, "backward_weight");
  check_dtypes(grad_y, x_in, "grad_output", "input");
  const Tensor dy = grad_y.contiguous(), x = x_in.contiguous();
  if (shape_numel(w_shape) == 0 || dy.numel() == 0) return Tensor::zeros(w_shape, dy.dtype());
  Tensor dw = Tensor::empty(w_shape, dy.dtype());  // overwritten by the kernel
  dispatch_floating(dy.dtype(), "conv2d", [&](auto tag) {
    using T = decltype(tag);
    kernels::conv2d_backward_weight<T>(g, dy.data<T>(), x.data<T>(), dw.data<T>(),
                                       args.algo_for_backward());
  });
  return dw;
}

Tensor conv2d_backward_bias(const Tensor& grad_y_in) {
  require(grad_y_in.defined() && grad_y_in.dim() == 4,
          "backward_bias: grad_output must be [N, OC, OH, OW], got " +
              (grad_y_in.defined() ? shape_str(grad_y_in.shape()) : std::string("undefined")));
  const Tensor dy = grad_y_in.contiguous();
  const int64_t N = dy.size(0), OC = dy.size(1), P = dy.size(2) * dy.size(3);
  Tensor db = Tensor::empty({OC}, dy.dtype());
  dispatch_floating(dy.dtype(), "conv2d", [&](auto tag) {
    using T = decltype(tag);
    const T* src = dy.data<T>();
    T* out = db.data<T>();
    // One channel per iteration: each output is a sum over N planes of OH*OW contiguous values.
#ifdef DL_WITH_OPENMP
#pragma omp parallel for schedule(static) if (N * OC * P >= 32768)
#endif
    for (int64_t oc = 0; oc < OC; ++oc) {
      double acc = 0.0;
      for (int64_t n = 0; n < N; ++n) {
        const T* plane = src + (n * OC + oc) * P;
        for (int64_t i = 0; i < P; ++i) acc += double(plane[i]);
      }
      out[oc] = T(acc);
    }
  });
  return db;
}

}  // namespace dl
