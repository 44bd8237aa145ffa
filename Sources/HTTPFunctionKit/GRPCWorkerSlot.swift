// GRPCWorkerSlot — one worker of the gRPC route: its process (RingHTTPWorker serving the event
// stream on a Unix socket), the HTTP/2 client connected to it, the one bidirectional stream that
// carries every invocation, and the join of replies (ForwardingJoin). When the stream ends — the
// worker died or was killed — every invocation it held is answered `workerLost` (503) and a new
// process is started; requests that arrive meanwhile go to the other workers.
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCRingTransport
import Logging
import NIOPosix
import RingCore
import RingLinux
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

final class GRPCWorkerSlot: Sendable {
    struct Outbound: Sendable {
        let number: UInt64
        let message: [UInt8]
    }

    struct State {
        var outbound: AsyncStream<Outbound>.Continuation?
        var process: ChildProcess?
        var stopping = false
    }

    let index: Int
    let executable: String
    let socketPath: String
    let lateJoin: Bool
    let logger: Logger
    let join = ForwardingJoin()
    private let state = RingMutex(State())

    init(index: Int, executable: String, lateJoin: Bool, logger: Logger) {
        self.index = index
        self.executable = executable
        self.lateJoin = lateJoin
        self.logger = logger
        socketPath = "/tmp/ringhttp-\(getpid())-\(index)-\(UInt32.random(in: 0...UInt32.max)).sock"
    }

    /// Whether the stream is open (invocations sent now reach the worker).
    var isConnected: Bool { state.withLock { $0.outbound != nil } }

    /// Sends one invocation and returns its outcome, joined as the route says: the key stored
    /// before the send, or (late join) after the send completed.
    func invoke(number: UInt64, requestID: ContextID, message: [UInt8], deadline: ContinuousClock.Instant) async -> RouteOutcome {
        guard lateJoin else {
            return await withCheckedContinuation { waiter in
                join.open(number: number, requestID: requestID, deadline: deadline, waiter: waiter)
                enqueue(number: number, message: message)
            }
        }
        await withCheckedContinuation { sent in
            join.openLate(number: number, requestID: requestID, deadline: deadline, sent: sent)
            enqueue(number: number, message: message)
        }
        // The original host's order: the forwarding key is stored once the send has completed.
        join.storeKey(number: number)
        return await join.wait(number: number)
    }

    /// Hands the message to the stream's writer; if the stream is gone, the invocation fails at once.
    private func enqueue(number: UInt64, message: [UInt8]) {
        let queued = state.withLock { state -> Bool in
            guard let outbound = state.outbound else { return false }
            if case .enqueued = outbound.yield(Outbound(number: number, message: message)) { return true }
            return false
        }
        if !queued { join.fail(number: number, .unavailable("worker \(index) is restarting")) }
    }

    /// Runs the worker until `stop`: start, serve, and start again after it ends.
    func run(firstStart: CheckedContinuation<Void, any Error>?) async {
        var firstStart = firstStart
        while !state.withLock(\.stopping) {
            do {
                let process = try await spawn()
                let stopping = state.withLock { state -> Bool in
                    state.process = process
                    return state.stopping
                }
                if stopping { break }
                try await serve(onOpen: {
                    firstStart?.resume()
                    firstStart = nil
                })
            } catch {
                if let start = firstStart {
                    start.resume(throwing: error)
                    firstStart = nil
                    await reap()
                    return
                }
                if !state.withLock(\.stopping) { logger.warning("gRPC worker \(index) ended: \(error)") }
            }
            join.failAll(.workerLost("worker \(index) ended"))
            await reap()
            if !state.withLock(\.stopping) { try? await Task.sleep(for: .milliseconds(10)) }
        }
        join.failAll(.unavailable("the host is stopping"))
        await reap()
    }

    private func spawn() async throws -> ChildProcess {
        let executable = self.executable
        let path = socketPath
        unlink(path)
        return try await NIOThreadPool.singleton.runIfActive {
            try ChildProcess.spawnAnnouncing(executable: executable, arguments: ["--grpc", path], expectedPrefix: "ready").process
        }
    }

    /// Opens the client and the event stream; returns or throws when the stream ends.
    private func serve(onOpen: () -> Void) async throws {
        let transport = try HTTP2ClientTransport.Posix(
            target: .unixDomainSocket(path: socketPath), transportSecurity: .plaintext,
            config: .defaults {
                $0.http2.targetWindowSize = 8 << 20
                $0.connection.maxIdleTime = nil
            })
        try await withGRPCClient(transport: transport) { client in
            let (outbound, continuation) = AsyncStream.makeStream(of: Outbound.self)
            let lateJoin = self.lateJoin
            let join = self.join
            state.withLock { $0.outbound = continuation }
            onOpen()
            defer { self.closeOutbound() }
            let request = StreamingClientRequest<[UInt8]> { writer in
                for await item in outbound {
                    try await writer.write(item.message)
                    // The negative control's caller stores the key only now, after its send.
                    if lateJoin { join.markSent(number: item.number) }
                }
            }
            var options = CallOptions.defaults
            options.maxResponseMessageBytes = EventStreamMethod.maxMessageBytes
            options.maxRequestMessageBytes = EventStreamMethod.maxMessageBytes
            try await client.bidirectionalStreaming(
                request: request, descriptor: EventStreamMethod.descriptor,
                serializer: RawBytesSerializer(), deserializer: RawBytesDeserializer(), options: options
            ) { response in
                defer { self.closeOutbound() }
                for try await message in response.messages {
                    do {
                        join.deliver(try EventStreamMessage.decodeReply(message))
                    } catch {
                        // A worker that answers garbage is ended, as the rings end one.
                        throw RPCError(code: .dataLoss, message: "worker \(self.index) sent a malformed reply: \(error)")
                    }
                }
            }
        }
    }

    private func closeOutbound() {
        state.withLock { state in
            state.outbound?.finish()
            state.outbound = nil
        }
    }

    /// Kills and reaps the current process, if any.
    private func reap() async {
        guard let process = state.withLock({ state -> ChildProcess? in
            defer { state.process = nil }
            return state.process
        }) else { return }
        process.kill(SIGKILL)
        _ = try? await NIOThreadPool.singleton.runIfActive { try process.wait() }
        unlink(socketPath)
    }

    /// SIGKILLs the worker (fault injection); false if none is running.
    func kill() -> Bool {
        guard let process = state.withLock({ $0.outbound == nil ? nil : $0.process }) else { return false }
        process.kill(SIGKILL)
        return true
    }

    func stop() {
        state.withLock { $0.stopping = true }
        closeOutbound()
        state.withLock { $0.process }?.kill(SIGKILL)
    }
}
