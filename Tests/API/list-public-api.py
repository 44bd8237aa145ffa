#!/usr/bin/env python3
"""Lists the public API of RingTransport's library modules, one declaration per line, sorted, from
the symbol graphs `swift package dump-symbol-graph --minimum-access-level public` writes. `make
api-check` compares the list with Tests/API/public-api.txt (checked in): the public surface is a
decision, and any change to it shows up in review as a diff of that file (`make api-update`).

Synthesized members (Equatable's !=, default implementations inherited from protocols) are left
out: they follow from the declarations that are listed."""
import glob
import json
import os
import sys

MODULES = ["RingCore", "RingLinux", "RingChannel", "GRPCRingTransport", "GRPCRingAutoTransport", "RingAudit",
           "RingWorkerABI"]


def main(directory):
    lines = []
    for module in MODULES:
        paths = [p for p in glob.glob(os.path.join(directory, module + "*.symbols.json"))
                 if os.path.basename(p).split("@")[0].split(".")[0] == module]
        if not paths:
            sys.exit(f"no symbol graph for {module} in {directory}")
        for path in paths:
            graph = json.load(open(path))
            for symbol in graph["symbols"]:
                if symbol.get("accessLevel") != "public":
                    continue
                if "::SYNTHESIZED::" in symbol["identifier"]["precise"]:
                    continue
                if symbol.get("spi"):
                    continue  # @_spi(Unsafe)/@_spi(Testing): reachable only by an explicit SPI import
                declaration = "".join(f["spelling"] for f in symbol.get("declarationFragments", []))
                declaration = " ".join(declaration.split())
                kind = symbol["kind"]["identifier"].removeprefix("swift.")
                lines.append(f"{module}  {kind}  {'.'.join(symbol['pathComponents'])}  {declaration}")
    lines = sorted(set(lines))
    sys.stdout.write("\n".join(lines) + "\n")
    counts = {}
    for line in lines:
        counts[line.split("  ")[0]] = counts.get(line.split("  ")[0], 0) + 1
    sys.stderr.write("public declarations: " + ", ".join(f"{m} {counts.get(m, 0)}" for m in MODULES) + f"; total {len(lines)}\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".build/x86_64-unknown-linux-gnu/symbolgraph")
