#!/usr/bin/env python3
"""Times commands side by side, interleaved, and prints medians and the ratio to the last one.

    measure.py --runs N --label TEXT --workdir DIR [--after NAME=COMMAND] NAME=COMMAND [NAME=COMMAND ...]

Each COMMAND is run through the shell; "{dir}" in it becomes a fresh, empty directory for that
run, and nothing is deleted until the end. Runs are interleaved (a, b, a, b, ...; the order
alternating each round) so both tools see the same machine and filesystem state: ext4 spends
most of a cold pull's time allocating inodes, and that gets much slower right after many inodes
were deleted, so deleting one run's storage before the next would measure the kernel, not the tool.
`--after NAME=COMMAND` runs COMMAND, untimed, after each run of NAME (to remove what it started).
Prints one line: label, each median in seconds, and the ratio first/last.
"""
import argparse
import statistics
import subprocess
import sys
import tempfile
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--label", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--after", action="append", default=[])
    ap.add_argument("commands", nargs="+")
    args = ap.parse_args()
    tools = [c.split("=", 1) for c in args.commands]
    after = dict(a.split("=", 1) for a in args.after)
    times = {name: [] for name, _ in tools}
    for rnd in range(args.warmup + args.runs):
        order = tools if rnd % 2 == 0 else list(reversed(tools))
        for name, cmd in order:
            d = tempfile.mkdtemp(dir=args.workdir, prefix=f"{name}-")
            start = time.perf_counter()
            r = subprocess.run(cmd.replace("{dir}", d), shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            elapsed = time.perf_counter() - start
            if name in after:
                subprocess.run(after[name].replace("{dir}", d), shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if r.returncode != 0:
                sys.exit(f"{name} failed ({r.returncode}): {cmd}\n{r.stderr.decode(errors='replace')}")
            if rnd >= args.warmup:
                times[name].append(elapsed)
    medians = [statistics.median(times[name]) for name, _ in tools]
    cells = " ".join(f"{m:10.3f}" for m in medians)
    print(f"{args.label:<32} {cells} {medians[0] / medians[-1]:8.2f}")


if __name__ == "__main__":
    main()
