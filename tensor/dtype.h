// dtype.h — the element types a Tensor can hold, chosen at run time.
// float64 exists so that gradient checks can be exact (tutorial chapter 3);
// int64 holds indices and labels. Chapter 1 explains dtypes and storage.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace dl {

/// Element type of a Tensor. Chosen at run time so one code path serves f32 training and f64 checks.
enum class DType { Float32, Float64, Int64 };

/// Bytes per element of @p t.
inline std::size_t dtype_size(DType t) {
  switch (t) {
    case DType::Float32: return 4;
    case DType::Float64: return 8;
    case DType::Int64: return 8;
  }
  return 0;
}

/// Short name as PyTorch prints it ("float32", "float64", "int64").
inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int64: return "int64";
  }
  return "?";
}

/// True for float32 and float64, the types that can carry gradients.
inline bool is_floating(DType t) { return t != DType::Int64; }

/// Maps a C++ scalar type to its DType at compile time.
template <class T> struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::Float32; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::Float64; };
template <> struct DTypeOf<int64_t> { static constexpr DType value = DType::Int64; };

/// Calls f(T{}) with T the C++ type of a floating dtype; throws for int64.
/// Lets one templated body serve both float32 and float64.
template <class F>
decltype(auto) dispatch_floating(DType t, const char* op, F&& f) {
  switch (t) {
    case DType::Float32: return f(float{});
    case DType::Float64: return f(double{});
    default: break;
  }
  throw std::invalid_argument(std::string(op) + ": expected a float32 or float64 tensor, got " +
                              dtype_name(t));
}

/// Like dispatch_floating, but also accepts int64.
template <class F>
decltype(auto) dispatch_all(DType t, F&& f) {
  switch (t) {
    case DType::Float32: return f(float{});
    case DType::Float64: return f(double{});
    case DType::Int64: break;
  }
  return f(int64_t{});
}

}  // namespace dl
