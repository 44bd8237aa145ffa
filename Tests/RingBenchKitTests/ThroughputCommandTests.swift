import Foundation
import Testing

@testable import RingBenchKit

@Suite struct ThroughputCommandTests {
    @Test func defaultsParse() throws {
        let command = try ThroughputCommand.parse([])
        #expect(try command.parsedSizes() == [64, 4096, 65536])
        #expect(try command.parsedTransports() == [.ring, .floor, .unix])
    }

    @Test func sizesAcceptSuffixes() throws {
        let command = try ThroughputCommand.parse(["--sizes", "1,2K,3M"])
        #expect(try command.parsedSizes() == [1, 2048, 3 << 20])
    }

    @Test(arguments: [
        ["--sizes", "abc"], ["--sizes", "0"], ["--sizes", "65M"], ["--transports", "carrier-pigeon"],
        ["--repetitions", "0"], ["--seconds", "0"], ["--ring-capacity", "1000"], ["--batch", "0"],
        ["--consume", "eat"],
    ])
    func badArgumentsAreUsageErrors(arguments: [String]) {
        #expect(throws: (any Error).self) { try ThroughputCommand.parse(arguments) }
    }

    @Test func unknownTransportMessageNamesTheKnownOnes() {
        do {
            _ = try ThroughputCommand.parse(["--transports", "ring,smoke"])
            Issue.record("expected a validation error")
        } catch {
            let message = ThroughputCommand.message(for: error)
            #expect(message.contains("smoke"))
            #expect(message.contains("ring, floor, unix"))
        }
    }

    @Test func jsonReportRoundTrips() throws {
        let result = BenchResult(scenario: "throughput", transport: "ring", messageSize: 64,
                                 rates: Summary([3, 1, 2]), repetitions: 3, parameters: ["consume": "copy"])
        #expect(result.messagesPerSecond == 2)
        #expect(result.bytesPerSecond == 128)
        let report = BenchReport(results: [result], machine: MachineInfo(cores: 2, kernel: "6.18"))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ringbench-\(UUID()).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try report.write(to: path)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(try JSONDecoder().decode(BenchReport.self, from: data) == report)
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let results = object?["results"] as? [[String: Any]]
        for key in ["scenario", "transport", "messageSize", "messagesPerSecond", "bytesPerSecond"] {
            #expect(results?.first?[key] != nil, "missing \(key)")
        }
    }

    @Test func summaryIsMedianAndRange() {
        #expect(Summary([5, 1, 3]) == Summary(median: 3, min: 1, max: 5))
        #expect(Summary([4, 1, 3, 2]).median == 2.5)
    }

    /// End to end, tiny: both transports stream across real processes and agree on the count.
    @Test func tinyEndToEndRun() throws {
        let sender = try RingThroughputSender(capacity: 1 << 16, maxSize: 64, batch: 8)
        let child = try spawnPeer(transport: "ring", inherit: sender.inherit)
        #expect(try sender.run(size: 64, nanoseconds: 1_000_000).messages > 0)
        try sender.finish()
        #expect(try child.wait() == .exited(0))

        for kind in StreamKind.allCases {
            let stream = try StreamThroughputSender(kind: kind, maxSize: 64)
            let streamChild = try spawnPeer(transport: kind.rawValue, inherit: stream.inherit)
            #expect(try stream.run(size: 64, nanoseconds: 1_000_000).messages > 0, "\(kind)")
            try stream.finish()
            #expect(try streamChild.wait() == .exited(0), "\(kind)")
        }
    }
}

import RingLinux

/// The directory of the built executables (`ringbench`, `RingExampleWorker`) beside the test bundle.
func builtProductsDirectory() -> String {
    let testBinary = ProcessEnvironment.executablePath()
    return String(testBinary[..<testBinary.lastIndex(of: "/")!])
}

/// Starts `ringbench _peer` — the test links RingBenchKit, but the peer must be the real executable
/// built beside the test bundle.
func spawnPeer(transport: String, inherit: [Int32: Int32]) throws -> ChildProcess {
    let testBinary = ProcessEnvironment.executablePath()
    let directory = testBinary[..<testBinary.lastIndex(of: "/")!]
    return try ChildProcess(
        executable: "\(directory)/ringbench",
        arguments: ["_peer", "--transport", transport, "--fd", "3", "--write-fd", "4", "--max-size", "64"],
        inherit: inherit)
}
