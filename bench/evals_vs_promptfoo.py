"""Run the same generated suite through `steward eval run` and promptfoo against one fake server.

Scenarios (from issue 3):
  a  N=1000, C=50, 50 ms, no cache, both tools: throughput and peak RSS side by side
  b  N=1000, C=100, 1000 ms, no cache: wall time against the lower bound ceil(N/C) x latency
  c  N=10000, C=100, 50 ms, no cache, Steward: peak RSS of a large suite
  d  N=1000, C=100, 1000 ms: a cold run that fills the cache, then a re-run of the unchanged suite;
     provider calls are counted at the fake server
  e  a 2 prompts x 2 models matrix of N=1000 cases (4,000 calls), C=100, 1000 ms, Steward: wall time
     against the lower bound ceil(calls/C) x latency
  f  N=100,000, C=100, 50 ms, no cache, Steward, with JSON and JUnit reports: peak RSS of a huge suite

Runs of the tools are interleaved within each repeat, so drift in the shared machine's load hits
both alike; the table shows medians of the repeats and the ratios between the tools.

    python bench/evals_vs_promptfoo.py [--quick] [--scenarios a,b] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import tools
from gen_suite import write_suite
from procs import BENCH, FakeServer, lower_bound_s, run_measured
from setup_promptfoo import PROMPTFOO_HOME, versions

WORK = BENCH / ".work"


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    n: int
    concurrency: int
    latency_ms: float
    tools: tuple[str, ...]
    cached: bool = False
    prompts: int = 1
    providers: int = 1
    junit: bool = False

    @property
    def calls(self) -> int:
        """Model calls (and results) of a run: every case on every prompt x provider combination."""
        return self.n * self.prompts * self.providers

    @property
    def lower_bound_s(self) -> float:
        return lower_bound_s(self.calls, self.concurrency, self.latency_ms)


def scenarios(quick: bool, promptfoo_in_b: bool, promptfoo_in_d: bool) -> list[Scenario]:
    both = ("steward", "promptfoo")
    n, big, huge = (200, 2000, 10_000) if quick else (1000, 10_000, 100_000)
    return [
        Scenario("a", "throughput, no cache", n, 50, 50, both),
        Scenario("b", "realistic latency, no cache", n, 100, 1000, both if promptfoo_in_b else ("steward",)),
        Scenario("c", "large suite, no cache", big, 100, 50, ("steward",)),
        Scenario("d", "cached re-run", n, 100, 1000, both if promptfoo_in_d else ("steward",), cached=True),
        Scenario("e", "2 prompts x 2 models matrix, no cache", n, 100, 1000, ("steward",), prompts=2, providers=2),
        Scenario("f", "huge suite with JSON and JUnit reports", huge, 100, 50, ("steward",), junit=True),
    ]


def steward_available() -> bool:
    try:
        probe = subprocess.run([str(tools.steward_bin()), "eval", "run", "--help"], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def invocation(
    tool: str,
    suite: Path,
    config: Path,
    sc: Scenario,
    server: FakeServer,
    out: Path,
    cache: Path | None,
    via_npx: bool,
) -> tools.Invocation:
    if tool == "steward":
        return tools.steward(suite, sc.concurrency, server.base_url, out, cache, sc.providers, sc.junit)
    inv = tools.promptfoo(config, sc.concurrency, out, cache is not None, via_npx)
    if cache is not None:
        inv.env["PROMPTFOO_CACHE_PATH"] = str(cache)
    return inv


def run_once(
    tool: str,
    variant: str,
    sc: Scenario,
    server: FakeServer,
    suite: Path,
    config: Path,
    out: Path,
    cache: Path | None,
    via_npx: bool,
) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    inv = invocation(tool, suite, config, sc, server, out, cache, via_npx)
    inv.report.unlink(missing_ok=True)
    server.reset()
    server_cpu0 = server.cpu_s()
    timeout = 120 + sc.calls * 0.1 + 3 * sc.lower_bound_s  # generous; only guards against a hang
    m = run_measured(inv.cmd, inv.env, out, timeout)
    stats = server.stats()
    outcomes = count_outcomes_apart(tool, inv.report)
    ok = m.returncode == 0 and outcomes is not None and outcomes["passed"] == sc.calls
    row = {
        "scenario": sc.key,
        "tool": tool,
        "variant": variant,
        "n": sc.n,
        "calls": sc.calls,
        "concurrency": sc.concurrency,
        "latency_ms": sc.latency_ms,
        "wall_s": round(m.wall_s, 3),
        # The poll can miss a short spike of a single process; wait4's maxrss cannot.
        "peak_rss_mb": round(max(m.peak_rss_mb, m.max_single_rss_mb), 1),
        # its two parts: the polled tree sum, and the largest single process's (kernel-kept) maximum
        "tree_rss_polled_mb": round(m.peak_rss_mb, 1),
        "max_single_rss_mb": round(m.max_single_rss_mb, 1),
        "cpu_s": round(m.cpu_s, 2),
        "provider_calls": stats["completions"],
        "max_in_flight": stats["max_in_flight"],
        "server_cpu_s": round(server.cpu_s() - server_cpu0, 2),
        "returncode": m.returncode,
        "timed_out": m.timed_out,
        "outcomes": outcomes,
        "ok": ok,
        "cmd": " ".join(inv.cmd),
    }
    if not ok:
        row["stderr_tail"] = m.stderr[-1500:]
        row["stdout_tail"] = m.stdout[-1500:]
    status = "ok" if ok else f"NOT OK rc={m.returncode} outcomes={outcomes}"
    print(
        f"  [{sc.key}] {tool:9} {variant:7} N={sc.n} C={sc.concurrency} {sc.latency_ms:.0f}ms: "
        f"{m.wall_s:6.2f}s  {row['peak_rss_mb']:6.1f} MB  cpu {m.cpu_s:5.1f}s  "
        f"calls {stats['completions']}  {status}",
        flush=True,
    )
    return row


def write_suite_apart(n: int, base_url: str, folder: Path, fmt: str, prompts: int) -> tuple[Path, Path]:
    """``write_suite`` in a forked child, so this process never holds a big suite.

    A measured command is started by fork (or vfork) and exec from this process, and Linux carries the
    forking process's resident size into the child's ``ru_maxrss``: with a 100,000-case suite built here
    (~700 MB), every measured tool's "largest process" read at least that, whatever it used itself.
    """
    with multiprocessing.get_context("fork").Pool(1) as pool:
        return pool.apply(write_suite, (n, base_url, folder, fmt, prompts))


def count_outcomes_apart(tool: str, report: Path) -> dict[str, int] | None:
    """``tools.count_outcomes`` in a forked child, so this process never holds a big report.

    Parsing scenario f's 145 MB JSON report here took this process to ~500 MB, and the next run it
    started carried that into its ``ru_maxrss`` (see :func:`write_suite_apart`): the second of two f
    runs read 516 MB while its own polled peak was 142 MB.
    """
    with multiprocessing.get_context("fork").Pool(1) as pool:
        return pool.apply(tools.count_outcomes, (tool, report))


def run_scenario(sc: Scenario, repeats: int, via_npx: bool, fmt: str) -> list[dict]:
    rows: list[dict] = []
    base = WORK / "runs" / sc.key
    with FakeServer(sc.latency_ms, WORK / "tmp") as server:
        suite, config = write_suite_apart(sc.n, server.base_url, WORK / "suites" / f"{sc.key}-n{sc.n}", fmt, sc.prompts)
        for rep in range(repeats):
            for tool in sc.tools:
                out = base / f"{tool}-{rep}"
                if not sc.cached:
                    rows.append(run_once(tool, "nocache", sc, server, suite, config, out, None, via_npx))
                    continue
                # Start from an empty cache (a folder, so SQLite's -wal/-shm files go with it).
                shutil.rmtree(out / "cache", ignore_errors=True)
                (out / "cache").mkdir(parents=True)
                cache = out / "cache" / ("steward.sqlite" if tool == "steward" else "promptfoo")
                for variant in ("cold", "warm"):  # the warm run re-runs the unchanged suite
                    rows.append(run_once(tool, variant, sc, server, suite, config, out, cache, via_npx))
    return rows


def warm_up(tools_to_run: set[str], via_npx: bool, fmt: str) -> None:
    """One small untimed run per tool: fills the OS page cache and creates promptfoo's database."""
    sc = Scenario("warmup", "warm-up", 20, 10, 0, tuple(sorted(tools_to_run)))
    run_scenario(sc, 1, via_npx, fmt)


