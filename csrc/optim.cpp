// Kernel family: optimizer steps. One call updates every parameter of a group (torch's fused
// path): Adam/AdamW, SGD, RMSprop and Adagrad.
//
// Each kernel takes parallel lists (parameters, gradients, then the optimizer's state arrays,
// all C-contiguous and of one dtype; a state list is empty when the options do not use it) and
// writes the parameters and states in place, returning None. The elements of all parameters are
// laid end to end and split into one contiguous range per thread in a single OpenMP region, so
// a group of small and large tensors costs one thread wake-up and no thread idles on a small
// tensor. The arithmetic follows torch.optim's single-tensor code, operation by operation, with
// the scalar options rounded to the parameter's dtype as torch's CPU kernels round them; the
// NumPy references in pydyfast/optim/*.py compute the same formulas.
//
// The element loops call sqrt, which C++ lets set errno on a negative argument; gcc keeps such a
// loop scalar ("control flow in loop"), and neither a pragma nor an attribute lifts that on a
// target_clones function, so CMakeLists.txt compiles this file with -fno-math-errno (and without
// LTO, whose link step would restore errno). Results do not change: IEEE sqrt of a negative
// number is nan with or without errno.
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "common.h"

namespace pydyfast {
namespace {

template <typename T>
using Arrays = std::vector<carray<T>>;

// One parameter's arrays as raw pointers (nullptr for a state the options leave out) and its
// per-parameter scalars (the bias corrections of Adam, Adagrad's decayed rate, SGD's fresh flag).
template <typename T>
struct Slot {
  T* param;
  const T* grad;
  T* state[3];
  std::int64_t n;
  double scalar[2];
};

// A state list the options need must have one array per parameter; one they leave out must be
// empty. Every array must have its parameter's shape (they are walked with one index).
template <typename T>
void check_list(const char* op, const char* what, const Arrays<T>& list, const Arrays<T>& params,
                bool used) {
  const std::size_t expected = used ? params.size() : 0;
  if (list.size() != expected)
    fail(op, std::string(what) + ": expected " + std::to_string(expected) + " arrays (" +
                 (used ? "one per parameter" : "the options do not use this state") + "), got " +
                 std::to_string(list.size()));
  for (std::size_t i = 0; i < list.size(); ++i) {
    const carray<T>& a = list[i];
    const carray<T>& p = params[i];
    bool same = a.ndim() == p.ndim();
    for (py::ssize_t d = 0; same && d < a.ndim(); ++d) same = a.shape(d) == p.shape(d);
    if (!same)
      fail(op, std::string(what) + "[" + std::to_string(i) + "] has shape " + shape_str(a) +
                   ", expected its parameter's " + shape_str(p));
  }
}

// Checks the lists and takes their pointers (with the GIL: mutable_data raises on a read-only
// array). states: up to three (name and whether the options use it, list) in the kernel's order.
struct StateList {
  const char* name;
  bool used;
};

template <typename T>
std::vector<Slot<T>> gather(const char* op, Arrays<T>& params, const Arrays<T>& grads,
                            std::initializer_list<std::pair<StateList, Arrays<T>*>> states) {
  check_list(op, "grads", grads, params, true);
  for (const auto& [info, list] : states) check_list(op, info.name, *list, params, info.used);
  std::vector<Slot<T>> slots(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    Slot<T>& s = slots[i];
    s.param = params[i].mutable_data();
    s.grad = grads[i].data();
    s.n = static_cast<std::int64_t>(params[i].size());
    int k = 0;
    for (const auto& [info, list] : states)
      s.state[k++] = info.used ? (*list)[i].mutable_data() : nullptr;
    for (; k < 3; ++k) s.state[k] = nullptr;
    s.scalar[0] = s.scalar[1] = 0;
  }
  return slots;
}

// Runs body(slot, begin, end) over every element of every slot: serially below the parallel
// grain, else in one OpenMP region where thread t takes the t-th contiguous share of the
// concatenated elements (a whole number of 64 bytes' worth, so SIMD loops keep full vectors).
template <typename T, typename Body>
void for_each_span(const std::vector<Slot<T>>& slots, std::int64_t work_per_element,
                   const Body& body) {
  std::vector<std::int64_t> start(slots.size() + 1, 0);
  for (std::size_t i = 0; i < slots.size(); ++i) start[i + 1] = start[i] + slots[i].n;
  const std::int64_t total = start.back();
  const auto run_range = [&](std::int64_t lo, std::int64_t hi) {
    std::size_t s = std::upper_bound(start.begin(), start.end(), lo) - start.begin() - 1;
    for (; s < slots.size() && start[s] < hi; ++s) {
      const std::int64_t b = std::max(lo, start[s]) - start[s];
      const std::int64_t e = std::min(hi, start[s + 1]) - start[s];
      if (b < e) body(slots[s], b, e);
    }
  };
  py::gil_scoped_release release;
#ifdef PYDYFAST_HAVE_OPENMP
  if (worth_parallel(total * work_per_element) && !omp_in_parallel()) {
    const std::int64_t line = 64 / sizeof(T);
#pragma omp parallel
    {
      const std::int64_t threads = omp_get_num_threads();
      std::int64_t share = (total + threads - 1) / threads;
      share = (share + line - 1) / line * line;
      const std::int64_t lo = std::min(total, omp_get_thread_num() * share);
      run_range(lo, std::min(total, lo + share));
    }
    return;
  }
#endif
  run_range(0, total);
}

// The gradient as the update sees it: negated for maximize (sign is exactly +-1) and with L2
// weight decay added (torch: grad.add(param, alpha=weight_decay)).
template <typename T>
struct GradTerms {
  T sign;
  T weight_decay;
  bool l2;
};

template <typename T>
inline T effective_grad(const GradTerms<T>& t, T g, T p) {
  g *= t.sign;
  return t.l2 ? g + t.weight_decay * p : g;
}

// ---------------------------------------------------------------------------------- Adam
// decay = 1 - lr * wd (AdamW's decoupled decay; exactly 1 for Adam, so p * 1 == p),
// m = m.lerp(g, 1 - beta1); v = v * beta2 + (1 - beta2) * g * g; amsgrad: vmax = max(vmax, v);
// p = p + (-lr / bc1) * m / (sqrt(v or vmax) / sqrt(bc2) + eps), with bc_k = 1 - beta_k^step.
template <typename T>
struct AdamScalars {
  GradTerms<T> grad;
  T decay, one_minus_beta1, beta2, one_minus_beta2, eps;
};

template <typename T, bool Amsgrad>
PYDYFAST_SIMD_CLONES void adam_span(const AdamScalars<T> s, T neg_step_size, T bc2_sqrt,
                                    T* __restrict p, const T* __restrict g, T* __restrict m,
                                    T* __restrict v, T* __restrict vmax, std::int64_t n) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) {
    const T param = p[i] * s.decay;
    const T grad = effective_grad(s.grad, g[i], param);
    const T mi = m[i] + s.one_minus_beta1 * (grad - m[i]);
    const T vi = v[i] * s.beta2 + s.one_minus_beta2 * grad * grad;
    m[i] = mi;
    v[i] = vi;
    T second = vi;
    if (Amsgrad) {
      second = vi < vmax[i] ? vmax[i] : vi;  // a nan v stays nan, as torch.maximum
      vmax[i] = second;
    }
    p[i] = param + neg_step_size * mi / (std::sqrt(second) / bc2_sqrt + s.eps);
  }
}

