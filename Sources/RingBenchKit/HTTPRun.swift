// HTTPRun — one row of `ringbench http`: a fresh RingHTTPHost (and its workers) for the route,
// a wrk warm-up, then the measured wrk run with the CPU of the host and its workers sampled around
// it; the host is stopped with SIGTERM and its exact counters (HTTPHostStats) read back from its
// stats file: forwarding-key mismatches and misses, 503s, kills.
import Foundation
import RingLinux

struct HTTPRowSettings: Sendable {
    var hostPath: String
    var wrk: String
    var seconds: Int
    var warmupSeconds: Int
    var bodyBytes: Int
    var workers: Int
    var httpThreads: Int
    var wrkThreads: Int
    var killEvery: Double?
}

/// The host's counters, as RingHTTPHost writes them (HTTPHostStats.json).
struct HTTPHostCounters: Decodable, Equatable {
    var route: String
    var requests: Int
    var replied: Int
    var mismatchedKeys: Int
    var missingKeys: Int
    var workerLost: Int
    var unavailable: Int
    var timedOut: Int
    var failed: Int
    var rejected: Int
    var workerKills: Int
}

enum HTTPRun {
    /// Routes `ringbench http` knows: the host's `--route` plus `grpc-late-join` (the negative control).
    static let routes = ["inprocess", "ring", "grpc", "grpc-late-join"]

    static func hostArguments(route: String, settings: HTTPRowSettings, statsFile: String) -> [String] {
        var arguments = [
            "--route", route == "grpc-late-join" ? "grpc" : route, "--port", "0", "--workers", "\(settings.workers)",
            "--http-threads", "\(settings.httpThreads)", "--stats-file", statsFile, "--max-body", "\(max(settings.bodyBytes, 1 << 20))",
        ]
        if route == "grpc-late-join" { arguments.append("--late-join") }
        if let every = settings.killEvery { arguments += ["--kill-every", "\(every)"] }
        return arguments
    }

    /// Measures `route` at `connections`; a row that cannot be measured says why in `failure`.
    static func measure(route: String, connections: Int, settings: HTTPRowSettings) -> BenchResult {
        do {
            return try measureOrThrow(route: route, connections: connections, settings: settings)
        } catch {
            return .failed(BenchFailure(
                scenario: "http", transport: route, messageSize: settings.bodyBytes, concurrency: connections, workers: settings.workers,
                reason: "\(error)"))
        }
    }

    static func measureOrThrow(route: String, connections: Int, settings: HTTPRowSettings) throws -> BenchResult {
        let statsFile = NSTemporaryDirectory() + "ringbench-http-\(getpid())-\(route)-\(connections).json"
        defer { try? FileManager.default.removeItem(atPath: statsFile) }
        let (host, line) = try ChildProcess.spawnAnnouncing(
            executable: settings.hostPath, arguments: hostArguments(route: route, settings: settings, statsFile: statsFile), expectedPrefix: "ready ")
        var stopped = false
        defer {
            if !stopped {
                host.kill(SIGKILL)
                _ = try? host.wait()
            }
        }
        let url = "http://127.0.0.1:\(line.dropFirst("ready ".count))/echo"
        if settings.warmupSeconds > 0 {
            _ = try HTTPLoad.run(
                wrk: settings.wrk, url: url, connections: connections, threads: settings.wrkThreads, seconds: settings.warmupSeconds,
                bodyBytes: settings.bodyBytes)
        }
        let cpuBefore = ProcessCPU.treeSeconds(root: host.pid)
        let load = try HTTPLoad.run(
            wrk: settings.wrk, url: url, connections: connections, threads: settings.wrkThreads, seconds: settings.seconds, bodyBytes: settings.bodyBytes)
        let cpu = ProcessCPU.treeSeconds(root: host.pid) - cpuBefore
        host.kill(SIGTERM)
        let status = try host.wait()
        stopped = true
        guard status == .exited(0) else { throw BenchError("RingHTTPHost \(status)") }
        let counters = try JSONDecoder().decode(HTTPHostCounters.self, from: Data(contentsOf: URL(fileURLWithPath: statsFile)))
        return result(route: route, connections: connections, settings: settings, load: load, counters: counters, cpuSeconds: cpu)
    }

    static func result(route: String, connections: Int, settings: HTTPRowSettings, load: HTTPLoadSummary, counters: HTTPHostCounters, cpuSeconds: Double) -> BenchResult {
        var result = BenchResult(
            scenario: "http", transport: route, messageSize: settings.bodyBytes, rates: Summary([load.requestsPerSecond]), repetitions: 1,
            parameters: [
                "loadGenerator": "wrk -t \(min(settings.wrkThreads, connections)) -c \(connections) -d \(settings.seconds)s (POST)",
                "front": "NIO HTTP/1.1, \(settings.httpThreads) event loop thread(s)",
                "measuredRequests": "\(load.requests)",
                "non2xx": "\(load.statusErrors)",
                "socketErrors": "\(load.socketErrors)",
                // Counted by the host over the warm-up and the measured run together.
                "hostRequests": "\(counters.requests)",
                "mismatchedKeys": "\(counters.mismatchedKeys)",
                "missingKeys": "\(counters.missingKeys)",
                "workerLost503": "\(counters.workerLost)",
                "unavailable503": "\(counters.unavailable)",
                "timedOut504": "\(counters.timedOut)",
                "failed500": "\(counters.failed)",
                "workerKills": "\(counters.workerKills)",
            ],
            concurrency: connections, workers: settings.workers)
        result.latencyNanoseconds = LatencyPercentiles(
            p50: UInt64(load.p50) * 1000, p90: UInt64(load.p90) * 1000, p99: UInt64(load.p99) * 1000, p999: UInt64(load.p999) * 1000,
            max: UInt64(load.max) * 1000)
        // Host and workers, per million requests (wrk's own CPU is the client's, not counted).
        result.cpuSecondsPerMillion = load.requests > 0 ? cpuSeconds / Double(load.requests) * 1e6 : nil
        result.load = "closed"
        return result
    }
}
