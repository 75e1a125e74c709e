// The only PYBIND11_MODULE of pydyfast._C: each kernel family registers itself in its init_<family>.
#include "common.h"

namespace pydyfast {
void init_im2col(py::module_& m);
void init_pool(py::module_& m);
void init_softmax(py::module_& m);
void init_norm(py::module_& m);
void init_rnn(py::module_& m);
void init_attention(py::module_& m);
void init_resample(py::module_& m);
}  // namespace pydyfast

PYBIND11_MODULE(_C, m) {
  m.doc() = "pydyfast C++ CPU kernels (float32 and float64, OpenMP over the outer loop)";
  m.def("openmp", []() {
#ifdef PYDYFAST_HAVE_OPENMP
    return true;
#else
    return false;
#endif
  }, "Whether the kernels were compiled with OpenMP.");
  m.def("set_num_threads", [](int n) {
#ifdef PYDYFAST_HAVE_OPENMP
    omp_set_num_threads(n);
#else
    (void)n;
#endif
  }, py::arg("n"));
  m.def("get_num_threads", []() {
#ifdef PYDYFAST_HAVE_OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
  });
  pydyfast::init_im2col(m);
  pydyfast::init_pool(m);
  pydyfast::init_softmax(m);
  pydyfast::init_norm(m);
  pydyfast::init_rnn(m);
  pydyfast::init_attention(m);
  pydyfast::init_resample(m);
}
