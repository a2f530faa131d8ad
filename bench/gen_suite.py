"""Generate the same N-case eval as a Steward suite and as a promptfoo config.

Both send the same single user message per case ("Case {{ case_id }}: {{ question }}") and check
the same two assertions, which the fake server's echoing answer satisfies:
``contains: <case id>`` and ``not-icontains: "as an ai language model"``.

    python bench/gen_suite.py --n 1000 --base-url http://127.0.0.1:8765/v1 --out bench/.work/suites/n1000
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

PROMPT = "Case {{ case_id }}: {{ question }}"
MODEL = "bench-model"
QUESTIONS = (
    "I want to get better at sales this year.",
    "How should I phrase a goal about mentoring juniors?",
    "My manager says my goals are vague; what should I change?",
    "Can you help me write a learning goal for this quarter?",
)
BANNED = "as an ai language model"


def case(i: int) -> tuple[str, dict]:
    case_id = f"case-{i:05d}"
    return case_id, {"case_id": case_id, "question": QUESTIONS[i % len(QUESTIONS)]}


def steward_suite(n: int, prompts: int = 1) -> dict:
    cases = []
    for i in range(n):
        case_id, vars_ = case(i)
        cases.append(
            {
                "id": case_id,
                "vars": vars_,
                "asserts": [
                    {"type": "contains", "value": case_id},
                    {"type": "not-icontains", "value": BANNED},
                ],
            }
        )
    return {
        "version": 1,
        "name": f"bench-n{n}",
        "description": f"Benchmark suite: {n} cases, two assertions each.",
        **({"prompt": "prompt.txt"} if prompts == 1 else {"prompts": prompt_files(prompts)}),
        # The benchmark always overrides this with --provider openai:bench-model (given twice for a matrix).
        "model": {"provider": "openai", "name": MODEL, "temperature": 0, "max_tokens": 64},
        "threshold": {"pass_rate": 1.0},
        "cases": cases,
    }


def promptfoo_config(n: int, base_url: str) -> dict:
    tests = []
    for i in range(n):
        case_id, vars_ = case(i)
        tests.append(
            {
                "description": case_id,
                "vars": vars_,
                "assert": [
                    {"type": "contains", "value": case_id},
                    {"type": "not-icontains", "value": BANNED},
                ],
            }
        )
    return {
        "description": f"Benchmark suite: {n} cases, two assertions each.",
        "prompts": ["file://prompt.txt"],
        "providers": [
            {
                "id": f"openai:chat:{MODEL}",
                "config": {"apiBaseUrl": base_url, "apiKey": "bench", "temperature": 0, "max_tokens": 64},
            }
        ],
        "tests": tests,
    }


def dump(data: dict, path: Path) -> None:
    if path.suffix == ".json":
        path.write_text(json.dumps(data, indent=1) + "\n")
    else:  # block-style YAML, as people write it; the C dumper only to keep generation fast
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        path.write_text(yaml.dump(data, Dumper=dumper, sort_keys=False, width=1000))


def prompt_files(prompts: int) -> list[str]:
    """prompt.txt, prompt-2.txt, ...: a matrix's prompts differ only in their first word."""
    return ["prompt.txt", *(f"prompt-{k}.txt" for k in range(2, prompts + 1))]


def write_suite(n: int, base_url: str, out: Path, fmt: str = "yaml", prompts: int = 1) -> tuple[Path, Path]:
    """Write the Steward suite, the promptfoo config and prompt.txt under ``out``; return both configs.

    YAML by default because that is what users write (and parsing it is part of a real run);
    ``fmt="json"`` writes JSON documents instead, to separate parsing cost from running cost.
    """
    out.mkdir(parents=True, exist_ok=True)
    for k, name in enumerate(prompt_files(prompts)):
        (out / name).write_text(PROMPT if k == 0 else f"Variant {k + 1}. {PROMPT}")
    suite, config = out / f"suite.{fmt}", out / f"promptfooconfig.{fmt}"
    dump(steward_suite(n, prompts), suite)
    dump(promptfoo_config(n, base_url), config)
    return suite, config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--base-url", default="http://127.0.0.1:8765/v1")
    parser.add_argument("--out", type=Path, default=Path("bench/.work/suites/n1000"))
    parser.add_argument("--format", choices=("yaml", "json"), default="yaml")
    args = parser.parse_args()
    suite, config = write_suite(args.n, args.base_url, args.out, args.format)
    print(f"wrote {suite} and {config}")


if __name__ == "__main__":
    main()
