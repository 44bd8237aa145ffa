// WorkerConnection — the host's I/O for one worker: its segment, the async sender of the
// host → worker ring, the reader task of the worker → host ring, its process watch, and the
// protocol state (WorkerLifecycle, InvocationTable) under one Mutex. Start-up and invocations are
// here; the reader and the end of the connection are in WorkerConnection+Reader.swift.
#if canImport(Glibc)
import Glibc
#endif
import Atomics
import Logging
import RingCore
import RingLinux
import Synchronization

final class WorkerConnection: Sendable {
    typealias Waiter = InvocationWaiter
    typealias Outcome = Result<InvocationResult, any Error>

    struct State {
        var lifecycle = WorkerLifecycle()
        var table = InvocationTable<Waiter, Outcome>()
        var hello: WorkerHello?
        var helloWaiter: CheckedContinuation<WorkerHello, any Error>?
        var helloArrived: Result<WorkerHello, any Error>?
        var controlWaiters: [UInt64: CheckedContinuation<ControlMessage, any Error>] = [:]
        /// Control requests are numbered apart from invocations (`ChannelProtocol.firstControlID`).
        var nextControlID = ChannelProtocol.firstControlID
        /// The poller draining the worker → host ring (nil once it ended).
        var reader: LinkReader?
        var readerDone = false
        var exited = false
        /// The error in-flight invocations got (set when the connection ended).
        var endError: ChannelError?
        var terminateRequested = false
        var closedWaiters: [CheckedContinuation<Void, Never>] = []
        var timers: [TimerToken] = []
        var recheckTimer: TimerToken?
        var liveness = LivenessWatch()
    }

    let id: WorkerID
    let process: WorkerProcess
    let segment: SharedMemorySegment
    let sender: RingSender
    let context: HostContext
    let state = RingMutex(State())
    /// Set (first thing) when the connection ends, before the pool hears of it: the dispatcher reads
    /// it without taking `state`, so a dying worker — idle, hence least loaded — does not attract
    /// invocations in the window before it leaves the ready set (found by `ringbench stress`).
    let ended = Atomic<Bool>(false)
    /// Invocations the pool handed this worker and that have not finished (FunctionHost.dispatch).
    let dispatched = Atomic<Int>(0)
    /// Invocations whose completion reads the answer in place and has not run yet: while there are
    /// none, the reader skips the look at the waiter that reading in place needs.
    let inPlaceWaiting = Atomic<Int>(0)
    /// Frames read from the worker, ever (the liveness watch's sign of life).
    let framesReceived = Atomic<UInt64>(0)
    /// When the reader last sampled the ring-occupancy gauges and the wake counters (reactor
    /// clock); touched by the reader's thread only. They are sampled at most once per
    /// `occupancySampleNanoseconds` while the worker's messages arrive.
    let occupancySampledAt = Atomic<UInt64>(0)
    static let occupancySampleNanoseconds: UInt64 = 1_000_000
    /// Told once when the connection ends (the pool drops it and may restart the slot); the error
    /// is nil after an orderly terminate.
    let onEnded: @Sendable (WorkerConnection, ChannelError?) -> Void

    var pid: Int32 { process.pid }
    var reactor: Reactor { context.reactor }

    init(
        id: WorkerID, process: WorkerProcess, segment: SharedMemorySegment, context: HostContext,
        onEnded: @escaping @Sendable (WorkerConnection, ChannelError?) -> Void
    ) {
        self.id = id
        self.process = process
        self.segment = segment
        self.context = context
        self.onEnded = onEnded
        let waker = ReactorWaker(context.reactor)
        sender = RingSender(segment.takeProducer(waker: waker)!, reactor: context.reactor, profile: context.configuration.waitProfile)
    }

    var ringSizes: ChannelRingSizes {
        let c = segment.configuration
        return ChannelRingSizes(
            hostToWorkerCapacity: UInt64(c.hostToWorkerCapacity), workerToHostCapacity: UInt64(c.workerToHostCapacity),
            maxFrameLength: UInt64(c.maxFrameLength), maxMessageSize: UInt64(c.maxMessageSize))
    }

    var maxMessageSize: Int { segment.configuration.maxMessageSize }

    // MARK: Start