def summarize(rows: list[dict]) -> list[dict]:
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["scenario"], r["tool"], r["variant"]), []).append(r)
    summary = []
    for (key, tool, variant), rs in groups.items():
        r0 = rs[0]
        wall = statistics.median(r["wall_s"] for r in rs)
        calls = r0.get("calls", r0["n"])
        lower = lower_bound_s(calls, r0["concurrency"], r0["latency_ms"])
        summary.append(
            {
                "scenario": key,
                "tool": tool,
                "variant": variant,
                "n": r0["n"],
                "calls": calls,
                "concurrency": r0["concurrency"],
                "latency_ms": r0["latency_ms"],
                "runs": len(rs),
                "wall_s": wall,
                "walls": [r["wall_s"] for r in rs],
                "cases_per_s": calls / wall,
                "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in rs),
                "peak_rss_max_mb": max(r["peak_rss_mb"] for r in rs),
                "cpu_s": statistics.median(r["cpu_s"] for r in rs),
                "cpu_ms_per_case": statistics.median(r["cpu_s"] for r in rs) / calls * 1000,
                # A warm re-run makes no calls, so the latency bound says nothing about it.
                "x_lower_bound": wall / lower if lower and variant != "warm" else None,
                "provider_calls": sorted({r["provider_calls"] for r in rs}),
                "all_ok": all(r["ok"] for r in rs),
            }
        )
    return summary


