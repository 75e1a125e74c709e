// Fused gate math of the GRU and LSTM cells (PyTorch's formulas and gate order). The GEMMs
// gi = x W_ih^T + b_ih and gh = h W_hh^T + b_hh run in cuBLAS; these kernels do everything between.
//   GRU (gates r, z, n):  r = sig(gi_r + gh_r), z = sig(gi_z + gh_z), n = tanh(gi_n + r gh_n),
//                         h' = (1 - z) n + z h.         saved (B, 4H) = [r, z, n, gh_n]
//   LSTM (gates i, f, g, o): i, f, o = sig(gi + gh), g = tanh(gi + gh), c' = f c + i g,
//                         h' = o tanh(c').              saved (B, 5H) = [i, f, g, o, tanh(c')]
// All arrays C-contiguous, B rows; H is the hidden size. Arguments and results as csrc/rnn.cpp.
//
// Grid/block contract (pydyfast/cuda_launch/rnn.py): 1-D grid-stride loops over B * H, any
// grid/block; one thread per (row, hidden unit) handles all the gates of that unit.
#include "common.cuh"

template <typename T>
__global__ void gru_gates_fwd(const T* gi, const T* gh, const T* h, T* h_new, T* saved, i64 B,
                             i64 H) {
  PDF_GRID_LOOP(i, B * H) {
    const i64 b = i / H, j = i - b * H;
    const T* gib = gi + b * 3 * H;
    const T* ghb = gh + b * 3 * H;
    const T r = pdf_sigmoid(gib[j] + ghb[j]);
    const T z = pdf_sigmoid(gib[H + j] + ghb[H + j]);
    const T ghn = ghb[2 * H + j];
    const T n = pdf_tanh(gib[2 * H + j] + r * ghn);
    h_new[i] = (T(1) - z) * n + z * h[i];
    T* s = saved + b * 4 * H;
    s[j] = r;
    s[H + j] = z;
    s[2 * H + j] = n;
    s[3 * H + j] = ghn;
  }
}

// From dh' = grad_h: dgi (B, 3H), dgh (B, 3H) (the pre-activation gradients of both GEMM
// outputs; they differ only in the n gate, where gh_n is scaled by r) and dh (B, H), the direct
// part z dh' (the caller adds dgh W_hh).
template <typename T>
__global__ void gru_gates_bwd(const T* saved, const T* h, const T* grad_h, T* dgi, T* dgh, T* dh,
                              i64 B, i64 H) {
  PDF_GRID_LOOP(i, B * H) {
    const i64 b = i / H, j = i - b * H;
    const T* s = saved + b * 4 * H;
    const T r = s[j], z = s[H + j], n = s[2 * H + j], ghn = s[3 * H + j];
    const T g = grad_h[i];
    const T dn = g * (T(1) - z) * (T(1) - n * n);
    const T dz = g * (h[i] - n) * z * (T(1) - z);
    const T dr = dn * ghn * r * (T(1) - r);
    T* dgib = dgi + b * 3 * H;
    T* dghb = dgh + b * 3 * H;
    dgib[j] = dr;
    dghb[j] = dr;
    dgib[H + j] = dz;
    dghb[H + j] = dz;
    dgib[2 * H + j] = dn;
    dghb[2 * H + j] = dn * r;
    dh[i] = g * z;
  }
}

template <typename T>
__global__ void lstm_gates_fwd(const T* gi, const T* gh, const T* c, T* h_new, T* c_new, T* saved,
                               i64 B, i64 H) {
  PDF_GRID_LOOP(i, B * H) {
    const i64 b = i / H, j = i - b * H;
    const T* gib = gi + b * 4 * H;
    const T* ghb = gh + b * 4 * H;
    const T ig = pdf_sigmoid(gib[j] + ghb[j]);
    const T fg = pdf_sigmoid(gib[H + j] + ghb[H + j]);
    const T gg = pdf_tanh(gib[2 * H + j] + ghb[2 * H + j]);
    const T og = pdf_sigmoid(gib[3 * H + j] + ghb[3 * H + j]);
    const T cn = fg * c[i] + ig * gg;
    const T tc = pdf_tanh(cn);
    c_new[i] = cn;
    h_new[i] = og * tc;
    T* s = saved + b * 5 * H;
    s[j] = ig;
    s[H + j] = fg;
    s[2 * H + j] = gg;
    s[3 * H + j] = og;
    s[4 * H + j] = tc;
  }
}

// From dh' and dc' (the gradient flowing into the new cell state from the next step): dgates
// (B, 4H), the pre-activation gradient shared by gi and gh, and dc (B, H) for the previous cell.
template <typename T>
__global__ void lstm_gates_bwd(const T* saved, const T* c, const T* grad_h, const T* grad_c,
                               T* dgates, T* dc, i64 B, i64 H) {
  PDF_GRID_LOOP(i, B * H) {
    const i64 b = i / H, j = i - b * H;
    const T* s = saved + b * 5 * H;
    const T ig = s[j], fg = s[H + j], gg = s[2 * H + j], og = s[3 * H + j], tc = s[4 * H + j];
    const T gh = grad_h[i];
    const T dcn = grad_c[i] + gh * og * (T(1) - tc * tc);
    T* d = dgates + b * 4 * H;
    d[j] = dcn * gg * ig * (T(1) - ig);
    d[H + j] = dcn * c[i] * fg * (T(1) - fg);
    d[2 * H + j] = dcn * ig * (T(1) - gg * gg);
    d[3 * H + j] = gh * tc * og * (T(1) - og);
    dc[i] = dcn * fg;
  }
}
