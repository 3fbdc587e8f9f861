// tensor.cpp — storage, factories, views, copies and printing of Tensor (tutorial chapter 1).
// A view op only computes a new (shape, strides, offset) over the same Storage; the data never
// moves. contiguous(), clone() and to() are the only places that copy.
#include "tensor/tensor.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iomanip>
#include <numeric>
#include <ostream>
#include <sstream>
#include <stdexcept>

#include "tensor/strided_loop.h"

namespace dl {

// ---- Storage -----------------------------------------------------------------------------------

Storage::Storage(std::size_t nbytes) : nbytes_(nbytes) {
  // 64-byte alignment lets SIMD kernels use aligned loads on fresh tensors.
  const std::size_t rounded = ((nbytes + 63) / 64) * 64;
  data_ = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  if (!data_) throw std::bad_alloc();
}

Storage::~Storage() { std::free(data_); }

// ---- construction ------------------------------------------------------------------------------

Tensor::Tensor(std::shared_ptr<Storage> storage, DType dtype, Shape shape, Shape strides,
               int64_t offset)
    : storage_(std::move(storage)),
      dtype_(dtype),
      shape_(std::move(shape)),
      strides_(std::move(strides)),
      offset_(offset) {}

namespace {

void check_shape(const Shape& shape, const char* op) {
  for (int64_t d : shape)
    if (d < 0)
      throw std::invalid_argument(std::string(op) + ": negative dimension in shape " +
                                  shape_str(shape));
}

/// Writes `value(i)` into element i of a fresh contiguous tensor, converting to its dtype.
template <class Fn>
Tensor fill_with(const Shape& shape, DType dtype, Fn&& value) {
  Tensor t = Tensor::empty(shape, dtype);
  const int64_t n = t.numel();
  dispatch_all(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(value(i));
  });
  return t;
}

}  // namespace

Tensor Tensor::empty(const Shape& shape, DType dtype) {
  check_shape(shape, "empty");
  auto storage = std::make_shared<Storage>(shape_numel(shape) * dtype_size(dtype));
  return Tensor(std::move(storage), dtype, shape, contiguous_strides(shape), 0);
}

Tensor Tensor::zeros(const Shape& shape, DType dtype) { return full(shape, 0.0, dtype); }
Tensor Tensor::ones(const Shape& shape, DType dtype) { return full(shape, 1.0, dtype); }

Tensor Tensor::full(const Shape& shape, double value, DType dtype) {
  Tensor t = empty(shape, dtype);
  t.fill_(value);
  return t;
}

Tensor Tensor::scalar(double value, DType dtype) {
  return fill_with({}, dtype, [value](int64_t) { return value; });
}

Tensor Tensor::arange(int64_t n, DType dtype) { return arange(0.0, double(n), 1.0, dtype); }

Tensor Tensor::arange(double start, double end, double step, DType dtype) {
  if (step == 0.0) throw std::invalid_argument("arange: step must be non-zero");
  const int64_t n = std::max<int64_t>(0, static_cast<int64_t>(std::ceil((end - start) / step)));
  return fill_with({n}, dtype, [&](int64_t i) { return start + step * double(i); });
}

namespace {
template <class T>
Tensor from_values(const std::vector<T>& values, const Shape& shape) {
  if (static_cast<int64_t>(values.size()) != shape_numel(shape))
    throw std::invalid_argument("from_vector: " + std::to_string(values.size()) +
                                " values cannot fill shape " + shape_str(shape) + " (" +
                                std::to_string(shape_numel(shape)) + " elements)");
  Tensor t = Tensor::empty(shape, DTypeOf<T>::value);
  std::copy(values.begin(), values.end(), t.data<T>());
  return t;
}
}  // namespace

Tensor Tensor::from_vector(const std::vector<float>& v, const Shape& s) { return from_values(v, s); }
Tensor Tensor::from_vector(const std::vector<double>& v, const Shape& s) { return from_values(v, s); }
Tensor Tensor::from_vector(const std::vector<int64_t>& v, const Shape& s) { return from_values(v, s); }

