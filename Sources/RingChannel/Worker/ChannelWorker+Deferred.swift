// ChannelWorker+Deferred — invocations answered later, from any thread: the mode the C ABI
// (RingWorkerABI, Docs/WorkerABI.md) runs the worker in. The reader hands each invocation the
// scheduler lets start to the delegate and forgets it; the answer arrives through
// `answerDeferred` from whatever thread the foreign code runs on, and is written in place (or
// through the async sender, the calling thread waiting). No task per invocation, no hop through
// the global pool: the foreign thread is the handler.
//
// Every guarantee of the task path holds: the scheduler counts a deferred invocation as running
// (maxConcurrency, status, queued ones behind it), a cancel or the end of terminate's grace reaches
// it through `cancelDeferred`, exactly one answer is written (a second `answerDeferred` for the
// number is refused), and terminate ends the run when the last one is answered.
import Dispatch
package import Logging
import RingCore

/// A delegate that receives invocations instead of running them (`package`: the C ABI's).
package protocol DeferredInvocationDelegate: ChannelWorkerDelegate {
    /// Invocation `number` may run now; answer it with `ChannelWorker.answerDeferred`. Called on the
    /// worker's reader thread, or on the thread that answered the invocation it queued behind: hand
    /// it over and return, never block.
    func deliver(_ invocation: Invocation, contextBytes: [UInt8])
    /// The host cancelled invocation `number` (or terminate's grace ran out) while it was delivered
    /// and not yet answered. It must still be answered (cancelled, or its result).
    func cancelDeferred(_ number: UInt64)
    /// The host asked the worker to terminate: nothing new is delivered; what was delivered may
    /// finish within the grace period, then it is cancelled.
    func terminating(gracePeriodNanoseconds: UInt64)
}

/// What `answerDeferred` did.
package enum DeferredAnswer: Equatable, Sendable {
    /// Written to the ring (or, if the run already ended, dropped with the run).
    case answered
    /// No delivered invocation has this number (never delivered, or already answered).
    case unknownInvocation
}

extension ChannelWorker {
    func deliverDeferred(_ number: UInt64, _ job: Pending, _ deferral: any DeferredInvocationDelegate) {
        // Registered before it is handed over: the foreign thread may answer at once.
        state.withLock { $0.deferred[number] = job }
        handOver(number, job, deferral)
    }

    /// Hands a registered invocation to the delegate (dispatch registers it in the lock that admits it).
    func handOver(_ number: UInt64, _ job: Pending, _ deferral: any DeferredInvocationDelegate) {
        // The foreign worker gets the context's wire bytes (the request's own: decoding accepts
        // only the canonical encoding). A context that was decoded always encodes.
        deferral.deliver(makeInvocation(number, job), contextBytes: (try? job.context.encoded()) ?? [])
    }

    /// Answers delivered invocation `number`, from any thread that is not one of Swift's cooperative
    /// pool (it may wait for room in the ring): in place when the reply fits one frame and there is
    /// room, else through the sender, this thread waiting until it is written.
    package func answerDeferred(_ number: UInt64, _ reply: InvocationReply) -> DeferredAnswer {
        guard let job = state.withLock({ $0.deferred.removeValue(forKey: number) }) else { return .unknownInvocation }
        if !respondInPlace(number, job, reply) {
            let written = DispatchSemaphore(value: 0)
            Task {
                await self.respond(number, job, reply)
                written.signal()
            }
            written.wait()
        }
        var next = complete(number)
        while let (number, job) = next {
            next = nil
            guard let deferral = state.withLock({ $0.deferral }) else { break }
            deliverDeferred(number, job, deferral)
        }
        return .answered
    }

    /// Queues a log record for the host, tagged with invocation `number` when it is one this worker
    /// holds (delivered and not answered); untagged otherwise. Never blocks (a full buffer drops it).
    package func logDeferred(level: Logger.Level, category: String, message: String, invocation number: UInt64?) {
        let tag = number.flatMap { number in
            state.withLock { $0.deferred[number] }.map { (number: number, id: $0.context.invocationId) }
        }
        let levelCode = UInt8(Logger.Level.allCases.firstIndex(of: level) ?? 2)
        logSink.enqueue(LogRecord(level: levelCode, category: category, message: message, invocation: tag, metadata: [:]))
    }

    /// Ends the run as a terminate with no grace would (the foreign side is going away): every
    /// delivered invocation still held is answered `cancelled` here, queued ones too.
    package func abandonDeferred() {
        terminate(gracePeriodNanoseconds: 0)
        let held = state.withLock { Array($0.deferred.keys) }
        for number in held { _ = answerDeferred(number, .cancelled) }
    }
}
