// Kernel family: norm (filled in by its kernel issue).
#include "common.h"

namespace pydyfast {
void init_norm(py::module_& m) { (void)m; }
}  // namespace pydyfast
