import Foundation
import GRPCCore
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

@testable import RingBenchKit

/// A row whose measurement throws never aborts a run: `compare` and `grpc` record it as failed (in
/// the table, the JSON and the CSV, with the reason) and go on with the next row. The runners here
/// are fakes: one throws the error the HTTP/2 baseline threw, the others return fixed results.
@Suite struct FailedRowTests {
    /// What grpc-swift's HTTP/2 client throws when the connection under a stream goes away.
    static let streamClosed = RPCError(code: .unavailable, message: "Stream unexpectedly closed.")

    static func measured(_ scenario: String, _ transport: String, size: Int, concurrency: Int = 1, rate: Double) -> BenchResult {
        var result = BenchResult(
            scenario: scenario, transport: transport, messageSize: size, rates: Summary([rate]), repetitions: 1, parameters: [:],
            concurrency: concurrency)
        result.latencyNanoseconds = LatencyPercentiles(p50: 1_000, p90: 2_000, p99: 3_000, p999: 4_000, max: 5_000)
        return result
    }

    static let settings = CompareSettings(
        repetitions: 1, seconds: 0.01, warmUpSeconds: 0, pinned: false, consume: .copy, rate: nil, concurrency: 64, workers: 1)

    /// invoke × {64 B, 64 KiB} × {grpc-h2-unix, grpc-ring}; grpc-h2-unix at 64 KiB throws.
    static var comparePlan: [CompareRun.Step] {
        [64, 65536].flatMap { size in
            ["grpc-h2-unix", "grpc-ring"].map { transport in
                CompareRun.Step(scenario: .invoke, size: size, transport: transport, role: .grpc, concurrency: 64) { settings, size in
                    if transport == "grpc-h2-unix" && size == 65536 { throw Self.streamClosed }
                    return Self.measured("invoke", transport, size: size, concurrency: settings.concurrency, rate: transport == "grpc-ring" ? 4000 : 1000)
                }
            }
        }
    }

    @Test func compareRecordsTheFailedRowAndMeasuresTheRest() async {
        let outcome = await CompareRun.execute(
            plan: Self.comparePlan, scenarios: [.invoke], sizes: [64, 65536], settings: Self.settings, progress: Progress(total: 4, enabled: false))
        #expect(outcome.results.map(\.transport) == ["grpc-h2-unix", "grpc-ring", "grpc-h2-unix", "grpc-ring"])
        #expect(outcome.results.map(\.isMeasured) == [true, true, false, true])
        #expect(outcome.results[3].messagesPerSecond == 4000)  // the row after the failure was measured
        #expect(outcome.failures == [.init(scenario: .invoke, size: 65536, transport: "grpc-h2-unix", reason: "\(Self.streamClosed)")])
        let failed = outcome.results[2]
        #expect(failed.failure == "\(Self.streamClosed)")
        #expect(failed.concurrency == 64 && failed.messageSize == 65536 && failed.scenario == "invoke")

        let table = CompareTable.render(outcome, transports: CompareTransport.all)
        let failedLine = table.split(separator: "\n").first { $0.hasPrefix("invoke") && $0.contains("64 KiB") && $0.contains("grpc-h2-unix") }
        #expect(failedLine?.contains("FAILED") == true, "the failed row keeps its place in the table")
        #expect(table.contains("FAILED invoke grpc-h2-unix 64 KiB: unavailable"))
        #expect(table.contains("Stream unexpectedly closed."))
        // grpc-ring at 64 KiB has no baseline to divide by; at 64 B it has.
        #expect(table.contains("4.0×"))
    }

