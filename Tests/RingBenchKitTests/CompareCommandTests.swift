import ArgumentParser
import Foundation
import Testing

@testable import RingBenchKit
@testable import ringbench

@Suite struct CompareCommandTests {
    @Test func defaultsCoverEveryTransportAndScenario() throws {
        let command = try CompareCommand.parse([])
        #expect(try command.parsedSizes() == [64, 4096, 65536])
        #expect(try command.parsedTransports().map(\.name) == CompareTransport.all.map(\.name))
        #expect(try command.parsedScenarios() == CompareScenario.allCases)
        let settings = command.settings()
        #expect(settings.repetitions == 5)
        #expect(settings.rate == nil)
    }

    @Test func quickShrinksTheMatrixButKeepsExplicitOptions() throws {
        let quick = try CompareCommand.parse(["--quick"])
        #expect(try quick.parsedSizes() == [64])
        #expect(quick.settings().repetitions == 1)
        let explicit = try CompareCommand.parse(["--quick", "--sizes", "1K", "--repetitions", "2"])
        #expect(try explicit.parsedSizes() == [1024])
        #expect(explicit.settings().repetitions == 2)
    }

    @Test func rateSelectsOpenLoop() throws {
        #expect(try CompareCommand.parse(["--rate", "2000"]).settings().rate == 2000)
        #expect(try CompareCommand.parse([]).settings().rate == nil)
    }

    @Test func compareIsTheDefaultSubcommand() throws {
        #expect(RingBench.configuration.defaultSubcommand == CompareCommand.self)
        let parsed = try RingBench.parseAsRoot(["--quick"])
        #expect(parsed is CompareCommand)
    }

    @Test(arguments: [
        ["--sizes", "abc"], ["--sizes", "0"], ["--sizes", "17M"], ["--sizes", ""], ["--sizes", "-4"],
        ["--transports", "carrier-pigeon"], ["--transports", ""], ["--scenarios", "juggling"],
        ["--repetitions", "0"], ["--seconds", "0"], ["--seconds", "-1"], ["--concurrency", "0"], ["--workers", "0"],
        ["--rate", "0"], ["--consume", "eat"], ["--json"],
    ])
    func badArgumentsAreUsageErrors(arguments: [String]) {
        #expect(throws: (any Error).self) { try CompareCommand.parse(arguments) }
    }

