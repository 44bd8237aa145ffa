// WorkerConnection+Reader — what the worker's messages do (its LinkReader drains the worker → host
// ring on the reactor thread and hands each message here): resolve what waits on it (invocations by
// stream id, control requests, the handshake), forward log records; and how the connection ends:
// exactly once, after the reader has delivered everything the worker published before it died.
#if canImport(Glibc)
import Glibc
#endif
import Atomics
import Logging
import RingCore
import RingLinux

extension WorkerConnection: LinkReaderDelegate {
    // MARK: LinkReaderDelegate (the worker → host ring's reader, on the reactor thread)

    func linkReader(received message: MessageView) -> String? { handle(message) }
    func linkReader(delivered count: Int) {
        // Sampled, not recorded per poll: at one invocation in flight every poll delivers one
        // message, and recording the gauges and the wake counters then cost ≈ 0.4 µs of each
        // invocation's ≈ 3 µs (two ring geometries, a lock, the reactor's counters).
        let now = Reactor.now()
        guard now &- occupancySampledAt.load(ordering: .relaxed) >= Self.occupancySampleNanoseconds else { return }
        occupancySampledAt.store(now, ordering: .relaxed)
        recordOccupancy()
    }
    func linkReader(ended end: LinkEnd) { readerEnded(end) }

    /// A large response is reassembled with its payload apart from the prefix (no copy of the
    /// whole message on the reactor thread when the caller takes it).
    func linkReader(splitting kind: FrameKind, firstFragment: UnsafeRawBufferPointer) -> Int? {
        kind == .invocationResponse ? InvocationResponsePrefix.splitLength(firstFragment) : nil
    }

    // MARK: Messages from the worker (on the reactor thread: LinkReader)

    /// Handles one message from the worker; returns a violation, or nil.
    func handle(_ message: MessageView) -> String? {
        framesReceived.wrappingAdd(1, ordering: .relaxed)
        switch message.kind {
        case .invocationResponse:
            return handleResponse(message)
        case .log:
            let record: LogRecord
            do { record = try LogRecord(decoding: message.payload) } catch { return "log record: \(error)" }
            forward(record)
            return nil
        case .control:
            let control: ControlMessage
            do { control = try ControlMessage(decoding: message.payload) } catch { return "control message: \(error)" }
            guard control.sender == .worker else { return "worker sent host control message \(control)" }
            let correlation = message.streamId
            let (waiter, issued) = state.withLock { state in
                (state.controlWaiters.removeValue(forKey: correlation), (ChannelProtocol.firstControlID..<state.nextControlID).contains(correlation))
            }
            if let waiter {
                waiter.resume(returning: control)
            } else if !issued || correlation == 0 {
                return "answer to control request \(correlation), which was never sent"
            }
            // Else: an answer that came after its request timed out.
            return nil
        case .handshake:
            let hello: Result<WorkerHello, any Error>
            do { hello = .success(try WorkerHello(decoding: message.payload)) } catch {
                hello = .failure(ChannelError.handshakeRejected(workerID: id, pid: pid, mismatch: .malformed("\(error)")))
            }
            let (duplicate, waiter) = state.withLock { state -> (Bool, CheckedContinuation<WorkerHello, any Error>?) in
                if state.helloArrived != nil { return (true, nil) }
                state.helloArrived = hello
                if case .success(let value) = hello { state.hello = value }
                defer { state.helloWaiter = nil }
                return (false, state.helloWaiter)
            }
            if duplicate { return "second handshake" }
            waiter?.resume(with: hello)
            return nil
        default:
            return "worker sent a \(message.kind) frame on stream \(message.streamId)"
        }
    }

    private func handleResponse(_ message: MessageView) -> String? {
        let responseContext: ForwardingContext
        do {
            guard let decoded = try message.decodeContext() else { return "invocation response \(message.streamId) without a context" }
            responseContext = decoded
        } catch { return "invocation response \(message.streamId) context: \(error)" }
        if inPlaceWaiting.load(ordering: .relaxed) > 0, let handled = respondInPlace(message, responseContext) { return handled }
        let status: InvocationStatus
        let payload: [UInt8]
        do {
            // A large response arrives split: its payload is already the array the caller gets.
            if let body = message.body {
                (status, payload) = try InvocationResponsePrefix.decode(prefix: message.payload, body: body)
            } else {
                (status, payload) = try InvocationResponsePrefix.decode(message.payload)
            }
        } catch {
            return "invocation response \(message.streamId): \(error)"
        }
        // The context handed to the caller is the one decoded from this response frame.
        let number = message.streamId
        let invocationID = responseContext.invocationId
        var outcome: Outcome? = .success(
            InvocationResult(status: status, payload: payload, context: responseContext, workerID: id, number: number))
        // The outcome moves into the table's action and on to the caller (no copy of the reply).
        let action = state.withLock { $0.table.response(number, invocationID: invocationID, outcome.take()!) }
        switch consume action {
        case .resume(let waiter, let outcome): waiter.resume(with: outcome)
        case .stored: break
        case .late: context.metrics.lateResponses.increment()
        case .violation(let detail): return detail
        }
        return nil
    }

