package import ArgumentParser
import Foundation
import RingLinux

/// `ringbench http`: the original scenario end to end. RingHTTPHost (HTTP/1.1 front on swift-nio)
/// with its workers behind each route — the rings, gRPC over HTTP/2 on a Unix socket (a
/// bidirectional event stream per worker, as hosts do today), and in-process (the front's own
/// ceiling) — driven by wrk at several connection counts. Reports requests/s, latency percentiles,
/// host+worker CPU per request, errors and the host's exact forwarding-key counts (Docs/HTTP.md).
package struct HTTPCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "http",
        abstract: "HTTP-triggered functions under wrk: rings vs gRPC/HTTP/2 to the workers, with forwarding-key audit.")

    @Option(name: .long, help: "Routes, comma-separated: inprocess (the front's ceiling), ring, grpc, grpc-late-join (negative control).")
    var routes: String = "inprocess,ring,grpc"

    @Option(name: .long, help: "HTTP connections (wrk -c), comma-separated.")
    var connections: String = "16,64,256"

    @Option(name: .long, help: "Seconds of measurement per row (wrk -d).")
    var seconds: Int = 5

    @Option(name: .long, help: "Seconds of warm-up per row before the measurement (0: none).")
    var warmup: Int = 1

    @Option(name: .long, help: "Request body bytes (POST); K and M allowed.")
    var body: String = "1K"

    @Option(name: .long, help: "Worker processes behind each route.")
    var workers: Int = 1

    @Option(name: .long, help: "Event loop threads of the host's HTTP front.")
    var httpThreads: Int = 1

    @Option(name: .long, help: "wrk threads (wrk -t).")
    var wrkThreads: Int = 1

    @Option(name: .long, help: "SIGKILL one worker every this many seconds (the host restarts it; what it held gets 503).")
    var killEvery: Double?

    @Flag(name: .long, help: "Add the grpc-late-join route: the forwarding key stored after the send, as the original host did.")
    var negativeControl = false

    @Option(name: .long, help: "The host executable (default: RingHTTPHost beside ringbench).")
    var hostPath: String?

    @Option(name: .long, help: "Write results as JSON to this path.")
    var json: String?

    @Option(name: .long, help: "Write an SVG plot (requests/s and p99 against connections, per route) to this path.")
    var plot: String?

    package init() {}

    var routeList: [String] {
        var list = routes.split(separator: ",").map(String.init)
        if negativeControl, !list.contains("grpc-late-join") { list.append("grpc-late-join") }
        return list
    }

    package func validate() throws {
        for route in routeList where !HTTPRun.routes.contains(route) {
            throw ValidationError("--routes: unknown route \(route) (\(HTTPRun.routes.joined(separator: ", ")))")
        }
        let levels = try InvokeCommand.list(connections, option: "--connections")
        guard levels.allSatisfy({ (1...10_000).contains($0) }) else { throw ValidationError("--connections: 1...10000 each") }
        let size = try InvokeCommand.list(body, option: "--body")
        guard size.count == 1, size[0] <= 16 << 20 else { throw ValidationError("--body: one size, at most 16 MiB") }
        guard (1...3600).contains(seconds) else { throw ValidationError("--seconds must be in 1...3600") }
        guard (0...60).contains(warmup) else { throw ValidationError("--warmup must be in 0...60") }
        guard (1...64).contains(workers), (1...64).contains(httpThreads), (1...64).contains(wrkThreads) else {
            throw ValidationError("--workers, --http-threads, --wrk-threads: 1...64")
        }
        guard killEvery.map({ $0 > 0 }) ?? true else { throw ValidationError("--kill-every must be positive") }
    }

    package func run() async throws {
        guard let wrk = HTTPLoad.locate() else {
            throw ValidationError("wrk is not installed: `make deps-http` (apt-get install wrk) installs it")
        }
        let host = hostPath ?? (ProcessEnvironment.executablePath().split(separator: "/").dropLast().map { "/" + $0 }.joined() + "/RingHTTPHost")
        guard FileManager.default.isExecutableFile(atPath: host) else {
            throw ValidationError("\(host) not found: build it beside ringbench (swift build -c release --static-swift-stdlib --product RingHTTPHost, as `make bench-http` does)")
        }
        let settings = HTTPRowSettings(
            hostPath: host, wrk: wrk, seconds: seconds, warmupSeconds: warmup, bodyBytes: try InvokeCommand.list(body, option: "--body")[0],
            workers: workers, httpThreads: httpThreads, wrkThreads: wrkThreads, killEvery: killEvery)
        let levels = try InvokeCommand.list(connections, option: "--connections")
        print("ringbench http — RingHTTPHost (\(httpThreads) front thread(s), \(workers) worker(s)) under wrk, \(Format.bytes(settings.bodyBytes)) POST bodies, "
            + "\(seconds) s per row" + (killEvery.map { ", a worker SIGKILLed every \($0) s" } ?? ""))
        var results: [BenchResult] = []
        for level in levels {
            for route in routeList {
                let result = HTTPRun.measure(route: route, connections: level, settings: settings)
                results.append(result)
                print(result.failure.map { "\(route) at \(level) connections FAILED: \($0)" } ?? "measured \(route) at \(level) connections")
            }
        }
        print(HTTPTable.render(results))
        let report = BenchReport(results: results, machine: .current(), command: CommandLine.arguments.joined(separator: " "))
        if let json {
            try report.write(to: json)
            print("wrote \(json)")
        }
        if let plot {
            try SVGPlot.renderHTTP(report).write(toFile: plot, atomically: true, encoding: .utf8)
            print("wrote \(plot)")
        }
        // The negative control is expected to lose keys; any other route losing one fails the run.
        let lost = results.filter { $0.transport != "grpc-late-join" && (($0.parameters["mismatchedKeys"] ?? "0") != "0" || ($0.parameters["missingKeys"] ?? "0") != "0") }
        if !report.failures.isEmpty || !lost.isEmpty {
            print("\(report.failures.count) rows failed, \(lost.count) rows lost forwarding keys")
            throw ExitCode(1)
        }
    }
}

