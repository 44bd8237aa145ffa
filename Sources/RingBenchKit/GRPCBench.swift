// GRPCBench — `ringbench grpc`'s measurement, also the public API other commands call
// (`ringbench compare`): the same GRPCCore client and server code over the rings, HTTP/2 over a
// Unix socket and HTTP/2 over TCP loopback. The server always runs in its own process
// (`ringbench _grpc-server`), so every transport crosses a process boundary.
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCRingTransport
import Histogram
import RingLinux
import Synchronization

/// The transports `ringbench grpc` compares.
package enum GRPCBenchTransport: String, CaseIterable, Sendable {
    case ring
    case h2Unix = "h2-unix"
    case h2TCP = "h2-tcp"
    /// GRPCCore's own in-process transport, client and server in this process: no transport
    /// cost at all, so its rate is the ceiling any transport can reach with GRPCCore on top.
    case inProcess = "inprocess"
}

/// What is measured.
package enum GRPCBenchScenario: String, CaseIterable, Sendable {
    /// Closed-loop unary echo RPCs: RPCs/s and round-trip percentiles.
    case unary
    /// Bidirectional streams echoing messages: messages/s (each message crosses both ways).
    case bidi
}

package enum GRPCBench {
    /// Messages a bidirectional stream may have in flight (sent, echo not yet received).
    static let streamWindow = 128

    /// Spawns the server process (`ringbench _grpc-server`), runs `concurrency` RPCs or streams in a
    /// closed loop for `duration` after a warm-up, and returns one result: scenario
    /// "grpc-unary"/"grpc-bidi", transport "grpc-ring"/"grpc-h2-unix"/"grpc-h2-tcp", messages/s
    /// (RPCs/s for unary), latency percentiles (unary), CPU seconds per million (both processes).
    package static func run(
        transport: GRPCBenchTransport, scenario: GRPCBenchScenario, messageSize: Int, concurrency: Int, duration: Duration
    ) async throws -> BenchResult {
        precondition(concurrency >= 1 && messageSize >= 0 && messageSize <= GRPCBenchMethods.maxMessageBytes / 2)
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        let measured: GRPCBenchWork.Measured
        if transport == .inProcess {
            let work = GRPCBenchWork(scenario: scenario, messageSize: messageSize, concurrency: concurrency, seconds: seconds, serverPID: nil)
            measured = try await GRPCBenchServer.withInProcess { try await work.measure($0) }
            return result(transport: transport, scenario: scenario, messageSize: messageSize, concurrency: concurrency, seconds: seconds, measured: measured, server: "same process")
        }
        let server = try GRPCBenchServerProcess.start(transport)
        defer { server.stop() }
        let work = GRPCBenchWork(scenario: scenario, messageSize: messageSize, concurrency: concurrency, seconds: seconds, serverPID: server.process.pid)
        switch transport {
        case .inProcess:
            preconditionFailure("handled above")
        case .ring:
            measured = try await withGRPCClient(transport: GRPCRingClientTransport(socketPath: server.address)) { try await work.measure($0) }
        case .h2Unix:
            let client = try HTTP2ClientTransport.Posix(
                target: .unixDomainSocket(path: server.address), transportSecurity: .plaintext, config: http2ClientConfig)
            measured = try await withGRPCClient(transport: client) { try await work.measure($0) }
        case .h2TCP:
            let client = try HTTP2ClientTransport.Posix(
                target: .ipv4(address: "127.0.0.1", port: Int(server.address)!), transportSecurity: .plaintext, config: http2ClientConfig)
            measured = try await withGRPCClient(transport: client) { try await work.measure($0) }
        }
        return result(transport: transport, scenario: scenario, messageSize: messageSize, concurrency: concurrency, seconds: seconds, measured: measured, server: "separate process")
    }

    /// The HTTP/2 client: the server's flow-control window on both ends (`GRPCBenchMethods.http2WindowBytes`).
    static var http2ClientConfig: HTTP2ClientTransport.Posix.Config {
        .defaults { $0.http2.targetWindowSize = GRPCBenchMethods.http2WindowBytes }
    }

    private static func result(
        transport: GRPCBenchTransport, scenario: GRPCBenchScenario, messageSize: Int, concurrency: Int, seconds: Double,
        measured: GRPCBenchWork.Measured, server: String
    ) -> BenchResult {
        var result = BenchResult(
            scenario: "grpc-\(scenario.rawValue)", transport: "grpc-\(transport.rawValue)", messageSize: messageSize,
            rates: Summary([measured.rate]), repetitions: 1,
            parameters: ["concurrency": String(concurrency), "seconds": String(seconds), "server": server],
            concurrency: concurrency, workers: 1)
        result.latencyNanoseconds = measured.latency
        result.cpuSecondsPerMillion = measured.count > 0 ? measured.cpuSeconds / (Double(measured.count) / 1e6) : nil
        return result
    }
}