    /// The answer to an invocation whose completion reads it in place: the completion gets a view of
    /// the payload where it lies (the frame in the ring, or a large answer's reassembled array) and
    /// no array is made. Nil when the invocation's waiter is not such a completion (or not attached
    /// yet): the caller then answers it the ordinary way, and the waiter, whichever it turns out to
    /// be, gets the outcome in an array. The result is what `handleResponse` returns (a violation or
    /// nil) once this answered.
    private func respondInPlace(_ message: MessageView, _ responseContext: ForwardingContext) -> String?? {
        let number = message.streamId
        let status: InvocationStatus
        var payload = UnsafeRawBufferPointer(start: nil, count: 0)  // a split answer's is its body's
        let body = message.body
        do {
            if body != nil {
                status = try InvocationResponsePrefix.decode(prefix: message.payload, body: []).status
            } else {
                (status, payload) = try InvocationResponsePrefix.decodeInPlace(message.payload)
            }
        } catch {
            return .some("invocation response \(number): \(error)")
        }
        // One look under the lock: if the attached waiter reads in place, the table settles the
        // invocation and resumes that same waiter (an attached waiter stays attached until its
        // outcome) with a stand-in outcome this function drops; else nothing changes and the answer
        // goes the ordinary way.
        let action = state.withLock { state -> InvocationTable<InvocationWaiter, Outcome>.ResponseAction? in
            guard case .inPlace = state.table.attachedWaiter(number) else { return nil }
            return state.table.response(number, invocationID: responseContext.invocationId, .failure(AnsweredInPlace.standIn))
        }
        guard let action else { return nil }
        switch consume action {
        case .resume(.inPlace(let completion, _), _):
            inPlaceWaiting.wrappingSubtract(1, ordering: .relaxed)
            func deliver(_ bytes: UnsafeRawBufferPointer) {
                InvocationReplyView.deliver(status: status, context: responseContext, workerID: id, number: number, bytes: bytes, to: completion)
            }
            if let body { body.withUnsafeBytes(deliver) } else { deliver(payload) }
        case .resume(let waiter, let outcome):
            waiter.resume(with: outcome)  // not reached: the waiter seen under the lock is the one resumed
        case .stored: break
        case .late: context.metrics.lateResponses.increment()
        case .violation(let detail): return .some(detail)
        }
        return .some(nil)
    }

    private func forward(_ record: LogRecord) {
        context.metrics.logRecords.increment()
        let level = Logger.Level.allCases[Int(record.level)]
        // Below the host logger's level the record goes nowhere: skip building its metadata (a
        // dictionary and several strings per record, on the reader's turn).
        guard level >= context.logger.logLevel else { return }
        var metadata: Logger.Metadata = [
            "worker.id": "\(id)", "worker.pid": "\(pid)", "log.category": "\(record.category)",
        ]
        if let invocation = record.invocation {
            metadata["invocation.id"] = "\(invocation.id)"
            metadata["invocation.number"] = "\(invocation.number)"
        }
        for (key, value) in record.metadata where metadata[key] == nil { metadata[key] = "\(value)" }
        context.logger.log(level: level, "\(record.message)", metadata: metadata, source: "worker")
    }

    func recordOccupancy() {
        for direction in RingDirection.allCases {
            let geometry = segment.geometry(direction)
            let tail = UnsafeAtomic<UInt64>(at: (geometry.control + SegmentLayout.Control.tail).assumingMemoryBound(to: UInt64.AtomicRepresentation.self))
            let head = UnsafeAtomic<UInt64>(at: (geometry.control + SegmentLayout.Control.head).assumingMemoryBound(to: UInt64.AtomicRepresentation.self))
            // Two relaxed loads of peer-written words: a metric, not a decision; clamp to the ring.
            let used = min(tail.load(ordering: .relaxed) &- head.load(ordering: .relaxed), geometry.capacity)
            (direction == .hostToWorker ? context.metrics.hostToWorkerOccupancy : context.metrics.workerToHostOccupancy).record(Int64(used))
        }
        context.metrics.recordWakes(reactor.counters)
    }

    // MARK: The end of the connection

    func readerEnded(_ how: WorkerLifecycle.ReaderEnd) {
        let action = state.withLock { state in
            state.readerDone = true
            state.reader = nil
            return state.lifecycle.readerFinished(how)
        }
        if case .violation(let detail) = how {
            apply(action, error: .protocolViolation(workerID: id, pid: pid, detail: detail))
        } else {
            apply(action, error: nil)
        }
        checkClosed()
    }

    /// The process watch ended.
    func processEnded(_ result: ProcessWatchResult) {
        let status: ChildProcess.ExitStatus?
        switch result {
        case .exited(let exitStatus):
            status = exitStatus
            process.reap()
        case .cancelled, .shutdown, .failed:
            // The reactor can no longer tell us: make sure the worker is gone, then end.
            process.kill(SIGKILL)
            status = nil
        }
        let action = state.withLock { state in
            state.exited = true
            return state.lifecycle.processExited(status)
        }
        apply(action, error: .workerExited(workerID: id, pid: pid, status: status))
        checkClosed()
    }

