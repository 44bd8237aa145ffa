// FunctionHost — the host side of the channel: a pool of worker processes (spawned, or attached over
// a Unix socket), invocations balanced by least in-flight, functions loaded on every worker,
// restarts with backoff, events, graceful shutdown, and swift-service-lifecycle's Service.
#if canImport(Glibc)
import Glibc
#endif
public import Logging
public import Metrics
public import RingCore
public import RingLinux
public import ServiceLifecycle
import Synchronization
import Instrumentation

/// Starts and supervises worker processes and runs invocations on them.
///
/// ```swift
/// let host = try FunctionHost(logger: logger)
/// try await host.addWorker(WorkerLaunch(executable: "/path/to/worker"))
/// let result = try await host.invoke(function: "echo", payload: bytes, context: context)
/// await host.shutdown(gracePeriod: .seconds(5))
/// ```
// Nothing holds a host (or a WorkerConnection) weakly. A weak reference gives its object a side
// table for the rest of its life, and every retain and release of that object then takes the
// runtime's slow path (`incrementSlow`/`decrementSlow`); the host and its connections are retained
// on every invocation. The callbacks that used to be weak are strong, each dropped with what it
// serves: a connection's end callback with the connection, a restart timer when it fires or at
// shutdown, the listener's callbacks with the listener at shutdown, an event stream's with the
// stream.
public final class FunctionHost: Service, Sendable {
    public let configuration: FunctionHostConfiguration
    /// The reactor behind every worker's waits, deadlines and process watches.
    public let reactor: Reactor
    /// The thread that reads every worker's replies, as a task executor: callers that run on it
    /// (`Task(executorPreference: host.executor)`, `withTaskExecutorPreference(host.executor)`) are
    /// resumed by their reply in the same reactor turn, with no hop to the global pool and no
    /// kernel wake — the invocation fast path (Docs/Architecture.md, "The link loop"). Keep work
    /// that blocks or runs long off it: everything on this thread waits while it runs.
    public var executor: ReactorExecutor { reactor.executor }
    let context: HostContext
    let state = RingMutex(PoolState())

    struct Slot {
        var launch: WorkerLaunch?
        var generation = 0
        var restartsUsed = 0
        var consecutiveFailures = 0
        var removed = false
        /// Restarts apply only to slots whose worker was ready once (a first start that fails is
        /// reported to `addWorker`'s caller instead).
        var everReady = false
        var pendingRestart: TimerToken?
    }

    struct PoolState {
        /// Connections being started or serving, in the order they were added.
        var workers: [WorkerConnection] = []
        var ready: Set<WorkerID> = []
        /// The ready connections, in the order they became ready (what `dispatch` scans: no hashing
        /// of worker names per invocation).
        var readyWorkers: [WorkerConnection] = []
        var functions: [(String, [UInt8])] = []
        var slots: [String: Slot] = [:]
        var nextSlot = 1
        var rotation = 0
        var shuttingDown = false
        var shutDown = false
        var shutdownWaiters: [CheckedContinuation<Void, Never>] = []
        var subscribers: [Int: AsyncStream<WorkerEvent>.Continuation] = [:]
        var nextSubscriber = 0
        var listener: LinkListener?
        var startsInProgress = 0
        var startWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// - Parameters:
    ///   - logger: where the host logs, and where worker log records arrive (with the invocation id
    ///     in their metadata). The host never bootstraps logging.
    ///   - metricsFactory: where metrics go; nil uses the application's `MetricsSystem`.
    public init(configuration: FunctionHostConfiguration = FunctionHostConfiguration(), logger: Logger, metricsFactory: (any MetricsFactory)? = nil) throws {
        try configuration.segment.validate()
        self.configuration = configuration
        // The reactor's thread reads every worker's ring (a LinkReader each) and waits the way the
        // configuration's wait profile says: spin, yield, then sleep.
        let options = ReactorOptions(idleProfile: configuration.waitProfile)
        if let kind = configuration.waitBackend {
            reactor = try Reactor(backend: kind, options: options)
        } else {
            reactor = try Reactor(options: options)
        }
        context = HostContext(reactor: reactor, configuration: configuration, logger: logger, metrics: ChannelMetrics(factory: metricsFactory))
        logger.debug("function host started", metadata: ["reactor": "\(reactor.backend)"])
    }

    // MARK: Workers

