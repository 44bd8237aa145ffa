// ChannelWorker — the worker side of the channel: attach to the host's segment (inherited descriptor
// or Unix socket), answer the handshake, run invocations concurrently up to a limit, honour cancels
// and terminate's grace period, forward logs, and notice when the host goes away.
#if canImport(Glibc)
import Glibc
#endif
public import Logging
import RingCore
package import RingLinux
import Synchronization

/// A worker process's end of the channel.
///
/// ```swift
/// let worker = try ChannelWorker.connectFromEnvironment(logger: logger)
/// try await worker.run { invocation in .success(invocation.payload) }
/// ```
public final class ChannelWorker: Sendable {
    public let configuration: WorkerConfiguration
    /// The attached segment (for tools and tests that need the raw rings).
    package let segment: SharedMemorySegment
    /// The worker's reactor (its waits, timers and the watch on the host process).
    package let reactor: Reactor
    /// The id the host assigned (echoed in the handshake).
    public let workerID: String
    let sender: RingSender
    let receiverSlot: ReceiverSlot
    let logSink: LogSink
    /// Where the worker logs about itself locally (never bootstrapped here).
    let diagnostics: Logger
    let state: RingMutex<RuntimeState>
    /// Invocations answered inline outside the scheduler's books (`WorkerScheduler.mayRunOutside`):
    /// added to the scheduler's `completed` in status answers.
    let completedOutside = Atomic<UInt64>(0)

    struct Pending: Sendable {
        let function: String
        let payload: [UInt8]
        /// The request's context, which the reply carries back: encoded into the reply's frame
        /// (decoding accepts only the canonical encoding, so the bytes are the request's own).
        let context: ForwardingContext
    }

    struct RuntimeState {
        var scheduler: WorkerScheduler<Pending>
        var tasks: [UInt64: Task<Void, Never>] = [:]
        /// Tasks that answer or report outside a handler (cancelled answers, control replies); each
        /// removes itself when done, so a long-lived worker does not accumulate them.
        var auxiliary: [UInt64: Task<Void, Never>] = [:]
        var nextAuxiliary: UInt64 = 0
        var running = false
        var terminating = false
        var outcome: Result<Void, ChannelWorkerError>?
        var doneWaiter: CheckedContinuation<Void, Never>?
        var graceTimer: TimerToken?
        /// Deferred mode (`DeferredInvocationDelegate`, the C ABI): the receiver of invocations, and
        /// the invocations it holds until `answerDeferred` (each in the scheduler's running set).
        var deferral: (any DeferredInvocationDelegate)?
        var deferred: [UInt64: Pending] = [:]
    }

    init(segment: SharedMemorySegment, reactor: Reactor, workerID: String, configuration: WorkerConfiguration, logger: Logger) {
        self.segment = segment
        self.reactor = reactor
        self.workerID = workerID
        self.configuration = configuration
        self.diagnostics = logger
        let waker = ReactorWaker(reactor)
        sender = RingSender(segment.takeProducer(waker: waker)!, reactor: reactor, profile: configuration.waitProfile)
        receiverSlot = ReceiverSlot(RingReceiver(segment.takeConsumer(waker: waker)!, reactor: reactor, profile: configuration.waitProfile))
        logSink = LogSink(limit: configuration.logBufferLimit)
        state = RingMutex(RuntimeState(scheduler: WorkerScheduler(maxConcurrency: configuration.maxConcurrency)))
    }

    // MARK: Connecting

    /// Connects as the environment says: an inherited segment (`RING_SEGMENT_FD`, with
    /// `RING_WORKER_ID` and, on the eventfd backend, `RING_CHANNEL_DOORBELL_FDS`) or the host's
    /// socket (`RING_CHANNEL_SOCKET`).
    public static func connectFromEnvironment(configuration: WorkerConfiguration = WorkerConfiguration(), logger: Logger) throws -> ChannelWorker {
        typealias E = ChannelProtocol.Environment
        if let text = ProcessEnvironment.value(E.segmentDescriptor) {
            guard let descriptor = Int32(text), descriptor >= 0 else { throw ChannelWorkerError.notConfigured("\(E.segmentDescriptor)=\(text)") }
            let doorbells = (ProcessEnvironment.value(E.doorbellDescriptors) ?? "").split(separator: ",").compactMap { Int32($0) }
            return try attach(
                descriptor: descriptor, workerID: ProcessEnvironment.value(E.workerID) ?? "worker", doorbells: doorbells, backend: nil,
                configuration: configuration, logger: logger)
        }
        if let path = ProcessEnvironment.value(E.socketPath) {
            return try connect(socketPath: path, configuration: configuration, logger: logger)
        }
        throw ChannelWorkerError.notConfigured("neither \(E.segmentDescriptor) nor \(E.socketPath) is set")
    }