    @Test func unknownTransportMessageNamesTheKnownOnes() {
        do {
            _ = try CompareCommand.parse(["--transports", "ring-latency,smoke"])
            Issue.record("expected a validation error")
        } catch {
            let message = CompareCommand.message(for: error)
            #expect(message.contains("'smoke'"))
            for name in ["ring-latency", "ring-efficiency", "unix", "pipe", "tcp"] { #expect(message.contains(name)) }
            #expect(CompareCommand.exitCode(for: error) == .validationFailure)
        }
    }

    @Test func badSizeMessageSaysWhatASizeIs() {
        do {
            _ = try CompareCommand.parse(["--sizes", "64,huge"])
            Issue.record("expected a validation error")
        } catch {
            let message = CompareCommand.message(for: error)
            #expect(message.contains("'huge' is not a size"))
            #expect(CompareCommand.exitCode(for: error) == .validationFailure)
        }
    }

    @Test func planSkipsScenariosATransportDoesNotTakePartIn() throws {
        let transports = try CompareCommand.parse(["--transports", "ring-latency,unix"]).parsedTransports()
        let plan = CompareRun.plan(scenarios: CompareScenario.allCases, sizes: [64, 4096], transports: transports)
        // ring-latency: 3 scenarios × 2 sizes; unix: throughput and pingpong × 2 sizes.
        #expect(plan.count == 10)
        #expect(!plan.contains { $0.transport == "unix" && $0.scenario == .invoke })
        #expect(plan.first?.scenario == .throughput)
    }

    @Test func onlyFailedRowsOfRingTransportFailTheRun() {
        let all = CompareTransport.all
        func failure(_ transport: String) -> CompareRun.Failure {
            CompareRun.Failure(scenario: .invoke, size: 65536, transport: transport, reason: "unavailable")
        }
        #expect(!CompareRun.failsTheRun([failure("grpc-h2-unix"), failure("unix")], transports: all))
        #expect(CompareRun.failsTheRun([failure("grpc-h2-unix"), failure("ring-latency")], transports: all))
        #expect(CompareRun.failsTheRun([failure("grpc-ring")], transports: all))
        #expect(CompareRun.failsTheRun([failure("floor")], transports: all))
        #expect(!CompareRun.failsTheRun([], transports: all))
    }

    @Test func throughputRowsAddTheSmallMessageSizesByDefault() throws {
        let command = try CompareCommand.parse([])
        #expect(try command.parsedSizes() == [64, 4096, 65536])
        #expect(try command.parsedThroughputSizes() == [64, 256, 1024, 4096, 65536])
        // Explicit sizes are taken as given, for every scenario.
        #expect(try CompareCommand.parse(["--sizes", "64,4K"]).parsedThroughputSizes() == [64, 4096])
        let transports = try CompareCommand.parse(["--transports", "ring-latency"]).parsedTransports()
        let plan = CompareRun.plan(
            scenarios: [.throughput, .pingpong], sizes: [64, 4096], transports: transports, throughputSizes: [64, 256, 4096])
        #expect(plan.filter { $0.scenario == .throughput }.map(\.size) == [64, 256, 4096])
        #expect(plan.filter { $0.scenario == .pingpong }.map(\.size) == [64, 4096])
        #expect(CompareRun.calibrationSteps(scenarios: [.throughput, .pingpong], sizes: [64, 256, 4096], concurrencies: [1, 16, 64]) == 7)
        #expect(CompareRun.calibrationSteps(scenarios: [.pingpong, .invoke], sizes: [64], concurrencies: [1, 16, 64]) == 4)
    }

    @Test func percentOfLimitUsesTheSameRunsCalibration() {
        let memcpy = BenchResult(scenario: "calibration", transport: "memcpy", messageSize: 64, rates: Summary([100]),
                                 repetitions: 1, parameters: [:])
        var floor = BenchResult(scenario: "calibration", transport: "spin-floor", messageSize: 4, rates: Summary([1]),
                                repetitions: 1, parameters: [:])
        floor.latencyNanoseconds = LatencyPercentiles(p50: 100, p90: 100, p99: 100, p999: 100, max: 100)
        let throughput = BenchResult(scenario: "throughput", transport: "ring-latency", messageSize: 64, rates: Summary([25]),
                                     repetitions: 1, parameters: [:])
        #expect(CompareRun.withLimit(throughput, calibration: [memcpy, floor]).percentOfLimit == 25)
        var pingpong = BenchResult(scenario: "pingpong", transport: "ring-latency", messageSize: 64, rates: Summary([1]),
                                   repetitions: 1, parameters: [:])
        pingpong.latencyNanoseconds = LatencyPercentiles(p50: 400, p90: 400, p99: 400, p999: 400, max: 400)
        #expect(CompareRun.withLimit(pingpong, calibration: [memcpy, floor]).percentOfLimit == 25)
        // invoke: the same ring's ping-pong p50 at the same size against the invocation's p50.
        var invoke = BenchResult(scenario: "invoke", transport: "ring-latency", messageSize: 64, rates: Summary([1]),
                                 repetitions: 1, parameters: [:], concurrency: 1)
        invoke.latencyNanoseconds = LatencyPercentiles(p50: 1_600, p90: 1_600, p99: 1_600, p999: 1_600, max: 1_600)
        #expect(CompareRun.withLimit(invoke, calibration: [memcpy, floor], results: [pingpong, invoke]).percentOfLimit == 25)
        #expect(CompareRun.withLimit(invoke, calibration: [memcpy, floor], results: [invoke]).percentOfLimit == nil)
        // ring-submit has no ping-pong of its own: it is read against the ring of its wait profile.
        var submit = BenchResult(scenario: "invoke", transport: "ring-submit", messageSize: 64, rates: Summary([1]),
                                 repetitions: 1, parameters: ["profile": "latency", "callers": "completion"], concurrency: 1)
        submit.latencyNanoseconds = LatencyPercentiles(p50: 800, p90: 800, p99: 800, p999: 800, max: 800)
        #expect(CompareRun.withLimit(submit, calibration: [memcpy, floor], results: [pingpong, submit]).percentOfLimit == 50)
        submit.parameters["profile"] = "efficiency"
        #expect(CompareRun.withLimit(submit, calibration: [memcpy, floor], results: [pingpong, submit]).percentOfLimit == nil)
    }

    @Test func ringSubmitIsAnInvokeOnlyRowWithCompletionCallers() throws {
        let transports = try CompareCommand.parse(["--transports", "ring-submit"]).parsedTransports()
        #expect(transports.map(\.name) == ["ring-submit"])
        let plan = CompareRun.plan(scenarios: [.throughput, .pingpong, .invoke], sizes: [64], transports: transports, concurrencies: [1, 64])
        #expect(plan.map(\.scenario) == [.invoke, .invoke])
        #expect(plan.map(\.concurrency) == [1, 64])
        #expect(CompareTransport.all.map(\.name).prefix(3) == ["ring-latency", "ring-efficiency", "ring-submit"])
    }

    @Test func invokeRowsComeAtEveryInFlightLevelWithTheirOwnSettings() throws {
        let command = try CompareCommand.parse(["--transports", "ring-latency,grpc-h2-unix", "--scenarios", "invoke", "--sizes", "64"])
        #expect(try command.parsedConcurrencies() == [1, 16, 64])
        let settings = command.settings()
        let plan = CompareRun.plan(scenarios: [.invoke], sizes: [64], transports: try command.parsedTransports(),
                                   concurrencies: settings.concurrencies)
        #expect(plan.map(\.concurrency) == [1, 1, 16, 16, 64, 64])
        #expect(plan.map(\.transport) == ["ring-latency", "grpc-h2-unix", "ring-latency", "grpc-h2-unix", "ring-latency", "grpc-h2-unix"])
        #expect(plan.map { $0.settings(settings).concurrency } == [1, 1, 16, 16, 64, 64])
        #expect(plan[4].failure(reason: "x", settings: settings).concurrency == 64)
        #expect(try CompareCommand.parse(["--quick"]).parsedConcurrencies() == [4])
        #expect(try CompareCommand.parse(["--concurrency", "8,32"]).parsedConcurrencies() == [8, 32])
    }

    @Test func tableShowsRatiosAgainstTheBaseline() {
        let outcome = CompareRun.Outcome(calibration: SampleResults.calibration, results: SampleResults.results, failures: [
            .init(scenario: .invoke, size: 64, transport: "ring-latency", reason: "no worker")
        ])
        let table = CompareTable.render(outcome, transports: CompareTransport.all)
        #expect(table.contains("50×"))  // ring 50 M vs unix 1 M messages/s
        #expect(table.contains("1.0×"))
        #expect(table.contains("FAILED invoke ring-latency 64 B: no worker"))
        // One header line, then equal-width columns: every data line starts with a scenario name.
        let lines = table.split(separator: "\n")
        #expect(lines.first?.hasPrefix("scenario") == true)
    }
}

/// A known set of results for the writer and renderer tests.
enum SampleResults {
    static let calibration: [BenchResult] = {
        var floor = BenchResult(scenario: "calibration", transport: "spin-floor", messageSize: 4, rates: Summary([5e6]),
                                repetitions: 1, parameters: ["what": "spin, \"floor\""])
        floor.latencyNanoseconds = LatencyPercentiles(p50: 180, p90: 200, p99: 300, p999: 900, max: 20_000)
        return [
            BenchResult(scenario: "calibration", transport: "memcpy", messageSize: 64, rates: Summary([4e8]), repetitions: 1, parameters: [:]),
            BenchResult(scenario: "calibration", transport: "memcpy", messageSize: 4096, rates: Summary([2e7]), repetitions: 1, parameters: [:]),
            floor,
        ]
    }()

