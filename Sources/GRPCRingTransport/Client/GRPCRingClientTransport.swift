// GRPCRingClientTransport — a GRPCCore `ClientTransport` over a shared-memory ring connection to a
// `GRPCRingServerTransport` on this machine. Semantics follow GRPCCore's documentation: streams
// opened before `connect()` wait for it; after `beginGracefulShutdown()` new streams fail with
// `failedPrecondition` while open ones finish, then `connect()` returns; cancelling `connect()`
// ends every stream. A lost server ends its streams with `unavailable`; the transport then
// reconnects with back-off (`ReconnectPolicy`), as the HTTP/2 client does, and streams opened while
// it reconnects fail at once with `unavailable`. The socket hand-over runs on NIO's blocking-I/O
// thread pool, never on a Concurrency thread.
public import GRPCCore
import NIOPosix
import RingCore
import RingLinux
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

public final class GRPCRingClientTransport: ClientTransport {
    public typealias Bytes = [UInt8]

    /// The server's socket path.
    public let socketPath: String
    public let retryThrottle: RetryThrottle?
    private let methodConfigs: MethodConfigLookup
    private let limits: StreamWireLimits
    private let reconnect: ReconnectPolicy

    private enum Phase {
        case idle(waiters: [CheckedContinuation<Void, any Error>])
        case connected(ClientConnection)
        /// The connection was lost; `attempt` reconnections have been tried since.
        case reconnecting(attempt: Int)
        case closing(ClientConnection)
        case closed
    }
    private struct State {
        var phase: Phase = .idle(waiters: [])
        var openStreams = 0
        var shutdownSignal: CheckedContinuation<Void, Never>?
        var shutdownRequested = false
    }
    private let state = RingMutex(State())

    /// The connection while connected (tests drive raw frames through it).
    var currentConnection: ClientConnection? {
        state.withLock { state in
            if case .connected(let connection) = state.phase { return connection }
            return nil
        }
    }

    /// - Parameters:
    ///   - socketPath: where the `GRPCRingServerTransport` listens.
    ///   - serviceConfig: method configuration and retry throttling, as for any GRPCCore transport.
    ///   - reconnect: what to do when the server goes away after a connection was made.
    public init(
        socketPath: String, serviceConfig: ServiceConfig = ServiceConfig(), limits: StreamWireLimits = StreamWireLimits(),
        reconnect: ReconnectPolicy = ReconnectPolicy()
    ) {
        self.socketPath = socketPath
        self.reconnect = reconnect
        self.retryThrottle = serviceConfig.retryThrottling.map { RetryThrottle(policy: $0) }
        self.methodConfigs = MethodConfigLookup(serviceConfig)
        self.limits = limits
    }

    public func config(forMethod descriptor: MethodDescriptor) -> MethodConfig? { methodConfigs[descriptor] }

