// RingHTTPHost — an HTTP function host: HTTP/1.1 in front (swift-nio), workers behind, reached over
// the rings (`--route ring`, the default), over a gRPC bidirectional stream on HTTP/2 (`--route
// grpc`, as hosts do today) or in-process (`--route inprocess`, the front's ceiling). Prints
// "ready <port>" once it listens; stops on SIGINT/SIGTERM, then writes its counters to
// `--stats-file`. Docs/HTTP.md.
import ArgumentParser
import Dispatch
import HTTPFunctionKit
import Logging
import RingChannel
import RingLinux

#if canImport(Glibc)
import Glibc
#endif

@main
struct RingHTTPHost: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "RingHTTPHost",
        abstract: "HTTP-triggered functions: HTTP/1.1 in front, workers behind over the rings or gRPC/HTTP/2.")

    @Option(name: .long, help: "ring, grpc or inprocess.")
    var route: String = "ring"

    @Flag(name: .long, help: "Negative control (grpc route): store the forwarding key after the send, as the original host did.")
    var lateJoin = false

    @Option(name: .long, help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(name: .long, help: "Port to listen on (0 picks one; the chosen port is printed).")
    var port: Int = 8080

    @Option(name: .long, help: "Worker processes.")
    var workers: Int = 1

    @Option(name: .long, help: "NIO event loop threads of the HTTP front.")
    var httpThreads: Int = 1

    @Option(name: .long, help: "Worker executable (default: RingHTTPWorker beside this executable).")
    var workerPath: String?

    @Option(name: .long, help: "Seconds before an invocation is answered 504.")
    var timeout: Double = 30

    @Option(name: .long, help: "SIGKILL one worker every this many seconds (it is restarted; what it held gets 503).")
    var killEvery: Double?

    @Option(name: .long, help: "Largest request body in bytes (413 above).")
    var maxBody: Int = 1 << 20

    @Option(name: .long, help: "Wait profile of the ring route's host and workers: latency (spin 20 µs before sleeping) or efficiency (1 µs).")
    var waitProfile: String = "latency"

    @Option(name: .long, help: "Write the counters as JSON here when stopping.")
    var statsFile: String?

    func validate() throws {
        guard ["ring", "grpc", "inprocess"].contains(route) else { throw ValidationError("--route: ring, grpc or inprocess") }
        guard !lateJoin || route == "grpc" else {
            throw ValidationError("--late-join applies to --route grpc: the rings carry the key inside the frame, there is no table to fill late")
        }
        guard workers >= 1, workers <= 64 else { throw ValidationError("--workers must be in 1...64") }
        guard httpThreads >= 1, httpThreads <= 64 else { throw ValidationError("--http-threads must be in 1...64") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        guard killEvery.map({ $0 > 0 }) ?? true else { throw ValidationError("--kill-every must be positive") }
        guard ["latency", "efficiency"].contains(waitProfile) else { throw ValidationError("--wait-profile: latency or efficiency") }
        guard maxBody >= 0 else { throw ValidationError("--max-body must not be negative") }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let logger = Logger(label: "RingHTTPHost")
        let worker = workerPath ?? ProcessEnvironment.executablePath().split(separator: "/").dropLast().joined(separator: "/")
            .withLeadingSlash + "/RingHTTPWorker"
        let deadline = Duration.nanoseconds(Int64(timeout * 1e9))
        let chosen: any InvocationRoute
        switch route {
        case "ring":
            var configuration = FunctionHostConfiguration()
            configuration.waitProfile = waitProfile == "efficiency" ? .efficiency : .latency
            chosen = try RingRoute(
                workerExecutable: worker, workers: workers, timeout: deadline, configuration: configuration,
                workerEnvironment: ["RING_HTTP_WAIT_PROFILE": waitProfile], logger: logger)
        case "grpc": chosen = GRPCRoute(workerExecutable: worker, workers: workers, timeout: deadline, lateJoin: lateJoin, logger: logger)
        default: chosen = InProcessRoute()
        }
        var options = HTTPHost.Options()
        options.host = host
        options.port = port
        options.eventLoopThreads = httpThreads
        options.maxBodyBytes = maxBody
        options.killEvery = killEvery.map { .nanoseconds(Int64($0 * 1e9)) }
        let server = HTTPHost(route: chosen, options: options, logger: logger)
        let stop = AsyncStream<Int32>.makeStream()
        let sources = [SIGINT, SIGTERM].map { signal in
            Glibc.signal(signal, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signal)
            source.setEventHandler { stop.continuation.yield(signal) }
            source.resume()
            return source
        }
        let bound: Int
        do {
            bound = try await server.start()
        } catch {
            await server.stop()
            throw error
        }
        announce("ready \(bound)")
        for await _ in stop.stream { break }
        sources.forEach { $0.cancel() }
        await server.stop()
        if let statsFile {
            let json = server.stats.json(route: chosen.name) + "\n"
            guard let file = fopen(statsFile, "w") else { throw ValidationError("cannot write \(statsFile)") }
            fputs(json, file)
            fclose(file)
        }
    }

    /// Writes `line` to stdout unbuffered (a parent may read it through a pipe).
    func announce(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
    }
}

extension String {
    fileprivate var withLeadingSlash: String { hasPrefix("/") ? self : "/" + self }
}