// ----------------------------------------------------------------------------------- SGD
// momentum: buf = fresh ? g : buf * momentum + (1 - dampening) * g; then g = g + momentum * buf
// (nesterov) or g = buf; p = p + (-lr) * g.
template <typename T>
struct SgdScalars {
  GradTerms<T> grad;
  T neg_lr, momentum, one_minus_dampening;
  bool nesterov;
};

template <typename T, bool Momentum>
PYDYFAST_SIMD_CLONES void sgd_span(const SgdScalars<T> s, bool fresh, T* __restrict p,
                                   const T* __restrict g, T* __restrict buf, std::int64_t n) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) {
    T grad = effective_grad(s.grad, g[i], p[i]);
    if (Momentum) {
      const T b = fresh ? grad : buf[i] * s.momentum + s.one_minus_dampening * grad;
      buf[i] = b;
      grad = s.nesterov ? grad + s.momentum * b : b;
    }
    p[i] = p[i] + s.neg_lr * grad;
  }
}

// ------------------------------------------------------------------------------- RMSprop
// sq = sq * alpha + (1 - alpha) * g * g; centered: ga = ga.lerp(g, 1 - alpha),
// avg = sqrt(sq + (-1) * ga * ga) + eps, else avg = sqrt(sq) + eps;
// momentum: buf = buf * momentum + g / avg, p = p + (-lr) * buf; else p = p + (-lr) * g / avg.
template <typename T>
struct RmspropScalars {
  GradTerms<T> grad;
  T neg_lr, alpha, one_minus_alpha, eps, momentum;
};

