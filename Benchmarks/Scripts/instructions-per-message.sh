#!/bin/sh
# Instructions per message of the ring's writer and reader (and the floor's), counted by callgrind
# on `ringbench cost` (one thread, writer and reader in turn; Sources/RingBenchKit/CostCommand.swift).
#
# Counts are the same on every run of the same binary, whatever else the machine does, so a change
# of a few instructions per message shows where the two-process throughput rows cannot (they move
# 3–4× with the placement of the VM's vCPUs). Each configuration runs twice, with N and 2N
# messages; the difference divided by N is the per-message cost without start-up.
#
# usage: instructions-per-message.sh RINGBENCH [SIZES] [TRANSPORTS] [extra `ringbench cost` options]
set -eu
ringbench=$1
sizes=${2:-64,256}
transports=${3:-ring,floor}
shift $(( $# < 3 ? $# : 3 ))
n=400000
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# valgrind 3.19 cannot read the DWARF 5 that Swift emits; the symbol table is enough.
objcopy --strip-debug "$ringbench" "$work/ringbench"
printf '%-9s %-7s %9s %9s %9s %9s\n' transport size total writer reader memcpy
for transport in $(echo "$transports" | tr , ' '); do
    for size in $(echo "$sizes" | tr , ' '); do
        for count in $n $((2 * n)); do
            valgrind --tool=callgrind --callgrind-out-file="$work/out.$count" "$work/ringbench" cost \
                --messages "$count" --sizes "$size" --transports "$transport" "$@" >/dev/null 2>&1
        done
        for count in $n $((2 * n)); do
            callgrind_annotate "$work/out.$count" | tr -d , | awk -v c="$count" '
                /PROGRAM TOTALS/ { total = $1 }
                /CostLoop.*[wW]riteHalf|writeBatch|tryWrite/ { writer += $1 }
                /CostLoop.*[rR]eadHalf/ { reader += $1 }
                /memcpy|memmove/ { copy += $1 }
                END { print total, writer, reader, copy }' > "$work/sum.$count"
        done
        paste -d ' ' "$work/sum.$n" "$work/sum.$((2 * n))" | awk -v t="$transport" -v s="$size" -v n="$n" '{
            printf "%-9s %-7s %9.1f %9.1f %9.1f %9.1f\n", t, s " B", ($5 - $1) / n, ($6 - $2) / n, ($7 - $3) / n, ($8 - $4) / n }'
    done
done