Tensor Tensor::of(std::initializer_list<double> values, DType dtype) {
  std::vector<double> v(values);
  return from_vector(v, {int64_t(v.size())}).to(dtype);
}

Tensor Tensor::of2d(std::initializer_list<std::initializer_list<double>> rows, DType dtype) {
  std::vector<double> v;
  const int64_t cols = rows.size() ? int64_t(rows.begin()->size()) : 0;
  for (const auto& r : rows) {
    if (int64_t(r.size()) != cols)
      throw std::invalid_argument("of2d: rows have different lengths (" + std::to_string(cols) +
                                  " vs " + std::to_string(r.size()) + ")");
    v.insert(v.end(), r.begin(), r.end());
  }
  return from_vector(v, {int64_t(rows.size()), cols}).to(dtype);
}

// Random factories draw sequentially from one generator, so results are identical whatever
// the thread count.
Tensor Tensor::uniform(const Shape& shape, double low, double high, Generator& gen, DType dtype) {
  return fill_with(shape, dtype, [&](int64_t) { return low + (high - low) * gen.uniform(); });
}

Tensor Tensor::normal(const Shape& shape, double mean, double std, Generator& gen, DType dtype) {
  return fill_with(shape, dtype, [&](int64_t) { return mean + std * gen.normal(); });
}

Tensor Tensor::randn(const Shape& shape, Generator& gen, DType dtype) {
  return normal(shape, 0.0, 1.0, gen, dtype);
}

// ---- metadata ----------------------------------------------------------------------------------

void Tensor::check_defined(const char* op) const {
  if (!defined()) throw std::invalid_argument(std::string(op) + ": tensor is undefined");
}

int64_t Tensor::size(int64_t d) const { return shape_[wrap_dim(d, dim(), "size")]; }
int64_t Tensor::stride(int64_t d) const { return strides_[wrap_dim(d, dim(), "stride")]; }

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (int64_t d = dim() - 1; d >= 0; --d) {
    if (shape_[d] == 1) continue;
    if (strides_[d] != expected) return false;
    expected *= shape_[d];
  }
  return true;
}

void* Tensor::raw_data() {
  check_defined("raw_data");
  return static_cast<char*>(storage_->data()) + offset_ * int64_t(dtype_size(dtype_));
}
const void* Tensor::raw_data() const { return const_cast<Tensor*>(this)->raw_data(); }

// ---- element access ----------------------------------------------------------------------------

namespace {
int64_t element_offset(const Tensor& t, const std::vector<int64_t>& index, const char* op) {
  if (int64_t(index.size()) != t.dim())
    throw std::out_of_range(std::string(op) + ": index has " + std::to_string(index.size()) +
                            " entries but the tensor of shape " + shape_str(t.shape()) + " has " +
                            std::to_string(t.dim()) + " dims");
  int64_t off = 0;
  for (int64_t d = 0; d < t.dim(); ++d) {
    int64_t i = index[d] < 0 ? index[d] + t.shape()[d] : index[d];
    if (i < 0 || i >= t.shape()[d])
      throw std::out_of_range(std::string(op) + ": index " + shape_str(index) +
                              " is out of range for shape " + shape_str(t.shape()));
    off += i * t.strides()[d];
  }
  return off;
}
}  // namespace

double Tensor::at(const std::vector<int64_t>& index) const {
  check_defined("at");
  const int64_t off = element_offset(*this, index, "at");
  return dispatch_all(dtype_, [&](auto tag) {
    using T = decltype(tag);
    return static_cast<double>(data<T>()[off]);
  });
}

void Tensor::set(const std::vector<int64_t>& index, double value) {
  check_defined("set");
  const int64_t off = element_offset(*this, index, "set");
  dispatch_all(dtype_, [&](auto tag) {
    using T = decltype(tag);
    data<T>()[off] = static_cast<T>(value);
  });
}

