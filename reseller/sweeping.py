"""How a process runs while it sweeps (polling, submitting, refill checks): many threads waiting on
sockets, and many short-lived objects. Set by the first sweep to start in the process and put back by the
last to end (`catalog/pool.py: Calls` marks a sweep's start and end).

- Python's lock switch interval is 0.5 ms, not 5: a thread woken by its answer otherwise waits up to 5 ms
  for the lock, at each step of its call, while the sweep's other threads work; at 150 ms round trips
  that added a tenth to every call.
- The objects alive when the sweep starts (the whole of Django and the app, in a worker forked from its
  parent) are left out of garbage collection until it ends (`gc.freeze`, then `gc.unfreeze`): a sweep
  builds hundreds of thousands of objects, and every full collection they set off walked the whole
  process, which took half of a sweep's time. What the sweep itself leaves in cycles is collected as
  ever, and the rest once it ends.
"""

import gc
import sys
import threading

SWITCH_INTERVAL = 0.0005

_lock = threading.Lock()
_state = {"sweeps": 0, "interval": 0.0}


def sweep_started() -> None:
    with _lock:
        if _state["sweeps"] == 0:
            _state["interval"] = sys.getswitchinterval()
            sys.setswitchinterval(min(_state["interval"], SWITCH_INTERVAL))
            gc.freeze()
        _state["sweeps"] += 1


def sweep_ended() -> None:
    """Once per `sweep_started`; the last puts the process back as the first found it."""
    with _lock:
        _state["sweeps"] -= 1
        if _state["sweeps"] == 0:
            sys.setswitchinterval(_state["interval"])
            gc.unfreeze()
