// GRPCRingServerTransport — a GRPCCore `ServerTransport` that serves gRPC over shared-memory rings
// to clients on this machine. It listens on a Unix socket (mode 0600, same-uid clients only); each
// client connection gets its own segment and reader task; streams of all connections go to the
// one stream handler given to `listen`. `beginGracefulShutdown()` stops accepting, refuses new
// streams with `unavailable`, lets open streams finish, and then `listen` returns; cancelling
// `listen` closes every connection at once.
public import GRPCCore
public import Logging
public import RingCore
import RingLinux
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

public final class GRPCRingServerTransport: ServerTransport {
    public typealias Bytes = [UInt8]

    /// Where clients connect.
    public let socketPath: String
    /// The shape of each connection's segment (ring capacities, message limit).
    public let segmentConfiguration: SegmentConfiguration
    private let limits: StreamWireLimits

    private struct State {
        var listening = false
        var shuttingDown = false
        var listener: LinkListener?
        var connections: [ObjectIdentifier: ServerConnection] = [:]
        var methodsByPath: [String: MethodDescriptor] = [:]
        var streams: AsyncStream<AcceptedStream>.Continuation?
    }
    private let state = RingMutex(State())
    private let ready = RingMutex<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    /// Where the transport reports what it cannot hand to a caller (accept failures it retries).
    private let logger: Logger

    public init(
        socketPath: String, segmentConfiguration: SegmentConfiguration = SegmentConfiguration(), limits: StreamWireLimits = StreamWireLimits(),
        logger: Logger = Logger(label: "grpc.ring.server")
    ) {
        self.socketPath = socketPath
        self.segmentConfiguration = segmentConfiguration
        self.limits = limits
        self.logger = logger
    }

    public func configure(context: GRPCServerContext) {
        state.withLock { state in
            for method in context.methods { state.methodsByPath["/" + method.fullyQualifiedMethod] = method }
        }
    }