    /// Starts the reader, watches the process, and runs handshake, init and function loads. Returns
    /// the worker's hello once it is ready; on any failure the worker is killed and the typed
    /// error thrown.
    func start(expectedPID: Int32?, functions: [(String, [UInt8])]) async throws(ChannelError) -> WorkerHello {
        let reader = LinkReader(segment.takeConsumer(waker: ReactorWaker(reactor))!, reactor: reactor, delegate: self)
        state.withLock { $0.reader = reader }
        reader.start()
        scheduleRecheck()
        do {
            try reactor.watchProcess(pid: pid) { [self] result in processEnded(result) }
        } catch {
            apply(state.withLock { $0.lifecycle.startFailed("cannot watch pid \(pid)") }, error: .system(error))
            throw .system(error)
        }
        let timer = reactor.schedule(at: Reactor.now() &+ context.configuration.startTimeout.nanosecondsClamped) { [self] result in
            guard result == .fired else { return }
            let action = state.withLock { $0.lifecycle.phase == .starting || $0.lifecycle.phase == .initializing ? $0.lifecycle.startFailed("timeout") : .none }
            apply(action, error: .startTimedOut(workerID: id, pid: pid))
        }
        defer { reactor.cancel(timer) }
        let configuration = context.configuration
        let hostHello = HostHello(
            protocolVersions: configuration.protocolVersions, workerID: id.description, hostPID: getpid(), ringSizes: ringSizes,
            waitBackend: reactor.backend.kind.rawValue, capabilities: configuration.capabilities)
        do {
            try await sender.send(kind: .handshake, streamId: 0, payload: hostHello.encoded())
            let workerHello: WorkerHello
            do { workerHello = try await awaitHello() } catch let error as ChannelError {
                // An undecodable WorkerHello ends the start like a mismatch does: the worker is
                // killed and the caller gets the error (it used to wait for the worker to exit).
                if case .handshakeRejected = error { apply(state.withLock { $0.lifecycle.startFailed("handshake") }, error: error) }
                throw error
            }
            do throws(HandshakeMismatch) {
                _ = try HandshakeCheck.evaluate(
                    host: hostHello, worker: workerHello, expectedPID: expectedPID,
                    requiredWorkerCapabilities: configuration.requiredWorkerCapabilities)
            } catch {
                let failure = ChannelError.handshakeRejected(workerID: id, pid: pid, mismatch: error)
                apply(state.withLock { $0.lifecycle.startFailed("handshake") }, error: failure)
                throw failure
            }
            guard state.withLock({ $0.lifecycle.handshakeSucceeded() }) else { throw endError() }
            let initAnswer = try await request(.workerInit(hostVersion: configuration.hostVersion, payload: configuration.workerInitPayload))
            guard case .workerInitResponse(let result, _, _) = initAnswer else {
                throw violation("answered worker init with \(initAnswer)")
            }
            if case .failure(let message) = result {
                let failure = ChannelError.workerInitFailed(workerID: id, pid: pid, message: message)
                apply(state.withLock { $0.lifecycle.startFailed("init") }, error: failure)
                throw failure
            }
            for (function, metadata) in functions { try await load(function: function, metadata: metadata) }
            guard state.withLock({ $0.lifecycle.initialized() }) else { throw endError() }
            // The liveness watch starts with the worker ready: until then the start has its own
            // timeout (`startTimeout`), and a worker that is still starting cannot answer a ping.
            scheduleLivenessCheck()
            return workerHello
        } catch let error as ChannelError {
            throw error
        } catch {
            throw endError(fallback: error)
        }
    }

    /// Sends a function load and waits for the worker's answer; a failure ends start-up (during
    /// start) or is reported to the caller (at run time).
    func load(function: String, metadata: [UInt8]) async throws(ChannelError) {
        let answer: ControlMessage
        do { answer = try await request(.functionLoad(functionID: function, metadata: metadata)) } catch let error as ChannelError {
            throw error
        } catch { throw endError(fallback: error) }
        guard case .functionLoadResponse(let loaded, let result) = answer, loaded == function else {
            throw violation("answered the load of \(function) with \(answer)")
        }
        if case .failure(let message) = result {
            let failure = ChannelError.functionLoadFailed(workerID: id, pid: pid, function: function, message: message)
            if state.withLock({ $0.lifecycle.phase == .initializing }) {
                apply(state.withLock { $0.lifecycle.startFailed("function load") }, error: failure)
            }
            throw failure
        }
    }