template <typename T, bool Centered, bool Momentum>
PYDYFAST_SIMD_CLONES void rmsprop_span(const RmspropScalars<T> s, T* __restrict p,
                                       const T* __restrict g, T* __restrict sq,
                                       T* __restrict ga, T* __restrict buf, std::int64_t n) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) {
    const T grad = effective_grad(s.grad, g[i], p[i]);
    const T sqi = sq[i] * s.alpha + s.one_minus_alpha * grad * grad;
    sq[i] = sqi;
    T avg;
    if (Centered) {
      const T gai = ga[i] + s.one_minus_alpha * (grad - ga[i]);
      ga[i] = gai;
      avg = std::sqrt(sqi + T(-1) * gai * gai) + s.eps;
    } else {
      avg = std::sqrt(sqi) + s.eps;
    }
    if (Momentum) {
      const T b = buf[i] * s.momentum + grad / avg;
      buf[i] = b;
      p[i] = p[i] + s.neg_lr * b;
    } else {
      p[i] = p[i] + s.neg_lr * grad / avg;
    }
  }
}

// ------------------------------------------------------------------------------- Adagrad
// sum = sum + 1 * g * g; p = p + (-clr) * g / (sqrt(sum) + eps), clr = lr / (1 + (step-1) decay).
template <typename T>
PYDYFAST_SIMD_CLONES void adagrad_span(const GradTerms<T> t, T neg_clr, T eps, T* __restrict p,
                                       const T* __restrict g, T* __restrict sum,
                                       std::int64_t n) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) {
    const T grad = effective_grad(t, g[i], p[i]);
    const T si = sum[i] + T(1) * grad * grad;
    sum[i] = si;
    p[i] = p[i] + neg_clr * grad / (std::sqrt(si) + eps);
  }
}

// ------------------------------------------------------------------ the calls, one per optimizer
template <typename T>
void adam_step(Arrays<T> params, Arrays<T> grads, Arrays<T> exp_avgs, Arrays<T> exp_avg_sqs,
               Arrays<T> max_exp_avg_sqs, std::vector<std::int64_t> steps, double lr,
               double beta1, double beta2, double eps, double weight_decay, bool decoupled,
               bool maximize) {
  const char* op = "adam_step";
  const bool amsgrad = !max_exp_avg_sqs.empty();
  std::vector<Slot<T>> slots =
      gather(op, params, grads,
             {{{"exp_avgs", true}, &exp_avgs}, {{"exp_avg_sqs", true}, &exp_avg_sqs},
              {{"max_exp_avg_sqs", amsgrad}, &max_exp_avg_sqs}});
  if (steps.size() != params.size())
    fail(op, "expected one step count per parameter (" + std::to_string(params.size()) +
                 "), got " + std::to_string(steps.size()));
  for (std::size_t i = 0; i < slots.size(); ++i) {
    if (steps[i] < 1) fail(op, "step counts start at 1, got " + std::to_string(steps[i]));
    const double step = static_cast<double>(steps[i]);
    slots[i].scalar[0] = -(lr / (1 - std::pow(beta1, step)));
    slots[i].scalar[1] = std::pow(1 - std::pow(beta2, step), 0.5);  // torch: bc2 ** 0.5
  }
  const bool l2 = weight_decay != 0 && !decoupled;
  const AdamScalars<T> s{{T(maximize ? -1 : 1), T(weight_decay), l2},
                         T(decoupled ? 1 - lr * weight_decay : 1), T(1 - beta1), T(beta2),
                         T(1 - beta2), T(eps)};
  for_each_span(slots, 16, [&](const Slot<T>& x, std::int64_t b, std::int64_t e) {
    const T step_size = T(x.scalar[0]), bc2 = T(x.scalar[1]);
    T* vmax = amsgrad ? x.state[2] + b : nullptr;
    if (amsgrad)
      adam_span<T, true>(s, step_size, bc2, x.param + b, x.grad + b, x.state[0] + b,
                         x.state[1] + b, vmax, e - b);
    else
      adam_span<T, false>(s, step_size, bc2, x.param + b, x.grad + b, x.state[0] + b,
                          x.state[1] + b, vmax, e - b);
  });
}

