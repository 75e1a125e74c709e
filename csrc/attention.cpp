// Kernel family: attention (filled in by its kernel issue).
#include "common.h"

namespace pydyfast {
void init_attention(py::module_& m) { (void)m; }
}  // namespace pydyfast