/// The table of `ringbench http`.
enum HTTPTable {
    static func render(_ results: [BenchResult]) -> String {
        let header = [
            "route", "conns", "req/s", "× grpc", "% ceiling", "p50", "p90", "p99", "p99.9", "cpu µs/req", "transport µs/req", "non-2xx",
            "mismatched", "missing", "503", "kills",
        ]
        var rows = [header]
        for result in results {
            var row = [result.transport, "\(result.concurrency)"]
            guard result.isMeasured else {
                rows.append(row + ["FAILED: \(result.failure ?? "")"] + Array(repeating: "", count: header.count - 3))
                continue
            }
            let peers = results.filter { $0.concurrency == result.concurrency && $0.isMeasured }
            let grpc = peers.first { $0.transport == "grpc" }
            let ceiling = peers.first { $0.transport == "inprocess" }
            let cpu = result.cpuSecondsPerMillion
            row.append(Format.rate(result.messagesPerSecond))
            row.append(grpc.map { Format.fixed(result.messagesPerSecond / max($0.messagesPerSecond, 1e-9), 2) + "×" } ?? "-")
            row.append(ceiling.map { "\(Int((100 * result.messagesPerSecond / max($0.messagesPerSecond, 1e-9)).rounded())) %" } ?? "-")
            let latency = result.latencyNanoseconds
            for value in [latency?.p50, latency?.p90, latency?.p99, latency?.p999] { row.append(value.map(Format.nanoseconds) ?? "-") }
            row.append(cpu.map { Format.fixed($0, 1) } ?? "-")
            row.append(cpu.flatMap { cpu in ceiling?.cpuSecondsPerMillion.map { Format.fixed(cpu - $0, 1) } } ?? "-")
            let p = result.parameters
            row += [p["non2xx"] ?? "-", p["mismatchedKeys"] ?? "-", p["missingKeys"] ?? "-",
                    "\((Int(p["workerLost503"] ?? "0") ?? 0) + (Int(p["unavailable503"] ?? "0") ?? 0))", p["workerKills"] ?? "-"]
            rows.append(row)
        }
        return CompareTable.align(rows)
    }
}