    /// Asks the worker for its status; nil when `timeout` passes first.
    func status(timeout: Duration) async throws(ChannelError) -> WorkerStatus {
        let answer: ControlMessage
        do {
            answer = try await request(.statusRequest, timeout: timeout)
        } catch let error as ChannelError {
            throw error
        } catch { throw endError(fallback: error) }
        guard case .statusResponse(let status) = answer else { throw violation("answered a status request with \(answer)") }
        return status
    }

    private func awaitHello() async throws -> WorkerHello {
        try await withCheckedThrowingContinuation { continuation in
            let arrived: Result<WorkerHello, any Error>? = state.withLock { state in
                if let arrived = state.helloArrived { return arrived }
                if let error = state.endError { return .failure(error) }
                state.helloWaiter = continuation
                return nil
            }
            if let arrived { continuation.resume(with: arrived) }
        }
    }

    /// Sends a control request and waits for the answer with the same stream id.
    private func request(_ message: ControlMessage, timeout: Duration? = nil) async throws -> ControlMessage {
        let correlation = state.withLock { state in
            defer { state.nextControlID += 1 }
            return state.nextControlID
        }
        var timer: TimerToken?
        if let timeout {
            timer = reactor.schedule(at: Reactor.now() &+ timeout.nanosecondsClamped) { [self] result in
                guard result == .fired else { return }
                let waiter = state.withLock { $0.controlWaiters.removeValue(forKey: correlation) }
                waiter?.resume(throwing: ChannelError.statusTimedOut(workerID: id))
            }
        }
        defer { if let timer { reactor.cancel(timer) } }
        return try await withCheckedThrowingContinuation { continuation in
            let failure = state.withLock { state -> ChannelError? in
                if let error = state.endError { return error }
                state.controlWaiters[correlation] = continuation
                return nil
            }
            if let failure {
                continuation.resume(throwing: failure)
                return
            }
            Task {
                do {
                    try await sender.send(kind: .control, streamId: correlation, payload: message.encoded())
                } catch {
                    let waiter = state.withLock { $0.controlWaiters.removeValue(forKey: correlation) }
                    waiter?.resume(throwing: endError(fallback: error))
                }
            }
        }
    }

    /// Wakes a sleeping reader every `readerRecheckInterval` the way a producer would (flip its
    /// waiter word, then wake), so it looks at the ring even if the worker never wakes it.
    private func scheduleRecheck() {
        let deadline = Reactor.now() &+ context.configuration.readerRecheckInterval.nanosecondsClamped
        // `self`, not `weak self`: a weak reference gives the object a side table for life, and every
        // retain of the connection on the invocation path then takes the runtime's slow path
        // (`incrementSlow`, ≈ 6 % of the host's reactor thread at 64 in flight). The timer holds the
        // connection at most one interval after it ends (it stops re-arming then), and the reactor
        // drops it at shutdown.
        let token = reactor.schedule(at: deadline) { [self] result in
            guard result == .fired, state.withLock({ $0.endError == nil }) else { return }
            let word = segment.geometry(.workerToHost).consumerWaiterAddress
            let atomic = UnsafeAtomic<UInt32>(at: word.assumingMemoryBound(to: UInt32.AtomicRepresentation.self))
            // Same claim as RingProducer.publish: only the side that flips sleeping → awake wakes.
            if atomic.compareExchange(expected: RingWaiter.sleeping, desired: RingWaiter.awake, ordering: .sequentiallyConsistent).exchanged {
                reactor.wakeNow(word)
            }
            scheduleRecheck()
        }
        state.withLock { $0.recheckTimer = token }
    }

    /// The liveness watch (`FunctionHostConfiguration.livenessTimeout`), every half timeout on the
    /// reactor from the moment the worker is ready: a worker that holds invocations and sent no frame
    /// since the last look is asked for its status, with the other half as the answer's timeout; no
    /// answer, and it has stalled.
    private func scheduleLivenessCheck() {
        guard let timeout = context.configuration.livenessTimeout else { return }
        let half = timeout / 2
        // `self`, not `weak self` (see `scheduleRecheck`): it stops re-arming once the connection ended.
        let token = reactor.schedule(at: Reactor.now() &+ half.nanosecondsClamped) { [self] result in
            guard result == .fired else { return }
            let frames = framesReceived.load(ordering: .relaxed)
            let (ping, alive) = state.withLock { state -> (Bool, Bool) in
                guard state.endError == nil else { return (false, false) }
                return (state.liveness.look(frames: frames, pending: state.table.outstanding > 0 || !state.controlWaiters.isEmpty), true)
            }
            guard alive else { return }
            scheduleLivenessCheck()
            guard ping else { return }
            Task {
                defer { self.state.withLock { $0.liveness.pingEnded() } }
                do throws(ChannelError) {
                    _ = try await self.status(timeout: half)
                } catch .statusTimedOut {
                    self.apply(self.state.withLock { $0.lifecycle.stalled(timeout) }, error: .workerStalled(workerID: self.id, pid: self.pid, silentFor: timeout))
                } catch {
                    // The connection ended some other way: nothing to decide.
                }
            }
        }
        state.withLock { $0.liveness.timer = token }
    }