    /// Connects to a host listening on `socketPath` (`FunctionHost.listen(on:)`): receives the
    /// link greeting with the segment memfd (and doorbells) over SCM_RIGHTS (LinkHandOver), then
    /// attaches. A socket that is not a function host's (another link protocol, another greeting
    /// version) throws a `LinkError` naming both sides.
    public static func connect(socketPath: String, configuration: WorkerConfiguration = WorkerConfiguration(), logger: Logger) throws -> ChannelWorker {
        let link = try LinkHandOver.receive(path: socketPath, expecting: .ringChannel)
        return try attach(
            descriptor: link.segmentDescriptor, workerID: link.greeting.name ?? "worker", doorbells: link.doorbellDescriptors,
            backend: link.greeting.backend, configuration: configuration, logger: logger)
    }

    /// Attaches to a segment descriptor this process owns.
    package static func attach(
        descriptor: Int32, workerID: String, doorbells: [Int32] = [], backend: ReactorBackendKind? = nil,
        configuration: WorkerConfiguration = WorkerConfiguration(), logger: Logger
    ) throws -> ChannelWorker {
        let reactor: Reactor
        // The reactor's thread reads the host's ring (WorkerReader) and runs inline invocations; it
        // waits the way the configuration's wait profile says.
        let options = ReactorOptions(idleProfile: configuration.waitProfile)
        do {
            reactor = try backend.map { try Reactor(backend: $0, options: options) } ?? Reactor(options: options)
        } catch {
            close(descriptor)
            doorbells.forEach { close($0) }
            throw error
        }
        let segment: SharedMemorySegment
        do {
            segment = try SharedMemorySegment.attach(descriptor: OwnedDescriptor(adopting: descriptor), role: .worker)
        } catch {
            doorbells.forEach { close($0) }
            reactor.shutdown()
            throw ChannelWorkerError.attachFailed("\(error)")
        }
        // Eventfd backend: adopt the host's doorbells before the first wait on any word.
        for (doorbell, word) in zip(doorbells, FunctionHost.waiterWords(segment)) {
            try reactor.adoptDoorbell(descriptor: doorbell, for: word)
        }
        return ChannelWorker(segment: segment, reactor: reactor, workerID: workerID, configuration: configuration, logger: logger)
    }

    /// A logger whose records go to the host's logger (not tied to an invocation).
    public func hostLogger(label: String = "worker") -> Logger {
        let sink = logSink
        return Logger(label: label) { label in ChannelLogHandler(sink: sink, label: label, invocation: nil) }
    }

    /// Log records dropped because the buffer towards the host was full.
    public var droppedLogRecords: UInt64 { logSink.droppedCount }

    // MARK: Running

    /// Runs `handler` for every invocation until the host terminates the worker (returns) or goes
    /// away / breaks the protocol (throws `ChannelWorkerError`).
    public func run(_ handler: @escaping @Sendable (Invocation) async throws -> InvocationReply) async throws {
        try await run(delegate: ClosureDelegate(handler: handler))
    }

