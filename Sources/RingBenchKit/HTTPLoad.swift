// HTTPLoad — drives an HTTP host with wrk (Debian's `wrk` package; `make deps-http` installs it),
// the standard HTTP load generator: POST requests with a body of the chosen size and a
// `traceparent` header, over a fixed number of keep-alive connections, for a fixed time. A Lua
// `done` hook prints the whole summary as one JSON line, so nothing is scraped from wrk's table.
import Foundation

struct HTTPLoadSummary: Decodable, Equatable {
    var requests: Int
    var durationMicroseconds: Int
    var bytes: Int
    var connectErrors: Int
    var readErrors: Int
    var writeErrors: Int
    /// Responses with a status outside 2xx/3xx.
    var statusErrors: Int
    var timeouts: Int
    /// Latency percentiles in microseconds.
    var p50: Int
    var p90: Int
    var p99: Int
    var p999: Int
    var max: Int

    enum CodingKeys: String, CodingKey {
        case requests, bytes, p50, p90, p99, p999, max
        case durationMicroseconds = "duration_us"
        case connectErrors = "connect"
        case readErrors = "read"
        case writeErrors = "write"
        case statusErrors = "status"
        case timeouts = "timeout"
    }

    var socketErrors: Int { connectErrors + readErrors + writeErrors + timeouts }
    var requestsPerSecond: Double { durationMicroseconds > 0 ? Double(requests) / (Double(durationMicroseconds) / 1e6) : 0 }

    /// The JSON line the script prints, from wrk's whole output.
    static func parse(_ output: String) throws -> HTTPLoadSummary {
        guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix(marker) }) else {
            throw BenchError("wrk printed no summary: \(output.suffix(500))")
        }
        return try JSONDecoder().decode(HTTPLoadSummary.self, from: Data(line.dropFirst(marker.count).utf8))
    }

    static let marker = "RINGBENCH "
}

enum HTTPLoad {
    /// The wrk script: method, body, headers, and the summary line.
    static let script = """
        -- ringbench http: POST bodies of RINGBENCH_HTTP_BODY bytes, one JSON summary line at the end.
        wrk.method = "POST"
        wrk.body = string.rep("r", tonumber(os.getenv("RINGBENCH_HTTP_BODY") or "1024"))
        wrk.headers["Content-Type"] = "application/octet-stream"
        wrk.headers["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        done = function(summary, latency, requests)
          local e = summary.errors
          io.write(string.format('\(HTTPLoadSummary.marker){"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d}\\n',
            summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
            latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max))
        end
        """

    /// wrk on PATH, or nil.
    static func locate() -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(directory)/wrk"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// Runs wrk against `url` and returns its summary.
    static func run(wrk: String, url: String, connections: Int, threads: Int, seconds: Int, bodyBytes: Int) throws -> HTTPLoadSummary {
        let scriptPath = NSTemporaryDirectory() + "ringbench-http-\(getpid()).lua"
        try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: scriptPath) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: wrk)
        process.arguments = [
            "-t", "\(min(threads, connections))", "-c", "\(connections)", "-d", "\(seconds)s", "--timeout", "10s", "-s", scriptPath, url,
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["RINGBENCH_HTTP_BODY"] = "\(bodyBytes)"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else { throw BenchError("wrk exited with status \(process.terminationStatus): \(text.suffix(500))") }
        return try HTTPLoadSummary.parse(text)
    }
}

/// A measurement that could not be made, with the reason.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