    // MARK: Invocations

    /// Runs one invocation on this worker. `context` already carries the effective deadline.
    nonisolated(nonsending) func invoke(function: String, payload: RequestPayload, context invocationContext: ForwardingContext, deadline: UInt64?) async throws -> InvocationResult {
        // A task cancelled before it invokes sends nothing.
        try Task.checkCancellation()
        let started = try start(function: function, payload: payload, context: invocationContext, deadline: deadline)
        let number = started.number
        defer { if let timer = started.timer { reactor.cancel(timer) } }
        func wait(_ continuation: InvocationContinuation) {
            let waiter = InvocationWaiter.single(continuation)
            let attached = state.withLock { $0.table.attach(number, waiter, sent: started.written) }
            if case .resume(let outcome) = attached.action { continuation.resume(with: outcome) }
            if attached.sendCancel { sendCancel(number) }
        }
        return try await withTaskCancellationHandler {
            #if DEBUG
            try await withCheckedThrowingContinuation(wait)
            #else
            try await withUnsafeThrowingContinuation(wait)
            #endif
        } onCancel: {
            abandon(number, .failure(CancellationError()))
        }
    }

    /// One invocation, checked and sized (its context carries the effective deadline): what `invoke`,
    /// `submit` and a batch all send. The request
    /// is built in the ring's frame when it fits one (`transmit`); `requestPrefix` and the payload, written back to back, for the rest.
    struct PreparedInvocation {
        let context: ForwardingContext
        let deadline: UInt64?
        let function: String
        let payload: RequestPayload
        /// Bytes of the request payload (prefix, function name, payload).
        let requestSize: Int
        let contextSize: Int

        /// The request payload in an array of its own (for the async sender).
        /// The request's prefix alone (the payload follows it in the frames).
        var requestPrefix: [UInt8] { InvocationRequestPrefix.encode(function: function, payload: []) }
    }

    /// Checks and sizes one request (`function` is validated); the error is the one `invoke` would
    /// throw for it.
    func prepare(function: String, payload: RequestPayload, context invocationContext: ForwardingContext, deadline: UInt64?) throws(ChannelError) -> PreparedInvocation {
        let contextSize: Int
        do { contextSize = try invocationContext.validatedEncodedSize() } catch { throw .invalidContext(error) }
        let requestSize = InvocationRequestPrefix.size(validatedFunction: function, payloadCount: payload.count)
        guard requestSize <= maxMessageSize else { throw .messageTooLarge(size: requestSize, limit: maxMessageSize) }
        return PreparedInvocation(
            context: invocationContext, deadline: deadline, function: function, payload: payload, requestSize: requestSize,
            contextSize: contextSize)
    }

    /// An invocation registered, its deadline armed and its request written or queued: what
    /// `invoke` and `submit` share before they wait in their own ways.
    struct Started {
        let number: UInt64
        let timer: TimerToken?
        /// Wholly in the ring already (`attach(sent: true)` marks it sent).
        let written: Bool
    }

    /// Registers the invocation, arms its deadline and writes the request (in place when it fits,
    /// before the caller waits: attaching the waiter then marks it sent under the same lock, so
    /// register, attach and the response are the only three times the table is taken).
    func start(function: String, payload: RequestPayload, context invocationContext: ForwardingContext, deadline: UInt64?) throws -> Started {
        let item = try prepare(function: function, payload: payload, context: invocationContext, deadline: deadline)
        let invocationID = invocationContext.invocationId
        let number = try state.withLock { state throws(ChannelError) -> UInt64 in
            if let error = state.endError { throw error }
            guard state.lifecycle.acceptsInvocations, let number = state.table.register(invocationID: invocationID) else {
                throw .workerNotReady(id)
            }
            return number
        }
        var timer: TimerToken?
        if let deadline {
            timer = reactor.schedule(at: deadline) { [self] result in
                guard result == .fired else { return }
                abandon(number, .failure(ChannelError.deadlineExceeded(workerID: id, invocationID: invocationID)))
            }
        }
        return Started(number: number, timer: timer, written: transmit(number, item) == .written)
    }

