"""The cyclic garbage collector paused around heavy work, and given back as it was."""

import gc

import pytest

from alerts.engine import evaluate
from core.collector import cyclic_gc_paused


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_paused_meanwhile_and_back_as_it_was_after_a_failure_too(enabled):
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        with pytest.raises(RuntimeError), cyclic_gc_paused():
            assert not gc.isenabled()
            raise RuntimeError("a rule failed")
        assert gc.isenabled() == enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_an_evaluation_leaves_the_collector_on(store):
    assert gc.isenabled()
    evaluate(store, {})
    assert gc.isenabled()
