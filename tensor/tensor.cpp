// tensor.cpp — storage, factories, views, copies and printing of Tensor (tutorial chapter 1).
// A view op only computes a new (shape, strides, offset) over the same Storage; the data never
// moves. contiguous(), clone() and to() are the only places that copy.
#include "tensor/tensor.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iomanip>
#include <numeric>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "tensor/allocator.h"
#include "tensor/strided_loop.h"

namespace dl {

// ---- Storage -----------------------------------------------------------------------------------

// The caching allocator (tensor/allocator.h) hands back 64-byte-aligned blocks, so SIMD kernels
// can use aligned loads on fresh tensors, and recycles the blocks of freed storages.
Storage::Storage(std::size_t nbytes)
    : data_(CachingAllocator::global().allocate(nbytes)), nbytes_(nbytes) {}

Storage::~Storage() { CachingAllocator::global().deallocate(data_, nbytes_); }

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
  check_shape(shape, "from_vector");
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
  if (!(low <= high)) {
    std::ostringstream msg;
    msg << "uniform: low (" << low << ") must not exceed high (" << high << ")";
    throw std::invalid_argument(msg.str());
  }
  // Rounding a double just below @p high to float32 can give exactly high; step back one
  // float then, so the range stays half-open in every dtype.
  const double top = dtype == DType::Float32 && low < high
                         ? double(std::nextafter(float(high), float(low)))
                         : high;
  return fill_with(shape, dtype, [&](int64_t) {
    const double v = low + (high - low) * gen.uniform();
    return dtype == DType::Float32 && float(v) >= float(high) ? top : v;
  });
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
  if (numel() == 0) return true;  // no element to be out of place (PyTorch agrees)
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
void Tensor::check_dtype(DType requested) const {
  if (requested != dtype_)
    throw std::invalid_argument(std::string("data: tensor is ") + dtype_name(dtype_) +
                                ", requested " + dtype_name(requested));
}

const void* Tensor::raw_data() const {  // reads only: no version bump
  check_defined("raw_data");
  const Storage& storage = *storage_;
  return static_cast<const char*>(storage.data()) + offset_ * int64_t(dtype_size(dtype_));
}

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
    if (shape[i] < -1)
      throw std::invalid_argument("expand: invalid size " + std::to_string(shape[i]) + " in " +
                                  shape_str(shape));
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
  // The new dim may go anywhere from before the first to after the last: dim()+1 positions.
  if (d < -dim() - 1 || d > dim())
    throw std::out_of_range("unsqueeze: dim " + std::to_string(d) + " is out of range for a tensor with " +
                            std::to_string(dim()) + " dims (expected " + std::to_string(-dim() - 1) +
                            ".." + std::to_string(dim()) + ")");
  if (d < 0) d += dim() + 1;
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
  if (start > end)
    throw std::invalid_argument("flatten: start dim " + std::to_string(start) + " is after end dim " +
                                std::to_string(end));
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

/// Lowest and highest element offset a view touches (numel() > 0).
std::pair<int64_t, int64_t> memory_span(const Shape& shape, const Shape& strides, int64_t offset) {
  int64_t lo = offset, hi = offset;
  for (size_t d = 0; d < shape.size(); ++d) (strides[d] < 0 ? lo : hi) += (shape[d] - 1) * strides[d];
  return {lo, hi};
}

/// dst[i] = f(dst[i], src[i]) over dst's view, src broadcast and converted to dst's dtype.
template <class F>
void inplace_binary(Tensor& dst, const Tensor& src_in, const char* op, F f) {
  if (!dst.defined() || !src_in.defined())
    throw std::invalid_argument(std::string(op) + ": tensor is undefined");
  // An expand()ed destination holds one memory location under several indices; writing it
  // would update that location several times (and race between threads). PyTorch refuses too.
  for (int64_t d = 0; d < dst.dim(); ++d)
    if (dst.strides()[d] == 0 && dst.shape()[d] > 1)
      throw std::invalid_argument(std::string(op) + ": cannot write into an expanded tensor (shape " +
                                  shape_str(dst.shape()) + ", strides " +
                                  shape_str(dst.strides()) +
                                  ") whose elements share memory; clone() it first");
  // The source is read in its own dtype and converted element by element (converting it
  // up front with to() would recurse: to() itself is a copy_ into a fresh tensor).
  Tensor src = src_in;
  Shape sst = broadcast_strides_to(src, dst.shape(), op);
  // When src reads memory that dst writes, other than element-for-element (x.add_(x)), the
  // loop would read values it has already overwritten: work from a copy of src instead.
  if (src.shares_storage(dst) && dst.numel() > 0 &&
      !(src.offset() == dst.offset() && sst == dst.strides())) {
    const auto [slo, shi] = memory_span(dst.shape(), sst, src.offset());
    const auto [dlo, dhi] = memory_span(dst.shape(), dst.strides(), dst.offset());
    if (slo <= dhi && dlo <= shi) {
      src = src.clone();
      sst = broadcast_strides_to(src, dst.shape(), op);
    }
  }
  dispatch_all(dst.dtype(), [&](auto dst_tag) {
    using T = decltype(dst_tag);
    dispatch_all(src.dtype(), [&](auto src_tag) {
      using S = decltype(src_tag);
      T* d = static_cast<T*>(dst.storage()->data()) + dst.offset();
      const S* s = static_cast<const S*>(std::as_const(*src.storage()).data()) + src.offset();
      detail::strided_for_each<2>(
          dst.shape(), {dst.strides(), sst},
          [&](const std::array<int64_t, 2>& o, int64_t n, const std::array<int64_t, 2>& st) {
            T* dp = d + o[0];
            const S* sp = s + o[1];
            for (int64_t i = 0; i < n; ++i)
              dp[i * st[0]] = f(dp[i * st[0]], static_cast<T>(sp[i * st[1]]));
          });
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
// The layout follows PyTorch's torch/_tensor_str.py (print options: precision 4, threshold 1000,
// edgeitems 3, linewidth 80), so our output can be compared with PyTorch's by eye. Two
// differences: the dtype and shape are always printed, and nothing else is (no device or grad).

namespace {

constexpr int kPrecision = 4;       // digits after the point
constexpr int64_t kThreshold = 1000;  // more elements than this are summarised with "..."
constexpr int64_t kEdgeItems = 3;   // items shown at each end of a summarised dim
constexpr int64_t kLineWidth = 80;  // a row of numbers wraps past this column

/// Indices of a dim of size @p n that get printed (the first and last kEdgeItems if summarising).
std::vector<int64_t> shown_indices(int64_t n, bool summarize) {
  std::vector<int64_t> idx;
  for (int64_t i = 0; i < n; ++i)
    if (!summarize || n <= 2 * kEdgeItems || i < kEdgeItems || i >= n - kEdgeItems) idx.push_back(i);
  return idx;
}

/// printf into a std::string (Python's "{:.4f}" and "{:.4e}" print the same digits).
std::string format_number(const char* fmt, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, kPrecision, x);
  return buf;
}
std::string fixed_str(double x) { return format_number("%.*f", x); }  // "1.5000"
std::string sci_str(double x) { return format_number("%.*e", x); }    // "1.5000e-05"
std::string whole_str(double x) {  // "3." ("-0." for negative zero, as Python prints it)
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f.", x);
  return buf;
}

/// Element @p off of t's storage: as double, or exactly for int64 (doubles stop at 2^53).
double element(const Tensor& t, int64_t off) {
  return dispatch_all(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    return double(static_cast<const T*>(std::as_const(*t.storage()).data())[off]);
  });
}
int64_t int_element(const Tensor& t, int64_t off) {
  return static_cast<const int64_t*>(std::as_const(*t.storage()).data())[off];
}

/// Chooses one number style for the whole tensor from the elements that will be printed
/// (storage offsets @p shown): whole numbers print as "3.", others with 4 decimals, and
/// scientific notation takes over when the nonzero magnitudes span more than 1000x, exceed
/// 1e8, or (non-whole) drop below 1e-4. Every number is right-aligned to the widest.
class NumberFormat {
 public:
  NumberFormat(const Tensor& t, const std::vector<int64_t>& shown) : floating_(is_floating(t.dtype())) {
    if (!floating_) {
      for (int64_t off : shown)
        width_ = std::max(width_, int(std::to_string(int_element(t, off)).size()));
      return;
    }
    double lo = INFINITY, hi = 0;
    for (int64_t off : shown) {
      const double x = element(t, off);
      if (!std::isfinite(x) || x == 0) continue;
      lo = std::min(lo, std::fabs(x));
      hi = std::max(hi, std::fabs(x));
      if (x != std::ceil(x)) int_mode_ = false;
    }
    if (hi == 0) return;  // only zeros and non-finite values: "0.", "nan", "inf"
    sci_ = hi / lo > 1000.0 || hi > 1.0e8 || (!int_mode_ && lo < 1.0e-4);
    for (int64_t off : shown) {
      const double x = element(t, off);
      if (std::isfinite(x) && x != 0) width_ = std::max(width_, int(finite_str(x).size()));
    }
  }

  int width() const { return width_; }

  /// Element @p off of t in the chosen style, padded on the left to width().
  std::string operator()(const Tensor& t, int64_t off) const {
    std::string s;
    if (!floating_) {
      s = std::to_string(int_element(t, off));
    } else {
      const double x = element(t, off);
      if (std::isnan(x)) s = "nan";  // printf could say "-nan"; Python never does
      else if (std::isinf(x)) s = x < 0 ? "-inf" : "inf";
      else s = finite_str(x);
    }
    if (int(s.size()) < width_) s.insert(0, size_t(width_) - s.size(), ' ');
    return s;
  }

 private:
  std::string finite_str(double x) const {
    if (sci_) return sci_str(x);
    if (int_mode_) return whole_str(x);
    return fixed_str(x);
  }
  bool floating_;
  bool int_mode_ = true, sci_ = false;
  int width_ = 1;
};

/// Storage offsets of the elements print_dims will show, for choosing the number format.
void collect_shown(const Tensor& t, size_t d, int64_t off, bool summarize, std::vector<int64_t>& out) {
  if (d == t.shape().size()) {
    out.push_back(off);
    return;
  }
  for (int64_t i : shown_indices(t.shape()[d], summarize))
    collect_shown(t, d + 1, off + i * t.strides()[d], summarize, out);
}

/// The text of dims d.. at storage offset @p off; @p indent is the column of its '['.
std::string print_dims(const Tensor& t, size_t d, int64_t off, int64_t indent, bool summarize,
                       const NumberFormat& fmt) {
  const size_t nd = t.shape().size();
  if (d == nd) return fmt(t, off);
  const int64_t n = t.shape()[d];
  std::vector<std::string> items;
  for (int64_t i : shown_indices(n, summarize)) {
    if (summarize && n > 2 * kEdgeItems && i == n - kEdgeItems)
      items.push_back(d + 1 == nd ? " ..." : "...");
    items.push_back(print_dims(t, d + 1, off + i * t.strides()[d], indent + 1, summarize, fmt));
  }
  const std::string pad(size_t(indent + 1), ' ');
  std::string s = "[";
  if (d + 1 == nd) {
    // Innermost dim: as many numbers per line as fit in the line width.
    const int64_t per_line = std::max<int64_t>(1, (kLineWidth - indent) / (fmt.width() + 2));
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) s += i % size_t(per_line) == 0 ? ",\n" + pad : ", ";
      s += items[i];
    }
  } else {
    // Outer dims: one sub-tensor per line, with a blank line per extra level of nesting.
    const std::string sep = "," + std::string(nd - d - 1, '\n') + pad;
    for (size_t i = 0; i < items.size(); ++i) s += (i ? sep : "") + items[i];
  }
  return s + "]";
}

}  // namespace

std::string Tensor::str() const {
  if (!defined()) return "tensor(undefined)";
  std::string s = "tensor(";
  const int64_t indent = int64_t(s.size());
  if (numel() == 0) {
    s += "[]";
  } else {
    const bool summarize = numel() > kThreshold;
    std::vector<int64_t> shown;
    collect_shown(*this, 0, offset_, summarize, shown);
    s += print_dims(*this, 0, offset_, indent, summarize, NumberFormat(*this, shown));
  }
  // The suffixes go on the last line, or on a new one when the line would pass the width.
  const size_t nl = s.rfind('\n');
  int64_t line = nl == std::string::npos ? int64_t(s.size()) : int64_t(s.size() - nl - 1);
  for (const std::string& suffix :
       {std::string("dtype=") + dtype_name(dtype_), "shape=" + shape_str(shape_)}) {
    if (line + int64_t(suffix.size()) + 2 > kLineWidth) {
      s += ",\n" + std::string(size_t(indent), ' ') + suffix;
      line = indent + int64_t(suffix.size());
    } else {
      s += ", " + suffix;
      line += int64_t(suffix.size()) + 2;
    }
  }
  return s + ")";
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

}  // namespace dl
