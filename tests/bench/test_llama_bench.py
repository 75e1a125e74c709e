"""``python -m pydyfast.bench llama``'s llama2.c builds: each program is compiled twice, -Ofast
for the speed anchor and with IEEE float semantics for the text anchor, and both report their
text. Stand-in run.c/runq.c sources print which build they are, so no llama2.c source is needed."""
import shutil

import pytest

from pydyfast.bench import llama as llama_bench

STAND_IN = r"""#include <stdio.h>
int main(void) {
#ifdef __FAST_MATH__
  puts("fast math");
#else
  puts("ieee");
#endif
  printf("achieved tok/s: 12.5\n");
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc to build the programs")
def test_programs_build_fast_and_ieee_and_report_their_text(tmp_path, monkeypatch):
    source = tmp_path / "llama2c"
    source.mkdir()
    for name in ("run.c", "runq.c"):
        (source / name).write_text(STAND_IN)
    monkeypatch.setenv("HOME", str(tmp_path))  # the binary cache lives under ~/.cache
    binaries = llama_bench.build_programs(str(source))
    assert set(binaries) == {"run.c", "run.c-ieee", "runq.c", "runq.c-ieee"}
    assert all(str(tmp_path / ".cache") in path for path in binaries.values())
    texts = {name: llama_bench.run_program(path, "model.bin", str(tmp_path), 4, 1)
             for name, path in binaries.items()}
    assert texts == {"run.c": (12.5, "fast math"), "runq.c": (12.5, "fast math"),
                     "run.c-ieee": (12.5, "ieee"), "runq.c-ieee": (12.5, "ieee")}
    assert llama_bench.build_programs(str(source)) == binaries  # cached, not rebuilt


def test_a_source_folder_without_the_programs_is_refused(tmp_path):
    with pytest.raises(SystemExit, match="has no run.c and runq.c"):
        llama_bench._llama2c_source(str(tmp_path))