def find(summary: list[dict], key: str, tool: str, variant: str) -> dict | None:
    return next((s for s in summary if (s["scenario"], s["tool"], s["variant"]) == (key, tool, variant)), None)


def comparisons(summary: list[dict]) -> list[str]:
    """The issue's targets, each with the measured value; absent scenarios are skipped.

    A target only counts as met if every run involved completed with all cases passed.
    """
    lines = []
    st, pf = find(summary, "a", "steward", "nocache"), find(summary, "a", "promptfoo", "nocache")
    if st and pf:
        ok = st["all_ok"] and pf["all_ok"]
        speed, rss = pf["wall_s"] / st["wall_s"], st["peak_rss_mb"] / pf["peak_rss_mb"]
        cpu = pf["cpu_s"] / st["cpu_s"] if st["cpu_s"] else float("nan")
        lines.append(f"(a) Steward throughput = {speed:.2f}x promptfoo's (target >= 8x): {mark(ok and speed >= 8)}")
        lines.append(f"(a) Steward peak RSS = {rss:.2f}x promptfoo's (target <= 0.25x): {mark(ok and rss <= 1 / 4)}")
        lines.append(f"(a) promptfoo used {cpu:.1f}x the CPU time of Steward for the same suite")
        # the waves of C calls take at least the lower bound whatever the tool: promptfoo's wall over the bound is
        # the most any tool could reach in this run, and it moves with the machine's speed (promptfoo is CPU-bound)
        lines.append(
            f"(a) at most {pf['x_lower_bound']:.2f}x was possible in this run (promptfoo's wall over the lower "
            f"bound); Steward's wall = {st['x_lower_bound']:.2f}x the lower bound"
        )
    st, pf = find(summary, "b", "steward", "nocache"), find(summary, "b", "promptfoo", "nocache")
    if st:
        x = st["x_lower_bound"]
        lines.append(
            f"(b) Steward wall = {x:.2f}x the lower bound (target <= 1.15x): {mark(st['all_ok'] and x <= 1.15)}"
        )
    if st and pf:
        lines.append(f"(b) promptfoo wall = {pf['x_lower_bound']:.2f}x the lower bound")
    st = find(summary, "c", "steward", "nocache")
    if st:
        worst = st["peak_rss_max_mb"]
        lines.append(
            f"(c) Steward peak RSS at N={st['n']} = {worst:.0f} MB (worst of runs; "
            f"target < 200 MB): {mark(st['all_ok'] and worst < 200)}"
        )
    for tool in ("steward", "promptfoo"):
        cold, warm = find(summary, "d", tool, "cold"), find(summary, "d", tool, "warm")
        if cold and warm:
            share, calls = warm["wall_s"] / cold["wall_s"], warm["provider_calls"]
            met = cold["all_ok"] and warm["all_ok"] and calls == [0] and share < 0.10
            target = f" (target 0 calls and < 10%): {mark(met)}" if tool == "steward" else ""
            lines.append(f"(d) {tool} cached re-run: provider calls {calls}, wall {share:.1%} of the cold run{target}")
    st = find(summary, "e", "steward", "nocache")
    if st:
        x = st["x_lower_bound"]
        lines.append(
            f"(e) Steward matrix ({st['calls']} calls) wall = {x:.2f}x its lower bound (target <= 1.2x): "
            f"{mark(st['all_ok'] and x <= 1.2)}"
        )
    st = find(summary, "f", "steward", "nocache")
    if st:
        worst = st["peak_rss_max_mb"]
        lines.append(
            f"(f) Steward peak RSS at N={st['n']} with JSON and JUnit reports = {worst:.0f} MB (worst of runs; "
            f"target < 250 MB): {mark(st['all_ok'] and worst < 250)}"
        )
    if any(not s["all_ok"] for s in summary):
        lines.append("Some runs failed or did not pass every case: see runs.json (stderr_tail) in the results folder")
    return lines


def mark(ok: bool) -> str:
    return "met" if ok else "NOT met"


