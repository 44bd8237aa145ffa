import Foundation
import RingLinux
import Testing

@testable import RingBenchKit

/// `ringbench compare --quick` as a user runs it: the real executable, every transport and scenario,
/// real peer processes (and RingExampleWorker for invoke). Checks counts, never timings.
@Suite struct CompareEndToEndTests {
    @Test func quickRunMeasuresEveryTransport() throws {
        let directory = builtProductsDirectory()
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("ringbench-compare-\(UUID())")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: output) }
        let json = output.appendingPathComponent("out.json").path
        let csv = output.appendingPathComponent("out.csv").path
        let svg = output.appendingPathComponent("out.svg").path
        let child = try ChildProcess(
            executable: "\(directory)/ringbench",
            arguments: ["compare", "--quick", "--seconds", "0.02", "--json", json, "--csv", csv, "--plot", svg])
        #expect(try child.wait() == .exited(0))

        let report = try JSONDecoder().decode(BenchReport.self, from: Data(contentsOf: URL(fileURLWithPath: json)))
        #expect(report.machine.cores >= 1)
        for transport in CompareTransport.all {
            for scenario in CompareScenario.allCases where transport.runner(for: scenario) != nil {
                let result = report.results.first { $0.transport == transport.name && $0.scenario == scenario.rawValue }
                #expect(result != nil, "no \(scenario) result for \(transport.name)")
                guard let result else { continue }
                #expect(result.messagesPerSecond > 0, "\(transport.name) \(scenario)")
                #expect(result.messageSize == 64)
                if scenario != .throughput {
                    #expect((result.latencyNanoseconds?.p50 ?? 0) > 0, "\(transport.name) \(scenario) latency")
                }
            }
        }
        #expect(report.results.contains { $0.transport == "memcpy" && $0.messagesPerSecond > 0 })
        #expect(report.results.contains { $0.transport == "floor" && $0.scenario == "calibration" && $0.messagesPerSecond > 0 })
        // The ring rows ran in turn with floor repetitions of their own (the floor's peer slept
        // between them and was woken for each), and "% floor" was read against those.
        let ringRows = report.results.filter { $0.scenario == "throughput" && $0.transport.hasPrefix("ring-") }
        #expect(!ringRows.isEmpty)
        #expect(ringRows.allSatisfy { ($0.percentOfFloor ?? 0) > 0 && ($0.pairedFloorRate ?? 0) > 0 })
        #expect(report.results.contains { $0.transport == "spin-floor" && ($0.latencyNanoseconds?.p50 ?? 0) > 0 })
        #expect(report.results.contains { $0.transport == "task-floor" && $0.concurrency == 4 && $0.messagesPerSecond > 0 && ($0.latencyNanoseconds?.p50 ?? 0) > 0 })
        let csvText = try String(contentsOfFile: csv, encoding: .utf8)
        #expect(try CSV.parse(csvText).count == report.results.count + 1)
        #expect(try String(contentsOfFile: svg, encoding: .utf8).hasPrefix("<?xml"))
    }

    @Test func openLoopPingPongIsMarkedAndCounted() throws {
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("ringbench-open-\(UUID()).json").path
        defer { try? FileManager.default.removeItem(atPath: json) }
        let child = try ChildProcess(
            executable: "\(builtProductsDirectory())/ringbench",
            arguments: ["compare", "--quick", "--seconds", "0.02", "--scenarios", "pingpong", "--transports", "ring-latency,unix",
                        "--rate", "2000", "--json", json])
        #expect(try child.wait() == .exited(0))
        let report = try JSONDecoder().decode(BenchReport.self, from: Data(contentsOf: URL(fileURLWithPath: json)))
        let rows = report.results.filter { $0.scenario == "pingpong" }
        #expect(rows.map(\.transport) == ["ring-latency", "unix"])
        for row in rows {
            #expect(row.load == "open")
            #expect(row.targetRate == 2000)
            #expect(row.messagesPerSecond > 0)
        }
    }
}
