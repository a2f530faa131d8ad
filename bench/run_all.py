"""The one benchmark command (`make bench`): set up node and promptfoo, measure, print Markdown.

1. installs Node 22 and promptfoo into bench/.work if they are missing (bench/setup_promptfoo.py);
2. measures the fake OpenAI server's own ceiling (bench/fake_ceiling.py);
3. runs scenarios a-d through Steward and promptfoo side by side (bench/evals_vs_promptfoo.py);
4. runs scenario b again on the engine alone in a warm process, as servers and workers run it
   (bench/engine_inprocess.py);
5. publishes a document that reaches 1,000 products in catalogues of 10,000 and 1,000 products, on
   SQLite and PostgreSQL (bench/publish_impact.py);
6. weighs a 200-case release page as a reviewer loads it (bench/release_page_weight.py);
7. times the web app's home at 1,000 products for an owner and a reviewer (bench/home.py).

Results go to bench/results/<timestamp>/ and bench/results/latest.md. Any option of
evals_vs_promptfoo.py is passed through, e.g. `python bench/run_all.py --quick`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

# Run as a script (python bench/run_all.py), so bench/ is on sys.path and its modules import flat.
import evals_vs_promptfoo
import fake_ceiling
import setup_promptfoo


def main(argv: list[str]) -> int:
    args = evals_vs_promptfoo.parse_args(argv)
    setup_promptfoo.ensure()
    print("## Fake server ceiling", flush=True)
    ceiling = fake_ceiling.ceiling(2.0 if args.quick else 5.0)
    ceiling_md = fake_ceiling.markdown(ceiling)
    print(ceiling_md, flush=True)
    out, table, ok = evals_vs_promptfoo.benchmark(args)
    (out / "fake_ceiling.json").write_text(json.dumps(ceiling, indent=2))
    versions = setup_promptfoo.versions()
    print("## Scenario b, the engine in a warm process", flush=True)
    engine_args = ["--n", "200", "--repeats", "1"] if args.quick else []
    engine = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("engine_inprocess.py")), *engine_args],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    ).stdout
    print("## Publishing a document that reaches 1,000 products", flush=True)
    publish = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("publish_impact.py")), *(["--quick"] if args.quick else [])],
        capture_output=True,
        text=True,
        timeout=1800,
        check=True,
    ).stdout
    print("## The weight of a 200-case release page", flush=True)
    weight = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("release_page_weight.py"))],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    ).stdout
    print("## Home at 1,000 products", flush=True)
    home = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("home.py")), *(["--requests", "10"] if args.quick else [])],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    ).stdout
    text = (
        f"## Fake server ceiling\n\n{ceiling_md}\n\n"
        f"## Steward vs promptfoo {versions['promptfoo']} (node {versions['node']})\n\n{table}\n"
        f"## Scenario b, the engine in a warm process (no command start-up)\n\n{engine}\n"
        f"## Publishing a document that reaches 1,000 products\n\n{publish}\n"
        f"## The weight of a 200-case release page\n\n{weight}\n"
        f"## Home at 1,000 products\n\n{home}\n"
        f"Raw results: {out}\n"
    )
    (out / "report.md").write_text(text)
    (args.results / "latest.md").write_text(text)
    print("\n" + text)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