/// One measurement's client side.
struct GRPCBenchWork: Sendable {
    let scenario: GRPCBenchScenario
    let messageSize: Int
    let concurrency: Int
    let seconds: Double
    /// The server process, or nil when the server runs in this process.
    let serverPID: Int32?

    struct Measured: Sendable {
        var rate: Double
        var count: Int
        var latency: LatencyPercentiles?
        var cpuSeconds: Double
    }

    var options: CallOptions {
        var options = CallOptions.defaults
        options.maxRequestMessageBytes = GRPCBenchMethods.maxMessageBytes
        options.maxResponseMessageBytes = GRPCBenchMethods.maxMessageBytes
        return options
    }

    func measure<Transport: ClientTransport>(_ client: GRPCClient<Transport>) async throws -> Measured {
        // The clock starts once the connection is up: one RPC answered first. (Connecting can
        // outlast the warm-up under a sanitizer's load, and a short window then ended empty.)
        _ = try await client.unary(
            request: ClientRequest(message: [UInt8](repeating: 0x5A, count: messageSize)), descriptor: GRPCBenchMethods.unary,
            serializer: RawBytesSerializer(), deserializer: RawBytesDeserializer(), options: options) { try $0.message }
        let warmUp = MonotonicClock.now() + UInt64(min(max(seconds * 0.2, 0.1), 1.0) * 1e9)
        let start = warmUp
        let end = start + UInt64(seconds * 1e9)
        // CPU is sampled at the window's edges by a separate task.
        async let cpu = Self.cpuDuring(start: start, end: end, serverPID: serverPID)
        let samples: [[UInt64]]
        var windowEnd = end
        switch scenario {
        case .unary: (samples, windowEnd) = try await unary(client, start: start, end: end)
        case .bidi: samples = try await bidi(client, start: start, end: end)
        }
        let cpuSeconds = await cpu
        let window = Double(windowEnd - start) / 1e9
        if scenario == .unary {
            var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
            var count = 0
            for part in samples { for sample in part { histogram.record(sample); count += 1 } }
            let latency = LatencyPercentiles(
                p50: histogram.valueAtPercentile(50), p90: histogram.valueAtPercentile(90), p99: histogram.valueAtPercentile(99),
                p999: histogram.valueAtPercentile(99.9), max: histogram.max)
            return Measured(rate: Double(count) / window, count: count, latency: latency, cpuSeconds: cpuSeconds)
        }
        let count = samples.reduce(0) { $0 + Int($1.first ?? 0) }
        return Measured(rate: Double(count) / window, count: count, latency: nil, cpuSeconds: cpuSeconds)
    }

    private static func cpuDuring(start: UInt64, end: UInt64, serverPID: Int32?) async -> Double {
        func sleep(until deadline: UInt64) async {
            let now = MonotonicClock.now()
            if deadline > now { try? await Task.sleep(for: .nanoseconds(Int64(deadline - now))) }
        }
        await sleep(until: start)
        func sample() -> Double { ProcessCPU.selfSeconds() + (serverPID.map { ProcessCPU.seconds(of: $0) } ?? 0) }
        let before = sample()
        await sleep(until: end)
        return sample() - before
    }