double Tensor::item() const {
  check_defined("item");
  if (numel() != 1)
    throw std::invalid_argument("item: tensor of shape " + shape_str(shape_) +
                                " has " + std::to_string(numel()) + " elements, expected 1");
  return at(std::vector<int64_t>(dim(), 0));
}

std::vector<double> Tensor::to_vector() const {
  check_defined("to_vector");
  Tensor c = to(DType::Float64).contiguous();
  const double* p = c.data<double>();
  return std::vector<double>(p, p + c.numel());
}

// ---- views -------------------------------------------------------------------------------------

namespace {
/// Resolves one -1 in a requested shape and checks the element count.
Shape infer_shape(const Shape& requested, int64_t numel, const Shape& from, const char* op) {
  Shape s = requested;
  int64_t known = 1, infer_at = -1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      if (infer_at >= 0) throw std::invalid_argument(std::string(op) + ": only one dim can be -1");
      infer_at = int64_t(i);
    } else if (s[i] < 0) {
      throw std::invalid_argument(std::string(op) + ": invalid shape " + shape_str(requested));
    } else {
      known *= s[i];
    }
  }
  if (infer_at >= 0 && known != 0 && numel % known == 0) s[infer_at] = numel / known;
  if (shape_numel(s) != numel || (infer_at >= 0 && known == 0))
    throw std::invalid_argument(std::string(op) + ": shape " + shape_str(requested) +
                                " is invalid for a tensor of shape " + shape_str(from) + " (" +
                                std::to_string(numel) + " elements)");
  return s;
}

/// Strides for viewing (shape, strides) as new_shape without copying, or false when the
/// memory layout makes it impossible (PyTorch's computeStride algorithm, in our words:
/// each group of old dims that multiply to a group of new dims must itself be contiguous).
bool view_strides(const Shape& shape, const Shape& strides, const Shape& new_shape, Shape& out) {
  out.assign(new_shape.size(), 0);
  if (shape.empty() || shape_numel(shape) == 0) {
    out = contiguous_strides(new_shape);
    return true;
  }
  int64_t view_d = int64_t(new_shape.size()) - 1;
  int64_t base_stride = strides.back();  // stride of the innermost dim of the current chunk
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) {
    tensor_numel *= shape[d];
    // A chunk of old dims ends where the next outer dim is not laid out right after it.
    const bool chunk_ends =
        d == 0 || (shape[d - 1] != 1 && strides[d - 1] != tensor_numel * base_stride);
    if (!chunk_ends) continue;
    // Give the new dims covering this chunk strides within the chunk.
    while (view_d >= 0 && (view_numel < tensor_numel || new_shape[view_d] == 1)) {
      out[view_d] = view_numel * base_stride;
      view_numel *= new_shape[view_d];
      --view_d;
    }
    if (view_numel != tensor_numel) return false;
    if (d > 0) {
      base_stride = strides[d - 1];
      tensor_numel = view_numel = 1;
    }
  }
  return view_d == -1;
}
}  // namespace

Tensor Tensor::view(const Shape& shape) const {
  check_defined("view");
  Shape s = infer_shape(shape, numel(), shape_, "view");
  Shape st;
  if (!view_strides(shape_, strides_, s, st))
    throw std::invalid_argument("view: cannot view a tensor of shape " + shape_str(shape_) +
                                " with strides " + shape_str(strides_) + " as " + shape_str(s) +
                                " without copying; use reshape()");
  return Tensor(storage_, dtype_, s, st, offset_);
}

Tensor Tensor::reshape(const Shape& shape) const {
  check_defined("reshape");
  Shape s = infer_shape(shape, numel(), shape_, "reshape");
  Shape st;
  if (view_strides(shape_, strides_, s, st)) return Tensor(storage_, dtype_, s, st, offset_);
  return contiguous().view(s);
}

