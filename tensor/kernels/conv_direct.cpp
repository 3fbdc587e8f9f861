// conv_direct.cpp — direct 2-D convolution loops (tutorial chapter 5): the reference oracle.
// Legend: N batch, C in-channels, H/W input size, OC out-channels, KH/KW kernel size, OH/OW
// output size. For any stride, padding and dilation:
//   y[n,oc,oh,ow] = b[oc] + sum_{c,kh,kw} x[n,c, oh*sh - ph + kh*dh, ow*sw - pw + kw*dw] * w[oc,c,kh,kw]
// Taps that land in the zero padding are skipped. Every sum is accumulated in double (one
// double plane per output channel or input channel), so float results are correctly rounded
// to within an ulp or so. No tiling, no SIMD intrinsics, no threads: every fast kernel is
// tested against these loops. The innermost loops run along a contiguous row, which keeps
// the oracle fast enough to check ImageNet-sized layers in the unit tests.
#include <cstddef>
#include <vector>

#include "tensor/kernels/conv.h"
#include "tensor/kernels/conv_taps.h"

namespace dl::kernels {

template <class T>
void conv2d_forward_direct(const ConvGeom& g, const T* x, const T* w, const T* b, T* y) {
  const int64_t OH = g.out_h(), OW = g.out_w();
  std::vector<double> acc(static_cast<size_t>(OH * OW));  // y[n, oc] in double
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t oc = 0; oc < g.OC; ++oc) {
      for (auto& a : acc) a = b != nullptr ? double(b[oc]) : 0.0;
      for (int64_t c = 0; c < g.C; ++c) {
        const T* xc = x + (n * g.C + c) * g.H * g.W;
        for (int64_t kh = 0; kh < g.KH; ++kh)
          for (int64_t kw = 0; kw < g.KW; ++kw) {
            const double wv = double(w[((oc * g.C + c) * g.KH + kh) * g.KW + kw]);
            const int64_t off_w = kw * g.dil_w - g.pad_w;
            int64_t lo, hi;
            tap_range(off_w, g.stride_w, g.W, OW, lo, hi);
            for (int64_t oh = 0; oh < OH; ++oh) {
              const int64_t ih = oh * g.stride_h - g.pad_h + kh * g.dil_h;
              if (ih < 0 || ih >= g.H) continue;
              const T* xr = xc + ih * g.W;
              double* ar = acc.data() + oh * OW;
              for (int64_t ow = lo; ow < hi; ++ow)
                ar[ow] += wv * double(xr[ow * g.stride_w + off_w]);
            }
          }
      }
      T* yo = y + (n * g.OC + oc) * OH * OW;
      for (int64_t i = 0; i < OH * OW; ++i) yo[i] = T(acc[i]);
    }
}

// dx[n,c] receives, from every output pixel and tap, dy * w at the input pixel that tap read:
// the same loops as the forward pass with the roles of x and y swapped (a scatter).
template <class T>
void conv2d_backward_input_direct(const ConvGeom& g, const T* dy, const T* w, T* dx) {
  const int64_t OH = g.out_h(), OW = g.out_w();
  std::vector<double> acc(static_cast<size_t>(g.H * g.W));  // dx[n, c] in double
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t c = 0; c < g.C; ++c) {
      for (auto& a : acc) a = 0.0;
      for (int64_t oc = 0; oc < g.OC; ++oc) {
        const T* dyo = dy + (n * g.OC + oc) * OH * OW;
        for (int64_t kh = 0; kh < g.KH; ++kh)
          for (int64_t kw = 0; kw < g.KW; ++kw) {
            const double wv = double(w[((oc * g.C + c) * g.KH + kh) * g.KW + kw]);
            const int64_t off_w = kw * g.dil_w - g.pad_w;
            int64_t lo, hi;
            tap_range(off_w, g.stride_w, g.W, OW, lo, hi);
            for (int64_t oh = 0; oh < OH; ++oh) {
              const int64_t ih = oh * g.stride_h - g.pad_h + kh * g.dil_h;
              if (ih < 0 || ih >= g.H) continue;
              double* ar = acc.data() + ih * g.W;
              const T* dr = dyo + oh * OW;
              for (int64_t ow = lo; ow < hi; ++ow)
                ar[ow * g.stride_w + off_w] += wv * double(dr[ow]);
            }
          }
      }
      T* dxc = dx + (n * g.C + c) * g.H * g.W;
      for (int64_t i = 0; i < g.H * g.W; ++i) dxc[i] = T(acc[i]);
    }
}

// dw[oc,c,kh,kw] = sum over images and output pixels of dy * (the input value the tap read).
// One double partial sum per output column keeps the inner loop free of a serial dependency.
template <class T>
void conv2d_backward_weight_direct(const ConvGeom& g, const T* dy, const T* x, T* dw) {
  const int64_t OH = g.out_h(), OW = g.out_w();
  std::vector<double> acc(static_cast<size_t>(OW));
  for (int64_t oc = 0; oc < g.OC; ++oc)
    for (int64_t c = 0; c < g.C; ++c)
      for (int64_t kh = 0; kh < g.KH; ++kh)
        for (int64_t kw = 0; kw < g.KW; ++kw) {
          for (auto& a : acc) a = 0.0;
          const int64_t off_w = kw * g.dil_w - g.pad_w;
          int64_t lo, hi;
          tap_range(off_w, g.stride_w, g.W, OW, lo, hi);
          for (int64_t n = 0; n < g.N; ++n) {
            const T* dyo = dy + (n * g.OC + oc) * OH * OW;
            const T* xc = x + (n * g.C + c) * g.H * g.W;
            for (int64_t oh = 0; oh < OH; ++oh) {
              const int64_t ih = oh * g.stride_h - g.pad_h + kh * g.dil_h;
              if (ih < 0 || ih >= g.H) continue;
              const T* xr = xc + ih * g.W;
              const T* dr = dyo + oh * OW;
              for (int64_t ow = lo; ow < hi; ++ow)
                acc[ow] += double(dr[ow]) * double(xr[ow * g.stride_w + off_w]);
            }
          }
          double s = 0.0;
          for (int64_t ow = 0; ow < OW; ++ow) s += acc[ow];
          dw[((oc * g.C + c) * g.KH + kh) * g.KW + kw] = T(s);
        }
}

template void conv2d_forward_direct<float>(const ConvGeom&, const float*, const float*,
                                           const float*, float*);
template void conv2d_forward_direct<double>(const ConvGeom&, const double*, const double*,
                                            const double*, double*);
template void conv2d_backward_input_direct<float>(const ConvGeom&, const float*, const float*,
                                                  float*);
template void conv2d_backward_input_direct<double>(const ConvGeom&, const double*,
                                                   const double*, double*);
template void conv2d_backward_weight_direct<float>(const ConvGeom&, const float*, const float*,
                                                   float*);
template void conv2d_backward_weight_direct<double>(const ConvGeom&, const double*,
                                                    const double*, double*);

}  // namespace dl::kernels