    public func connect() async throws {
        guard case .idle = state.withLock({ $0.phase }) else {
            throw RPCError(code: .failedPrecondition, message: "connect() was already called on this transport")
        }
        var attempt = 0
        while true {
            let connection: ClientConnection
            let reactor: Reactor
            do {
                (connection, reactor) = try await openConnection()
            } catch {
                let failure = (error as? RPCError) ?? RPCError(code: .unavailable, message: "ring connection failed: \(error)")
                // The first connection failed: as before any reconnection policy, connect() fails.
                guard attempt > 0 else {
                    let waiters = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
                        guard case .idle(let waiters) = state.phase else { return [] }
                        state.phase = .closed
                        return waiters
                    }
                    for waiter in waiters { waiter.resume(throwing: failure) }
                    throw failure
                }
                guard let delay = reconnect.delay(attempt: attempt), await backOff(delay, attempt: attempt) else { return finishClosed() }
                attempt += 1
                continue
            }
            let waiters = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
                switch state.phase {
                case .idle(let waiters):
                    state.phase = state.shutdownRequested ? .closing(connection) : .connected(connection)
                    return waiters
                case .reconnecting:
                    state.phase = state.shutdownRequested ? .closing(connection) : .connected(connection)
                    return []
                case .connected, .closing, .closed:
                    return []
                }
            }
            for waiter in waiters { waiter.resume() }
            let lost = await serve(connection)
            SharedClientReactor.release(reactor)
            guard lost, let delay = reconnect.delay(attempt: 1) else { return finishClosed() }
            attempt = 1
            guard await backOff(delay, attempt: attempt) else { return finishClosed() }
            attempt += 1
        }
    }

    /// The socket hand-over, on NIO's blocking-I/O pool (it blocks briefly on a local socket), then
    /// the link started.
    private func openConnection() async throws -> (ClientConnection, Reactor) {
        let path = socketPath
        let (segment, serverPID) = try await NIOThreadPool.singleton.runIfActive { try RingHandshake.connect(path: path) }
        let reactor = try SharedClientReactor.acquire()
        let connection = ClientConnection(link: RingLink(segment: segment, reactor: reactor, peerPID: serverPID, localPID: getpid(), limits: limits))
        do {
            try connection.start()
        } catch {
            await connection.link.close(ownsReactor: false)
            SharedClientReactor.release(reactor)
            throw error
        }
        return (connection, reactor)
    }

    /// Runs until graceful shutdown completes, the link ends, or the task is cancelled; returns
    /// true if the connection was lost (the server went away) rather than closed by this side.
    private func serve(_ connection: ClientConnection) async -> Bool {
        await withTaskCancellationHandler {
            await withTaskGroup(of: Bool.self) { group in
                group.addTask {
                    await connection.waitUntilEnded()
                    return true
                }
                group.addTask { [self] in
                    await waitForShutdown()
                    return false
                }
                let endedByPeer = await group.next() ?? false
                let lost = state.withLock { state -> Bool in
                    let lost = endedByPeer && !state.shutdownRequested && !Task.isCancelled
                    state.phase = lost ? .reconnecting(attempt: 0) : .closed
                    return lost
                }
                group.cancelAll()
                signalShutdownWaiter()
                // Ends the reader (and with it every stream still open, with `unavailable`).
                await connection.link.close(ownsReactor: false)
                return lost
            }
        } onCancel: {
            signalShutdownWaiter()
        }
    }

    /// Waits `delay` before reconnection `attempt`; false if shutdown or cancellation came first.
    private func backOff(_ delay: Duration, attempt: Int) async -> Bool {
        let proceed = state.withLock { state -> Bool in
            guard !state.shutdownRequested, !Task.isCancelled else { return false }
            state.phase = .reconnecting(attempt: attempt)
            return true
        }
        guard proceed else { return false }
        let slept = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                (try? await Task.sleep(for: delay)) != nil
            }
            group.addTask { [self] in
                await waitForShutdown()
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            signalShutdownWaiter()
            return first
        }
        return slept && !Task.isCancelled && !state.withLock(\.shutdownRequested)
    }

    private func finishClosed() {
        state.withLock { $0.phase = .closed }
    }

    /// Suspends until graceful shutdown has no open streams left (or `signalShutdownWaiter`).
    private func waitForShutdown() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state in
                if Task.isCancelled { return true }
                if state.shutdownRequested && state.openStreams == 0 { return true }
                state.shutdownSignal = continuation
                return false
            }
            if now { continuation.resume() }
        }
    }

    private func signalShutdownWaiter() {
        state.withLock { state in
            defer { state.shutdownSignal = nil }
            return state.shutdownSignal
        }?.resume()
    }

    public func beginGracefulShutdown() {
        let (waiters, signal) = state.withLock { state -> ([CheckedContinuation<Void, any Error>], CheckedContinuation<Void, Never>?) in
            state.shutdownRequested = true
            switch state.phase {
            case .idle(let waiters):
                state.phase = .closed
                return (waiters, nil)
            case .connected(let connection):
                state.phase = .closing(connection)
            case .reconnecting:
                state.phase = .closed
            case .closing, .closed: break
            }
            guard state.openStreams == 0 else { return ([], nil) }
            defer { state.shutdownSignal = nil }
            return ([], state.shutdownSignal)
        }
        for waiter in waiters { waiter.resume(throwing: RPCError(code: .failedPrecondition, message: "the client transport is shut down")) }
        signal?.resume()
    }

    public func withStream<T: Sendable>(
        descriptor: MethodDescriptor, options: CallOptions,
        _ closure: (RPCStream<Inbound, Outbound>, ClientContext) async throws -> T
    ) async throws -> T {
        try Self.refuseCompression(options.compression)
        let connection = try await connectedConnection()
        defer { streamEnded() }
        let (id, responses, window) = try connection.open()
        let method = "/" + descriptor.fullyQualifiedMethod
        let writer = RequestWriter(link: connection.link, streamId: id, method: method, window: window) { error in _ = connection.close(id, error: error) }
        let parts = ResponseParts(base: responses) { bytes in await connection.consumed(id, bytes: bytes) }
        let stream = RPCStream(descriptor: descriptor, inbound: RPCAsyncSequence(wrapping: parts), outbound: RPCWriter.Closable(wrapping: writer))
        let context = ClientContext(descriptor: descriptor, remotePeer: connection.link.remotePeer, localPeer: connection.link.localPeer)
        let result: Result<T, any Error>
        do { result = .success(try await closure(stream, context)) } catch { result = .failure(error) }
        // Ended before the server's status: tell the server (its handler is cancelled).
        if connection.close(id, error: RPCError(code: .cancelled, message: "the stream was closed by the client")) {
            await writer.sendReset(RPCError(code: .cancelled, message: "the client cancelled the RPC"))
        }
        return try result.get()
    }

    /// Compression is refused, never ignored: messages cross shared memory, where compressing them
    /// would only spend CPU on both sides (Docs/GRPC.md, "Compression"). A call that asks for an
    /// algorithm fails `unimplemented` before anything is sent — the code an HTTP/2 server gives a call
    /// compressed with an algorithm it has not enabled.
    static func refuseCompression(_ algorithm: CompressionAlgorithm?) throws {
        guard let algorithm, algorithm != .none else { return }
        let name = algorithm == .gzip ? "gzip" : algorithm == .deflate ? "deflate" : "\(algorithm)"
        throw RPCError(
            code: .unimplemented,
            message: "\(name) compression is not supported over the rings: messages cross shared memory uncompressed; call without compression (CallOptions.compression = nil or .none)")
    }

    /// Waits for `connect()` if needed; counts the stream as open.
    private func connectedConnection() async throws -> ClientConnection {
        while true {
            enum Step { case ready(ClientConnection), wait, fail(RPCError) }
            let step: Step = state.withLock { state in
                switch state.phase {
                case .idle: return .wait
                case .connected(let connection):
                    state.openStreams += 1
                    return .ready(connection)
                case .reconnecting(let attempt):
                    return .fail(RPCError(
                        code: .unavailable,
                        message: "the ring server at \(socketPath) went away; reconnecting" + (attempt > 0 ? " (attempt \(attempt))" : "")))
                case .closing, .closed:
                    return .fail(RPCError(code: .failedPrecondition, message: "the client transport is shutting down or closed"))
                }
            }
            switch step {
            case .ready(let connection): return connection
            case .fail(let error): throw error
            case .wait:
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let resumeNow = state.withLock { state -> Bool in
                        guard case .idle(var waiters) = state.phase else { return true }
                        waiters.append(continuation)
                        state.phase = .idle(waiters: waiters)
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
        }
    }

    private func streamEnded() {
        let signal = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.openStreams -= 1
            guard state.shutdownRequested && state.openStreams == 0 else { return nil }
            defer { state.shutdownSignal = nil }
            return state.shutdownSignal
        }
        signal?.resume()
    }
}