Tensor Tensor::permute(const std::vector<int64_t>& dims) const {
  check_defined("permute");
  if (int64_t(dims.size()) != dim())
    throw std::invalid_argument("permute: " + std::to_string(dims.size()) +
                                " dims given for a tensor of shape " + shape_str(shape_));
  Shape s(dim()), st(dim());
  std::vector<bool> seen(dim(), false);
  for (int64_t i = 0; i < dim(); ++i) {
    const int64_t d = wrap_dim(dims[i], dim(), "permute");
    if (seen[d]) throw std::invalid_argument("permute: dim " + std::to_string(d) + " repeated");
    seen[d] = true;
    s[i] = shape_[d];
    st[i] = strides_[d];
  }
  return Tensor(storage_, dtype_, s, st, offset_);
}

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  std::vector<int64_t> dims(dim());
  std::iota(dims.begin(), dims.end(), 0);
  std::swap(dims[wrap_dim(d0, dim(), "transpose")], dims[wrap_dim(d1, dim(), "transpose")]);
  return permute(dims);
}

Tensor Tensor::slice(int64_t d, int64_t start, int64_t end, int64_t step) const {
  check_defined("slice");
  d = wrap_dim(d, dim(), "slice");
  if (step <= 0) throw std::invalid_argument("slice: step must be positive, got " + std::to_string(step));
  const int64_t n = shape_[d];
  auto clamp = [n](int64_t i) { return std::clamp(i < 0 ? i + n : i, int64_t(0), n); };
  start = clamp(start);
  end = std::max(clamp(end), start);
  Shape s = shape_, st = strides_;
  s[d] = (end - start + step - 1) / step;
  st[d] = strides_[d] * step;
  return Tensor(storage_, dtype_, s, st, offset_ + start * strides_[d]);
}

Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const {
  check_defined("narrow");
  d = wrap_dim(d, dim(), "narrow");
  if (start < 0 || length < 0 || start + length > shape_[d])
    throw std::out_of_range("narrow: range [" + std::to_string(start) + ", " +
                            std::to_string(start + length) + ") is out of bounds for dim " +
                            std::to_string(d) + " of shape " + shape_str(shape_));
  return slice(d, start, start + length);
}

Tensor Tensor::select(int64_t d, int64_t index) const {
  check_defined("select");
  d = wrap_dim(d, dim(), "select");
  const int64_t i = index < 0 ? index + shape_[d] : index;
  if (i < 0 || i >= shape_[d])
    throw std::out_of_range("select: index " + std::to_string(index) + " is out of range for dim " +
                            std::to_string(d) + " of shape " + shape_str(shape_));
  Shape s = shape_, st = strides_;
  s.erase(s.begin() + d);
  st.erase(st.begin() + d);
  return Tensor(storage_, dtype_, s, st, offset_ + i * strides_[d]);
}

Tensor Tensor::expand(const Shape& shape) const {
  check_defined("expand");
  if (shape.size() < shape_.size())
    throw std::invalid_argument("expand: cannot expand shape " + shape_str(shape_) + " to " +
                                shape_str(shape) + " (fewer dims)");
  const size_t lead = shape.size() - shape_.size();
  Shape s(shape.size()), st(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i < lead) {
      if (shape[i] < 0) throw std::invalid_argument("expand: -1 is not allowed for new leading dims");
      s[i] = shape[i];
      st[i] = 0;
      continue;
    }
    const int64_t old = shape_[i - lead];
    const int64_t want = shape[i] == -1 ? old : shape[i];
    if (old != want && old != 1)
      throw std::invalid_argument("expand: cannot expand shape " + shape_str(shape_) + " to " +
                                  shape_str(shape));
    s[i] = want;
    st[i] = (old == want) ? strides_[i - lead] : 0;  // stride 0 repeats the one element
  }
  return Tensor(storage_, dtype_, s, st, offset_);
}

