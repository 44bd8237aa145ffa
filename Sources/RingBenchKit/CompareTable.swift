/// The one table `ringbench compare` prints.
enum CompareTable {
    static func heading(settings: CompareSettings, machine: MachineInfo) -> String {
        let load = machine.loadAverage.map { "load avg \(Format.fixed($0, 2))" } ?? "load unknown"
        let loop = settings.rate.map { "ping-pong open loop @ \(Format.rate($0))RTT/s (CO-corrected)" } ?? "closed loop"
        return "ringbench compare — \(machine.cores) CPUs, Linux \(machine.kernel), wait backend \(machine.ioUringBackend), \(load); "
            + "\(settings.repetitions) × \(settings.seconds) s per row, median [min–max], "
            + "\(settings.pinned ? "pinned CPU 0 / CPU 1" : "unpinned"), consume=\(settings.consume.rawValue), \(loop), "
            + "invoke: \(settings.workers) worker × \(settings.concurrencies.map(String.init).joined(separator: ",")) in flight"
    }

    static let columns = ["scenario", "size", "transport", "rate/s [min–max]", "bytes/s", "p50", "p99", "p99.9", "max",
                          "CPU s/M", "csw/M", "sys/M", "× base", "% limit", "% floor"]

    static func render(_ outcome: CompareRun.Outcome, transports: [CompareTransport]) -> String {
        var rows: [[String]] = [columns]
        for calibration in outcome.calibration {
            rows.append(row(calibration, scenario: "limit", base: nil, baseText: ""))
        }
        let scenarios = CompareScenario.allCases.filter { s in outcome.results.contains { $0.scenario == s.rawValue } }
        for scenario in scenarios {
            let inScenario = outcome.results.filter { $0.scenario == scenario.rawValue }
            let baseName = CompareTransport.baselineName(for: scenario)
            for size in Array(Set(inScenario.map(\.messageSize))).sorted() {
                let atSize = inScenario.filter { $0.messageSize == size }
                for result in atSize {
                    // The baseline at the same concurrency (invoke rows may come at several).
                    let base = atSize.first { $0.transport == baseName && $0.concurrency == result.concurrency && $0.isMeasured }
                    rows.append(row(result, scenario: scenario.rawValue, base: base, baseText: base == nil ? "—" : ratio(result, base!)))
                }
            }
        }
        var text = align(rows)
        for failure in outcome.failures {
            text += "\nFAILED \(failure.scenario.rawValue) \(failure.transport) \(Format.bytes(failure.size)): \(failure.reason)"
        }
        text += "\n" + legend
        return text
    }

    static let legend = """
        rate/s: messages/s (throughput), round trips/s (pingpong), invocations/s (invoke), copies/s (limit memcpy).
        p50…max: round trip latency (HdrHistogram). CPU s/M, csw/M, sys/M: CPU seconds, context switches and
        read/write + futex syscalls of both processes per million messages. × base: speed-up over unix (throughput:
        messages/s; pingpong: p50) or over grpc-h2-unix (invoke). % limit: ring bytes/s vs single-thread memcpy
        at the same size (throughput), spin-floor p50 vs ring p50 (pingpong), the same ring's ping-pong p50 vs
        the invocation's p50 (invoke: 100 % would be an invocation layer that costs nothing over the ring).
        % floor: ring messages/s vs the floor ring at the same size (fixed records, no validation, busy-spin,
        over the same shared memory between the same two processes), the median of each repetition's ratio to
        a floor repetition run just before it (the VM's placement moves both; limit rows `floor` are the
        floor measured on its own). task-floor ×C:
        C tasks on a reactor's executor waiting as FunctionHost.invoke waits, resumed by a poller, no transport:
        the most any invoke row at C in flight with task callers can do on this machine.
        """

    /// Speed-up of `result` over `base` (higher is better).
    static func ratio(_ result: BenchResult, _ base: BenchResult) -> String {
        let value: Double
        if result.scenario == CompareScenario.pingpong.rawValue,
           let mine = result.latencyNanoseconds?.p50, let theirs = base.latencyNanoseconds?.p50, mine > 0 {
            value = Double(theirs) / Double(mine)
        } else if base.messagesPerSecond > 0 {
            value = result.messagesPerSecond / base.messagesPerSecond
        } else {
            return "—"
        }
        return (value >= 10 ? String(Int(value.rounded())) : Format.fixed(value, 1)) + "×"
    }

    static func row(_ result: BenchResult, scenario: String, base: BenchResult?, baseText: String) -> [String] {
        let concurrency = result.scenario == CompareScenario.invoke.rawValue || result.transport == "task-floor" ? " ×\(result.concurrency)" : ""
        let size = result.transport == "spin-floor" ? "4 B" : result.transport == "task-floor" ? "—" : Format.bytes(result.messageSize)
        if !result.isMeasured {
            // The reason is printed under the table (it is long); the row keeps its place.
            return [scenario, size, result.transport + concurrency, "FAILED"] + Array(repeating: "—", count: columns.count - 6) + ["", ""]
        }
        let latency = result.latencyNanoseconds
        let rate = result.repetitions > 1
            ? "\(Format.rate(result.messagesPerSecond)) [\(Format.rate(result.messagesPerSecondMin))–\(Format.rate(result.messagesPerSecondMax))]"
            : Format.rate(result.messagesPerSecond)
        return [
            scenario, size, result.transport + concurrency, rate,
            result.scenario == CompareScenario.pingpong.rawValue || result.transport == "spin-floor" || result.transport == "task-floor"
                ? "—" : Format.rate(result.bytesPerSecond) + "B",
            latency.map { Format.nanoseconds($0.p50) } ?? "—", latency.map { Format.nanoseconds($0.p99) } ?? "—",
            latency.map { Format.nanoseconds($0.p999) } ?? "—", latency.map { Format.nanoseconds($0.max) } ?? "—",
            result.cpuSecondsPerMillion.map { Format.fixed($0, 3) } ?? "—",
            result.contextSwitchesPerMillion.map { Format.rate($0).trimmingSpace } ?? "—",
            result.syscallsPerMillion.map { Format.rate($0).trimmingSpace } ?? "—",
            baseText, result.percentOfLimit.map { Format.fixed($0, 1) + " %" } ?? "",
            result.percentOfFloor.map { Format.fixed($0, 1) + " %" } ?? "",
        ]
    }

    /// Left-aligned columns two spaces apart.
    static func align(_ rows: [[String]]) -> String {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { Format.pad($1, widths[$0]) }.joined(separator: "  ").trimmingTrailingSpaces
        }.joined(separator: "\n")
    }
}

extension String {
    var trimmingSpace: String { String(self.reversed().drop { $0 == " " }.reversed()) }
    var trimmingTrailingSpaces: String { trimmingSpace }
}
