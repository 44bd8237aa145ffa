// RingExampleWorker — an example worker for the host/worker channel, used by the test suite and by
// ringbench. It connects as the environment says (spawned: RING_SEGMENT_FD; attached:
// RING_CHANNEL_SOCKET) and answers by function id:
//
//   echo       the payload back
//   slow       sleeps the u32 little-endian milliseconds at the start of the payload (cancellable),
//              then echoes
//   hang       waits until cancelled; logs "handler saw cancellation" and answers cancelled
//   stubborn   ignores cancellation and never answers (the host's kill ends it)
//   fail       answers failure("requested failure") with the payload
//   throw      the handler throws (answers failure with the error's description)
//   crash      abort() — the process dies with SIGABRT
//   exit       exit(status) with the first payload byte as the status
//   huge       answers u32-LE-size bytes, byte i = (i * 31 + 7) & 0xff
//   log        writes the u32 LE count of log records through invocation.logger, then echoes
//   hostile    writes random bytes into its own worker → host ring (control block and data) and
//              publishes a garbage tail; it never answers
//   pid        answers its pid (u32 little-endian)
//   trace      answers the traceparent of the ServiceContext the handler runs in (empty when none);
//              with RING_EXAMPLE_TRACING=1 the worker bootstraps a W3C pass-through instrument, so
//              the handler runs inside the trace the host's caller was in
//   digest     for `ringbench stress`: answers [u64 digest of the context it decoded][u64 digest of
//              the payload][u64 payload count] then u32-LE-first-bytes bytes of a pattern seeded by the
//              context digest (format: Sources/RingBenchKit/Stress/StressWorkload.swift)
//
// Knobs for handshake tests (environment): RING_EXAMPLE_PROTOCOL_VERSIONS ("1-1"),
// RING_EXAMPLE_CAPABILITIES ("k=v,k2=v2"), RING_EXAMPLE_REQUIRED_HOST_CAPABILITIES ("a,b"),
// RING_EXAMPLE_MAX_CONCURRENCY, RING_EXAMPLE_WORKER_ID (echo another id), RING_EXAMPLE_MAX_MESSAGE_SIZE,
// RING_EXAMPLE_FAIL_INIT=1, RING_EXAMPLE_REJECT_FUNCTIONS ("f,g"), RING_EXAMPLE_WITHOUT ("f,g": answer
// these as unknown functions, as a worker that lacks them would), RING_EXAMPLE_EXIT_BEFORE_HANDSHAKE
// (exit with that status before attaching), RING_EXAMPLE_MALFORMED_HELLO=1 (attach, answer the host's
// hello with an undecodable WorkerHello, then wait to be killed). For benchmarks: RING_EXAMPLE_WAIT_PROFILE (latency,
// efficiency, alwaysSleep, spinOnly).
//
// Exit status: 0 after an orderly terminate, 2 configuration error, 4 the channel failed.
#if canImport(Glibc)
import Glibc
#endif
import Instrumentation
import Logging
import RingAudit
import RingChannel
import RingCore
import RingLinux

func environment(_ name: String) -> String? { ProcessEnvironment.value(name) }

func fail(_ status: Int32, _ message: String) -> Never {
    let line = "RingExampleWorker: \(message)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    exit(status)
}

if let status = environment("RING_EXAMPLE_EXIT_BEFORE_HANDSHAKE").flatMap(Int32.init) { exit(status) }
if environment("RING_EXAMPLE_MALFORMED_HELLO") == "1" {
    // A broken worker for the host's tests: a handshake frame whose payload is not a WorkerHello.
    guard let descriptor = environment(ChannelProtocol.Environment.segmentDescriptor).flatMap(Int32.init),
        let segment = try? SharedMemorySegment.attach(descriptor: OwnedDescriptor(adopting: descriptor), role: .worker),
        var producer = segment.takeProducer()
    else { fail(2, "RING_EXAMPLE_MALFORMED_HELLO needs a spawned worker's segment") }
    let garbage: [UInt8] = [0x01, 0x02, 0xFF, 0xFF]
    _ = try? garbage.withUnsafeBytes { try producer.tryWrite(kind: .handshake, streamId: 0, payload: $0) }  // published, host woken
    while true { pause() }
}

/// The W3C trace context as a ServiceContext value.
enum TraceparentKey: ServiceContextKey {
    typealias Value = String
}

