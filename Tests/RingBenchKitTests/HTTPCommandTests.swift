// `ringbench http`: its options, wrk's summary line, the host's counters, the table and the plot
// panel. (The end-to-end run needs wrk and a quiet machine; it is `make bench-http`, not a test.)
import Foundation
import Testing

@testable import RingBenchKit

@Suite struct HTTPCommandTests {
    @Test func defaultsAndTheNegativeControl() throws {
        let command = try HTTPCommand.parse([])
        #expect(command.routeList == ["inprocess", "ring", "grpc"])
        #expect(try InvokeCommand.list(command.connections, option: "--connections") == [16, 64, 256])
        #expect(try InvokeCommand.list(command.body, option: "--body") == [1024])
        #expect(try HTTPCommand.parse(["--negative-control"]).routeList == ["inprocess", "ring", "grpc", "grpc-late-join"])
    }

    @Test(arguments: [
        ["--routes", "carrier-pigeon"], ["--connections", "0"], ["--body", "1K,2K"], ["--seconds", "0"], ["--kill-every", "-1"],
        ["--workers", "0"],
    ])
    func badArgumentsAreUsageErrors(arguments: [String]) {
        #expect(throws: (any Error).self) { try HTTPCommand.parse(arguments) }
    }

    @Test func theHostIsStartedAsTheRouteSays() {
        let settings = HTTPRowSettings(
            hostPath: "/h", wrk: "/w", seconds: 1, warmupSeconds: 0, bodyBytes: 1024, workers: 2, httpThreads: 1, wrkThreads: 1, killEvery: 3)
        let arguments = HTTPRun.hostArguments(route: "grpc-late-join", settings: settings, statsFile: "/s")
        #expect(arguments == [
            "--route", "grpc", "--port", "0", "--workers", "2", "--http-threads", "1", "--stats-file", "/s", "--max-body", "1048576",
            "--late-join", "--kill-every", "3.0",
        ])
    }

    @Test func wrksSummaryLineIsParsedAndItsAbsenceIsAnError() throws {
        let output = """
            Running 1s test @ http://127.0.0.1:1/echo
              1 threads and 16 connections
            RINGBENCH {"requests":1000,"duration_us":2000000,"bytes":5,"connect":1,"read":2,"write":3,"status":7,"timeout":4,"p50":10,"p90":20,"p99":30,"p999":40,"max":50}
            """
        let summary = try HTTPLoadSummary.parse(output)
        #expect(summary.requests == 1000 && summary.requestsPerSecond == 500)
        #expect(summary.statusErrors == 7 && summary.socketErrors == 10)
        #expect([summary.p50, summary.p90, summary.p99, summary.p999, summary.max] == [10, 20, 30, 40, 50] as [Int])
        #expect(throws: BenchError.self) { try HTTPLoadSummary.parse("unable to connect to 127.0.0.1:1 Connection refused") }
    }

    @Test func rowsTableAndPlot() throws {
        let settings = HTTPRowSettings(
            hostPath: "/h", wrk: "/w", seconds: 1, warmupSeconds: 0, bodyBytes: 1024, workers: 1, httpThreads: 1, wrkThreads: 1, killEvery: nil)
        func row(_ route: String, rate: Int, cpuMicroseconds: Double, missing: Int = 0) throws -> BenchResult {
            let load = HTTPLoadSummary(
                requests: rate, durationMicroseconds: 1_000_000, bytes: 0, connectErrors: 0, readErrors: 0, writeErrors: 0, statusErrors: missing,
                timeouts: 0, p50: 100, p90: 200, p99: 300, p999: 400, max: 500)
            let counters = try JSONDecoder().decode(HTTPHostCounters.self, from: Data("""
                {"route":"\(route)","requests":\(rate),"replied":\(rate - missing),"mismatchedKeys":0,"missingKeys":\(missing),"workerLost":1,"unavailable":2,"timedOut":0,"failed":0,"rejected":0,"workerKills":1}
                """.utf8))
            return HTTPRun.result(route: route, connections: 16, settings: settings, load: load, counters: counters, cpuSeconds: cpuMicroseconds * Double(rate) / 1e6)
        }
        let results = [
            try row("inprocess", rate: 30_000, cpuMicroseconds: 30), try row("ring", rate: 24_000, cpuMicroseconds: 45),
            try row("grpc", rate: 8_000, cpuMicroseconds: 150), try row("grpc-late-join", rate: 8_000, cpuMicroseconds: 150, missing: 9),
            .failed(BenchFailure(scenario: "http", transport: "ring", messageSize: 1024, concurrency: 64, reason: "wrk exited with status 1")),
        ]
        #expect(results[1].latencyNanoseconds?.p99 == 300_000)
        #expect(results[1].parameters["missingKeys"] == "0" && results[3].parameters["missingKeys"] == "9")
        let table = HTTPTable.render(results).split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(table[2].prefix(5) == ["ring", "16", "24.00", "K", "3.00×"])
        #expect(table[2][5...6] == ["80", "%"])
        #expect(table[2].suffix(7) == ["45.0", "15.0", "0", "0", "0", "3", "1"])
        #expect(table[4].suffix(5) == ["9", "0", "9", "3", "1"])
        #expect(table[5] == ["ring", "64", "FAILED:", "wrk", "exited", "with", "status", "1"])
        let svg = SVGPlot.renderHTTP(BenchReport(results: results, machine: MachineInfo(cores: 2, kernel: "6.18")))
        #expect(svg.contains("id=\"panel-http\"") && svg.contains("id=\"plot-http-rate\"") && svg.contains("id=\"plot-http-p99\""))
        for route in ["inprocess", "ring", "grpc", "grpc-late-join"] { #expect(svg.contains("data-series=\"\(route)\"")) }
    }
}