    /// Spawns a worker and returns once it is ready (handshake, init and every loaded function).
    /// - Throws: `ChannelError` — `spawnFailed`, `handshakeRejected` (says what differed),
    ///   `startTimedOut`, `workerInitFailed`, `functionLoadFailed`, `workerExited`, `shuttingDown`.
    @discardableResult
    public func addWorker(_ launch: WorkerLaunch) async throws(ChannelError) -> WorkerID {
        let name = try state.withLock { state throws(ChannelError) -> String in
            guard !state.shuttingDown else { throw .shuttingDown }
            let name = launch.name ?? "worker-\(state.nextSlot)"
            state.nextSlot += 1
            var slot = Slot(launch: launch)
            if let existing = state.slots[name], !existing.removed { slot.generation = existing.generation + 1 }
            state.slots[name] = slot
            return name
        }
        let generation = state.withLock { $0.slots[name]!.generation }
        return try await startSpawned(name: name, launch: launch, generation: generation)
    }

    /// Terminates a worker: it finishes its in-flight invocations within `gracePeriod` (the rest are
    /// cancelled), then exits; after `configuration.killMargin` more it is killed. It is not
    /// restarted. Returns once the process is gone.
    public func removeWorker(_ id: WorkerID, gracePeriod: Duration) async {
        let connection = state.withLock { state -> WorkerConnection? in
            if var slot = state.slots[id.name], slot.generation == id.generation {
                slot.removed = true
                if let pending = slot.pendingRestart { reactor.cancel(pending) }
                slot.pendingRestart = nil
                state.slots[id.name] = slot
            }
            return state.workers.first { $0.id == id }
        }
        await connection?.terminate(gracePeriod: gracePeriod)
    }

    /// Kills a worker at once (SIGKILL); its in-flight invocations fail with `workerExited`. It is
    /// not restarted.
    public func killWorker(_ id: WorkerID) async {
        let connection = state.withLock { state -> WorkerConnection? in
            state.slots[id.name]?.removed = true
            return state.workers.first { $0.id == id }
        }
        connection?.kill()
        await connection?.closed()
    }

    /// A snapshot of the pool.
    public var workers: [WorkerInfo] {
        let (connections, ready) = state.withLock { ($0.workers, $0.ready) }
        return connections.map { WorkerInfo(id: $0.id, pid: $0.pid, ready: ready.contains($0.id), inFlight: $0.outstanding, hello: $0.hello) }
    }

    /// Asks a worker for its status (a ping); `statusTimedOut` if it does not answer in time.
    public func status(of id: WorkerID, timeout: Duration) async throws(ChannelError) -> WorkerStatus {
        guard let connection = state.withLock({ $0.workers.first { $0.id == id } }) else { throw .workerNotReady(id) }
        return try await connection.status(timeout: timeout)
    }

    /// Loads a function on every worker (and on every worker started later). Throws the first
    /// worker's failure (`functionLoadFailed`); the function stays registered.
    public func loadFunction(_ function: String, metadata: [UInt8] = []) async throws(ChannelError) {
        try Self.validate(function: function)
        let targets = state.withLock { state -> [WorkerConnection] in
            state.functions.append((function, metadata))
            return state.workers.filter { state.ready.contains($0.id) }
        }
        for target in targets { try await target.load(function: function, metadata: metadata) }
    }