template <typename T>
void sgd_step(Arrays<T> params, Arrays<T> grads, Arrays<T> momentum_buffers,
              std::vector<bool> fresh, double lr, double momentum, double dampening,
              double weight_decay, bool nesterov, bool maximize) {
  const char* op = "sgd_step";
  const bool use_momentum = momentum != 0;
  std::vector<Slot<T>> slots =
      gather(op, params, grads, {{{"momentum_buffers", use_momentum}, &momentum_buffers}});
  if (fresh.size() != (use_momentum ? params.size() : 0))
    fail(op, "expected one fresh-buffer flag per momentum buffer (" +
                 std::to_string(momentum_buffers.size()) + "), got " +
                 std::to_string(fresh.size()));
  for (std::size_t i = 0; i < fresh.size(); ++i) slots[i].scalar[0] = fresh[i];
  const SgdScalars<T> s{{T(maximize ? -1 : 1), T(weight_decay), weight_decay != 0},
                        T(-lr), T(momentum), T(1 - dampening), nesterov};
  for_each_span(slots, 4, [&](const Slot<T>& x, std::int64_t b, std::int64_t e) {
    if (use_momentum)
      sgd_span<T, true>(s, x.scalar[0] != 0, x.param + b, x.grad + b, x.state[0] + b, e - b);
    else
      sgd_span<T, false>(s, false, x.param + b, x.grad + b, nullptr, e - b);
  });
}

template <typename T>
void rmsprop_step(Arrays<T> params, Arrays<T> grads, Arrays<T> square_avgs, Arrays<T> grad_avgs,
                  Arrays<T> momentum_buffers, double lr, double alpha, double eps,
                  double weight_decay, double momentum, bool centered, bool maximize) {
  const bool use_momentum = momentum > 0;
  std::vector<Slot<T>> slots =
      gather("rmsprop_step", params, grads,
             {{{"square_avgs", true}, &square_avgs}, {{"grad_avgs", centered}, &grad_avgs},
              {{"momentum_buffers", use_momentum}, &momentum_buffers}});
  const RmspropScalars<T> s{{T(maximize ? -1 : 1), T(weight_decay), weight_decay != 0},
                            T(-lr), T(alpha), T(1 - alpha), T(eps), T(momentum)};
  for_each_span(slots, 16, [&](const Slot<T>& x, std::int64_t b, std::int64_t e) {
    T* const sq = x.state[0] + b;
    T* const ga = centered ? x.state[1] + b : nullptr;
    T* const buf = use_momentum ? x.state[2] + b : nullptr;
    if (centered && use_momentum)
      rmsprop_span<T, true, true>(s, x.param + b, x.grad + b, sq, ga, buf, e - b);
    else if (centered)
      rmsprop_span<T, true, false>(s, x.param + b, x.grad + b, sq, ga, buf, e - b);
    else if (use_momentum)
      rmsprop_span<T, false, true>(s, x.param + b, x.grad + b, sq, ga, buf, e - b);
    else
      rmsprop_span<T, false, false>(s, x.param + b, x.grad + b, sq, ga, buf, e - b);
  });
}

