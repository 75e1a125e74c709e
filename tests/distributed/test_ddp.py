"""DistributedDataParallel and SyncBatchNorm with 2 ranks against one process."""
import pytest

from distributed.launch import check, run_cases

CASES = ["ddp_mlp_matches_one_process_after_5_adam_steps",
         "ddp_cnn_with_sync_batchnorm_matches_one_process", "ddp_gru_matches_one_process",
         "convert_sync_batchnorm_replaces_and_keeps_state",
         "no_sync_accumulation_equals_large_batch_gradient",
         "unused_parameters_differ_per_rank_with_find_unused",
         "unused_parameter_without_find_unused_is_named_at_next_forward",
         "mismatched_parameter_shapes_are_named_at_construction",
         "checkpoint_saved_on_rank0_loads_on_every_rank",
         "a_discarded_wrapper_releases_its_hooks_and_buckets",
         "buckets_start_during_backward_in_bucket_order"]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return run_cases(2, "worker_ddp.py", tmp_path_factory.mktemp("ddp"))


@pytest.mark.parametrize("case", CASES)
def test_ddp(results, case):
    check(results, case)


def test_every_worker_case_is_checked(results):
    assert sorted(results) == sorted(CASES)
