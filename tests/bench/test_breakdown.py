"""The bookkeeping of ``bench train --breakdown``: self times of nested wrapped calls, torch
events grouped by name and ancestry, the printed table. The end-to-end run is in
test_train_bench.py."""
import contextlib
import itertools
from types import SimpleNamespace

import pytest

from pydyfast.bench import breakdown, contend


@pytest.fixture
def clock(monkeypatch):
    """perf_counter replaced by a clock that advances one second per reading."""
    ticks = itertools.count()
    monkeypatch.setattr(breakdown.time, "perf_counter", lambda: float(next(ticks)))


def test_nested_wrapped_calls_are_charged_their_own_time_once(clock):
    timer = breakdown.SelfTimer()
    kernel = timer.wrap(lambda: None, "kernels", "_C.k")  # two readings: 1 s inside

    def op_body():
        kernel()
        kernel()
        return "result"
    op = timer.wrap(op_body, "elementwise", "Op.forward")
    assert op() == "result"
    # readings 0 (enter op) 1, 2 (kernel) 3, 4 (kernel) 5 (leave op): op owns 0-1, 2-3, 4-5
    assert timer.seconds == {("kernels", "_C.k"): 2.0, ("elementwise", "Op.forward"): 3.0}


def test_an_absorbing_call_keeps_the_time_of_the_calls_nested_in_it(clock):
    timer = breakdown.SelfTimer()
    kernel = timer.wrap(lambda: None, "kernels", "_C.adam")
    nested = timer.wrap(lambda: kernel(), "elementwise", "Op.forward")
    step = timer.wrap(lambda: nested(), "optimizer", "Adam.step", absorb=True)
    step()
    kernel()
    # readings 0-5 inside the step (enter/leave of three calls), then 6-7 for the lone kernel
    assert timer.seconds == {("optimizer", "Adam.step"): 5.0, ("kernels", "_C.adam"): 1.0}


def test_a_failing_call_still_leaves_the_stack_balanced(clock):
    timer = breakdown.SelfTimer()

    def fail():
        raise ValueError("op: bad shapes")
    with pytest.raises(ValueError, match="bad shapes"):
        timer.wrap(fail, "kernels", "_C.fail")()
    timer.wrap(lambda: None, "copies", "np.copy")()
    assert timer.seconds == {("kernels", "_C.fail"): 1.0, ("copies", "np.copy"): 1.0}


def _event(name, parent=None):
    return SimpleNamespace(name=name, cpu_parent=parent)


@pytest.mark.parametrize("name, parents, expected", [
    ("aten::addmm", [], ("gemm", "aten::addmm")),
    ("aten::mm", ["AddmmBackward0", "autograd::engine::evaluate_function: AddmmBackward0"],
     ("gemm", "aten::mm")),
    ("AddmmBackward0", ["autograd::engine::evaluate_function: AddmmBackward0"],
     ("engine", "autograd nodes")),
    ("autograd::engine::evaluate_function: ReluBackward0", [], ("engine", "autograd nodes")),
    ("aten::add_", ["Optimizer.step#Adam.step"], ("optimizer", "Optimizer.step#Adam.step")),
    ("aten::mul_", ["aten::something", "Optimizer.step#Adam.step"],
     ("optimizer", "Optimizer.step#Adam.step")),
    ("Optimizer.zero_grad#Adam.zero_grad", [], ("optimizer", "Optimizer.zero_grad#Adam.zero_grad")),
    ("aten::copy_", ["aten::addmm"], ("copies", "aten::copy_")),
    ("aten::t", [], ("copies", "aten::t")),
    ("aten::max_pool2d_with_indices", [], ("kernels", "aten::max_pool2d_with_indices")),
    ("aten::convolution_backward", [], ("kernels", "aten::convolution_backward")),
    ("aten::threshold_backward", [], ("elementwise", "aten::threshold_backward")),
    ("aten::sum", [], ("elementwise", "aten::sum")),
    ("detach", [], ("python", "detach")),
])
def test_torch_events_are_grouped_by_name_and_ancestry(name, parents, expected):
    parent = None
    for outer in reversed(parents):  # parents are listed innermost first
        parent = _event(outer, parent)
    assert breakdown.torch_category(_event(name, parent)) == expected


