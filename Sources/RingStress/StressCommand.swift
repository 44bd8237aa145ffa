// StressCommand — `ringbench stress`: the command line of StressRun.
package import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import Logging
import RingChannel
import RingBenchKit
import RingLinux

/// `ringbench stress`: peak load through FunctionHost with faults; every outcome audited.
package struct StressCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "stress",
        abstract: "Peak load with faults; audits that every invocation gets exactly one outcome carrying its own context.",
        discussion: "Exits with status 1 if the audit finds any violation. See Docs/Reliability.md.")

    @Option(help: "Worker processes.") var workers: Int = 2
    @Option(help: "Closed loop: invocations in flight. Open loop (--rate): the in-flight cap.") var concurrency: Int = 128
    @Option(help: "Open loop: invocations per second (default: closed loop).") var rate: Double?
    @Option(help: "Load time: seconds, or with a suffix s / m / h (e.g. 30, 10m).") var duration: String = "10"
    @Option(help: "Stop after this many invocations (whichever comes first).") var invocations: UInt64?
    @Option(help: "Message sizes with weights, e.g. 64:70,1K:20,64K:8,1M:1.5,4M:0.5.") var sizes: String?
    @Option(help: "Seconds in-flight invocations get after the load stops before they count as lost.") var drainTimeout: Double = 30

    @Option(help: "Fault: SIGKILL a random worker every so many seconds (restarted).") var killEvery: Double?
    @Option(help: "Keep the load and the kills going past --duration until this many kills were sent.") var minKills: Int = 0
    @Option(help: "Fault: SIGSTOP a random worker every so many seconds …") var stallEvery: Double?
    @Option(name: .customLong("stall-ms"), help: "… for this many milliseconds, then SIGCONT.") var stallMilliseconds: Double = 50
    @Option(help: "The host's liveness timeout in seconds (default 10): a stall longer than it ends the worker (workerStalled).") var livenessTimeout: Double?
    @Option(help: "Fault: a random worker scribbles over its ring every so many seconds.") var hostileEvery: Double?
    @Flag(help: "Fault: 64 KiB rings each way (constant back-pressure, fragmentation).") var tinyRing = false
    @Option(help: "Fault: fraction of invocations cancelled by the caller after 0…2 ms.") var cancelFraction: Double = 0
    @Option(help: "Fault: fraction of invocations with a deadline 0…1 ms away.") var deadlineFraction: Double = 0
    @Option(help: "Fault: fraction of invocations carrying 4…16 MiB each way.") var hugeFraction: Double = 0
    @Option(help: ArgumentHelp(
        "NEGATIVE CONTROL: break the guarantee like the original host (context stored in a side table after the send, read by the reply path); the value is the fraction of stores dropped (0 keeps only the race). The audit must fail.",
        valueName: "drop-fraction"))
    var negativeControl: Double?

    @Option(help: "Seconds between RSS / fd samples.") var sampleInterval: Double = 1
    @Option(help: "Seconds between progress lines.") var progressInterval: Double = 5
    @Option(help: "Write the report as JSON to this path.") var json: String?
    @Option(help: "RingExampleWorker to spawn (default: beside this executable).") var workerPath: String?

    package init() {}

    /// Seconds of "30", "30s", "10m", "1h".
    static func seconds(_ text: String) throws -> Double {
        var digits = Substring(text)
        var scale = 1.0
        switch text.last {
        case "s": digits = digits.dropLast()
        case "m": digits = digits.dropLast(); scale = 60
        case "h": digits = digits.dropLast(); scale = 3600
        default: break
        }
        guard let value = Double(digits), value > 0 else { throw ValidationError("--duration: '\(text)' is not a duration (e.g. 30, 30s, 10m)") }
        return value * scale
    }

    func plan() throws -> StressPlan {
        var plan = StressPlan()
        plan.workers = workers
        plan.load = rate.map { .open(ratePerSecond: $0, maxInFlight: concurrency) } ?? .closed(concurrency: concurrency)
        plan.duration = try Self.seconds(duration)
        plan.invocationLimit = invocations
        if let sizes { plan.sizes = try StressSizeMix.parse(sizes) }
        plan.drainTimeout = drainTimeout
        plan.killEvery = killEvery
        plan.minimumKills = minKills
        plan.stallEvery = stallEvery
        plan.stallMilliseconds = stallMilliseconds
        plan.livenessTimeout = livenessTimeout
        plan.hostileEvery = hostileEvery
        plan.tinyRing = tinyRing
        plan.cancelFraction = cancelFraction
        plan.deadlineFraction = deadlineFraction
        plan.hugeFraction = hugeFraction
        plan.negativeControl = negativeControl.map { StressPlan.NegativeControl(dropFraction: $0) }
        plan.sampleInterval = sampleInterval
        plan.progressInterval = progressInterval
        try plan.validate()
        return plan
    }

    package func validate() throws {
        do { _ = try plan() } catch let error as StressPlanError { throw ValidationError(error.description) }
    }

    package func run() async throws {
        let plan = try plan()
        let executable = workerPath ?? {
            let binary = ProcessEnvironment.executablePath()
            return String(binary[..<binary.lastIndex(of: "/")!]) + "/RingExampleWorker"
        }()
        var logger = Logger(label: "ringbench.stress")
        logger.logLevel = .error
        // Progress must reach a log file as it happens (long runs are watched with tail -f).
        let run = StressRun(plan: plan, workerExecutable: executable, logger: logger) { line in
            print(line)
            fflush(nil)
        }
        print("ringbench stress — \(plan.workers) workers, faults: \(plan.faultNames.isEmpty ? "none" : plan.faultNames.joined(separator: ", "))"
              + (plan.negativeControl != nil ? " — NEGATIVE CONTROL (must fail)" : ""))
        let report = try await run.run()
        print(report.table)
        if let json {
            try report.write(to: json)
            print("wrote \(json)")
        }
        if !report.passed { throw ExitCode(1) }
    }
}