    static let results: [BenchResult] = {
        var all: [BenchResult] = []
        for (transport, rate) in [("ring-latency", 50e6), ("unix", 1e6), ("pipe", 1.2e6)] {
            for size in [64, 4096] {
                var r = BenchResult(scenario: "throughput", transport: transport, messageSize: size,
                                    rates: Summary([rate / Double(size / 64), rate, rate * 1.1]), repetitions: 3, parameters: [:])
                r.cpuSecondsPerMillion = 0.5
                r.contextSwitchesPerMillion = 12
                r.syscallsPerMillion = 1e6
                all.append(r)
            }
            var p = BenchResult(scenario: "pingpong", transport: transport, messageSize: 64, rates: Summary([rate / 100]),
                                repetitions: 1, parameters: ["note": "a, b"])
            p.latencyNanoseconds = LatencyPercentiles(p50: UInt64(1e9 / rate * 50), p90: 2_000, p99: 9_000, p999: 50_000, max: 1_000_000)
            p.load = "closed"
            all.append(p)
        }
        // Invocations at several concurrencies, and one larger size the plot leaves out.
        for (transport, rate) in [("ring-latency", 7e4), ("ring-efficiency", 6e4), ("grpc-ring", 1.2e4), ("grpc-h2-unix", 3e3)] {
            for concurrency in [1, 16, 64] {
                let scaled = rate * Double(min(concurrency, 16)) / 16
                var invoke = BenchResult(scenario: "invoke", transport: transport, messageSize: 64, rates: Summary([scaled * 0.9, scaled, scaled * 1.1]),
                                         repetitions: 3, parameters: [:], concurrency: concurrency, workers: 1)
                let p50 = UInt64(Double(concurrency) / scaled * 1e9)
                invoke.latencyNanoseconds = LatencyPercentiles(p50: p50, p90: p50 * 2, p99: p50 * 4, p999: p50 * 8, max: p50 * 16)
                all.append(invoke)
            }
        }
        var large = BenchResult(scenario: "invoke", transport: "ring-latency", messageSize: 65536, rates: Summary([1.6e4]),
                                repetitions: 1, parameters: [:], concurrency: 16, workers: 1)
        large.latencyNanoseconds = LatencyPercentiles(p50: 900_000, p90: 1_000_000, p99: 2_000_000, p999: 3_000_000, max: 4_000_000)
        all.append(large)
        return all
    }()

    static let report = BenchReport(
        results: calibration + results,
        machine: MachineInfo(cores: 2, kernel: "6.18.0 <test & \"quotes\">", ioUringBackend: "iouring-futex", loadAverage: 0.2),
        command: "ringbench compare --quick")
}