def markdown(summary: list[dict]) -> str:
    head = (
        "| scen. | tool | run | N | C | latency | wall s (median) | cases/s | peak RSS MB (median / max) "
        "| CPU s | CPU ms/case | x lower bound | provider calls/run | all passed |\n"
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    )
    lines = [head]
    for s in summary:
        xlb = f"{s['x_lower_bound']:.2f}" if s["x_lower_bound"] else "—"
        lines.append(
            f"| {s['scenario']} | {s['tool']} | {s['variant']} | {s['n']} | {s['concurrency']} | "
            f"{s['latency_ms']:.0f} ms | {s['wall_s']:.2f} | {s['cases_per_s']:.0f} | "
            f"{s['peak_rss_mb']:.0f} / {s['peak_rss_max_mb']:.0f} | {s['cpu_s']:.1f} | "
            f"{s['cpu_ms_per_case']:.2f} | {xlb} | {', '.join(map(str, s['provider_calls']))} | "
            f"{'yes' if s['all_ok'] else 'NO'} |"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller N and one repeat: a smoke run")
    parser.add_argument("--repeats", type=int, help="runs per tool and scenario (default 3, quick 1)")
    parser.add_argument("--scenarios", default="a,b,c,d,e,f")
    parser.add_argument("--no-promptfoo-b", action="store_true", help="Steward only in scenario b")
    parser.add_argument("--no-promptfoo-d", action="store_true", help="Steward only in scenario d")
    parser.add_argument("--via-npx", action="store_true", help="run promptfoo through npx")
    parser.add_argument("--format", choices=("yaml", "json"), default="yaml", help="suite file format")
    parser.add_argument("--results", type=Path, default=BENCH / "results")
    return parser.parse_args(argv)


def compile_project() -> None:
    """Byte-compile Steward's own modules, as installing a package does (``make venv`` does it too).

    The project is installed editable, and where ``PYTHONDONTWRITEBYTECODE`` is set (CI, this machine) Python
    never writes their ``.pyc``: every ``steward`` process would compile them again, 0.05-0.1 s of each run's
    start-up that no installed deployment pays. promptfoo's JavaScript is parsed on every start whatever.
    """
    packages = [str(BENCH.parent / name) for name in ("evals", "service", "governance", "steward_client")]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *packages], check=True)


def benchmark(args: argparse.Namespace) -> tuple[Path, str, bool]:
    """Run the chosen scenarios; return the results folder, the Markdown table and whether all ran ok."""
    repeats = args.repeats or (1 if args.quick else 3)
    wanted = set(args.scenarios.split(","))
    chosen = [s for s in scenarios(args.quick, not args.no_promptfoo_b, not args.no_promptfoo_d) if s.key in wanted]
    if not steward_available():
        print("`steward eval run` is not available yet: running promptfoo only", flush=True)
        chosen = [
            Scenario(s.key, s.title, s.n, s.concurrency, s.latency_ms, ("promptfoo",), s.cached)
            for s in chosen
            if "promptfoo" in s.tools
        ]
    compile_project()
    # A fresh promptfoo database per benchmark run, so its size does not drift across runs.
    (PROMPTFOO_HOME / "promptfoo.db").unlink(missing_ok=True)
    warm_up({t for s in chosen for t in s.tools}, args.via_npx, args.format)

    rows: list[dict] = []
    started, load_before = time.time(), os.getloadavg()
    for sc in chosen:
        print(f"scenario {sc.key}: {sc.title} (N={sc.n}, C={sc.concurrency}, {sc.latency_ms:.0f} ms)")
        rows += run_scenario(sc, repeats, args.via_npx, args.format)
    summary = summarize(rows)
    meta = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
        "duration_s": round(time.time() - started, 1),
        "repeats": repeats,
        "quick": args.quick,
        "versions": versions(),
        "via_npx": args.via_npx,
        "format": args.format,
        "cpus": os.cpu_count(),
        # The machine is shared: the load says how much the numbers were disturbed.
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
    }
    out = args.results / time.strftime("%Y%m%d-%H%M%S", time.localtime(started))
    out.mkdir(parents=True, exist_ok=True)
    (out / "runs.json").write_text(json.dumps({"meta": meta, "runs": rows, "summary": summary}, indent=2))
    notes = "\n".join(f"- {line}" for line in comparisons(summary))
    machine = (
        f"{repeats} run(s) per row, {meta['cpus']} CPUs, 1-min load average {meta['loadavg_before'][0]} "
        f"before and {meta['loadavg_after'][0]} after; {meta['duration_s']:.0f} s in all."
    )
    text = f"{markdown(summary)}\n\n{notes}\n\n{machine}\n"
    (out / "table.md").write_text(text)
    return out, text, all(r["ok"] for r in rows)


def main(argv: list[str] | None = None) -> int:
    out, text, ok = benchmark(parse_args(argv))
    print(f"\n{text}\nraw results: {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