    /// Runs with a delegate that also answers worker init and function loads.
    public func run(delegate: some ChannelWorkerDelegate) async throws {
        guard state.withLock({ state in
            defer { state.running = true }
            return !state.running
        }) else { throw ChannelWorkerError.alreadyRunning }
        if let deferral = delegate as? any DeferredInvocationDelegate { state.withLock { $0.deferral = deferral } }
        let sender = sender
        let logWriter = Task {
            for await record in logSink.stream {
                try? await sender.send(kind: .log, streamId: record.invocationNumber ?? 0, payload: record.encoded())
            }
        }
        var receiver = receiverSlot.take()
        let hostHello: HostHello
        do {
            hostHello = try await receiveHello(&receiver)
            let sizes = segment.configuration
            let hello = WorkerHello(
                protocolVersions: configuration.protocolVersions,
                protocolVersion: WorkerHello.chooseVersion(host: hostHello.protocolVersions, worker: configuration.protocolVersions),
                workerID: workerID, workerPID: getpid(),
                ringSizes: ChannelRingSizes(
                    hostToWorkerCapacity: UInt64(sizes.hostToWorkerCapacity), workerToHostCapacity: UInt64(sizes.workerToHostCapacity),
                    maxFrameLength: UInt64(sizes.maxFrameLength), maxMessageSize: UInt64(sizes.maxMessageSize)),
                maxMessageSize: configuration.maxMessageSize ?? UInt64(sizes.maxMessageSize), waitBackend: reactor.backend.kind.rawValue,
                capabilities: configuration.capabilities, requiredHostCapabilities: configuration.requiredHostCapabilities,
                maxConcurrency: UInt32(clamping: configuration.maxConcurrency), runtime: configuration.runtime)
            try await sender.send(kind: .handshake, streamId: 0, payload: hello.encoded())
        } catch {
            await finishRun(reader: nil, logWriter: logWriter)
            throw error
        }
        do {
            try reactor.watchProcess(pid: hostHello.hostPID) { [self] result in
                if case .exited = result { end(.failure(.hostExited)) }
            }
        } catch {
            diagnostics.warning("cannot watch the host process \(hostHello.hostPID): \(error)")
        }
        let reader = LinkReader(reader: receiver.intoReader(), reactor: reactor, delegate: WorkerReader(worker: self, delegate: delegate))
        reader.start()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state in
                if state.outcome != nil { return true }
                state.doneWaiter = continuation
                return false
            }
            if done { continuation.resume() }
        }
        let outcome = state.withLock { $0.outcome! }
        if case .failure = outcome { sender.abort(with: RingError.closed) }
        await finishRun(reader: reader, logWriter: logWriter)
        try outcome.get()
    }

    private func receiveHello(_ receiver: inout RingReceiver) async throws -> HostHello {
        while true {
            var hello: Result<HostHello, ChannelWorkerError>?
            _ = try await receiver.receive(limit: 1) { message in
                guard message.kind == .handshake, message.streamId == 0 else {
                    hello = .failure(.protocolViolation("expected the host's handshake, got \(message.kind)"))
                    return
                }
                do { hello = .success(try HostHello(decoding: message.payload)) } catch {
                    hello = .failure(.protocolViolation("host handshake: \(error)"))
                }
            }
            if let hello { return try hello.get() }
        }
    }

    /// Ends `run` (first call wins).
    func end(_ outcome: Result<Void, ChannelWorkerError>) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.outcome == nil else { return nil }
            state.outcome = outcome
            defer { state.doneWaiter = nil }
            return state.doneWaiter
        }
        waiter?.resume()
    }

    /// Stops the reader, lets every handler answer (cancelling them if the run failed), flushes the
    /// logs, closes our ring and stops the reactor.
    private func finishRun(reader: LinkReader?, logWriter: Task<Void, Never>) async {
        await reader?.stopAndWait()
        let failed = state.withLock { state in
            if let graceTimer = state.graceTimer { reactor.cancel(graceTimer) }
            if case .failure = state.outcome { return true }
            return false
        }
        while true {
            let tasks = state.withLock { state -> [Task<Void, Never>] in
                return Array(state.tasks.values) + Array(state.auxiliary.values)
            }
            if tasks.isEmpty { break }
            for task in tasks {
                if failed {
                    // Nobody reads our answers any more: cancel, and do not wait for handlers that
                    // ignore cancellation (the process must still be able to exit).
                    task.cancel()
                } else {
                    await task.value
                }
            }
            if failed { break }
        }
        logSink.finish()
        await logWriter.value
        sender.close()
        reactor.shutdown()
    }
}