    /// Closed-loop unary RPCs; returns the round-trip samples of the calls that completed inside
    /// the window, per task, and the window's real end. A window in which no call completed (every
    /// call outlasted it, as under a sanitizer's load) is stretched to the first completion, so a
    /// row never ends empty.
    private func unary<Transport: ClientTransport>(
        _ client: GRPCClient<Transport>, start: UInt64, end: UInt64
    ) async throws -> (samples: [[UInt64]], end: UInt64) {
        let payload = [UInt8](repeating: 0x5A, count: messageSize)
        let options = options
        let size = messageSize
        let counted = CompletionSeen()
        let parts = try await withThrowingTaskGroup(of: ([UInt64], UInt64).self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var latencies: [UInt64] = []
                    var lastCounted: UInt64 = 0
                    while true {
                        let before = MonotonicClock.now()
                        if before >= end && counted.seen.load(ordering: .relaxed) { break }
                        let reply = try await client.unary(
                            request: ClientRequest(message: payload), descriptor: GRPCBenchMethods.unary,
                            serializer: RawBytesSerializer(), deserializer: RawBytesDeserializer(), options: options) { try $0.message }
                        let after = MonotonicClock.now()
                        guard reply.count == size else { throw RPCError(code: .dataLoss, message: "echo of \(reply.count) bytes") }
                        if after >= start && (after <= end || !counted.seen.load(ordering: .relaxed)) {
                            latencies.append(after - before)
                            lastCounted = after
                            counted.seen.store(true, ordering: .relaxed)
                        }
                    }
                    return (latencies, lastCounted)
                }
            }
            var all: [([UInt64], UInt64)] = []
            for try await part in group { all.append(part) }
            return all
        }
        return (parts.map(\.0), max(end, parts.map(\.1).max() ?? end))
    }

    /// Whether a unary call has completed inside the window yet (shared by the callers).
    private final class CompletionSeen: Sendable {
        let seen = Atomic<Bool>(false)
    }

    /// Bidirectional streams echoing messages with a bounded window; returns [[messages echoed in the window]] per stream.
    private func bidi<Transport: ClientTransport>(_ client: GRPCClient<Transport>, start: UInt64, end: UInt64) async throws -> [[UInt64]] {
        let payload = [UInt8](repeating: 0xA5, count: messageSize)
        let options = options
        let window = GRPCBench.streamWindow
        return try await withThrowingTaskGroup(of: [UInt64].self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    let (credits, credit) = AsyncStream<Void>.makeStream()
                    let request = StreamingClientRequest<[UInt8]> { writer in
                        var available = window
                        var iterator = credits.makeAsyncIterator()
                        while MonotonicClock.now() < end {
                            if available == 0 {
                                guard await iterator.next() != nil else { return }
                                available += 1
                            }
                            available -= 1
                            try await writer.write(payload)
                        }
                    }
                    let echoed = try await client.bidirectionalStreaming(
                        request: request, descriptor: GRPCBenchMethods.stream,
                        serializer: RawBytesSerializer(), deserializer: RawBytesDeserializer(), options: options
                    ) { response in
                        var inWindow: UInt64 = 0
                        for try await message in response.messages {
                            let now = MonotonicClock.now()
                            if now >= start && now <= end { inWindow += 1 }
                            guard message.count == payload.count else { throw RPCError(code: .dataLoss, message: "echo of \(message.count) bytes") }
                            credit.yield()
                        }
                        credit.finish()
                        return inWindow
                    }
                    return [echoed]
                }
            }
            var all: [[UInt64]] = []
            for try await part in group { all.append(part) }
            return all
        }
    }
}

/// The server process of one measurement.
struct GRPCBenchServerProcess {
    let process: ChildProcess
    /// Socket path (ring, h2-unix) or TCP port (h2-tcp).
    let address: String
    let socketPath: String?

    static func start(_ transport: GRPCBenchTransport) throws -> GRPCBenchServerProcess {
        let path = transport == .h2TCP ? nil : "/tmp/ringbench-grpc-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        let (process, line) = try ChildProcess.spawnAnnouncing(
            executable: ProcessEnvironment.executablePath(),
            arguments: ["_grpc-server", "--transport", transport.rawValue, "--address", path ?? "0"], expectedPrefix: "ready ")
        return GRPCBenchServerProcess(process: process, address: String(line.dropFirst(6)), socketPath: path)
    }

    func stop() {
        process.kill(SIGKILL)
        _ = try? process.wait()
        if let socketPath { unlink(socketPath) }
    }
}
