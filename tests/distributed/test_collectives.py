"""Collectives under mpiexec with 2 and 3 ranks, each checked against numpy on every rank."""
import pytest

from distributed.launch import check, run_cases

CASES = ["all_reduce_every_op_dtype_and_shape",
         "all_reduce_async_on_arrays_and_non_contiguous_tensors", "broadcast_from_last_rank",
         "all_gather_list_and_into_tensor", "reduce_scatter_tensor_and_list",
         "reduce_gather_scatter_to_and_from_a_root", "send_recv_ring_both_directions",
         "objects_barrier_and_group_queries", "bad_arguments_raise_clear_errors_on_every_rank"]


@pytest.fixture(scope="module", params=[2, 3], ids=["2ranks", "3ranks"])
def results(request, tmp_path_factory):
    return run_cases(request.param, "worker_collectives.py", tmp_path_factory.mktemp("coll"))


@pytest.mark.parametrize("case", CASES)
def test_collective(results, case):
    check(results, case)


def test_every_worker_case_is_checked(results):
    assert sorted(results) == sorted(CASES)