Tensor Tensor::squeeze() const {
  check_defined("squeeze");
  Shape s, st;
  for (int64_t d = 0; d < dim(); ++d)
    if (shape_[d] != 1) {
      s.push_back(shape_[d]);
      st.push_back(strides_[d]);
    }
  return Tensor(storage_, dtype_, s, st, offset_);
}

Tensor Tensor::squeeze(int64_t d) const {
  check_defined("squeeze");
  d = wrap_dim(d, dim(), "squeeze");
  if (shape_[d] != 1) return *this;
  Shape s = shape_, st = strides_;
  s.erase(s.begin() + d);
  st.erase(st.begin() + d);
  return Tensor(storage_, dtype_, s, st, offset_);
}

Tensor Tensor::unsqueeze(int64_t d) const {
  check_defined("unsqueeze");
  d = wrap_dim(d, dim() + 1, "unsqueeze");
  Shape s = shape_, st = strides_;
  const int64_t new_stride = d < dim() ? strides_[d] * shape_[d] : 1;
  s.insert(s.begin() + d, 1);
  st.insert(st.begin() + d, new_stride);
  return Tensor(storage_, dtype_, s, st, offset_);
}

Tensor Tensor::flatten(int64_t start, int64_t end) const {
  check_defined("flatten");
  if (dim() == 0) return reshape({1});
  start = wrap_dim(start, dim(), "flatten");
  end = wrap_dim(end, dim(), "flatten");
  if (start > end) throw std::invalid_argument("flatten: start dim is after end dim");
  Shape s(shape_.begin(), shape_.begin() + start);
  int64_t merged = 1;
  for (int64_t d = start; d <= end; ++d) merged *= shape_[d];
  s.push_back(merged);
  s.insert(s.end(), shape_.begin() + end + 1, shape_.end());
  return reshape(s);
}

// ---- copies ------------------------------------------------------------------------------------

Tensor Tensor::contiguous() const {
  check_defined("contiguous");
  return is_contiguous() ? *this : clone();
}

Tensor Tensor::clone() const {
  check_defined("clone");
  Tensor out = empty(shape_, dtype_);
  out.copy_(*this);
  return out;
}

Tensor Tensor::to(DType dtype) const {
  check_defined("to");
  if (dtype == dtype_) return *this;
  Tensor out = empty(shape_, dtype);
  out.copy_(*this);
  return out;
}

// ---- in-place ----------------------------------------------------------------------------------

namespace {
/// Strides of @p src broadcast to @p shape (0 where src is broadcast), for in-place ops.
Shape broadcast_strides_to(const Tensor& src, const Shape& shape, const char* op) {
  if (broadcast_shapes(src.shape(), shape, op) != shape)
    throw std::invalid_argument(std::string(op) + ": shape " + shape_str(src.shape()) +
                                " cannot be broadcast to " + shape_str(shape));
  return src.expand(shape).strides();
}

/// dst[i] = f(dst[i], src[i]) over dst's view, src broadcast and converted to dst's dtype.
template <class F>
void inplace_binary(Tensor& dst, const Tensor& src_in, const char* op, F f) {
  if (!dst.defined() || !src_in.defined())
    throw std::invalid_argument(std::string(op) + ": tensor is undefined");
  const Tensor src = src_in.to(dst.dtype());
  const Shape sst = broadcast_strides_to(src, dst.shape(), op);
  dispatch_all(dst.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* d = static_cast<T*>(dst.storage()->data());
    const T* s = static_cast<const T*>(src.storage()->data());
    const int64_t d0 = dst.offset(), s0 = src.offset();
    detail::strided_for_each<2>(dst.shape(), {dst.strides(), sst},
                                [&](const std::array<int64_t, 2>& o, int64_t n,
                                    const std::array<int64_t, 2>& st) {
                                  T* dp = d + d0 + o[0];
                                  const T* sp = s + s0 + o[1];
                                  for (int64_t i = 0; i < n; ++i)
                                    dp[i * st[0]] = f(dp[i * st[0]], sp[i * st[1]]);
                                });
  });
}
}  // namespace