    @Test func compareJSONAndCSVCarryTheFailure() async throws {
        let outcome = await CompareRun.execute(
            plan: Self.comparePlan, scenarios: [.invoke], sizes: [64, 65536], settings: Self.settings, progress: Progress(total: 4, enabled: false))
        // As CompareCommand builds its report.
        let report = BenchReport(results: outcome.calibration + outcome.results, machine: MachineInfo(cores: 2, kernel: "6.18"), command: "test")
        let data = try report.encoded()
        #expect(try JSONDecoder().decode(BenchReport.self, from: data) == report)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let failures = try #require(object["failures"] as? [[String: Any]])
        #expect(failures.count == 1)
        #expect(failures.first?["transport"] as? String == "grpc-h2-unix")
        #expect(failures.first?["scenario"] as? String == "invoke")
        #expect(failures.first?["messageSize"] as? Int == 65536)
        #expect(failures.first?["concurrency"] as? Int == 64)
        #expect((failures.first?["reason"] as? String)?.contains("Stream unexpectedly closed.") == true)
        // The invoke scenario's calibration (the task floor at its one in-flight level) comes first.
        let results = try #require(object["results"] as? [[String: Any]])
        #expect(results.count == 5)
        #expect(results[0]["transport"] as? String == "task-floor" && results[0]["concurrency"] as? Int == Self.settings.concurrencies.first)
        #expect(results.filter { $0["failure"] != nil }.count == 1)
        #expect(results[4]["transport"] as? String == "grpc-ring" && results[4]["failure"] == nil)

        let rows = try CSV.parse(CSVWriter.render(report.results))
        #expect(rows.count == 6)
        for row in rows { #expect(row.count == CSVWriter.header.count) }
        let column = { (name: String) in CSVWriter.header.firstIndex(of: name)! }
        #expect(rows[4][column("transport")] == "grpc-h2-unix")
        #expect(rows[4][column("failure")] == "\(Self.streamClosed)")
        #expect(rows[4][column("messagesPerSecond")] == "")
        #expect(rows[5][column("failure")] == "")
        #expect(Double(rows[5][column("messagesPerSecond")]) == 4000)
    }

    @Test func reportsWithoutFailuresKeyStillDecode() throws {
        let old = #"{"results": [], "machine": {"cores": 2, "kernel": "6.18", "ioUringBackend": "iouring-futex"}}"#
        let report = try JSONDecoder().decode(BenchReport.self, from: Data(old.utf8))
        #expect(report.failures.isEmpty)
    }

    @Test func grpcRunGoesOnAfterAFailingRow() async throws {
        let plan = GRPCRun.plan(scenarios: [.unary], sizes: [64, 65536], levels: [64], transports: [.ring, .h2Unix, .inProcess])
        #expect(plan.count == 6)
        var printed: [String] = []
        let results = await GRPCRun.execute(plan, runner: { row in
            if row.transport == .h2Unix && row.size == 65536 { throw Self.streamClosed }
            return Self.measured("grpc-unary", "grpc-\(row.transport.rawValue)", size: row.size, concurrency: row.concurrency, rate: 100)
        }) { row, result in printed.append(GRPCCommand.line(row, result)) }
        #expect(results.count == 6)
        #expect(results.map(\.isMeasured) == [true, true, true, true, false, true])
        #expect(results[4].transport == "grpc-h2-unix" && results[4].scenario == "grpc-unary" && results[4].concurrency == 64)
        #expect(printed.count == 6)
        #expect(printed[4].contains("FAILED: unavailable") && printed[4].contains("Stream unexpectedly closed."))
        #expect(!printed[5].contains("FAILED"))

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ringbench-grpc-\(UUID()).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try BenchReport(results: results, machine: MachineInfo(cores: 2, kernel: "6.18")).write(to: path)
        let decoded = try JSONDecoder().decode(BenchReport.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(decoded.results.count == 6)
        #expect(decoded.failures == [
            BenchFailure(scenario: "grpc-unary", transport: "grpc-h2-unix", messageSize: 65536, concurrency: 64, reason: "\(Self.streamClosed)")
        ])
    }

    @Test func failedRowsAreNotDrawn() throws {
        let failed = BenchResult.failed(BenchFailure(scenario: "invoke", transport: "grpc-h2-unix", messageSize: 64, concurrency: 16, reason: "x"))
        let svg = SVGPlot.render(BenchReport(results: [failed], machine: MachineInfo(cores: 2, kernel: "6.18")))
        #expect(XMLParser(data: Data(svg.utf8)).parse())
        #expect(!svg.contains("grpc-h2-unix"))
    }
}
