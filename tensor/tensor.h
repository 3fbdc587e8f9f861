// tensor.h — the strided n-dimensional array everything else stands on (tutorial chapter 1).
// A Tensor is a view: (shared storage, dtype, shape, strides, offset). Views share storage,
// so writing through one is visible through all; contiguous() materialises any view.
// Images are NCHW by default; channels-last is a permuted view.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tensor/dtype.h"
#include "tensor/random.h"
#include "tensor/shape.h"

namespace dl {

/// A reference-counted, 64-byte-aligned byte buffer shared by every view of it.
class Storage {
 public:
  /// Allocates @p nbytes uninitialised bytes from CachingAllocator::global() (which may hand
  /// back the block of a freed Storage; tensor/allocator.h). @throws std::bad_alloc.
  explicit Storage(std::size_t nbytes);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  /// The writable pointer; handing it out counts as a write (see version()).
  void* data() {
    version_.fetch_add(1, std::memory_order_relaxed);
    return data_;
  }
  const void* data() const { return data_; }
  std::size_t nbytes() const { return nbytes_; }

  /// Write counter, so that data derived from the contents (derived()) knows when it is stale.
  /// It counts writable pointers handed out: non-const data(), hence Tensor::data<T>() and
  /// raw_data() on a non-const Tensor and every in-place op. Like PyTorch's version counter
  /// it cannot see a later write through a pointer obtained earlier: after writing through
  /// an old pointer, ask for the pointer again (or call Tensor::raw_data()) before reading
  /// the tensor through a cache, e.g. before an inference forward.
  uint64_t version() const { return version_.load(std::memory_order_relaxed); }

  /// The value make() computes from the current contents, cached under @p key until the next
  /// write: make() runs on the first call and again after version() changed, otherwise the
  /// cached value comes back. For expensive pure functions of a buffer that is read many
  /// times unchanged, like the Winograd-transformed filters of a convolution run for
  /// inference (tensor/conv2d.cpp). Thread-safe (make() runs under a lock); values of older
  /// versions are dropped at the next call, all of them with the storage.
  template <class T, class Make>
  std::shared_ptr<const T> derived(const std::string& key, Make&& make);

 private:
  struct Derived {
    std::string key;
    uint64_t version;
    std::shared_ptr<const void> value;
  };
  void* data_ = nullptr;
  std::size_t nbytes_ = 0;
  std::atomic<uint64_t> version_{0};
  std::mutex derived_mutex_;
  std::vector<Derived> derived_;
};

template <class T, class Make>
std::shared_ptr<const T> Storage::derived(const std::string& key, Make&& make) {
  std::lock_guard<std::mutex> lock(derived_mutex_);
  const uint64_t now = version();
  derived_.erase(std::remove_if(derived_.begin(), derived_.end(),
                                [now](const Derived& d) { return d.version != now; }),
                 derived_.end());
  for (const Derived& d : derived_)
    if (d.key == key) return std::static_pointer_cast<const T>(d.value);
  std::shared_ptr<const T> value = make();
  derived_.push_back({key, now, value});
  return value;
}

/// Strided view of a typed buffer. Copying a Tensor copies the view, never the data
/// (like PyTorch); use clone() for a deep copy.
///
/// @code
///   dl::Tensor x = dl::Tensor::arange(6).reshape({2, 3});   // [[0,1,2],[3,4,5]]
///   dl::Tensor t = x.transpose(0, 1);                       // shares x's storage
///   t.fill_(1.0);                                           // x is all ones now
/// @endcode
class Tensor {
 public:
  /// An undefined tensor (no storage); defined() is false. Used for "no bias", "no grad".
  Tensor() = default;

