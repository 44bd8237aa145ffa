// ChannelWorker+Dispatch — what the worker does with each message from the host: invocations go
// through the scheduler into handler tasks, cancels reach running and queued ones, control messages
// are answered, terminate starts the grace period. Answers are never lost to cancellation.
import Logging
import RingCore
import Instrumentation
import RingLinux

extension ChannelWorker {
    /// Handles one message; returns a violation, or nil.
    func dispatch(_ message: MessageView, _ delegate: some ChannelWorkerDelegate) -> String? {
        switch message.kind {
        case .invocationRequest:
            let context: ForwardingContext
            do {
                guard let decoded = try message.decodeContext() else { return "invocation \(message.streamId) without a context" }
                context = decoded
            } catch { return "invocation \(message.streamId) context: \(error)" }
            let request: (function: String, payload: [UInt8])
            do {
                // A large request arrives split: its payload is already the array the handler gets.
                if let body = message.body {
                    request = try InvocationRequestPrefix.decode(prefix: message.payload, body: body)
                } else {
                    request = try InvocationRequestPrefix.decode(message.payload)
                }
            } catch { return "invocation \(message.streamId): \(error)" }
            let pending = Pending(function: request.function, payload: request.payload, context: context)
            let number = message.streamId
            var violation: String?
            let admission = state.withLock { state -> Admission in
                if state.deferral == nil, state.scheduler.mayRunOutside(number) { return .outside }
                switch state.scheduler.receive(number, pending) {
                case .start(let job):
                    guard let deferral = state.deferral else { return .start(job) }
                    // Deferred: registered in this same lock, before it is handed over.
                    state.deferred[number] = job
                    return .handOver(job, deferral)
                case .queued: break
                case .refused(let job): spawnAuxiliary(&state) { await self.respond(number, job, .cancelled) }
                case .duplicate: violation = "invocation \(number) received twice"
                }
                return .none
            }
            switch admission {
            case .outside: if run(number, pending, delegate, inBooks: false) { completedOutside.wrappingAdd(1, ordering: .relaxed) }
            case .start(let job): launch(number, job, delegate)
            case .handOver(let job, let deferral): handOver(number, job, deferral)
            case .none: break
            }
            return violation
        case .invocationCancel:
            let number = message.streamId
            let deferral = state.withLock { state -> (any DeferredInvocationDelegate)? in
                switch state.scheduler.cancel(number) {
                case .cancelRunning:
                    state.tasks[number]?.cancel()
                    if state.deferred[number] != nil { return state.deferral }
                case .removedFromQueue(let job): spawnAuxiliary(&state) { await self.respond(number, job, .cancelled) }
                case .unknown: break
                }
                return nil
            }
            deferral?.cancelDeferred(number)
            return nil
        case .control:
            let control: ControlMessage
            do { control = try ControlMessage(decoding: message.payload) } catch { return "control message: \(error)" }
            guard control.sender == .host else { return "host sent worker control message \(control)" }
            let correlation = message.streamId
            switch control {
            case .workerInit(let hostVersion, let payload):
                background {
                    let answer: ControlMessage
                    do {
                        let reply = try await delegate.initialize(hostVersion: hostVersion, payload: payload)
                        answer = .workerInitResponse(.success, workerVersion: self.configuration.workerVersion, payload: reply)
                    } catch {
                        answer = .workerInitResponse(.failure(message: "\(error)"), workerVersion: self.configuration.workerVersion, payload: [])
                    }
                    await self.sendControl(answer, correlation)
                }
            case .functionLoad(let function, let metadata):
                background {
                    let result: ControlResult
                    do {
                        try await delegate.loadFunction(function, metadata: metadata)
                        result = .success
                    } catch { result = .failure(message: "\(error)") }
                    await self.sendControl(.functionLoadResponse(functionID: function, result), correlation)
                }
            case .statusRequest:
                let outside = completedOutside.load(ordering: .relaxed)
                let status = state.withLock { $0.scheduler.status(completedOutside: outside) }
                background { await self.sendControl(.statusResponse(status), correlation) }
            case .terminate(let grace):
                terminate(gracePeriodNanoseconds: grace)
            case .workerInitResponse, .functionLoadResponse, .statusResponse:
                return "host sent \(control)"
            }
            return nil
        default:
            return "host sent a \(message.kind) frame on stream \(message.streamId)"
        }
    }

    private func background(_ body: @escaping @Sendable () async -> Void) {
        state.withLock { spawnAuxiliary(&$0, body) }
    }