Tensor& Tensor::copy_(const Tensor& src) {
  inplace_binary(*this, src, "copy_", [](auto, auto s) { return s; });
  return *this;
}

Tensor& Tensor::add_(const Tensor& other, double alpha) {
  dispatch_all(dtype_, [&](auto tag) {
    using T = decltype(tag);
    const T a = static_cast<T>(alpha);
    inplace_binary(*this, other, "add_", [a](T d, T s) { return T(d + a * s); });
  });
  return *this;
}

Tensor& Tensor::mul_(const Tensor& other) {
  inplace_binary(*this, other, "mul_", [](auto d, auto s) { return decltype(d)(d * s); });
  return *this;
}

Tensor& Tensor::add_(double value) { return add_(scalar(value, dtype_)); }
Tensor& Tensor::mul_(double value) { return mul_(scalar(value, dtype_)); }
Tensor& Tensor::fill_(double value) { return copy_(scalar(value, DType::Float64)); }
Tensor& Tensor::zero_() { return fill_(0.0); }

// ---- printing ----------------------------------------------------------------------------------

namespace {
/// Formats like PyTorch: "1." for whole numbers, 4 decimals otherwise, scientific for extremes.
struct NumberFormat {
  bool integral = true, scientific = false, is_int = false;
  explicit NumberFormat(const std::vector<double>& v, DType dtype) {
    is_int = dtype == DType::Int64;
    double maxabs = 0, minabs = INFINITY;
    for (double x : v) {
      if (!std::isfinite(x)) continue;
      if (x != std::floor(x)) integral = false;
      maxabs = std::max(maxabs, std::fabs(x));
      if (x != 0) minabs = std::min(minabs, std::fabs(x));
    }
    scientific = maxabs >= 1e8 || (!integral && minabs < 1e-4);
  }
  std::string operator()(double x) const {
    std::ostringstream os;
    if (is_int) os << static_cast<int64_t>(x);
    else if (std::isnan(x)) os << "nan";
    else if (std::isinf(x)) os << (x < 0 ? "-inf" : "inf");
    else if (scientific) os << std::scientific << std::setprecision(4) << x;
    else if (integral) os << static_cast<int64_t>(x) << '.';
    else os << std::fixed << std::setprecision(4) << x;
    return os.str();
  }
};

/// Prints dims from @p d down; shows at most 3 + 3 items per dim when the tensor is large.
void print_dim(std::ostream& os, const std::vector<double>& v, const Shape& shape, size_t d,
               int64_t base, const NumberFormat& fmt, bool summarize, int indent) {
  if (d == shape.size()) {
    os << fmt(v[base]);
    return;
  }
  const int64_t n = shape[d];
  int64_t inner = 1;
  for (size_t k = d + 1; k < shape.size(); ++k) inner *= shape[k];
  os << '[';
  for (int64_t i = 0; i < n; ++i) {
    if (summarize && n > 6 && i == 3) {
      os << "...";
      i = n - 4;
      os << (d + 1 == shape.size() ? ", " : ",\n" + std::string(indent + 1, ' '));
      continue;
    }
    if (i > 0) os << (d + 1 == shape.size() ? ", " : ",\n" + std::string(indent + 1, ' '));
    print_dim(os, v, shape, d + 1, base + i * inner, fmt, summarize, indent + 1);
  }
  os << ']';
}
}  // namespace

std::string Tensor::str() const {
  if (!defined()) return "tensor(undefined)";
  const std::vector<double> v = to_vector();
  std::ostringstream os;
  os << "tensor(";
  print_dim(os, v, shape_, 0, 0, NumberFormat(v, dtype_), numel() > 1000, 7);
  os << ", dtype=" << dtype_name(dtype_) << ", shape=" << shape_str(shape_) << ')';
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

}  // namespace dl
