// Kernel family: llama. The bindings of the Llama decoder (csrc/llama_decoder.h: one call
// decodes one token through a whole Llama and returns the next token's logits) and of
// llama2.c's float32 rotary tables.
#include <algorithm>
#include <cmath>
#include <memory>

#include "common.h"
#include "llama_decoder.h"  // Shape, DenseMatrix, Q8Matrix, Layer, Decoder

namespace pydyfast {
namespace {

// ------------------------------------------------------------------------------------ binding

constexpr const char* kOp = "llama_decoder";

Shape shape_of(const py::tuple& t) {
  if (t.size() != 8)
    fail(kOp, "config must be (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, "
              "seq_len, norm_eps)");
  Shape s{t[0].cast<i64>(), t[1].cast<i64>(), t[2].cast<i64>(), t[3].cast<i64>(),
          t[4].cast<i64>(), t[5].cast<i64>(), t[6].cast<i64>(), t[7].cast<double>()};
  if (std::min({s.dim, s.hidden, s.n_layers, s.n_heads, s.n_kv_heads, s.vocab, s.seq_len}) <= 0 ||
      s.dim % s.n_heads || s.n_heads % s.n_kv_heads || s.head_dim() % 2)
    fail(kOp, "config sizes must be positive, dim a multiple of n_heads with an even head size, "
              "and n_heads a multiple of n_kv_heads");
  checked_size(kOp, {s.n_layers, s.n_kv_heads, s.seq_len, s.head_dim()}, 8);
  checked_size(kOp, {s.n_heads, s.seq_len}, 8);
  checked_size(kOp, {s.vocab, s.dim}, 8);
  return s;
}

// A C-contiguous array of exactly `shape` and dtype T, or a ValueError naming the weight.
template <typename T>
const T* take(const py::object& obj, std::initializer_list<i64> shape, const char* name,
              std::vector<py::object>& owners, bool writable = false) {
  if (!py::isinstance<py::array_t<T>>(obj))
    fail(kOp, std::string(name) + " must be a numpy array of " +
                  py::str(py::dtype::of<T>()).cast<std::string>());
  auto a = py::reinterpret_borrow<py::array>(obj);
  if (!(a.flags() & py::array::c_style) || !a.dtype().is(py::dtype::of<T>()))
    fail(kOp, std::string(name) + " must be C-contiguous " +
                  py::str(py::dtype::of<T>()).cast<std::string>() + ", got " +
                  py::str(a.dtype()).cast<std::string>() + " " + shape_str(a));
  bool ok = a.ndim() == py::ssize_t(shape.size());
  i64 i = 0;
  for (const i64 e : shape) ok = ok && a.shape(i++) == e;
  if (!ok) {
    std::ostringstream want;
    want << "(";
    i = 0;
    for (const i64 e : shape) want << (i++ ? ", " : "") << e;
    fail(kOp, std::string(name) + " has shape " + shape_str(a) + ", expected " + want.str() +
                  (shape.size() == 1 ? ",)" : ")"));
  }
  if (writable && !a.writeable()) fail(kOp, std::string(name) + " must be writable");
  owners.push_back(a);
  return static_cast<const T*>(a.data());
}

// Dense: ("dense", matrix). q8: ("q8", int8 matrix, float32 scales).
template <typename T>
struct MatrixReader;

template <typename T>
struct MatrixReader<DenseMatrix<T>> {
  i64 group_size;
  DenseMatrix<T> operator()(const py::object& spec, i64 rows, i64 cols, const char* name,
                            std::vector<py::object>& owners) const {
    return {take<T>(spec, {rows, cols}, name, owners), rows, cols};
  }
};

template <>
struct MatrixReader<Q8Matrix> {
  i64 group_size;
  Q8Dot kernel;
  Q8Matrix operator()(const py::object& spec, i64 rows, i64 cols, const char* name,
                      std::vector<py::object>& owners) const {
    const auto pair = spec.cast<py::tuple>();
    if (pair.size() != 2) fail(kOp, std::string(name) + " must be (int8 values, float scales)");
    if (cols % group_size)
      fail(kOp, std::string(name) + ": " + std::to_string(cols) +
                    " inputs are not a multiple of the group size " +
                    std::to_string(group_size));
    return {take<std::int8_t>(pair[0], {rows, cols}, name, owners),
            take<float>(pair[1], {rows, cols / group_size}, name, owners), rows, cols,
            group_size, kernel};
  }
};

// The weights arrive as a dict of llama2.c-shaped arrays under the names of llama/model.py.
template <typename T, typename M>
std::unique_ptr<Decoder<T, M>> build(const py::tuple& config, const py::dict& w,
                                     const py::object& k_cache, const py::object& v_cache,
                                     const py::object& cos, const py::object& sin,
                                     const MatrixReader<M>& read) {
  const Shape c = shape_of(config);
  std::vector<py::object> owners;
  const i64 D = c.dim, KV = c.kv_dim(), H = c.hidden, P = c.head_dim() / 2;
  auto get = [&](const std::string& name) -> py::object {
    if (!w.contains(name)) fail(kOp, "weight '" + name + "' is missing");
    return w[py::str(name)];
  };
  std::vector<Layer<T, M>> layers;
  for (i64 l = 0; l < c.n_layers; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    layers.push_back({take<T>(get(p + "attention_norm"), {D}, "attention_norm", owners),
                      read(get(p + "wqkv"), D + 2 * KV, D, "wqkv", owners),
                      read(get(p + "wo"), D, D, "wo", owners),
                      take<T>(get(p + "ffn_norm"), {D}, "ffn_norm", owners),
                      read(get(p + "w13"), 2 * H, D, "w13", owners),
                      read(get(p + "w2"), D, H, "w2", owners)});
  }
  const T* embedding = take<T>(get("tok_embeddings"), {c.vocab, D}, "tok_embeddings", owners);
  const T* norm = take<T>(get("norm"), {D}, "norm", owners);
  M classifier = read(get("output"), c.vocab, D, "output", owners);
  const std::initializer_list<i64> cache{c.n_layers, c.n_kv_heads, c.seq_len, c.head_dim()};
  T* kc = const_cast<T*>(take<T>(k_cache, cache, "k_cache", owners, true));
  T* vc = const_cast<T*>(take<T>(v_cache, cache, "v_cache", owners, true));
  const T* co = take<T>(cos, {c.seq_len, P}, "cos", owners);
  const T* si = take<T>(sin, {c.seq_len, P}, "sin", owners);
  return std::make_unique<Decoder<T, M>>(c, embedding, std::move(layers), norm, classifier, kc,
                                         vc, co, si, read.group_size, std::move(owners));
}

template <typename T, typename M>
void bind_decoder(py::module_& m, const char* cls) {
  py::class_<Decoder<T, M>>(m, cls)
      .def_readonly("kernel", &Decoder<T, M>::kernel)
      .def(
          "step",
          [](Decoder<T, M>& d, i64 token, i64 pos) {
            const Shape& c = d.shape();
            if (token < 0 || token >= c.vocab)
              fail("llama_decoder.step", "token " + std::to_string(token) + " is not in [0, " +
                                             std::to_string(c.vocab) + ")");
            if (pos < 0 || pos >= c.seq_len)
              fail("llama_decoder.step", "position " + std::to_string(pos) +
                                             " is not in [0, " + std::to_string(c.seq_len) + ")");
            carray<T> logits(std::vector<py::ssize_t>{static_cast<py::ssize_t>(c.vocab)});
            T* out = logits.mutable_data();
            py::gil_scoped_release release;
            d.step(token, pos, out);
            return logits;
          },
          py::arg("token"), py::arg("pos"),
          "Logits (vocab,) after `token` at position `pos`; writes its keys/values into the "
          "cache.");
}

}  // namespace

void init_llama(py::module_& m) {
  bind_decoder<float, DenseMatrix<float>>(m, "_LlamaDecoderF32");
  bind_decoder<double, DenseMatrix<double>>(m, "_LlamaDecoderF64");
  bind_decoder<float, Q8Matrix>(m, "_LlamaDecoderQ8");
  m.def(
      "llama_decoder",
      [](const py::tuple& config, const py::dict& weights, const py::object& k_cache,
         const py::object& v_cache, const py::object& cos, const py::object& sin,
         i64 group_size, const std::string& kernel) -> py::object {
        const std::string dtype = py::str(py::array::ensure(k_cache).dtype()).cast<std::string>();
        if (group_size > 0) {
          if (dtype != "float32") fail(kOp, "int8 weights decode in float32, cache is " + dtype);
          const auto picked = pick_q8_dot(group_size, kernel);
          auto d = build<float, Q8Matrix>(config, weights, k_cache, v_cache, cos, sin,
                                          MatrixReader<Q8Matrix>{group_size, picked.first});
          d->kernel = picked.second;
          return py::cast(std::move(d));
        }
        if (dtype == "float32")
          return py::cast(build<float, DenseMatrix<float>>(config, weights, k_cache, v_cache,
                                                           cos, sin, {0}));
        if (dtype == "float64")
          return py::cast(build<double, DenseMatrix<double>>(config, weights, k_cache, v_cache,
                                                             cos, sin, {0}));
        fail(kOp, "the cache must be float32 or float64, got " + dtype);
      },
      py::arg("config"), py::arg("weights"), py::arg("k_cache"), py::arg("v_cache"),
      py::arg("cos"), py::arg("sin"), py::arg("group_size") = 0, py::arg("kernel") = "",
      "A decoder over the given weights and caches (kept alive by it): `.step(token, pos)`.\n"
      "group_size > 0: matrices are (int8 values, float32 scales per group of inputs).");
  m.def(
      "llama_rope_tables",
      [](i64 head_dim, i64 seq_len, double theta) {
        if (head_dim <= 0 || head_dim % 2 || seq_len <= 0)
          fail("llama_rope_tables", "expected a positive even head_dim and a positive seq_len, "
                                    "got " + std::to_string(head_dim) + " and " +
                                    std::to_string(seq_len));
        const i64 pairs = head_dim / 2;
        checked_size("llama_rope_tables", {seq_len, pairs}, 4);
        const std::vector<py::ssize_t> shape{py::ssize_t(seq_len), py::ssize_t(pairs)};
        carray<float> cos(shape), sin(shape);
        float* co = cos.mutable_data();
        float* si = sin.mutable_data();
        // llama2.c's float32 arithmetic with the C library's powf, cosf and sinf, as run.c and
        // runq.c compute the angles each step: float64 tables differ from them in the last
        // bit, enough to flip an int8 rounding of the activations a few tokens later.
        for (i64 i = 0; i < pairs; ++i) {
          const float freq = 1.0f / std::pow(float(theta), float(2 * i) / float(head_dim));
          for (i64 p = 0; p < seq_len; ++p) {
            const float angle = float(p) * freq;
            co[p * pairs + i] = std::cos(angle);
            si[p * pairs + i] = std::sin(angle);
          }
        }
        return py::make_tuple(cos, sin);
      },
      py::arg("head_dim"), py::arg("seq_len"), py::arg("theta"),
      "(cos, sin), each (seq_len, head_dim / 2) float32: llama2.c's rotary angles.");
  m.def(
      "q8_kernel", [](i64 group_size) { return pick_q8_dot(group_size, "").second; },
      py::arg("group_size"), "Which int8 dot product this CPU runs for that group size.");
}

}  // namespace pydyfast