  // ---- factories -------------------------------------------------------------------------
  /// Uninitialised contiguous tensor.
  static Tensor empty(const Shape& shape, DType dtype = DType::Float32);
  static Tensor zeros(const Shape& shape, DType dtype = DType::Float32);
  static Tensor ones(const Shape& shape, DType dtype = DType::Float32);
  static Tensor full(const Shape& shape, double value, DType dtype = DType::Float32);
  /// A 0-d tensor holding @p value.
  static Tensor scalar(double value, DType dtype = DType::Float32);
  /// 0, 1, ..., n-1 as a 1-d tensor.
  static Tensor arange(int64_t n, DType dtype = DType::Float32);
  /// start, start+step, ... while < end (or > end for a negative step).
  static Tensor arange(double start, double end, double step, DType dtype = DType::Float32);
  /// Copies @p values into a tensor of @p shape (numel must match; throws otherwise).
  static Tensor from_vector(const std::vector<float>& values, const Shape& shape);
  static Tensor from_vector(const std::vector<double>& values, const Shape& shape);
  static Tensor from_vector(const std::vector<int64_t>& values, const Shape& shape);
  /// 1-d tensor from a brace list: Tensor::of({1, 2, 3}).
  static Tensor of(std::initializer_list<double> values, DType dtype = DType::Float32);
  /// 2-d tensor from nested brace lists: Tensor::of2d({{1, 2}, {3, 4}}); rows must match.
  static Tensor of2d(std::initializer_list<std::initializer_list<double>> rows,
                     DType dtype = DType::Float32);
  /// Uniform in [low, high) drawn sequentially from @p gen (reproducible for any thread count).
  /// @throws std::invalid_argument if low > high.
  static Tensor uniform(const Shape& shape, double low, double high, Generator& gen,
                        DType dtype = DType::Float32);
  /// Normal(mean, std) drawn from @p gen.
  static Tensor normal(const Shape& shape, double mean, double std, Generator& gen,
                       DType dtype = DType::Float32);
  /// Standard normal drawn from @p gen.
  static Tensor randn(const Shape& shape, Generator& gen, DType dtype = DType::Float32);
  /// Wraps an existing storage as a view (used by loaders and views).
  Tensor(std::shared_ptr<Storage> storage, DType dtype, Shape shape, Shape strides,
         int64_t offset);

