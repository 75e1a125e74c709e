// Kernel family: rnn (filled in by its kernel issue).
#include "common.h"

namespace pydyfast {
void init_rnn(py::module_& m) { (void)m; }
}  // namespace pydyfast
