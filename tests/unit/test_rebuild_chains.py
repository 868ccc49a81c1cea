"""How a rebuild shares its models out among worker processes."""

from __future__ import annotations

import gc

import pytest

from projections.rebuild import MODELS, chains
from projections.rebuild_worker import no_cycle_collection


@pytest.mark.parametrize("workers", [2, 3, 4])
def test_every_model_is_filled_once_and_every_worker_scores(workers: int) -> None:
    """The scores are filled by every worker (sharing the cycles), the others by exactly one."""
    found = chains(list(MODELS), workers)
    assert len(found) == workers
    assert sorted(name for chain in found for name in chain) == sorted(set(MODELS) - {"scores"})


def test_the_diary_is_read_apart_and_the_index_that_scoring_waits_for_comes_first() -> None:
    """The first chain is the starting process's own, which needs no time to start."""
    assert chains(list(MODELS), 2) == [["accountability", "approvals", "log_scopes"], ["diary"]]


def test_a_rebuild_of_some_models_makes_no_process_for_the_others() -> None:
    assert chains(["diary", "approvals"], 4) == [["approvals"], ["diary"]]
    assert chains(["scores", "log_scopes"], 2) == [["log_scopes"], []]


@pytest.mark.parametrize("was_on", [True, False])
def test_the_garbage_collector_is_left_as_the_rebuild_found_it(was_on: bool) -> None:
    """A rebuild run from a long-lived process (the API's) must not leave cycles uncollected."""
    (gc.enable if was_on else gc.disable)()
    try:
        with pytest.raises(RuntimeError), no_cycle_collection():
            assert not gc.isenabled()
            raise RuntimeError("a rebuild that failed part way")
        assert gc.isenabled() is was_on
    finally:
        gc.enable()


def test_every_model_is_registered_under_its_own_name() -> None:
    """A worker imports a model by the name the rebuild gives it (`MODEL_TOPICS`)."""
    assert {name: cls.name for name, cls in MODELS.items()} == {name: name for name in MODELS}