    /// Returns once `listen` is accepting connections (or has failed/ended).
    public func waitUntilListening() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = ready.withLock { ready in
                if ready.done { return true }
                ready.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    private func markReady() {
        let waiters = ready.withLock { ready in
            ready.done = true
            defer { ready.waiters = [] }
            return ready.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    public func listen(
        streamHandler: @escaping @Sendable (RPCStream<Inbound, Outbound>, ServerContext) async -> Void
    ) async throws {
        defer { markReady() }
        let (streams, continuation) = AsyncStream.makeStream(of: AcceptedStream.self)
        let reactor: Reactor
        do {
            try state.withLock { state throws(RPCError) in
                guard !state.listening else { throw RPCError(code: .failedPrecondition, message: "listen() was already called") }
                guard !state.shuttingDown else { throw RPCError(code: .failedPrecondition, message: "the server transport is shut down") }
                state.listening = true
            }
            reactor = try RingLink.makeReactor()
        } catch {
            throw (error as? RPCError) ?? RPCError(code: .unavailable, message: "cannot listen on \(socketPath): \(error)")
        }
        let listener: LinkListener
        do {
            unlink(socketPath)
            listener = try LinkListener(
                path: socketPath, allowedUIDs: [getuid()],
                onFailure: { [logger, socketPath] error, pause, failures in
                    logger.warning(
                        "accept on the gRPC ring socket failed; retrying",
                        metadata: ["path": "\(socketPath)", "error": "\(error)", "pauseMs": "\(pause / 1_000_000)", "consecutiveFailures": "\(failures)"])
                },
                onReject: { [logger, socketPath] credentials in
                    logger.warning(
                        "refused a ring client of another uid",
                        metadata: ["path": "\(socketPath)", "pid": "\(credentials.pid)", "uid": "\(credentials.uid)"])
                },
                onAccept: { [self] socket, credentials in accepted(socket, clientPID: credentials.pid, reactor: reactor) })
        } catch {
            reactor.shutdown()
            throw RPCError(code: .unavailable, message: "cannot listen on \(socketPath): \(error)")
        }
        let shutDownAlready = state.withLock { state in
            state.listener = listener
            state.streams = continuation
            return state.shuttingDown
        }
        if shutDownAlready {
            continuation.finish()
            listener.stop()
        }
        markReady()
        // Handlers run in tasks of their own, not as children of this one: cancelling `listen`
        // must close every connection's outbound ring *before* any handler learns of it — a child
        // task would be cancelled first (Swift cancels a task's children before running its
        // cancellation handlers), and an interrupted handler could still send its status.
        let handlers = HandlerTasks()
        await withTaskCancellationHandler {
            for await accepted in streams {
                handlers.start { await self.serve(accepted, handler: streamHandler) }
            }
            await handlers.waitForAll()
        } onCancel: {
            continuation.finish()
            stopAccepting()
            for connection in state.withLock({ Array($0.connections.values) }) { connection.abortNow() }
            handlers.cancelAll()
        }
        listener.stop()
        // Wait for every connection to close (graceful: clients close after their last stream).
        let remaining = state.withLock { Array($0.connections.values) }
        for connection in remaining { await connection.closeNow() }
        reactor.shutdown()
    }

    private func serve(_ accepted: AcceptedStream, handler: @Sendable (RPCStream<Inbound, Outbound>, ServerContext) async -> Void) async {
        await withServerContextRPCCancellationHandle { handle in
            accepted.connection.register(handle, for: accepted)
            let context = ServerContext(
                descriptor: accepted.stream.descriptor, remotePeer: accepted.connection.link.remotePeer,
                localPeer: accepted.connection.link.localPeer, cancellation: handle)
            await handler(accepted.stream, context)
        }
    }

    /// One accepted client: the hand-over and handshake, then its connection.
    private func accepted(_ socket: Int32, clientPID: Int32, reactor: Reactor) {
        if state.withLock({ $0.shuttingDown }) {
            close(socket)
            return
        }
        do {
            let segment = try RingHandshake.accept(socket: socket, configuration: segmentConfiguration, backend: reactor.backend.kind)
            let link = RingLink(segment: segment, reactor: reactor, peerPID: clientPID, localPID: getpid(), limits: limits)
            let connection = ServerConnection(
                link: link,
                resolveMethod: { [self] path in resolve(path) },
                deliver: { [self] accepted in
                    guard let streams = state.withLock({ $0.streams }) else { return false }
                    if case .enqueued = streams.yield(accepted) { return true }
                    return false
                },
                onClosed: { [self] connection in _ = state.withLock { $0.connections.removeValue(forKey: ObjectIdentifier(connection)) } })
            let draining = state.withLock { state in
                state.connections[ObjectIdentifier(connection)] = connection
                return state.shuttingDown
            }
            try connection.start()
            if draining { connection.drain() }
        } catch {
            return  // that client gets EOF on its socket and reports `unavailable`
        }
    }

    private func resolve(_ path: String) -> MethodDescriptor? {
        if let known = state.withLock({ $0.methodsByPath[path] }) { return known }
        guard path.first == "/", let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return nil }
        let service = path[path.index(after: path.startIndex)..<slash]
        let method = path[path.index(after: slash)...]
        guard !service.isEmpty, !method.isEmpty else { return nil }
        return MethodDescriptor(fullyQualifiedService: String(service), method: String(method))
    }

    /// Stops the listener (joins its thread: a hand-over in progress finishes first).
    private func stopAccepting() {
        state.withLock { $0.listener }?.stop()
    }

    public func beginGracefulShutdown() {
        let (streams, connections) = state.withLock { state in
            state.shuttingDown = true
            defer { state.streams = nil }
            return (state.streams, Array(state.connections.values))
        }
        stopAccepting()
        streams?.finish()
        for connection in connections { connection.drain() }
    }
}

/// The stream handlers of one `listen`: started as unstructured tasks, cancelled together, awaited
/// together.
private final class HandlerTasks: Sendable {
    private let state = RingMutex<(next: UInt64, tasks: [UInt64: Task<Void, Never>], cancelled: Bool)>((0, [:], false))

    func start(_ body: @escaping @Sendable () async -> Void) {
        state.withLock { state in
            let id = state.next
            state.next += 1
            let task = Task { [self] in
                await body()
                _ = self.state.withLock { $0.tasks.removeValue(forKey: id) }
            }
            state.tasks[id] = task
            if state.cancelled { task.cancel() }
        }
    }

    func cancelAll() {
        let tasks = state.withLock { state in
            state.cancelled = true
            return Array(state.tasks.values)
        }
        for task in tasks { task.cancel() }
    }

    /// Returns once every handler started so far (and any started meanwhile) has finished.
    func waitForAll() async {
        while let task = state.withLock({ $0.tasks.values.first }) { await task.value }
    }
}
