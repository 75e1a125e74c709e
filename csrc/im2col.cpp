// Kernel family: im2col (filled in by its kernel issue).
#include "common.h"

namespace pydyfast {
void init_im2col(py::module_& m) { (void)m; }
}  // namespace pydyfast
