"""The ``steward`` process's own start-up and exit, for commands that run once and end (``steward eval ...``).

Measured on the eval benchmark (bench/README.md), a one-shot ``steward eval run`` spent about a quarter of its
wall time on two things that do no work for the user:

- the cyclic garbage collector during start-up: importing the engine, pydantic and aiohttp makes a few
  hundred thousand long-lived objects, and the collector walked them again and again while freeing none
  (about 50 ms);
- the interpreter's teardown after the reports were written: freeing every module, class and schema one by
  one (about 120 ms), for a process that is about to end anyway.

So the console script (service.console) switches the collector off before anything else is imported
(:func:`defer_collection`), until the command's imports are done (:func:`started` freezes what start-up made,
which later collections then skip, and switches the collector back on), and a one-shot command exits through
:func:`exit_without_teardown`. This module imports nothing of Steward's, so that the switch comes first.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import os
import sys
import threading

_state = {"deferred": False}


def defer_collection() -> None:
    """Switch the cyclic collector off for start-up; :func:`started` switches it back on."""
    if gc.isenabled():
        gc.disable()
        _state["deferred"] = True


def started() -> None:
    """Start-up is over: what it made is frozen out of later collections, and the collector runs again.

    A no-op unless :func:`defer_collection` switched the collector off, so commands invoked in-process (tests
    through typer's runner) keep the host's collector as it is.
    """
    if _state["deferred"]:
        _state["deferred"] = False
        gc.freeze()
        gc.enable()


def import_in_background(module: str) -> threading.Thread | None:
    """Start importing ``module`` in a daemon thread, for a command that needs it after other work.

    Most of an import is Python and shares the GIL with that work; what runs outside it (aiohttp loads CA
    certificates for its default TLS contexts, ~70 ms) then overlaps with the command's own start-up. The
    command's own ``import`` of the module waits for this one to finish, and raises its error if it failed.
    None when the module is imported already or on its way.
    """
    if module in sys.modules or module in _importing:
        return None
    _importing.add(module)

    def load() -> None:
        with contextlib.suppress(Exception):
            importlib.import_module(module)

    thread = threading.Thread(target=load, name=f"import-{module}", daemon=True)
    thread.start()
    return thread


_importing: set[str] = set()


def exit_without_teardown(code: object) -> None:
    """End the process now with ``code`` (a ``SystemExit`` code), after what a normal exit runs that matters.

    Runs the ``atexit`` handlers (logging's flush, thread pools' joins, coverage's data) and flushes stdout and
    stderr, then skips the interpreter's teardown. Returns instead, for the caller to exit normally, when a
    thread that a normal exit would wait for is still alive, or when a profiler or tracer is attached
    (``python -m cProfile -o``, a debugger, coverage's tracer): they write their results after the command returns.
    """
    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        return None
    if sys.getprofile() is not None or sys.gettrace() is not None:
        return None
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    status = 0 if code is None else code if isinstance(code, int) else 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (steward ... | head): the status Python gives it at exit
            status = status or 120
    os._exit(status)
