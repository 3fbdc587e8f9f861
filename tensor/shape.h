// shape.h — shapes, strides and broadcasting rules (tutorial chapter 1).
// A shape lists sizes outermost first (NCHW for images); strides count elements, not bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dl {

/// Sizes of each dimension, outermost first. Also used for strides (in elements).
using Shape = std::vector<int64_t>;

/// "[2, 3, 4]" — the form every error message uses.
std::string shape_str(const Shape& s);

/// Number of elements of a shape (1 for the 0-d shape []).
int64_t shape_numel(const Shape& s);

/// Row-major (C-order) strides of a contiguous tensor of shape @p s.
Shape contiguous_strides(const Shape& s);

/// Wraps a possibly negative dim into [0, ndim); throws std::out_of_range naming @p op.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);

/// NumPy broadcasting of two shapes; throws std::invalid_argument
/// "<op>: shapes [a] and [b] are not broadcastable".
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace dl
