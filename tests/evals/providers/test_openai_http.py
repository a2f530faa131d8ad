"""evals.providers.openai_http beyond what the conformance test compares with the SDK."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_the_client_is_imported_in_the_background_once() -> None:
    code = textwrap.dedent(
        """
        import sys
        from evals.providers.openai_http import import_client_in_background
        assert "aiohttp" not in sys.modules
        thread = import_client_in_background()
        assert thread is not None and thread.daemon
        assert import_client_in_background() is None  # on its way
        thread.join()
        import aiohttp
        assert sys.modules["aiohttp"] is aiohttp and aiohttp.ClientSession
        assert import_client_in_background() is None  # there already
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (0, "ok\n", "")