def _figures(framework, kernels_ms):
    return {"framework": framework, "model": "lenet", "batch": 4, "threads": 1, "steps": 1,
            "step_ms": 10.0, "profiled_step_ms": 12.0, "minor_faults_per_step": 7.0,
            "ms": {"kernels": kernels_ms, "python": 12.0 - kernels_ms},
            "items": {"kernels": {f"{framework}_big": kernels_ms, f"{framework}_tiny": 0.01}}}


def test_table_lists_every_category_and_the_largest_items():
    text = breakdown.table("lenet", {"pydyfast": _figures("pydyfast", 5.0),
                                     "torch": _figures("torch", 2.0)})
    lines = text.splitlines()
    assert lines[0].startswith("lenet: ms per step, batch 4, 1 threads")
    kernels = next(line for line in lines if line.startswith("compiled kernels"))
    assert kernels.split()[-2:] == ["5.0", "2.0"]
    gemm = next(line for line in lines if line.startswith("GEMM"))
    assert gemm.split()[-2:] == ["0.0", "0.0"]
    assert "    pydyfast: pydyfast_big 5.0" in lines and "    torch: torch_big 2.0" in lines
    assert "tiny" not in text  # below what one decimal shows
    assert lines[-1].split()[-2:] == ["7", "7"]


def test_table_shows_a_dash_for_a_framework_that_did_not_run():
    text = breakdown.table("lenet", {"pydyfast": _figures("pydyfast", 5.0), "torch": None})
    assert text.splitlines()[2].split()[-2:] == ["10.0", "-"]
    assert "no breakdown" in breakdown.table("lenet", {"pydyfast": None, "torch": None})


def test_table_adds_the_contended_columns_when_measured():
    text = breakdown.table("lenet", {"pydyfast": _figures("pydyfast", 5.0),
                                     "torch": _figures("torch", 2.0),
                                     "pydyfast busy": _figures("pydyfast", 9.0),
                                     "torch busy": _figures("torch", 3.0)})
    lines = text.splitlines()
    assert lines[1].split() == ["pydyfast", "torch", "pydyfast", "busy", "torch", "busy"]
    kernels = next(line for line in lines if line.startswith("compiled kernels"))
    assert kernels.split()[-4:] == ["5.0", "2.0", "9.0", "3.0"]
    assert "    pydyfast busy: pydyfast_big 9.0" in lines


def test_run_takes_the_contended_breakdown_beside_the_busy_process(monkeypatch):
    busy = []
    calls = []

    @contextlib.contextmanager
    def fake_busy_process():
        busy.append(True)
        yield
        busy.pop()

    def fake_run_worker(module, worker_args, threads):
        calls.append((module, worker_args[0], bool(busy), threads))
        return {"framework": worker_args[0]}, ""
    monkeypatch.setattr(contend, "busy_process", fake_busy_process)
    monkeypatch.setattr(breakdown, "run_worker", fake_run_worker)
    args = SimpleNamespace(framework=["torch", "pydyfast", "pydynet"], steps=1, warmup=0,
                           threads=1, batch=4, contend=True)
    figures = breakdown.run("mlp", args)
    assert calls == [("breakdown", "pydyfast", False, 1), ("breakdown", "torch", False, 1),
                     ("breakdown", "pydyfast", True, 1), ("breakdown", "torch", True, 1)]
    assert list(figures) == ["pydyfast", "torch", "pydyfast busy", "torch busy"]
    args.contend = False
    calls.clear()
    assert list(breakdown.run("mlp", args)) == ["pydyfast", "torch"] and len(calls) == 2