/// Carries `traceparent` from a carrier into a ServiceContext and back (what a tracer such as
/// swift-otel's W3C propagator does, without spans).
struct W3CPassThroughInstrument: Instrument {
    func extract<Carrier, Extract>(_ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract)
    where Extract: Extractor, Extract.Carrier == Carrier {
        if let traceparent = extractor.extract(key: "traceparent", from: carrier) { context[TraceparentKey.self] = traceparent }
    }

    func inject<Carrier, Inject>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject)
    where Inject: Injector, Inject.Carrier == Carrier {
        if let traceparent = context[TraceparentKey.self] { injector.inject(traceparent, forKey: "traceparent", into: &carrier) }
    }
}

if environment("RING_EXAMPLE_TRACING") == "1" { InstrumentationSystem.bootstrap(W3CPassThroughInstrument()) }

LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .warning
    return handler
}
let logger = Logger(label: "RingExampleWorker")

var configuration = WorkerConfiguration()
if let text = environment("RING_EXAMPLE_PROTOCOL_VERSIONS") {
    let parts = text.split(separator: "-").compactMap { UInt16($0) }
    guard parts.count == 2, parts[0] <= parts[1] else { fail(2, "bad RING_EXAMPLE_PROTOCOL_VERSIONS \(text)") }
    configuration.protocolVersions = parts[0]...parts[1]
}
for pair in (environment("RING_EXAMPLE_CAPABILITIES") ?? "").split(separator: ",") {
    let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
    configuration.capabilities[kv[0]] = kv.count > 1 ? kv[1] : "true"
}
configuration.requiredHostCapabilities = (environment("RING_EXAMPLE_REQUIRED_HOST_CAPABILITIES") ?? "").split(separator: ",").map(String.init)
if let concurrency = environment("RING_EXAMPLE_MAX_CONCURRENCY").flatMap(Int.init) { configuration.maxConcurrency = concurrency }
if let size = environment("RING_EXAMPLE_MAX_MESSAGE_SIZE").flatMap(UInt64.init) { configuration.maxMessageSize = size }
configuration.runtime = "swift example"
switch environment("RING_EXAMPLE_WAIT_PROFILE") {
case "efficiency": configuration.waitProfile = .efficiency
case "alwaysSleep": configuration.waitProfile = .alwaysSleep
case "spinOnly": configuration.waitProfile = .spinOnly
default: break
}

let worker: ChannelWorker
do {
    if let forcedID = environment("RING_EXAMPLE_WORKER_ID"), let fdText = environment(ChannelProtocol.Environment.segmentDescriptor),
        let descriptor = Int32(fdText)
    {
        worker = try ChannelWorker.attach(descriptor: descriptor, workerID: forcedID, configuration: configuration, logger: logger)
    } else {
        worker = try ChannelWorker.connectFromEnvironment(configuration: configuration, logger: logger)
    }
} catch {
    fail(2, "\(error)")
}

struct HandlerError: Error, CustomStringConvertible {
    let description: String
}

func u32(_ payload: [UInt8]) -> UInt32 {
    guard payload.count >= 4 else { return 0 }
    return UInt32(payload[0]) | UInt32(payload[1]) << 8 | UInt32(payload[2]) << 16 | UInt32(payload[3]) << 24
}

func littleEndian(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }

/// Scribbles over our own outbound ring, then publishes an impossible tail and wakes the host.
func scribble(_ worker: ChannelWorker, seed: UInt64) {
    var state = seed | 1
    func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
    let geometry = worker.segment.geometry(.workerToHost)
    for _ in 0..<4096 {
        let word = Int(next() % (geometry.capacity / 8)) * 8
        geometry.data.storeBytes(of: next(), toByteOffset: word, as: UInt64.self)
    }
    // Garbage in the tail word: not a multiple of 8 and far beyond any head.
    geometry.control.storeBytes(of: next() | 0x8000_0000_0000_0005, toByteOffset: SegmentLayout.Control.tail, as: UInt64.self)
    worker.reactor.wakeNow(geometry.consumerWaiterAddress)
}

