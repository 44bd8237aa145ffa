import Foundation
import RingLinux

/// One measurement, as written to `--json` (schema shared by every ringbench scenario).
package struct BenchResult: Codable, Sendable, Equatable {
    package var scenario: String
    package var transport: String
    package var messageSize: Int
    /// Operations in flight at once (1 for a single stream or ping-pong).
    package var concurrency: Int
    /// Worker processes serving the measurement (1 for a two-process measurement).
    package var workers: Int
    package var messagesPerSecond: Double
    package var bytesPerSecond: Double
    package var repetitions: Int
    /// Range of messages/s over the repetitions.
    package var messagesPerSecondMin: Double
    package var messagesPerSecondMax: Double
    /// Free-form notes (consume mode, pinning, ring capacity…).
    package var parameters: [String: String]
    /// Round-trip latency percentiles (latency scenarios).
    package var latencyNanoseconds: LatencyPercentiles?
    /// CPU seconds (both processes, user + system) per million messages.
    package var cpuSecondsPerMillion: Double?
    /// FUTEX_WAKE syscalls (both processes) per message.
    package var wakeSyscallsPerMessage: Double?
    /// Context switches (both processes, every thread) per million messages.
    package var contextSwitchesPerMillion: Double?
    /// Data-path syscalls (both processes) per million messages: read/write class from /proc/PID/io
    /// plus the futex calls RingLinux counts (see `CounterSnapshot`).
    package var syscallsPerMillion: Double?
    /// "closed" (next request when the answer arrives) or "open" (fixed rate, latency measured from
    /// the scheduled send time: corrected for coordinated omission). Nil for one-way streams.
    package var load: String?
    /// Requests per second scheduled in open-loop mode.
    package var targetRate: Double?
    /// Share of the machine limit measured in the same run (`compare`): memcpy bandwidth for one-way
    /// throughput, the busy-spin round trip for ping-pong; 100 = at the limit.
    package var percentOfLimit: Double?
    /// One-way ring throughput as a share of the `floor` ring's messages/s at the same size in the
    /// same run (`FloorThroughput.swift`); 100 = as fast as a ring that validates nothing. In
    /// `compare`, the median of per-repetition ratios against floor repetitions run in turn with
    /// the row's (`ThroughputMeasurement.pairedWith`); elsewhere against the floor row.
    package var percentOfFloor: Double?
    /// The median messages/s of the floor repetitions run in turn with this row's (`compare`'s
    /// ring rows), which `percentOfFloor` was read against.
    package var pairedFloorRate: Double?
    /// Why the row could not be measured (the error, as text); nil for a measured row. A failed
    /// row's figures are zero and mean nothing (`BenchFailure`).
    package var failure: String?

    package init(scenario: String, transport: String, messageSize: Int, rates: Summary, repetitions: Int,
                parameters: [String: String], concurrency: Int = 1, workers: Int = 1) {
        self.scenario = scenario
        self.transport = transport
        self.messageSize = messageSize
        self.concurrency = concurrency
        self.workers = workers
        self.messagesPerSecond = rates.median
        self.bytesPerSecond = rates.median * Double(messageSize)
        self.repetitions = repetitions
        self.messagesPerSecondMin = rates.min
        self.messagesPerSecondMax = rates.max
        self.parameters = parameters
    }
}

/// Latency percentiles in nanoseconds, from an HdrHistogram.
package struct LatencyPercentiles: Codable, Sendable, Equatable {
    package var p50: UInt64
    package var p90: UInt64
    package var p99: UInt64
    package var p999: UInt64
    package var max: UInt64

    package init(p50: UInt64, p90: UInt64, p99: UInt64, p999: UInt64, max: UInt64) {
        self.p50 = p50
        self.p90 = p90
        self.p99 = p99
        self.p999 = p999
        self.max = max
    }
}

/// Facts about the machine a run was measured on.
package struct MachineInfo: Codable, Sendable, Equatable {
    package var cores: Int
    package var kernel: String
    /// The wait backend the reactor selected here (`iouring-futex`, `iouring-eventfd`, `futex-thread`),
    /// or `unavailable: reason`.
    package var ioUringBackend: String
    /// 1-minute load average when the run started: above ~0.5 the machine was busy and the figures
    /// are pessimistic.
    package var loadAverage: Double?

    package init(cores: Int, kernel: String, ioUringBackend: String = "unknown", loadAverage: Double? = nil) {
        self.cores = cores
        self.kernel = kernel
        self.ioUringBackend = ioUringBackend
        self.loadAverage = loadAverage
    }

    package static func current() -> MachineInfo {
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let backend: String
        switch WaitBackend.selection {
        case .success(let choice): backend = "\(choice.kind)"
        case .failure(let error): backend = "unavailable: \(error)"
        }
        var load = [0.0, 0.0, 0.0]
        let loadAverage = getloadavg(&load, 3) > 0 ? load[0] : nil
        return MachineInfo(cores: ProcessInfo.processInfo.activeProcessorCount, kernel: release, ioUringBackend: backend,
                           loadAverage: loadAverage)
    }
}

/// The `--json` document.
package struct BenchReport: Codable, Sendable, Equatable {
    /// Every row in table order, failed ones included (their `failure` set).
    package var results: [BenchResult]
    /// The failed rows of `results` again, with their reasons: empty when every row was measured.
    package var failures: [BenchFailure]
    package var machine: MachineInfo
    /// The command line that produced the report (`compare` records it).
    package var command: String?

    package init(results: [BenchResult], machine: MachineInfo, command: String? = nil) {
        self.results = results
        self.failures = results.compactMap(BenchFailure.init)
        self.machine = machine
        self.command = command
    }

    private enum CodingKeys: String, CodingKey {
        case results, failures, machine, command
    }

    /// Reports written before `failures` existed decode with none.
    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        results = try container.decode([BenchResult].self, forKey: .results)
        failures = try container.decodeIfPresent([BenchFailure].self, forKey: .failures) ?? []
        machine = try container.decode(MachineInfo.self, forKey: .machine)
        command = try container.decodeIfPresent(String.self, forKey: .command)
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    package func write(to path: String) throws {
        try encoded().write(to: URL(fileURLWithPath: path))
    }
}