template <typename T>
void adagrad_step(Arrays<T> params, Arrays<T> grads, Arrays<T> state_sums,
                  std::vector<std::int64_t> steps, double lr, double lr_decay,
                  double weight_decay, double eps, bool maximize) {
  const char* op = "adagrad_step";
  std::vector<Slot<T>> slots = gather(op, params, grads, {{{"state_sums", true}, &state_sums}});
  if (steps.size() != params.size())
    fail(op, "expected one step count per parameter (" + std::to_string(params.size()) +
                 "), got " + std::to_string(steps.size()));
  for (std::size_t i = 0; i < slots.size(); ++i) {
    if (steps[i] < 1) fail(op, "step counts start at 1, got " + std::to_string(steps[i]));
    slots[i].scalar[0] = -(lr / (1 + (static_cast<double>(steps[i]) - 1) * lr_decay));
  }
  const GradTerms<T> t{T(maximize ? -1 : 1), T(weight_decay), weight_decay != 0};
  for_each_span(slots, 16, [&](const Slot<T>& x, std::int64_t b, std::int64_t e) {
    adagrad_span<T>(t, T(x.scalar[0]), T(eps), x.param + b, x.grad + b, x.state[0] + b, e - b);
  });
}

template <typename T>
void bind(py::module_& m) {
  m.def("adam_step", &adam_step<T>, py::arg("params").noconvert(), py::arg("grads").noconvert(),
        py::arg("exp_avgs").noconvert(), py::arg("exp_avg_sqs").noconvert(),
        py::arg("max_exp_avg_sqs").noconvert(), py::arg("steps"), py::arg("lr"),
        py::arg("beta1"), py::arg("beta2"), py::arg("eps"), py::arg("weight_decay"),
        py::arg("decoupled"), py::arg("maximize"),
        "adam_step(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, lr, beta1, "
        "beta2, eps, weight_decay, decoupled, maximize) -> None: one Adam (decoupled: AdamW) "
        "step of every parameter in place; max_exp_avg_sqs empty unless amsgrad; steps are "
        "the counts after this step.");
  m.def("sgd_step", &sgd_step<T>, py::arg("params").noconvert(), py::arg("grads").noconvert(),
        py::arg("momentum_buffers").noconvert(), py::arg("fresh"), py::arg("lr"),
        py::arg("momentum"), py::arg("dampening"), py::arg("weight_decay"), py::arg("nesterov"),
        py::arg("maximize"),
        "sgd_step(params, grads, momentum_buffers, fresh, lr, momentum, dampening, "
        "weight_decay, nesterov, maximize) -> None: one SGD step in place; the buffers (empty "
        "when momentum is 0) flagged fresh are set to the gradient, as torch's first step.");
  m.def("rmsprop_step", &rmsprop_step<T>, py::arg("params").noconvert(),
        py::arg("grads").noconvert(), py::arg("square_avgs").noconvert(),
        py::arg("grad_avgs").noconvert(), py::arg("momentum_buffers").noconvert(),
        py::arg("lr"), py::arg("alpha"), py::arg("eps"), py::arg("weight_decay"),
        py::arg("momentum"), py::arg("centered"), py::arg("maximize"),
        "rmsprop_step(params, grads, square_avgs, grad_avgs, momentum_buffers, lr, alpha, eps, "
        "weight_decay, momentum, centered, maximize) -> None: one RMSprop step in place; "
        "grad_avgs empty unless centered, momentum_buffers empty unless momentum > 0.");
  m.def("adagrad_step", &adagrad_step<T>, py::arg("params").noconvert(),
        py::arg("grads").noconvert(), py::arg("state_sums").noconvert(), py::arg("steps"),
        py::arg("lr"), py::arg("lr_decay"), py::arg("weight_decay"), py::arg("eps"),
        py::arg("maximize"),
        "adagrad_step(params, grads, state_sums, steps, lr, lr_decay, weight_decay, eps, "
        "maximize) -> None: one Adagrad step in place; steps are the counts after this step.");
}

}  // namespace

void init_optim(py::module_& m) {
  bind<float>(m);
  bind<double>(m);
}

}  // namespace pydyfast
