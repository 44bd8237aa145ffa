#!/usr/bin/env python3
"""The ring's one-way rate against the bare two-copy ring and memcpy, in alternating rounds.

Each round runs, per size, `copy-limit` (Benchmarks/CopyLimit/copy-limit.c: two pinned processes,
copy in, copy out, nothing else) and then one repetition of `ringbench throughput --transports
ring` (its default `--consume copy`, the same work). Both print memcpy's rate measured beside them. "sender alone" is
the sender's ceiling with no second core: one thread copying each message into successive slots of
a private buffer as large as the ring.
The table gives medians over the rounds and the median of the per-round ratio ring / bare ring,
so a placement change of the VM's vCPUs between rounds moves both sides of a ratio together.

usage: copy-limit.py RINGBENCH [--sizes 4096,65536] [--rounds 8] [--ring-bytes 4194304] [--seconds 0.5]
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ringbench")
    parser.add_argument("--sizes", default="4096,65536")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--ring-bytes", type=int, default=4 << 20, help="both rings' data area (ringbench's default 4M)")
    parser.add_argument("--seconds", type=float, default=0.5)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    here = os.path.dirname(os.path.abspath(__file__))
    work = tempfile.mkdtemp()
    binary = os.path.join(work, "copy-limit")
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("clang")
    if not compiler:
        sys.exit("copy-limit.py: no C compiler (set CC, or install cc or clang)")
    subprocess.run([compiler, "-O2", "-march=native", "-Wall", "-o", binary,
                    os.path.join(here, "..", "CopyLimit", "copy-limit.c")], check=True)
    rows = {size: {"bare": [], "ring": [], "memcpy": [], "alone": [], "ratio": []} for size in sizes}
    for round in range(args.rounds):
        for size in sizes:
            out = subprocess.run([binary, str(size), str(args.ring_bytes), str(args.seconds)],
                                 check=True, capture_output=True, text=True).stdout.split()
            bare, memcpy, alone = float(out[3]), float(out[4]), float(out[6])
            path = os.path.join(work, "ring.json")
            subprocess.run([args.ringbench, "throughput", "--sizes", str(size), "--transports", "ring",
                            "--repetitions", "1", "--seconds", str(args.seconds),
                            "--ring-capacity", str(args.ring_bytes), "--json", path],
                           check=True, capture_output=True)
            with open(path) as f:
                result = json.load(f)["results"][0]
            ring = result["bytesPerSecond"]
            row = rows[size]
            row["bare"].append(bare); row["ring"].append(ring); row["memcpy"].append(memcpy); row["alone"].append(alone)
            row["ratio"].append(ring / bare)
            print(f"round {round + 1}: {size} B  bare {bare / 1e9:.1f} GB/s  ring {ring / 1e9:.1f} GB/s  "
                  f"memcpy {memcpy / 1e9:.1f} GB/s", file=sys.stderr)
    print(f"{'size':>8} {'memcpy':>10} {'sender alone':>12} {'% memcpy':>9} {'bare ring':>10} {'% memcpy':>9} {'max %':>6} "
          f"{'ring':>10} {'% memcpy':>9} {'max %':>6} {'ring/bare':>9}")
    for size in sizes:
        row = rows[size]
        m = statistics.median(row["memcpy"])
        pct = lambda xs: [100 * x / y for x, y in zip(xs, row["memcpy"])]
        print(f"{size:>8} {m / 1e9:>7.1f} GB {statistics.median(row['alone']) / 1e9:>9.1f} GB "
              f"{statistics.median(pct(row['alone'])):>8.1f}% {statistics.median(row['bare']) / 1e9:>7.1f} GB "
              f"{statistics.median(pct(row['bare'])):>8.1f}% {max(pct(row['bare'])):>5.1f}% "
              f"{statistics.median(row['ring']) / 1e9:>7.1f} GB {statistics.median(pct(row['ring'])):>8.1f}% "
              f"{max(pct(row['ring'])):>5.1f}% {100 * statistics.median(row['ratio']):>8.1f}%")

if __name__ == "__main__":
    main()