    /// Starts an auxiliary task under the state lock (so it is registered before it can finish); it
    /// removes itself when done. `finishRun` waits for those still running.
    func spawnAuxiliary(_ state: inout RuntimeState, _ body: @escaping @Sendable () async -> Void) {
        let id = state.nextAuxiliary
        state.nextAuxiliary &+= 1
        state.auxiliary[id] = Task {
            await body()
            _ = self.state.withLock { $0.auxiliary.removeValue(forKey: id) }
        }
    }

    private func sendControl(_ message: ControlMessage, _ correlation: UInt64) async {
        try? await sender.send(kind: .control, streamId: correlation, payload: message.encoded())
    }

    /// Starts invocation `number`: inline when the delegate answers it inline (then every queued
    /// invocation its end lets start, in a loop), else in a handler task.
    func launch(_ number: UInt64, _ job: Pending, _ delegate: some ChannelWorkerDelegate) {
        var next: (UInt64, Pending)? = (number, job)
        while let (number, job) = next {
            next = nil
            if run(number, job, delegate, inBooks: true) { next = complete(number) }
        }
    }

    /// Runs invocation `number`: inline on this turn when the delegate answers it so and the reply
    /// fits the ring (returns true: answered), else in a task that answers it (false). `inBooks`:
    /// the scheduler already counts it as running; if not (`mayRunOutside`), it enters the books
    /// only when it needs a task.
    private func run(_ number: UInt64, _ job: Pending, _ delegate: some ChannelWorkerDelegate, inBooks: Bool) -> Bool {
        let invocation = makeInvocation(number, job)
        let service = job.context.extractedServiceContext(configuration.instrument ?? InstrumentationSystem.instrument)
        let inline: InvocationReply?
        do {
            // Bound only when an instrument extracted one (no task-local push on the plain path).
            if let service {
                inline = try ServiceContext.withValue(service) { try delegate.invokeInline(invocation) }
            } else {
                inline = try delegate.invokeInline(invocation)
            }
        } catch is CancellationError { inline = .cancelled } catch {
            inline = .failure(message: "\(error)")
        }
        if let inline, respondInPlace(number, job, inline) { return true }
        state.withLock { state in
            if !inBooks { state.scheduler.enterRunning(number) }
            if let reply = inline {
                // No room in the ring (or a reply that needs fragments): the invocation keeps its
                // slot until the async sender has written the answer, which is back-pressure.
                state.tasks[number] = Task {
                    await self.respond(number, job, reply)
                    if let (next, job) = self.complete(number) { self.launch(next, job, delegate) }
                }
            } else {
                state.tasks[number] = makeTask(number, job, invocation, service, delegate)
            }
        }
        return false
    }

    /// How the reader admitted an invocation (`dispatch`).
    enum Admission {
        /// A free slot and nothing queued: run at once, outside the scheduler's books unless it
        /// needs a task (`WorkerScheduler.mayRunOutside`).
        case outside
        case start(Pending)
        case handOver(Pending, any DeferredInvocationDelegate)
        /// Queued, refused or a violation: nothing to run now.
        case none
    }

    func makeInvocation(_ number: UInt64, _ job: Pending) -> Invocation {
        Invocation(number: number, function: job.function, payload: job.payload, context: job.context, sink: logSink)
    }

    /// A handler task (created under the state lock, so it is registered before it can finish).
    private func makeTask(
        _ number: UInt64, _ job: Pending, _ invocation: Invocation, _ service: ServiceContext?, _ delegate: some ChannelWorkerDelegate
    ) -> Task<Void, Never> {
        Task {
            let reply: InvocationReply
            do {
                if let service {
                    reply = try await ServiceContext.withValue(service) { try await delegate.invoke(invocation) }
                } else {
                    reply = try await delegate.invoke(invocation)
                }
            } catch is CancellationError { reply = .cancelled } catch {
                reply = .failure(message: "\(error)")
            }
            await self.respond(number, job, reply)
            if let (next, job) = self.complete(number) { self.launch(next, job, delegate) }
        }
    }

    /// Writes the answer, with the request's context: in place when it fits one frame
    /// and there is room, else through the async sender in a task of its own (so a cancelled
    /// handler's answer is still written). That task runs on the reactor's executor: waiting for
    /// space there takes turns with the reader instead of spinning on another thread beside it
    /// (many replies spinning for space on two CPUs stalled the reader that frees it).
    func respond(_ number: UInt64, _ job: Pending, _ reply: InvocationReply) async {
        if respondInPlace(number, job, reply) { return }
        let sender = sender
        let (prefix, body) = responseParts(reply)
        await Task(executorPreference: reactor.executor) {
            try? await sender.send(kind: .invocationResponse, streamId: number, context: job.context, prefix: prefix, payload: body)
        }.value
    }