  // ---- metadata ----------------------------------------------------------------------------
  bool defined() const { return storage_ != nullptr; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  const Shape& strides() const { return strides_; }
  /// Offset of element [0,...,0] in elements from the start of the storage.
  int64_t offset() const { return offset_; }
  int64_t dim() const { return static_cast<int64_t>(shape_.size()); }
  /// Size of dimension @p d (negative counts from the end); throws std::out_of_range.
  int64_t size(int64_t d) const;
  int64_t stride(int64_t d) const;
  int64_t numel() const { return shape_numel(shape_); }
  /// True when the elements lie in row-major order with no gaps (size-1 dims may have any
  /// stride; a tensor with no elements is contiguous).
  bool is_contiguous() const;
  /// True when @p other views the same storage (the test for "no silent copy").
  bool shares_storage(const Tensor& other) const { return storage_ == other.storage_; }
  const std::shared_ptr<Storage>& storage() const { return storage_; }

  /// Typed pointer to element [0,...,0]; throws if T does not match dtype().
  template <class T> T* data();
  template <class T> const T* data() const;
  /// Untyped pointer to element [0,...,0], for kernels and I/O.
  void* raw_data();
  const void* raw_data() const;

  // ---- element access ------------------------------------------------------------------------
  /// Value of a one-element tensor as double (int64 converted); throws if numel() != 1.
  double item() const;
  /// Element at a full index, as double; throws std::out_of_range naming index and shape.
  double at(const std::vector<int64_t>& index) const;
  /// Writes one element at a full index.
  void set(const std::vector<int64_t>& index, double value);
  /// All elements in row-major order, converted to double (tests and printing).
  std::vector<double> to_vector() const;

  // ---- views (no copy; the result shares storage) --------------------------------------------
  /// Same data, new shape; one dim may be -1. Throws if the strides cannot express it.
  Tensor view(const Shape& shape) const;
  /// view() when the strides allow it, otherwise a contiguous copy (the only view-like op
  /// that may copy; shares_storage() tells which happened).
  Tensor reshape(const Shape& shape) const;
  /// Reorders dimensions: result.shape[i] = shape[dims[i]].
  Tensor permute(const std::vector<int64_t>& dims) const;
  Tensor transpose(int64_t d0, int64_t d1) const;
  /// Elements start, start+step, ... < end along @p dim (Python slice semantics, clamped).
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  /// @p length elements from @p start along @p dim.
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  /// Removes @p dim, keeping index @p index.
  Tensor select(int64_t dim, int64_t index) const;
  /// Broadcasts size-1 dims to @p shape with stride 0 (new leading dims allowed; -1 keeps).
  Tensor expand(const Shape& shape) const;
  /// Removes every size-1 dim.
  Tensor squeeze() const;
  /// Removes @p dim if its size is 1 (no-op otherwise, as in PyTorch).
  Tensor squeeze(int64_t dim) const;
  /// Inserts a size-1 dim at @p dim (in [-dim()-1, dim()]).
  Tensor unsqueeze(int64_t dim) const;
  /// Merges dims start..end into one (a view when possible, like reshape).
  Tensor flatten(int64_t start = 0, int64_t end = -1) const;

  // ---- copies --------------------------------------------------------------------------------
  /// This tensor if already contiguous, else a contiguous copy.
  Tensor contiguous() const;
  /// Always a fresh contiguous copy.
  Tensor clone() const;
  /// Converted copy (or this tensor if the dtype already matches).
  Tensor to(DType dtype) const;

  // ---- in-place (writes through views) -------------------------------------------------------
  // All of these write through any view, contiguous or not. They throw std::invalid_argument
  // when this tensor is an expand()ed view (stride 0 over a dim of size > 1: several indices
  // share one memory location), as PyTorch does. A source that overlaps this tensor's memory
  // is read as it was before the op started.
  /// this += alpha * other (other broadcast to this shape, converted to this dtype); returns *this.
  Tensor& add_(const Tensor& other, double alpha = 1.0);
  /// this += value; returns *this.
  Tensor& add_(double value);
  /// this *= other (broadcast to this shape, converted to this dtype); returns *this.
  Tensor& mul_(const Tensor& other);
  /// this *= value; returns *this.
  Tensor& mul_(double value);
  /// Copies @p src (broadcast, dtype converted) into this view.
  Tensor& copy_(const Tensor& src);
  /// Sets every element of this view to @p value (converted to the dtype).
  Tensor& fill_(double value);
  /// fill_(0).
  Tensor& zero_();

  /// PyTorch-style text: the layout of PyTorch's print (4 decimals or "1." for whole numbers,
  /// scientific notation for wide ranges, numbers right-aligned, rows on separate lines, "..."
  /// past 1000 elements, 80 columns) followed by the dtype and shape. Tensor::of2d({{1, 2},
  /// {3, 4}}).str() is
  /// @code
  /// tensor([[1., 2.],
  ///         [3., 4.]], dtype=float32, shape=[2, 2])
  /// @endcode
  std::string str() const;

 private:
  void check_defined(const char* op) const;
  /// Throws std::invalid_argument unless this tensor's dtype is @p requested (data<T>()).
  void check_dtype(DType requested) const;
  std::shared_ptr<Storage> storage_;
  DType dtype_ = DType::Float32;
  Shape shape_;
  Shape strides_;
  int64_t offset_ = 0;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

template <class T> T* Tensor::data() {
  check_dtype(DTypeOf<T>::value);
  return static_cast<T*>(raw_data());
}
template <class T> const T* Tensor::data() const {
  check_dtype(DTypeOf<T>::value);
  return static_cast<const T*>(raw_data());
}

}  // namespace dl