    /// Starts one invocation whose outcome goes to `completion` (called exactly once, on the thread
    /// that settles it) instead of resuming a task. Returns its number, for `abandon`.
    func submit(
        function: String, payload: RequestPayload, context invocationContext: ForwardingContext, deadline: UInt64?,
        completion: @escaping @Sendable (Result<InvocationResult, any Error>) -> Void
    ) throws -> UInt64 {
        let started = try start(function: function, payload: payload, context: invocationContext, deadline: deadline)
        let timer = started.timer
        // Without a deadline the caller's completion is the waiter itself: no closure wrapped around
        // it (an allocation and the retains and releases of what it captures, per invocation).
        let waiter: InvocationWaiter
        if let timer {
            waiter = .completion { [reactor] outcome in
                reactor.cancel(timer)
                completion(outcome)
            }
        } else {
            waiter = .completion(completion)
        }
        return attach(waiter, to: started)
    }

    /// `submit` whose completion reads the answer in place (`InvocationReplyView`).
    func submitReadingInPlace(
        function: String, payload: RequestPayload, context invocationContext: ForwardingContext, deadline: UInt64?,
        completion: @escaping InvocationReplyCompletion
    ) throws -> UInt64 {
        inPlaceWaiting.wrappingAdd(1, ordering: .relaxed)
        let started: Started
        do {
            started = try start(function: function, payload: payload, context: invocationContext, deadline: deadline)
        } catch {
            inPlaceWaiting.wrappingSubtract(1, ordering: .relaxed)
            throw error
        }
        // As in `submit`: the caller's completion is the waiter itself unless a timer must be cancelled.
        let waiter: InvocationWaiter
        if let timer = started.timer {
            waiter = .inPlace({ [reactor] outcome in
                reactor.cancel(timer)
                completion(outcome)
            }, counted: self)
        } else {
            waiter = .inPlace(completion, counted: self)
        }
        return attach(waiter, to: started)
    }

    /// Attaches a completion's waiter to a started invocation (resuming it at once when the outcome
    /// came first); returns the invocation's number.
    private func attach(_ waiter: InvocationWaiter, to started: Started) -> UInt64 {
        let number = started.number
        let attached = state.withLock { $0.table.attach(number, waiter, sent: started.written) }
        if case .resume(let outcome) = attached.action { waiter.resume(with: outcome) }
        if attached.sendCancel { sendCancel(number) }
        return number
    }

    /// How `transmit` dealt with a request.
    enum Transmission {
        /// Wholly in the ring; the caller marks it sent (`markSent`, or `attach(sent: true)`).
        case written
        /// The async sender writes it and marks it sent.
        case queued
        /// The ring failed: the invocation already has its failure.
        case failed
    }

