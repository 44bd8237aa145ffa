import Synchronization
public import RingCore

/// The async writing end of a ring, shared by any number of tasks of this process.
///
/// `send` returns as soon as the message is in the ring. When the ring is full it waits for space
/// without blocking a thread: one sender at a time announces on the producer's waiter word and
/// suspends on the reactor; every other sender waiting for space queues in process memory and is
/// resumed with it (several tasks sleeping on one shared word could otherwise miss a wake-up when
/// one of them withdraws the announcement). Back-pressure is end to end: nothing is dropped and
/// memory does not grow — a full ring makes `send` wait.
public final class RingSender: Sendable {
    public let writer: SharedRingWriter
    public let reactor: Reactor
    public let profile: WaitProfile
    private let space = SpaceWaiters()

    public init(_ producer: consuming RingProducer, reactor: Reactor, profile: WaitProfile = .latency) {
        self.writer = SharedRingWriter(producer)
        self.reactor = reactor
        self.profile = profile
    }

    /// Writes one message (fragmented when large), waiting for space as needed.
    /// - Throws: `messageTooLarge` / `contextTooLarge` before anything is written; `RingError.closed`
    ///   if the consumer closed; `CancellationError` if cancelled while waiting — then nothing of the
    ///   message was written unless some fragments were already out, in which case the rest is
    ///   still written before the error (a message is never left half-sent).
    ///
    /// - Parameter prefix: bytes written in front of `payload` in the same message (a protocol's
    ///   prefix): the two are never concatenated in memory, so a large payload is copied only into
    ///   the ring.
    public func send(
        kind: FrameKind, flags: FrameFlags = [], streamId: UInt64, context: ForwardingContext? = nil, prefix: [UInt8] = [],
        payload: [UInt8]
    ) async throws {
        var progress = MessageProgress()
        var backoff = Backoff(profile)
        var cancelledMidMessage = false
        // On the reactor thread one fragment per turn: the loop's readers and the small messages of
        // other tasks get in between the fragments of a large message.
        let fragmentsPerCall = reactor.isReactorThread ? 1 : Int.max
        while true {
            try space.checkAborted()
            let fragmentsBefore = progress.fragments
            let outcome = try prefix.withUnsafeBytes { head -> Result<WriteOutcome, RingError> in
                payload.withUnsafeBytes { tail -> Result<WriteOutcome, RingError> in
                    do throws(RingError) {
                        if let context {
                            return .success(try writer.tryWriteMessage(
                                kind: kind, flags: flags, streamId: streamId, context: context, payload: GatheredPayload(head, tail),
                                progress: &progress, maxFragments: fragmentsPerCall))
                        }
                        return .success(try writer.tryWriteMessage(
                            kind: kind, flags: flags, streamId: streamId, payload: GatheredPayload(head, tail), progress: &progress,
                            maxFragments: fragmentsPerCall))
                    } catch { return .failure(error) }
                }
            }.get()
            if outcome == .written { break }
            if progress.fragments != fragmentsBefore && fragmentsPerCall == 1 {
                // Progress, stopped by the budget rather than by space: the loop's turn, then on
                // (a cancellation now is reported once the message is out, as below).
                if Task.isCancelled { cancelledMidMessage = true }
                backoff.reset()
                await Task.yield()
                continue
            }
            // The consumer reads no more: waiting for space would spin forever.
            if writer.consumerClosed { throw RingError.closed }
            if Task.isCancelled {
                // Nothing written yet: give up cleanly. Mid-message: finish it, then report.
                if !progress.started { throw CancellationError() }
                cancelledMidMessage = true
            }
            if !progress.started
                && (writer.streamHasPartialMessage(streamId)
                    || writer.partialBudgetRefuses(contextLength: contextLength(context), payloadLength: prefix.count + payload.count))
            {
                // Held back by another message of this process (see SharedRingWriter): a fragmented
                // message of the same stream is unfinished, or the reassembly budget is spent.
                // Ring space is not what is missing, another writer finishing is. A short timed
                // poll: both regimes wait for a large message, which takes milliseconds to transfer.
                try await Task.sleep(for: .microseconds(100))
                continue
            }
            switch backoff.step() {
            case .spin:
                // On the reactor thread (a task preferring `reactor.executor`) a spin would hold up
                // the duty cycle whose pollers free the space (they drain the peer's replies, which
                // lets it drain ours): give the loop its turn instead, and retry after it.
                if reactor.isReactorThread { await Task.yield() }
                continue
            case .yield: await Task.yield()
            case .sleep:
                let next = writer.nextFrame(contextLength: contextLength(context), payloadLength: prefix.count + payload.count, progress: progress)
                try await space.wait(writer: writer, reactor: reactor, frame: next, cancellable: !progress.started)
                backoff.reset()
            }
        }
        if cancelledMidMessage { throw CancellationError() }
    }

