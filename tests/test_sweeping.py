"""The process settings of a sweep (reseller/sweeping.py), set while a pool of calls is open."""

import gc
import sys

from catalog.pool import Calls
from reseller.sweeping import SWITCH_INTERVAL


def test_while_calls_are_open_the_lock_switches_sooner_and_the_old_heap_is_not_collected():
    """Threads woken by an answer should not wait 5 ms for Python's lock, and the collector should not walk
    the objects that were there before the sweep; once the calls are done, the process is as it was."""
    before, frozen_before = sys.getswitchinterval(), gc.get_freeze_count()
    outer = Calls(limit=2)
    with Calls(limit=2):  # two open at once (two sweeps' threads), closed in either order
        assert sys.getswitchinterval() <= SWITCH_INTERVAL < before
        assert gc.get_freeze_count() > frozen_before
        assert gc.isenabled()  # what the sweep makes is collected as ever
    assert sys.getswitchinterval() <= SWITCH_INTERVAL  # one is still open
    outer.close()
    outer.close()  # twice: still counted once
    assert sys.getswitchinterval() == before
    assert gc.get_freeze_count() == frozen_before


def test_cycles_made_during_a_sweep_are_still_collected():
    class Node:
        pass

    with Calls(limit=1):
        gc.collect()
        node = Node()
        node.me = node  # a cycle, garbage once dropped
        del node
        assert gc.collect() > 0
