"""The process's own start-up and exit (service.process), in real processes."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from service import process


def _python(code: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def test_exit_without_teardown_runs_atexit_handlers_and_flushes_before_it_ends(tmp_path: Path) -> None:
    marker = tmp_path / "atexit-ran"
    done = _python(
        f"""
        import atexit, sys
        from pathlib import Path
        from service.process import exit_without_teardown
        atexit.register(lambda: Path({str(marker)!r}).write_text("yes"))
        sys.stdout.write("buffered, no newline")
        sys.stderr.write("to stderr")
        exit_without_teardown(3)
        print("not reached")
        """
    )
    assert done.returncode == 3
    assert done.stdout == "buffered, no newline"
    assert done.stderr == "to stderr"
    assert marker.read_text() == "yes"


def test_a_message_code_is_printed_and_exits_1_as_sys_exit_would() -> None:
    done = _python("from service.process import exit_without_teardown\nexit_without_teardown('it broke')")
    assert (done.returncode, done.stderr) == (1, "it broke\n")
    assert _python("from service.process import exit_without_teardown\nexit_without_teardown(None)").returncode == 0


def test_it_leaves_the_exit_to_the_interpreter_while_a_thread_a_normal_exit_waits_for_is_alive() -> None:
    release = threading.Event()
    worker = threading.Thread(target=release.wait, daemon=False)
    worker.start()
    try:
        assert process.exit_without_teardown(0) is None
    finally:
        release.set()
        worker.join()


def test_a_profiler_attached_to_the_command_gets_the_normal_exit_and_writes_its_file(tmp_path: Path) -> None:
    script, stats = tmp_path / "one_shot.py", tmp_path / "one_shot.prof"
    script.write_text(
        "from service.process import exit_without_teardown\nexit_without_teardown(0)\nprint('returned')\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(stats), str(script)], capture_output=True, text=True, timeout=120
    )
    assert (done.returncode, done.stdout) == (0, "returned\n")  # the profiler's run goes on to a normal exit
    assert stats.stat().st_size > 0


def test_start_up_runs_without_the_collector_and_started_freezes_what_it_made() -> None:
    done = _python(
        """
        import gc
        from service import process
        process.defer_collection()
        assert not gc.isenabled()
        import service.cli  # start-up's imports
        process.started()
        assert gc.isenabled()
        assert gc.get_freeze_count() > 10_000, gc.get_freeze_count()
        process.started()  # once only
        print(gc.isenabled())
        """
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "True\n", "")


def test_started_leaves_a_host_process_collector_alone() -> None:
    """Commands invoked in-process (tests, typer's runner) never freeze the host's objects."""
    frozen = gc.get_freeze_count()
    process.started()
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


def test_a_module_is_imported_in_the_background_once() -> None:
    done = _python(
        """
        import sys
        from service.process import import_in_background
        assert "aiohttp" not in sys.modules
        thread = import_in_background("aiohttp")
        assert thread is not None and thread.daemon
        assert import_in_background("aiohttp") is None  # on its way
        import aiohttp  # waits for the thread's import
        assert aiohttp.ClientSession
        thread.join()
        assert import_in_background("aiohttp") is None  # there already
        assert import_in_background("no_such_module_here").join() is None  # a failure is left to the real import
        print("ok")
        """
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "ok\n", "")