    /// Writes the request: built in place in the ring at once when it fits one frame and the ring
    /// has room (no task, no await, no array in between), else through the async sender (waiting
    /// for space; fragments for large payloads).
    func transmit(_ number: UInt64, _ item: PreparedInvocation) -> Transmission {
        if FrameHeader.size + item.contextSize + item.requestSize <= sender.writer.maxFrameLength {
            do {
                let outcome: WriteOutcome
                if case .bytes(let bytes) = item.payload {
                    outcome = try bytes.withUnsafeBytes { payload throws(RingError) in
                        try sender.writer.tryWriteFrame(
                            kind: .invocationRequest, streamId: number, context: item.context, contextLength: item.contextSize,
                            payloadLength: item.requestSize
                        ) { out in
                            InvocationRequestPrefix.write(validatedFunction: item.function, payload: payload, into: out)
                        }
                    }
                } else {
                    // Built where it goes: the prefix, then the caller's writer over the rest of the frame.
                    outcome = try sender.writer.tryWriteFrame(
                        kind: .invocationRequest, streamId: number, context: item.context, contextLength: item.contextSize,
                        payloadLength: item.requestSize
                    ) { out in
                        let prefix = item.requestSize - item.payload.count
                        InvocationRequestPrefix.write(
                            validatedFunction: item.function, payload: UnsafeRawBufferPointer(start: nil, count: 0),
                            into: UnsafeMutableRawBufferPointer(rebasing: out[..<prefix]))
                        item.payload.write(into: UnsafeMutableRawBufferPointer(rebasing: out[prefix...]))
                    }
                }
                if outcome == .written { return .written }
            } catch {
                transmitFailed(number, error)
                return .failed
            }
        }
        // The prefix and the caller's payload go into the ring's fragments back to back: a large
        // request is not concatenated first (that whole-message copy ran on the caller's thread,
        // often the host's reactor, and held up every small invocation behind it).
        let (context, prefix, payload) = (item.context, item.requestPrefix, item.payload.materialized())
        // On the host's reactor, like the worker's large replies (ChannelWorker.respond): a sender
        // waiting for space takes turns with the reader there, fragment by fragment, where a pool
        // thread copying and spinning beside the two reactor threads took a CPU from one of them
        // (2 vCPUs: the kernel's time slices then stalled every small invocation for milliseconds).
        Task(executorPreference: reactor.executor) { [self] in
            do {
                try await sender.send(kind: .invocationRequest, streamId: number, context: context, prefix: prefix, payload: payload)
                sent(number)
            } catch {
                transmitFailed(number, error)
            }
        }
        return .queued
    }

    func sent(_ number: UInt64) {
        if state.withLock({ $0.table.markSent(number) }) { sendCancel(number) }
    }

    private func transmitFailed(_ number: UInt64, _ error: any Error) {
        if case RingError.protocolViolation(let detail) = error {
            // The worker corrupted our ring's head: isolate it.
            apply(state.withLock { $0.lifecycle.violation(detail) }, error: .protocolViolation(workerID: id, pid: pid, detail: detail))
        }
        // endError takes the state lock itself: compute it before taking the lock (calling it inside
        // trapped with "Recursive call to lock Mutex" when a worker died during a send — found by
        // `ringbench stress --kill-every`).
        let failure = endError(fallback: error)
        let resume = state.withLock { $0.table.transmitFailed(number, .failure(failure)) }
        if let (waiter, outcome) = resume { waiter.resume(with: outcome) }
    }

    /// The caller gave up (cancellation or deadline): it gets `outcome` now, and the worker a cancel.
    func abandon(_ number: UInt64, _ outcome: Outcome) {
        let action = state.withLock { $0.table.abandon(number, outcome) }
        if let (waiter, outcome) = action.resume { waiter.resume(with: outcome) }
        if action.sendCancel { sendCancel(number) }
    }

    /// Tells the worker to cancel invocation `number` (a tiny frame: in place when there is room).
    func sendCancel(_ number: UInt64) {
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        if (try? sender.writer.tryWrite(kind: .invocationCancel, streamId: number, payload: empty)) == .written { return }
        Task { try? await sender.send(kind: .invocationCancel, streamId: number, payload: []) }
    }

    /// Invocations this worker owes an answer for.
    var outstanding: Int { state.withLock { $0.table.outstanding } }

    var acceptsInvocations: Bool { state.withLock { $0.lifecycle.acceptsInvocations } }

    var hello: WorkerHello? { state.withLock { $0.hello } }

    // MARK: Errors

    /// The error the connection ended with, or `fallback` mapped to a channel error.
    func endError(fallback: (any Error)? = nil) -> ChannelError {
        if let error = state.withLock({ $0.endError }) { return error }
        if let error = fallback as? ChannelError { return error }
        if let error = fallback as? RingError, case .protocolViolation(let detail) = error {
            return .protocolViolation(workerID: id, pid: pid, detail: detail)
        }
        return .workerNotReady(id)
    }

    /// Ends the connection with a protocol violation found outside the reader; returns the error.
    func violation(_ detail: String) -> ChannelError {
        let error = ChannelError.protocolViolation(workerID: id, pid: pid, detail: detail)
        apply(state.withLock { $0.lifecycle.violation(detail) }, error: error)
        return endError(fallback: error)
    }
}

/// Moves the non-copyable receiver into the reader task exactly once.
final class ReceiverSlot: @unchecked Sendable {
    private var receiver: RingReceiver?
    init(_ receiver: consuming RingReceiver) { self.receiver = .some(receiver) }
    func take() -> RingReceiver { receiver.take()! }
}
