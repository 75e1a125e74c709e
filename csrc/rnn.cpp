// Kernel family: rnn. The gate math of one GRU / LSTM time step, forward and backward, fused into
// one pass over (batch, hidden). The GEMMs (x W_ih^T, h W_hh^T) stay in numpy's BLAS; these
// kernels take their results gi, gh and replace the ~15 numpy temporaries of the reference.
//
// Saved state (what backward needs, written by forward):
//   GRU  (B, 4H): r, z, n, hn  with hn = W_hn h + b_hn (gh's third block)
//   LSTM (B, 5H): i, f, g, o, tanh(c')
#include <cmath>

#include "common.h"
#include "vec_math.h"  // vexp, the vectorisable exp

namespace pydyfast {
namespace {

// Branch-free forms on the vectorisable exp, so the loops over the hidden units become SIMD.
template <typename T>
inline T sigmoid(T x) {
  return T(1) / (T(1) + vexp(-x));
}

// tanh(x) = 1 - 2 / (1 + e^(2x)): exact limits +-1 (e^(2x) = inf or 0), absolute error ~1 ulp.
template <typename T>
inline T vtanh(T x) {
  return T(1) - T(2) / (T(1) + vexp(T(2) * x));
}

// (B, blocks * H) gate arrays must agree with the (B, H) state.
void check_gates(const char* op, const py::array& gi, const py::array& gh, const py::array& state,
                 int blocks) {
  if (state.ndim() != 2 || gi.ndim() != 2 || gh.ndim() != 2 || gi.shape(0) != state.shape(0) ||
      gh.shape(0) != state.shape(0) || gi.shape(1) != blocks * state.shape(1) ||
      gh.shape(1) != gi.shape(1))
    fail(op, "expected gi and gh of shape (B, " + std::to_string(blocks) +
                 "*H) for a state of shape (B, H), got gi " + shape_str(gi) + ", gh " +
                 shape_str(gh) + ", state " + shape_str(state));
}

void check_same(const char* op, const py::array& a, const py::array& b, const char* what) {
  bool same = a.ndim() == b.ndim();
  for (py::ssize_t d = 0; same && d < a.ndim(); ++d) same = a.shape(d) == b.shape(d);
  if (!same) fail(op, std::string(what) + ": " + shape_str(a) + " vs " + shape_str(b));
}


// The loops, on raw pointers: one function per pass, compiled per SIMD width (see common.h).
// gi, gh: (B, G*H) rows; state and outputs: (B, H) rows; saved: (B, S*H) rows.
// Threads only from B * H >= 4 * kParallelGrain: a vectorised step of B=256, H=128 takes ~0.1 ms
// on one core, and a parallel region on the shared 2-core box was measured at ~24 ms.

// r = s(gi_r + gh_r), z = s(gi_z + gh_z), n = tanh(gi_n + r * gh_n), h' = (1 - z) n + z h.
template <typename T>
PYDYFAST_SIMD_CLONES void gru_fwd_loop(const T* gi, const T* gh, const T* h, T* h_new, T* saved,
                                       py::ssize_t B, py::ssize_t H) {
#pragma omp parallel for if (worth_parallel(B * H / 4))
  for (py::ssize_t b = 0; b < B; ++b) {
    const T* xi = gi + b * 3 * H;
    const T* xh = gh + b * 3 * H;
    const T* hb = h + b * H;
    T* s = saved + b * 4 * H;
    T* o = h_new + b * H;
#pragma omp simd
    for (py::ssize_t j = 0; j < H; ++j) {
      const T r = sigmoid(xi[j] + xh[j]);
      const T z = sigmoid(xi[H + j] + xh[H + j]);
      const T hn = xh[2 * H + j];
      const T n = vtanh(xi[2 * H + j] + r * hn);
      o[j] = n + z * (hb[j] - n);
      s[j] = r;
      s[H + j] = z;
      s[2 * H + j] = n;
      s[3 * H + j] = hn;
    }
  }
}

template <typename T>
PYDYFAST_SIMD_CLONES void gru_bwd_loop(const T* saved, const T* h, const T* gy, T* dgi, T* dgh,
                                       T* dh, py::ssize_t B, py::ssize_t H) {
#pragma omp parallel for if (worth_parallel(B * H / 4))
  for (py::ssize_t b = 0; b < B; ++b) {
    const T* s = saved + b * 4 * H;
    const T* hb = h + b * H;
    const T* g = gy + b * H;
    T* di = dgi + b * 3 * H;
    T* dhh = dgh + b * 3 * H;
    T* dx = dh + b * H;
#pragma omp simd
    for (py::ssize_t j = 0; j < H; ++j) {
      const T r = s[j], z = s[H + j], n = s[2 * H + j], hn = s[3 * H + j];
      const T dn = g[j] * (T(1) - z) * (T(1) - n * n);
      const T dz = g[j] * (hb[j] - n) * z * (T(1) - z);
      const T dr = dn * hn * r * (T(1) - r);
      di[j] = dr;
      di[H + j] = dz;
      di[2 * H + j] = dn;
      dhh[j] = dr;
      dhh[H + j] = dz;
      dhh[2 * H + j] = dn * r;
      dx[j] = g[j] * z;
    }
  }
}

// gates = gi + gh = [i, f, g, o]; c' = s(f) c + s(i) tanh(g); h' = s(o) tanh(c').
template <typename T>
PYDYFAST_SIMD_CLONES void lstm_fwd_loop(const T* gi, const T* gh, const T* c, T* h_new, T* c_new,
                                        T* saved, py::ssize_t B, py::ssize_t H) {
#pragma omp parallel for if (worth_parallel(B * H / 4))
  for (py::ssize_t b = 0; b < B; ++b) {
    const T* xi = gi + b * 4 * H;
    const T* xh = gh + b * 4 * H;
    const T* cb = c + b * H;
    T* s = saved + b * 5 * H;
    T* ho = h_new + b * H;
    T* co = c_new + b * H;
#pragma omp simd
    for (py::ssize_t j = 0; j < H; ++j) {
      const T i = sigmoid(xi[j] + xh[j]);
      const T f = sigmoid(xi[H + j] + xh[H + j]);
      const T g = vtanh(xi[2 * H + j] + xh[2 * H + j]);
      const T o = sigmoid(xi[3 * H + j] + xh[3 * H + j]);
      const T cn = f * cb[j] + i * g;
      const T tc = vtanh(cn);
      co[j] = cn;
      ho[j] = o * tc;
      s[j] = i;
      s[H + j] = f;
      s[2 * H + j] = g;
      s[3 * H + j] = o;
      s[4 * H + j] = tc;
    }
  }
}

template <typename T>
PYDYFAST_SIMD_CLONES void lstm_bwd_loop(const T* saved, const T* c, const T* gh_out,
                                        const T* gc_out, T* dgates, T* dc, py::ssize_t B,
                                        py::ssize_t H) {
#pragma omp parallel for if (worth_parallel(B * H / 4))
  for (py::ssize_t b = 0; b < B; ++b) {
    const T* s = saved + b * 5 * H;
    T* d = dgates + b * 4 * H;
#pragma omp simd
    for (py::ssize_t j = 0; j < H; ++j) {
      const py::ssize_t k = b * H + j;
      const T i = s[j], f = s[H + j], g = s[2 * H + j], o = s[3 * H + j], tc = s[4 * H + j];
      const T dcn = gc_out[k] + gh_out[k] * o * (T(1) - tc * tc);
      d[j] = dcn * g * i * (T(1) - i);
      d[H + j] = dcn * c[k] * f * (T(1) - f);
      d[2 * H + j] = dcn * i * (T(1) - g * g);
      d[3 * H + j] = gh_out[k] * tc * o * (T(1) - o);
      dc[k] = dcn * f;
    }
  }
}

// The bound kernels: check shapes, allocate, release the GIL around the loop.

template <typename T>
py::tuple gru_gates_fwd(carray<T> gi, carray<T> gh, carray<T> h) {
  check_gates("gru_cell", gi, gh, h, 3);
  const py::ssize_t B = h.shape(0), H = h.shape(1);
  checked_size("gru_cell", {B, 4, H}, sizeof(T));  // saved is wider than any input
  carray<T> h_new({B, H});
  carray<T> saved({B, 4 * H});
  {
    py::gil_scoped_release release;
    gru_fwd_loop(gi.data(), gh.data(), h.data(), h_new.mutable_data(), saved.mutable_data(), B,
                 H);
  }
  return py::make_tuple(h_new, saved);
}

// Returns (d gi, d gh, d h) for the upstream gradient gy of h'.
template <typename T>
py::tuple gru_gates_bwd(carray<T> saved, carray<T> h, carray<T> gy) {
  check_same("gru_cell backward", h, gy, "h and its gradient differ in shape");
  const py::ssize_t B = h.shape(0), H = h.ndim() == 2 ? h.shape(1) : 0;
  if (h.ndim() != 2 || saved.ndim() != 2 || saved.shape(0) != B || saved.shape(1) != 4 * H)
    fail("gru_cell backward", "expected saved (B, 4H) for h (B, H), got saved " +
                                  shape_str(saved) + ", h " + shape_str(h));
  carray<T> dgi({B, 3 * H});
  carray<T> dgh({B, 3 * H});
  carray<T> dh({B, H});
  {
    py::gil_scoped_release release;
    gru_bwd_loop(saved.data(), h.data(), gy.data(), dgi.mutable_data(), dgh.mutable_data(),
                 dh.mutable_data(), B, H);
  }
  return py::make_tuple(dgi, dgh, dh);
}

template <typename T>
py::tuple lstm_gates_fwd(carray<T> gi, carray<T> gh, carray<T> c) {
  check_gates("lstm_cell", gi, gh, c, 4);
  const py::ssize_t B = c.shape(0), H = c.shape(1);
  checked_size("lstm_cell", {B, 5, H}, sizeof(T));  // saved is wider than any input
  carray<T> h_new({B, H});
  carray<T> c_new({B, H});
  carray<T> saved({B, 5 * H});
  {
    py::gil_scoped_release release;
    lstm_fwd_loop(gi.data(), gh.data(), c.data(), h_new.mutable_data(), c_new.mutable_data(),
                  saved.mutable_data(), B, H);
  }
  return py::make_tuple(h_new, c_new, saved);
}

// Returns (d gates, d c) for the upstream gradients gh_out of h' and gc_out of c'; d gates is the
// gradient of both gi and gh.
template <typename T>
py::tuple lstm_gates_bwd(carray<T> saved, carray<T> c, carray<T> gh_out, carray<T> gc_out) {
  check_same("lstm_cell backward", c, gh_out, "c and the gradient of h differ in shape");
  check_same("lstm_cell backward", c, gc_out, "c and the gradient of c differ in shape");
  const py::ssize_t B = c.shape(0), H = c.ndim() == 2 ? c.shape(1) : 0;
  if (c.ndim() != 2 || saved.ndim() != 2 || saved.shape(0) != B || saved.shape(1) != 5 * H)
    fail("lstm_cell backward", "expected saved (B, 5H) for c (B, H), got saved " +
                                   shape_str(saved) + ", c " + shape_str(c));
  carray<T> dgates({B, 4 * H});
  carray<T> dc({B, H});
  {
    py::gil_scoped_release release;
    lstm_bwd_loop(saved.data(), c.data(), gh_out.data(), gc_out.data(), dgates.mutable_data(),
                  dc.mutable_data(), B, H);
  }
  return py::make_tuple(dgates, dc);
}

template <typename T>
void bind_rnn(py::module_& m) {
  m.def("gru_gates_fwd", &gru_gates_fwd<T>, py::arg("gi").noconvert(),
        py::arg("gh").noconvert(), py::arg("h").noconvert());
  m.def("gru_gates_bwd", &gru_gates_bwd<T>, py::arg("saved").noconvert(),
        py::arg("h").noconvert(), py::arg("gy").noconvert());
  m.def("lstm_gates_fwd", &lstm_gates_fwd<T>, py::arg("gi").noconvert(),
        py::arg("gh").noconvert(), py::arg("c").noconvert());
  m.def("lstm_gates_bwd", &lstm_gates_bwd<T>, py::arg("saved").noconvert(),
        py::arg("c").noconvert(), py::arg("gh_out").noconvert(), py::arg("gc_out").noconvert());
}

}  // namespace

void init_rnn(py::module_& m) {
  bind_rnn<float>(m);
  bind_rnn<double>(m);
}

}  // namespace pydyfast
