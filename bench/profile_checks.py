"""Profiles of crossings' three check passes (first / changed / same) over the synthetic
site: `crossings crawl --all` under py-spy (every process, raw collapsed stacks), then
the top functions by own and total share of samples, per pass. The evidence behind the
findings in bench/README.md; not a benchmark (py-spy slows what it samples).

    .venv/bin/python bench/profile_checks.py --pages 1000
"""

import argparse
import collections
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
from checks import PASSES, crossings_config


def profile(command: list[str], cwd: Path, out: Path, rate: int) -> None:
    spy = harness.baseline_venv() / "bin" / "py-spy"
    subprocess.run(
        [str(spy), "record", "--subprocesses", "--format", "raw", "--rate", str(rate),
         "--output", str(out), "--", *command],
        cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def summarise(collapsed: Path, top: int) -> str:
    """Own and total shares of samples per function (file:function)."""
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        samples += count
        frames = [_frame(frame) for frame in stack.split(";")[1:]]  # [0] is the process
        if frames:
            own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    lines = [f"{samples} samples"]
    lines += ["  own:"] + [f"    {n / samples:6.1%} {f}" for f, n in own.most_common(top)]
    lines += ["  total:"] + [f"    {n / samples:6.1%} {f}" for f, n in total.most_common(top)]
    return "\n".join(lines)


def _frame(frame: str) -> str:
    """'name (path/to/file.py:12)' -> 'file.py:name'."""
    name, _, where = frame.partition(" (")
    return f"{where.rsplit('/', 1)[-1].split(':')[0]}:{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=250)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    work = harness.WORK / "profile-checks"
    shutil.rmtree(work, ignore_errors=True)
    with harness.site(args.pages) as site:
        config = crossings_config(work, site.url, args.pages)
        command = [*harness.crossings_command(), "--config", str(config), "crawl", "--all"]
        for name in PASSES:
            if name == "changed":
                site.change()
            out = work / f"{name}.txt"
            profile(command, work, out, args.rate)
            print(f"## {name} (N = {args.pages}): {out}\n{summarise(out, args.top)}\n", flush=True)


if __name__ == "__main__":
    main()
