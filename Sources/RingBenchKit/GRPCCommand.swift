package import ArgumentParser
import Foundation

/// `ringbench grpc`: the same GRPCCore client and server code over the rings, HTTP/2 over a Unix
/// socket and HTTP/2 over TCP loopback — unary RPCs/s with round-trip percentiles, and
/// bidirectional-stream messages/s. The server runs in its own process for every transport.
package struct GRPCCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "grpc",
        abstract: "gRPC over the rings vs HTTP/2 (Unix socket, TCP loopback): unary RPCs/s + RTT, bidi messages/s.")

    @Option(name: .long, help: "Transports, comma-separated: ring, h2-unix, h2-tcp, inprocess (GRPCCore in one process, the ceiling).")
    var transports: String = "ring,h2-unix,h2-tcp,inprocess"

    @Option(name: .long, help: "Scenarios, comma-separated: unary, bidi.")
    var scenarios: String = "unary,bidi"

    @Option(name: .long, help: "RPCs (unary) or streams (bidi) in flight, comma-separated.")
    var concurrency: String = "1,64"

    @Option(name: .long, help: "Message sizes, comma-separated; K and M allowed.")
    var sizes: String = "64,64K"

    @Option(name: .long, help: "Seconds of measurement per row (after a warm-up).")
    var seconds: Double = 2.0

    @Option(name: .long, help: "Write results as JSON to this path.")
    var json: String?

    package init() {}

    static func parse<T: RawRepresentable>(_ text: String, option: String) throws -> [T] where T.RawValue == String {
        try text.split(separator: ",").map {
            guard let value = T(rawValue: String($0)) else { throw ValidationError("\(option): unknown value \($0)") }
            return value
        }
    }

    package func validate() throws {
        let _: [GRPCBenchTransport] = try Self.parse(transports, option: "--transports")
        let _: [GRPCBenchScenario] = try Self.parse(scenarios, option: "--scenarios")
        let c = try InvokeCommand.list(concurrency, option: "--concurrency")
        let s = try InvokeCommand.list(sizes, option: "--sizes")
        guard c.allSatisfy({ $0 <= 4096 }) else { throw ValidationError("--concurrency: at most 4096") }
        guard s.allSatisfy({ $0 <= 16 << 20 }) else { throw ValidationError("--sizes: at most 16 MiB") }
        guard seconds > 0, seconds <= 60 else { throw ValidationError("--seconds must be in (0, 60]") }
    }

    package func run() async throws {
        let transportList: [GRPCBenchTransport] = try Self.parse(transports, option: "--transports")
        let scenarioList: [GRPCBenchScenario] = try Self.parse(scenarios, option: "--scenarios")
        let levels = try InvokeCommand.list(concurrency, option: "--concurrency")
        let payloadSizes = try InvokeCommand.list(sizes, option: "--sizes")
        print("ringbench grpc — GRPCCore echo service, server in a separate process, \(seconds) s per row")
        print(Self.header)
        let plan = GRPCRun.plan(scenarios: scenarioList, sizes: payloadSizes, levels: levels, transports: transportList)
        let results = await GRPCRun.execute(plan, runner: GRPCRun.measure(seconds: seconds)) { row, result in
            print(Self.line(row, result))
        }
        let report = BenchReport(results: results, machine: .current())
        if let json {
            try report.write(to: json)
            print("wrote \(json)")
        }
        if !report.failures.isEmpty {
            print("\(report.failures.count) of \(results.count) rows failed")
            throw ExitCode(1)
        }
    }

    static var header: String {
        Format.pad("scenario", 12) + Format.pad("transport", 14) + Format.pad("in flight", 11) + Format.pad("size", 9)
            + Format.pad("msgs/s", 12) + ["p50", "p90", "p99", "p99.9"].map { Format.pad($0, 10) }.joined() + Format.pad("cpu s/M", 9)
    }

    /// One table line; a failed row says so, with the reason, where its figures would be.
    static func line(_ row: GRPCRun.Row, _ result: BenchResult) -> String {
        let start = Format.pad(row.scenario.rawValue, 12) + Format.pad(row.transport.rawValue, 14) + Format.pad("\(row.concurrency)", 11)
            + Format.pad(Format.bytes(row.size), 9)
        if let failure = result.failure { return start + "FAILED: " + failure }
        let latency = result.latencyNanoseconds.map { l in
            [l.p50, l.p90, l.p99, l.p999].map { Format.pad(Format.nanoseconds($0), 10) }.joined()
        } ?? String(repeating: " ", count: 40)
        return start + Format.pad(Format.rate(result.messagesPerSecond), 12) + latency
            + Format.pad(result.cpuSecondsPerMillion.map { Format.fixed($0, 2) } ?? "—", 9)
    }
}

/// `ringbench _grpc-server`: the server process of `ringbench grpc` (started by ringbench itself).
package struct GRPCServerCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "_grpc-server", abstract: "Internal: the server process of `ringbench grpc`.", shouldDisplay: false)

    @Option var transport: String
    @Option var address: String

    package init() {}

    package func run() async throws {
        guard let kind = GRPCBenchTransport(rawValue: transport) else { throw ValidationError("unknown transport \(transport)") }
        try await GRPCBenchServer.run(transport: kind, address: address)
    }
}