    /// Carries out a lifecycle action. `error` is the channel error for an end decided now.
    func apply(_ action: WorkerLifecycle.Action, error: ChannelError?) {
        switch action {
        case .none:
            return
        case .stopReader:
            state.withLock { $0.reader }?.stop()
        case .end(let end), .endAndKill(let end):
            let failure = error ?? channelError(for: end)
            if case .endAndKill = action { process.kill(SIGKILL) }
            finish(failure)
        }
    }

    private func channelError(for end: WorkerLifecycle.End) -> ChannelError {
        switch end {
        case .exited(let status): .workerExited(workerID: id, pid: pid, status: status)
        case .violation(let detail): .protocolViolation(workerID: id, pid: pid, detail: detail)
        case .startFailed: .startTimedOut(workerID: id, pid: pid)
        case .stalled(let silence): .workerStalled(workerID: id, pid: pid, silentFor: silence)
        }
    }

    /// Ends every waiter with `error`, exactly once (the lifecycle decided the end once).
    private func finish(_ error: ChannelError) {
        ended.store(true, ordering: .releasing)
        let (invocations, controls, hello, reader, orderly) = state.withLock { state in
            state.endError = error
            let invocations = state.table.close(.failure(error))
            let controls = Array(state.controlWaiters.values)
            state.controlWaiters = [:]
            let hello = state.helloWaiter
            state.helloWaiter = nil
            var orderly = false
            if state.terminateRequested, case .workerExited(_, _, let status) = error, status == .exited(0) || status == nil {
                orderly = true
            }
            return (invocations, controls, hello, state.reader, orderly)
        }
        sender.abort(with: error)
        reader?.stop()
        // The worker is gone: on the eventfd backend its segment's four doorbells go too (after the
        // reader's stop rang its own), before the segment can be unmapped and its addresses reused.
        reactor.releaseDoorbells(for: FunctionHost.waiterWords(segment))
        context.metrics.workerEnded(kind: orderly ? "orderly" : error.kind)
        if orderly {
            context.logger.debug("worker ended", metadata: ["worker.id": "\(id)", "worker.pid": "\(pid)"])
        } else {
            context.logger.warning("worker ended: \(error)", metadata: ["worker.id": "\(id)", "worker.pid": "\(pid)"])
        }
        // Out of the pool first, so a caller that retries on the error never picks this worker again.
        onEnded(self, orderly ? nil : error)
        for (waiter, outcome) in invocations { waiter.resume(with: outcome) }
        for waiter in controls { waiter.resume(throwing: error) }
        hello?.resume(throwing: error)
    }

    /// Resumes `closed()` waiters once the end is decided, the process is gone and the reader is done.
    private func checkClosed() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard state.endError != nil, state.exited, state.readerDone else { return [] }
            defer { state.closedWaiters = [] }
            for timer in state.timers { reactor.cancel(timer) }
            state.timers = []
            if let recheck = state.recheckTimer { reactor.cancel(recheck) }
            state.recheckTimer = nil
            if let liveness = state.liveness.timer { reactor.cancel(liveness) }
            state.liveness.timer = nil
            return state.closedWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits until the connection is over and its process reaped.
    func closed() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state in
                if state.endError != nil, state.exited, state.readerDone { return true }
                state.closedWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    // MARK: Terminate

    /// Asks the worker to finish its in-flight invocations within `gracePeriod` and exit; kills it
    /// if it has not exited `killMargin` after that. Returns once the process is gone.
    func terminate(gracePeriod: Duration) async {
        let (drain, phase) = state.withLock { state -> (Bool, WorkerLifecycle.Phase) in
            let phase = state.lifecycle.phase
            state.terminateRequested = true
            return (state.lifecycle.beginDrain(), phase)
        }
        if drain {
            if phase == .ready {
                let deadline = Reactor.now() &+ gracePeriod.nanosecondsClamped &+ context.configuration.killMargin.nanosecondsClamped
                let timer = reactor.schedule(at: deadline) { [process] result in
                    if result == .fired { process.kill(SIGKILL) }
                }
                state.withLock { $0.timers.append(timer) }
                let frame = ControlMessage.terminate(gracePeriodNanoseconds: gracePeriod.nanosecondsClamped).encoded()
                do { try await sender.send(kind: .control, streamId: 0, payload: frame) } catch { process.kill(SIGKILL) }
            } else {
                // Not started yet: there is nothing to drain.
                process.kill(SIGKILL)
            }
        }
        await closed()
    }

    /// Kills the worker at once (its invocations fail with `workerExited`).
    func kill() {
        state.withLock { $0.terminateRequested = true }
        process.kill(SIGKILL)
    }
}

/// The stand-in outcome of an answer delivered in place (never seen by a caller: the reader drops
/// it and hands the completion its view). One shared instance: no allocation per answer.
private final class AnsweredInPlace: Error, Sendable {
    static let standIn = AnsweredInPlace()
}