    private func contextLength(_ context: ForwardingContext?) -> Int {
        guard let context else { return 0 }
        return (try? context.validatedEncodedSize()) ?? ForwardingContext.Limits.maxEncodedSize
    }

    /// Publishes pending frames and closes the ring.
    public func close() { writer.close() }

    /// Ends every `send` waiting for space — and every later one — with `error`, for a consumer that
    /// will never free space again (its process died or was isolated). Frames already written stay.
    public func abort(with error: any Error) { space.abort(error) }
}

/// In-process queue of senders waiting for ring space; one of them sleeps on the shared word.
final class SpaceWaiters: Sendable {
    struct State {
        var armed = false
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Void, any Error>] = [:]
        var aborted: (any Error)?
        /// The reactor wait armed on the ring's producer word. Its completion holds the writer (and
        /// so the segment's mapping): `abort` cancels it, or a dead consumer — whose word never
        /// changes again — would keep the segment mapped and its memfd open for good.
        var armedWait: (token: WaitToken, reactor: Reactor)?
        /// Counts arms, so a completed arm never records its token over a newer one.
        var generation = 0
    }
    private let state = RingMutex(State())

    /// Suspends until the consumer frees space (or the ring's state changes); `cancellable: false`
    /// ignores task cancellation (a sender in the middle of a message).
    func wait(writer: SharedRingWriter, reactor: Reactor, frame: NextFrame, cancellable: Bool) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (arm, aborted) = state.withLock { state -> (Int?, (any Error)?) in
                    if let aborted = state.aborted { return (nil, aborted) }
                    state.waiters[id] = continuation
                    guard !state.armed else { return (nil, nil) }
                    state.armed = true
                    state.generation += 1
                    return (state.generation, nil)
                }
                if let aborted {
                    continuation.resume(throwing: aborted)
                } else if let arm { self.arm(writer: writer, reactor: reactor, frame: frame, generation: arm) }
            }
        } onCancel: {
            guard cancellable else { return }
            let continuation = state.withLock { $0.waiters.removeValue(forKey: id) }
            continuation?.resume(throwing: CancellationError())
        }
    }

    /// Throws the abort error, if any.
    func checkAborted() throws {
        if let error = state.withLock({ $0.aborted }) { throw error }
    }

    /// Resumes every waiter (now and later) with `error`.
    func abort(_ error: any Error) {
        let armed = state.withLock { state in
            if state.aborted == nil { state.aborted = error }
            defer { state.armedWait = nil }
            return state.armedWait
        }
        resumeAll(throwing: error)
        if let armed { armed.reactor.cancel(armed.token) }
    }

    private func arm(writer: SharedRingWriter, reactor: Reactor, frame: NextFrame, generation: Int) {
        let mustSleep: Bool
        // A little slack over the frame's own length (alignment, a padding frame's header).
        do { mustSleep = try writer.prepareToSleep(untilFree: min(writer.maxFrameLength, frame.frameLength + 64), fragment: frame.fragment) } catch {
            resumeAll(throwing: error)
            return
        }
        guard mustSleep else {
            resumeAll(throwing: nil)
            return
        }
        let token = reactor.waitForChange(of: writer.waiterWord, from: RingWaiter.sleeping) { [self] result in
            state.withLock { state in if state.generation == generation { state.armedWait = nil } }
            writer.finishSleep()
            switch result {
            case .changed, .cancelled: resumeAll(throwing: nil)
            case .shutdown: resumeAll(throwing: RingWaitError.reactorShutdown)
            case .failed(let error): resumeAll(throwing: RingWaitError.waitFailed(error))
            }
        }
        // Kept for `abort` while this arm is the current one and its wait has not ended (its
        // completion sets `armed` false first); cancelled at once if the sender was aborted meanwhile.
        let cancelNow = state.withLock { state -> Bool in
            if state.aborted != nil { return true }
            if state.armed, state.generation == generation { state.armedWait = (token, reactor) }
            return false
        }
        if cancelNow { reactor.cancel(token) }
    }

    private func resumeAll(throwing error: (any Error)?) {
        let waiters = state.withLock { state in
            state.armed = false
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters {
            if let error { waiter.resume(throwing: error) } else { waiter.resume() }
        }
    }
}