    /// The response's status prefix and body, written back to back into the frames (a large body
    /// is never concatenated with its prefix first); a reply over the maximum message size becomes
    /// a failure that says so.
    private func responseParts(_ reply: InvocationReply) -> (prefix: [UInt8], body: [UInt8]) {
        let prefix = InvocationResponsePrefix.encode(status: reply.status, payload: [])
        let limit = segment.configuration.maxMessageSize
        guard prefix.count + reply.payload.count > limit else { return (prefix, reply.payload) }
        let failure = InvocationStatus.failure(message: "reply of \(reply.payload.count) bytes exceeds the maximum message size of \(limit) bytes")
        return (InvocationResponsePrefix.encode(status: failure, payload: []), [])
    }

    /// Writes the answer in place when it fits one frame and the ring has room; false otherwise.
    /// The status prefix, the body and the echoed context are written straight into the frame.
    func respondInPlace(_ number: UInt64, _ job: Pending, _ reply: InvocationReply) -> Bool {
        let writer = sender.writer
        // The context is encoded into the frame (no array of its bytes kept per invocation: an
        // allocation, a copy and a free on every one).
        guard let contextLength = try? job.context.validatedEncodedSize() else { return false }
        let room = writer.maxFrameLength - FrameHeader.size - contextLength
        // A reply that cannot fit one frame whatever its status is not looked at further here: the
        // sender encodes it (a body over the maximum message size becomes a failure that says so).
        guard InvocationResponsePrefix.minimumSize + reply.payload.count <= room else { return false }
        let (code, message) = InvocationResponsePrefix.parts(reply.status)
        let length = InvocationResponsePrefix.minimumSize + message.count + reply.payload.count
        guard length <= room, length <= segment.configuration.maxMessageSize else { return false }
        let outcome = message.withUnsafeBytes { message in
            reply.payload.withUnsafeBytes { payload in
                try? writer.tryWriteFrame(
                    kind: .invocationResponse, streamId: number, context: job.context, contextLength: contextLength, payloadLength: length
                ) { payloadOut in
                    InvocationResponsePrefix.write(code: code, message: message, payload: payload, into: payloadOut)
                }
            }
        }
        return outcome == .written
    }

    /// Invocation `number` was answered: returns the queued invocation that may start now, and ends
    /// the run when terminating and nothing is left.
    func complete(_ number: UInt64) -> (UInt64, Pending)? {
        let (next, idle) = state.withLock { state -> ((UInt64, Pending)?, Bool) in
            state.tasks[number] = nil
            let next = state.scheduler.finished(number)
            return (next, next == nil && state.terminating && state.scheduler.isIdle)
        }
        if idle { end(.success(())) }
        return next
    }

    /// Terminate: nothing new is admitted; what is in flight may finish within the grace period,
    /// then every handler is cancelled and every queued invocation answered `cancelled`.
    func terminate(gracePeriodNanoseconds grace: UInt64) {
        let (idle, deferral) = state.withLock { state -> (Bool, (any DeferredInvocationDelegate)?) in
            guard !state.terminating else { return (false, nil) }
            state.terminating = true
            state.scheduler.beginDrain()
            return (state.scheduler.isIdle, state.deferral)
        }
        deferral?.terminating(gracePeriodNanoseconds: grace)
        if idle {
            end(.success(()))
            return
        }
        if grace == 0 {
            cancelEverything()
            return
        }
        let timer = reactor.schedule(at: Reactor.now() &+ grace) { [self] result in
            if result == .fired { cancelEverything() }
        }
        state.withLock { $0.graceTimer = timer }
    }

    private func cancelEverything() {
        let (deferral, held) = state.withLock { state -> ((any DeferredInvocationDelegate)?, [UInt64]) in
            let (running, queued) = state.scheduler.cancelAll()
            for number in running { state.tasks[number]?.cancel() }
            for (number, job) in queued { spawnAuxiliary(&state) { await self.respond(number, job, .cancelled) } }
            return (state.deferral, running.filter { state.deferred[$0] != nil })
        }
        for number in held { deferral?.cancelDeferred(number) }
    }
}