/// The `digest` function: digests of the context and payload the worker saw (RingAudit's
/// StressDigest, the same code `ringbench stress` audits with), then a patterned reply body.
enum Digest {
    /// The reply to a `digest` invocation.
    static func reply(_ invocation: Invocation) -> [UInt8] {
        let encoded = (try? invocation.context.encoded()) ?? []
        let contextDigest = encoded.withUnsafeBytes { StressDigest.hash($0, seed: StressDigest.contextSeed) }
        let payloadDigest = invocation.payload.withUnsafeBytes { StressDigest.hash($0, seed: StressDigest.payloadSeed) }
        let extra = Int(u32(invocation.payload))
        return [UInt8](unsafeUninitializedCapacity: 24 + extra) { buffer, count in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            raw.storeBytes(of: contextDigest.littleEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: payloadDigest.littleEndian, toByteOffset: 8, as: UInt64.self)
            raw.storeBytes(of: UInt64(invocation.payload.count).littleEndian, toByteOffset: 16, as: UInt64.self)
            StressDigest.fill(UnsafeMutableRawBufferPointer(rebasing: raw[24...]), seed: contextDigest)
            count = 24 + extra
        }
    }
}

struct ExampleDelegate: ChannelWorkerDelegate {
    let worker: ChannelWorker
    let rejected = Set((environment("RING_EXAMPLE_REJECT_FUNCTIONS") ?? "").split(separator: ",").map(String.init))
    let without = Set((environment("RING_EXAMPLE_WITHOUT") ?? "").split(separator: ",").map(String.init))

    func initialize(hostVersion: String, payload: [UInt8]) async throws -> [UInt8] {
        if environment("RING_EXAMPLE_FAIL_INIT") == "1" { throw HandlerError(description: "init refused by configuration") }
        return Array("example worker for \(hostVersion)".utf8)
    }

    func loadFunction(_ function: String, metadata: [UInt8]) async throws {
        if rejected.contains(function) { throw HandlerError(description: "function \(function) is not available") }
    }

    /// The functions that neither wait nor block answer inline, on the reader's turn.
    func invokeInline(_ invocation: Invocation) throws -> InvocationReply? {
        if without.contains(invocation.function) { return .failure(message: "unknown function \(invocation.function)") }
        switch invocation.function {
        case "echo": return .success(invocation.payload)
        case "fail": return .failure(message: "requested failure", payload: invocation.payload)
        case "throw": throw HandlerError(description: "thrown by the handler")
        case "pid": return .success(littleEndian(UInt32(bitPattern: getpid())))
        case "digest": return .success(Digest.reply(invocation))
        case "trace": return .success(Array((ServiceContext.current?[TraceparentKey.self] ?? "").utf8))
        default: return nil
        }
    }

    func invoke(_ invocation: Invocation) async throws -> InvocationReply {
        let payload = invocation.payload
        switch invocation.function {
        case "echo":
            return .success(payload)
        case "slow":
            try await Task.sleep(for: .milliseconds(Int(u32(payload))))
            return .success(payload)
        case "hang":
            do {
                try await Task.sleep(for: .seconds(86_400))
            } catch {
                invocation.logger.info("handler saw cancellation", metadata: ["function": "hang"])
                throw error
            }
            return .success(payload)
        case "stubborn":
            while true { await withUnsafeContinuation { (_: UnsafeContinuation<Void, Never>) in } }
        case "fail":
            return .failure(message: "requested failure", payload: payload)
        case "throw":
            throw HandlerError(description: "thrown by the handler")
        case "crash":
            abort()
        case "exit":
            exit(Int32(payload.first ?? 0))
        case "huge":
            let size = Int(u32(payload))
            return .success((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        case "log":
            for index in 0..<Int(u32(payload)) {
                invocation.logger.info("record \(index)", metadata: ["index": "\(index)"])
            }
            return .success(payload)
        case "hostile":
            scribble(worker, seed: invocation.number)
            while true { await withUnsafeContinuation { (_: UnsafeContinuation<Void, Never>) in } }
        case "pid":
            return .success(littleEndian(UInt32(bitPattern: getpid())))
        case "digest":
            return .success(Digest.reply(invocation))
        case "trace":
            return .success(Array((ServiceContext.current?[TraceparentKey.self] ?? "").utf8))
        default:
            return .failure(message: "unknown function \(invocation.function)")
        }
    }
}

do {
    try await worker.run(delegate: ExampleDelegate(worker: worker))
    exit(0)
} catch {
    fail(4, "\(error)")
}
