#!/bin/sh
# Where each busy thread's time goes: `perf record -e cpu-clock -g -a` around a command, then the
# samples split by thread (`perf report --tid` mixed the host's and the worker's reactor threads
# on this machine's perf: the same symbols appeared twice, once per thread), each thread's share
# by category (Swift Concurrency, retain/release, malloc, locks, clock, memmove, ring writer,
# ring reader, channel, reactor loop, kernel) and its top symbols by self time.
#
# usage: profile-threads.sh [-n TOP] [-t MIN_PERCENT] -- COMMAND [ARGS…]
#   e.g. Benchmarks/Scripts/profile-threads.sh -- .build/release/ringbench invoke --workers 1 \
#            --concurrency 64 --sizes 64 --seconds 3
# Threads below MIN_PERCENT of all samples (default 5) are not listed. Needs perf and python3.
set -eu
top=15
min=5
while [ $# -gt 0 ]; do
    case $1 in
        -n) top=$2; shift 2 ;;
        -t) min=$2; shift 2 ;;
        --) shift; break ;;
        *) break ;;
    esac
done
[ $# -gt 0 ] || { echo "usage: $0 [-n TOP] [-t MIN_PERCENT] -- COMMAND [ARGS…]" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
perf record -q -e cpu-clock -g -a -o "$work/perf.data" -- "$@"
perf script -i "$work/perf.data" -F pid,tid,comm,ip,sym 2>/dev/null > "$work/samples.txt"
python3 - "$work/samples.txt" "$top" "$min" <<'EOF'
import collections, re, sys

path, top, minimum = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
# First match wins: the order puts the specific categories before the broad ones.
categories = [
    ("swift concurrency", ["withStatusRecordLock", "PreferredTaskExecutor", "swift_task", "StatusRecord",
                           "StackAllocator", "runJobInEstablished", "swift_job", "Continuation",
                           "flagAsAndEnqueue", "TaskExecutor", "swift::AsyncTask", "ReactorExecutor",
                           "swift_continuation", "TaskGroup", "TaskLocal"]),
    ("retain/release", ["swift_retain", "swift_release", "bridgeObject", "doDecrementSlow", "isUniquely"]),
    ("malloc", ["malloc", "free", "_int_", "swift_allocObject", "swift_deallocObject", "swift_slowAlloc",
                "swift_slowDealloc", "usable_size"]),
    ("locks", ["pthread_mutex", "Mutex", "lll_"]),
    ("clock", ["clock_gettime"]),
    ("memmove", ["memmove", "memcpy"]),
    ("ring writer", ["tryWriteFrame", "RawWriter", "RequestPrefix", "ResponsePrefix", "encodeUnchecked",
                     "transmit", "writeBatch", "FrameCopy", "RingProducer"]),
    ("ring reader", ["LinkReader", "MessageReader", "RingConsumer", "ConsumerV", "refreshTail", "BoundedReader",
                     "decoding", "FrameHeader"]),
    ("channel", ["FunctionHost", "WorkerConnection", "InvocationTable", "ChannelWorker", "WorkerScheduler",
                 "WorkerReader", "respondInPlace", "Worker"]),
    ("reactor loop", ["IOUringReactorLoop", "ReactorDuties", "Backoff", "TimerQueue", "Reactor", "io_uring"]),
    ("bench", ["RingBenchKit", "ExampleWorker"]),
]
threads = collections.defaultdict(collections.Counter)
names = {}
total = 0
thread, first = None, False
for line in open(path, errors="replace"):
    if not line.strip():
        thread = None
        continue
    if not line[0].isspace():
        match = re.match(r"\s*(.*?)\s+(\d+)/(\d+)\s*$", line.rstrip())
        thread, first = (match.group(3), True) if match else (None, False)
        if match:
            names[thread] = f"{match.group(1)} {match.group(2)}/{match.group(3)}"
        continue
    if thread is None or not first:
        continue
    first = False  # the first frame is the sample's own symbol (self time)
    fields = line.strip().split(None, 1)
    symbol = re.sub(r"\+0x[0-9a-f]+$", "", fields[1]) if len(fields) > 1 else "?"
    if "[kernel" in line:
        symbol = "[k] " + symbol.split(" (")[0]
    threads[thread][symbol] += 1
    total += 1
for tid, symbols in sorted(threads.items(), key=lambda item: -sum(item[1].values())):
    count = sum(symbols.values())
    if 100 * count / max(total, 1) < minimum or names.get(tid, "").startswith("swapper"):
        continue
    shares = collections.Counter()
    for symbol, n in symbols.items():
        name = "kernel" if symbol.startswith("[k] ") else next(
            (category for category, keys in categories if any(key in symbol for key in keys)), "other")
        shares[name] += n
    print(f"== {names.get(tid, tid)}: {100 * count / total:.1f} % of all samples")
    print("   " + ", ".join(f"{name} {100 * n / count:.1f} %" for name, n in shares.most_common()))
    for symbol, n in symbols.most_common(top):
        print(f"   {100 * n / count:5.1f} %  {symbol[:140]}")
EOF