    /// Events: workers ready, ended, restarts, refused peers. Each call returns a new stream that
    /// sees the events from now on; it finishes at shutdown.
    public func events() -> AsyncStream<WorkerEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: WorkerEvent.self, bufferingPolicy: .unbounded)
        let finished = state.withLock { state -> Bool in
            if state.shutDown { return true }
            let id = state.nextSubscriber
            state.nextSubscriber += 1
            state.subscribers[id] = continuation
            // Strong (see the type's note on side tables): the stream drops it when it terminates,
            // and `shutdown` finishes every stream.
            continuation.onTermination = { [self] _ in _ = self.state.withLock { $0.subscribers.removeValue(forKey: id) } }
            return false
        }
        if finished { continuation.finish() }
        return stream
    }

    func emit(_ event: WorkerEvent) {
        for subscriber in state.withLock({ Array($0.subscribers.values) }) { subscriber.yield(event) }
    }

    // MARK: Invocations

    /// Runs `function` on the least busy ready worker and returns its answer.
    ///
    /// The context travels inside the request frame and comes back inside the response frame;
    /// `InvocationResult.context` is the one decoded from the response. The deadline (the earlier
    /// of `deadline`, the context's own and `defaultInvocationTimeout`) is enforced by the host's
    /// reactor and written into the context the worker sees. Cancelling the calling task throws
    /// `CancellationError` at once and sends the worker a cancel.
    ///
    /// - Throws: `ChannelError.deadlineExceeded`, `.workerExited`, `.protocolViolation`,
    ///   `.noWorkerAvailable`, `.shuttingDown`, `.messageTooLarge`, `.invalidContext`,
    ///   `.invalidFunctionName`; `CancellationError`.
    public nonisolated(nonsending) func invoke(function: String, payload: [UInt8], context: ForwardingContext, deadline: InvocationDeadline? = nil) async throws -> InvocationResult {
        try Self.validate(function: function)
        let worker = try dispatch(weight: 1)
        defer { finishDispatch(worker, weight: 1) }
        return try await run(on: worker, function: function, payload: .bytes(payload), context: context, deadline: deadline)
    }

    /// `invoke` with the request's payload written where it goes: `fill` writes exactly
    /// `payloadCount` bytes (through `OutputRawSpan`'s appends) straight into the ring's frame when
    /// the request fits one and the ring has room — no array is built — and into an array first
    /// otherwise (a large request goes in fragments). `fill` runs at most once, on this thread,
    /// before the invocation waits; not at all when it fails before its request is written (an
    /// invalid name, no ready worker, a message over the limit…). Writing fewer or more bytes than
    /// `payloadCount` is a programming error (trap): the request's length is part of its frame.
    public nonisolated(nonsending) func invoke(
        function: String, payloadCount: Int, context: ForwardingContext, deadline: InvocationDeadline? = nil,
        writingPayload fill: @escaping (inout OutputRawSpan) -> Void
    ) async throws -> InvocationResult {
        precondition(payloadCount >= 0, "payloadCount must not be negative")
        try Self.validate(function: function)
        let worker = try dispatch(weight: 1)
        defer { finishDispatch(worker, weight: 1) }
        return try await run(
            on: worker, function: function, payload: .writer(count: payloadCount, fill: fill), context: context, deadline: deadline)
    }

    /// Chooses the ready worker with the least dispatched work (ties rotate) and counts `weight`
    /// invocations against it (`WorkerConnection.dispatched`, added under the pool lock so
    /// concurrent `invoke` calls balance exactly; taken off without it by `finishDispatch`).
    func dispatch(weight: Int) throws(ChannelError) -> WorkerConnection {
        try state.withLock { state throws(ChannelError) -> WorkerConnection in
            guard !state.shuttingDown else { throw .shuttingDown }
            let workers = state.readyWorkers
            guard !workers.isEmpty else { throw .noWorkerAvailable }
            var best: WorkerConnection?
            var bestLoad = Int.max
            if workers.count == 1 {
                if !workers[0].ended.load(ordering: .acquiring) { best = workers[0] }
            } else {
                state.rotation &+= 1
                for offset in 0..<workers.count {
                    let candidate = workers[(state.rotation &+ offset) % workers.count]
                    guard !candidate.ended.load(ordering: .acquiring) else { continue }
                    let load = candidate.dispatched.load(ordering: .relaxed)
                    if load < bestLoad {
                        best = candidate
                        bestLoad = load
                    }
                }
            }
            guard let best else { throw .noWorkerAvailable }
            best.dispatched.wrappingAdd(weight, ordering: .relaxed)
            return best
        }
    }

    func finishDispatch(_ worker: WorkerConnection, weight: Int) {
        worker.dispatched.wrappingSubtract(weight, ordering: .relaxed)
    }

    /// Runs `function` on a chosen worker.
    public nonisolated(nonsending) func invoke(on id: WorkerID, function: String, payload: [UInt8], context: ForwardingContext, deadline: InvocationDeadline? = nil) async throws -> InvocationResult {
        try Self.validate(function: function)
        let worker = try state.withLock { state throws(ChannelError) -> WorkerConnection in
            guard !state.shuttingDown else { throw .shuttingDown }
            guard let worker = state.readyWorkers.first(where: { $0.id == id }) else { throw .workerNotReady(id) }
            worker.dispatched.wrappingAdd(1, ordering: .relaxed)
            return worker
        }
        defer { finishDispatch(worker, weight: 1) }
        return try await run(on: worker, function: function, payload: .bytes(payload), context: context, deadline: deadline)
    }

    private nonisolated(nonsending) func run(on worker: WorkerConnection, function: String, payload: RequestPayload, context invocationContext: ForwardingContext, deadline: InvocationDeadline?) async throws -> InvocationResult {
        let (effective, due) = effectiveContext(invocationContext, deadline: deadline)
        let metrics = context.metrics
        metrics.inFlight.increment()
        defer { metrics.inFlight.decrement() }
        do {
            let result = try await worker.invoke(function: function, payload: payload, context: effective, deadline: due)
            record(.success(result))
            return result
        } catch {
            record(.failure(error))
            throw error
        }
    }

    /// The context as the worker sees it: its deadline is the earliest of the call's, the context's
    /// own and `defaultInvocationTimeout` (also returned, for the host's timer).
    func effectiveContext(_ invocationContext: ForwardingContext, deadline: InvocationDeadline?) -> (ForwardingContext, UInt64?) {
        // The caller's trace travels in the frame with everything else (ForwardingContext+Tracing).
        var effective = invocationContext.injectingCurrentServiceContext(configuration.instrument ?? InstrumentationSystem.instrument)
        var due = invocationContext.deadlineNanoseconds
        if let deadline { due = min(due ?? .max, deadline.monotonicNanoseconds) }
        if let timeout = configuration.defaultInvocationTimeout { due = min(due ?? .max, Reactor.now() &+ timeout.nanosecondsClamped) }
        effective.deadlineNanoseconds = due
        return (effective, due)
    }

    /// Counts one invocation's outcome in the metrics.
    func record(_ outcome: Result<InvocationResult, any Error>) {
        let metrics = context.metrics
        switch outcome {
        case .success(let result): record(status: result.status)
        case .failure(let error as ChannelError): metrics.failure(kind: error.kind)
        case .failure(let error): metrics.failure(kind: error is CancellationError ? "cancelled" : "other")
        }
    }

    /// Counts an answer's status in the metrics.
    func record(status: InvocationStatus) {
        let metrics = context.metrics
        switch status {
        case .success: metrics.successes.increment()
        case .failure: metrics.failures.increment()
        case .cancelled: metrics.cancelled.increment()
        }
    }

    static func validate(function: String) throws(ChannelError) {
        let count = function.utf8.count
        guard count > 0, count <= ChannelProtocol.Limits.maxFunctionNameBytes else { throw .invalidFunctionName(function) }
    }

    // MARK: Shutdown

    /// Graceful drain: no new invocations; every worker finishes its in-flight ones within
    /// `gracePeriod` (the rest are cancelled; a worker still running `killMargin` later is killed);
    /// then the reactor stops. Every descriptor, mapping, pidfd and thread is released. Idempotent:
    /// a second call waits for the first.
    public func shutdown(gracePeriod: Duration) async {
        let (first, workers, listener) = state.withLock { state -> (Bool, [WorkerConnection], LinkListener?) in
            let first = !state.shuttingDown
            state.shuttingDown = true
            for name in Array(state.slots.keys) {
                if let pending = state.slots[name]!.pendingRestart { reactor.cancel(pending) }
                state.slots[name]!.pendingRestart = nil
            }
            defer { state.listener = nil }
            return (first, state.workers, state.listener)
        }
        guard first else {
            await waitForShutdown()
            return
        }
        listener?.stop()
        await withTaskGroup(of: Void.self) { group in
            for worker in workers { group.addTask { await worker.terminate(gracePeriod: gracePeriod) } }
        }
        // Starts that were in progress saw `shuttingDown` and ended their workers; wait for them.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state in
                if state.startsInProgress == 0 { return true }
                state.startWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
        reactor.shutdown()
        let (subscribers, waiters) = state.withLock { state in
            state.shutDown = true
            defer {
                state.subscribers = [:]
                state.shutdownWaiters = []
            }
            return (Array(state.subscribers.values), state.shutdownWaiters)
        }
        subscribers.forEach { $0.finish() }
        waiters.forEach { $0.resume() }
        context.logger.debug("function host shut down")
    }

    private func waitForShutdown() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state in
                if state.shutDown { return true }
                state.shutdownWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Service: runs until graceful shutdown (or cancellation), then shuts down with
    /// `configuration.shutdownGracePeriod` (zero when cancelled).
    public func run() async throws {
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await waitForShutdown()
            } onGracefulShutdown: {
                Task { await self.shutdown(gracePeriod: self.configuration.shutdownGracePeriod) }
            }
        } onCancel: {
            Task { await self.shutdown(gracePeriod: .zero) }
        }
    }
}
