package import ArgumentParser
import Foundation

/// `ringbench compare` (the default subcommand, what `make bench` runs): every transport side by
/// side — one-way throughput, ping-pong round trips, invocations at concurrency — at each message
/// size, against the baselines and against the machine's own limits measured in the same run.
package struct CompareCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Every transport side by side (throughput, round trips, invocations) with ratios and % of the machine's limits.",
        discussion: """
            Transports: \(CompareTransport.all.map(\.name).joined(separator: ", ")).
            Scenarios: throughput (one way), pingpong (round trip, one in flight), invoke (C in flight).
            The default matrix takes about a minute on 2 cores; --quick is a smoke run of a few seconds.
            """)

    @Option(name: .long, help: "Message sizes in bytes, comma-separated (K and M suffixes). Default 64,4K,64K, and 64,256,1K,4K,64K for one-way throughput (--quick: 64).")
    var sizes: String?

    @Option(name: .long, help: "Transports, comma-separated, or 'all'.")
    var transports: String = "all"

    @Option(name: .long, help: "Scenarios, comma-separated: throughput, pingpong, invoke.")
    var scenarios: String = "throughput,pingpong,invoke"

    @Option(name: .long, help: "Measured repetitions per row (median and min–max are reported). Default 5 (--quick: 1).")
    var repetitions: Int?

    @Option(name: .long, help: "Seconds per repetition. Default 0.2 (--quick: 0.05).")
    var seconds: Double?

    @Option(name: .long, help: "Invocations in flight in the invoke scenario, comma-separated: one row each. Default 1,16,64 (--quick: 4).")
    var concurrency: String?

    @Option(name: .long, help: "Worker executable of the invoke scenario (any language; it must answer `echo`). Default: RingExampleWorker beside ringbench.")
    var workerPath: String?

    @Option(
        name: .customLong("invoke-worker"),
        help: ArgumentHelp(
            "NAME=PATH: invoke rows of another worker executable (any language), as transport ring-NAME beside RingExampleWorker's (repeatable).",
            valueName: "name=path"))
    var invokeWorkers: [String] = []

    @Option(name: .long, help: "Worker processes in the invoke scenario.")
    var workers: Int = 1

    @Option(name: .long, help: "Open-loop ping-pong at this many round trips/s (latency from the scheduled send time, corrected for coordinated omission). Default: closed loop.")
    var rate: Double?

    @Option(name: .long, help: "What the throughput receiver does with each payload: touch, read, copy.")
    var consume: ConsumeMode = .copy

    @Flag(inversion: .prefixedNo, help: "Pin the measuring thread to CPU 0 and the peer process to CPU 1 (throughput, pingpong).")
    var pin: Bool = true

    @Flag(name: .long, help: "A smoke run: one small size, one short repetition.")
    var quick: Bool = false

    @Option(name: .long, help: "Write every measurement as JSON to this path.")
    var json: String?

    @Option(name: .long, help: "Write every measurement as CSV to this path.")
    var csv: String?

    @Option(name: .long, help: "Draw throughput vs size and latency percentiles as a self-contained SVG at this path.")
    var plot: String?

    package init() {}

    // MARK: - Arguments

    func parsedSizes() throws -> [Int] {
        let text = sizes ?? (quick ? "64" : "64,4K,64K")
        let values = try text.split(separator: ",").map { try ByteSize.parse(String($0), option: "--sizes") }
        guard !values.isEmpty else { throw ValidationError("--sizes is empty") }
        for value in values where value < 1 || value > 16 << 20 {
            throw ValidationError("--sizes: \(value) is outside 1 B…16 MiB")
        }
        return values
    }

    /// Sizes of the one-way throughput rows: `--sizes` when given, else the default sizes with the
    /// small-message steps 256 B and 1 KiB added (where per-message cost, not bandwidth, decides).
    func parsedThroughputSizes() throws -> [Int] {
        if sizes != nil || quick { return try parsedSizes() }
        return [64, 256, 1 << 10, 4 << 10, 64 << 10]
    }

    func parsedTransports() throws -> [CompareTransport] {
        try parsedNamedTransports() + parsedInvokeWorkers()
    }

    /// The rows of `--invoke-worker` (after the named transports).
    func parsedInvokeWorkers() throws -> [CompareTransport] {
        try invokeWorkers.map { entry in
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, parts[0].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
                throw ValidationError("--invoke-worker \(entry): expected NAME=PATH, NAME of letters, digits and -")
            }
            guard access(parts[1], X_OK) == 0 else { throw ValidationError("--invoke-worker \(entry): \(parts[1]) is not an executable file") }
            guard !CompareTransport.all.contains(where: { $0.name == "ring-\(parts[0])" }) else {
                throw ValidationError("--invoke-worker \(entry): ring-\(parts[0]) is already a transport")
            }
            return CompareTransport.ringWorker(label: parts[0], path: parts[1])
        }
    }

    private func parsedNamedTransports() throws -> [CompareTransport] {
        let known = CompareTransport.all
        let names = transports.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !names.isEmpty else { throw ValidationError("--transports is empty") }
        if names == ["all"] { return known }
        return try names.map { name in
            guard let transport = known.first(where: { $0.name == name }) else {
                throw ValidationError(
                    "--transports: unknown transport '\(name)' (known: \(known.map(\.name).joined(separator: ", ")), or all)")
            }
            return transport
        }
    }

    func parsedScenarios() throws -> [CompareScenario] {
        let names = scenarios.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !names.isEmpty else { throw ValidationError("--scenarios is empty") }
        return try names.map { name in
            guard let scenario = CompareScenario(rawValue: name) else {
                throw ValidationError(
                    "--scenarios: unknown scenario '\(name)' (known: \(CompareScenario.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return scenario
        }
    }

    func settings() -> CompareSettings {
        let levels = (try? parsedConcurrencies()) ?? [1]
        return CompareSettings(
            repetitions: repetitions ?? (quick ? 1 : 5), seconds: seconds ?? (quick ? 0.05 : 0.2),
            warmUpSeconds: quick ? 0.02 : 0.1, pinned: pin && ProcessInfo.processInfo.activeProcessorCount >= 2,
            consume: consume, rate: rate, concurrency: levels.first ?? 1, workers: workers, concurrencies: levels,
            workerPath: workerPath)
    }

    /// The invoke scenario's in-flight levels.
    func parsedConcurrencies() throws -> [Int] {
        try InvokeCommand.list(concurrency ?? (quick ? "4" : "1,16,64"), option: "--concurrency")
    }

    package func validate() throws {
        _ = try parsedSizes()
        _ = try parsedTransports()
        _ = try parsedScenarios()
        if let repetitions, repetitions < 1 || repetitions > 100 { throw ValidationError("--repetitions must be in 1…100") }
        if let seconds, !(seconds > 0 && seconds <= 60) { throw ValidationError("--seconds must be in (0, 60]") }
        for level in try parsedConcurrencies() where level < 1 || level > 10_000 {
            throw ValidationError("--concurrency must be in 1…10000 (got \(level))")
        }
        guard (1...16).contains(workers) else { throw ValidationError("--workers must be in 1…16") }
        if let rate, !(rate >= 1 && rate <= 10_000_000) { throw ValidationError("--rate must be in 1…10000000 round trips/s") }
        for (option, path) in [("--json", json), ("--csv", csv), ("--plot", plot)] {
            if let path, path.isEmpty { throw ValidationError("\(option) needs a path") }
        }
    }

    // MARK: - Run

    package func run() async throws {
        let sizes = try parsedSizes()
        let transports = try parsedTransports()
        let scenarios = try parsedScenarios()
        let settings = settings()
        let machine = MachineInfo.current()
        print(CompareTable.heading(settings: settings, machine: machine))
        let throughputSizes = try parsedThroughputSizes()
        let plan = CompareRun.plan(
            scenarios: scenarios, sizes: sizes, transports: transports, concurrencies: settings.concurrencies,
            throughputSizes: throughputSizes)
        let progress = Progress(total: plan.count + CompareRun.calibrationSteps(scenarios: scenarios, sizes: throughputSizes, concurrencies: settings.concurrencies))
        let outcome = await CompareRun.execute(plan: plan, scenarios: scenarios, sizes: throughputSizes, settings: settings, progress: progress)
        progress.finish()
        print(CompareTable.render(outcome, transports: transports))
        let report = BenchReport(
            results: outcome.calibration + outcome.results, machine: machine,
            command: (["ringbench"] + CommandLine.arguments.dropFirst()).joined(separator: " "))
        if let json {
            try report.write(to: json)
            print("wrote \(json)")
        }
        if let csv {
            try CSVWriter.render(report.results).write(toFile: csv, atomically: true, encoding: .utf8)
            print("wrote \(csv)")
        }
        if let plot {
            try SVGPlot.render(report).write(toFile: plot, atomically: true, encoding: .utf8)
            print("wrote \(plot)")
        }
        if CompareRun.failsTheRun(outcome.failures, transports: transports) { throw ExitCode(1) }
    }
}
