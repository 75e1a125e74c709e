// Kernel family: pool (filled in by its kernel issue).
#include "common.h"

namespace pydyfast {
void init_pool(py::module_& m) { (void)m; }
}  // namespace pydyfast
