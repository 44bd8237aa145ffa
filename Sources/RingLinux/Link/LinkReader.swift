// LinkReader — the one reader loop of every link, whichever protocol runs on it: the host's reader
// of a worker's ring, the worker's reader of the host's ring, and both ends of a gRPC connection.
// It is a ReactorPoller: each turn of the reactor's duty cycle drains what the peer published (at
// most `batchLimit` messages, so other pollers get their turn) and hands every message to the
// protocol inline, on the reactor thread — no task, no thread hop, no wake-up while traffic flows;
// the reactor's idle profile decides when the thread sleeps, on the ring's waiter word. It ends
// exactly once (LinkEnd: the peer closed its ring, a violation, or a stop), after delivering
// everything the peer published before the end.
package import RingCore

/// The protocol on top of a link's reader. Called on the reactor thread, one call at a time.
package protocol LinkReaderDelegate: AnyObject, Sendable {
    /// One inbound message (its bytes are borrowed from the ring for the call). Returns a
    /// violation description — the reader then ends with `.violation` — or nil.
    func linkReader(received message: MessageView) -> String?
    /// A poll delivered `count` messages (after the last of them).
    func linkReader(delivered count: Int)
    /// The reader ended; the last call.
    func linkReader(ended end: LinkEnd)
    /// Where to split a fragmented message of `kind` whose first fragment's payload is
    /// `firstFragment`: the length of the protocol's prefix, kept apart so the rest is assembled
    /// into an array the protocol takes over (`MessageView.body`); nil for one contiguous payload.
    /// See `MessageReader.drain(splitting:)`.
    func linkReader(splitting kind: FrameKind, firstFragment: UnsafeRawBufferPointer) -> Int?
}

extension LinkReaderDelegate {
    package func linkReader(delivered count: Int) {}
    package func linkReader(splitting kind: FrameKind, firstFragment: UnsafeRawBufferPointer) -> Int? { nil }
}

package final class LinkReader: ReactorPoller, @unchecked Sendable {
    // @unchecked: `reader` and `finished` are touched by the one driver only — the reactor thread
    // (the poller contract) or the task in `run` —; `stopRequest` is Sendable, `ended` behind a mutex.
    // Unchecked exclusivity: the one driver's alone (see above), touched on every poll.
    @exclusivity(unchecked) private var reader: MessageReader
    private let reactor: Reactor
    private let delegate: any LinkReaderDelegate
    private let stopRequest: ReaderStop
    private let batchLimit: Int
    @exclusivity(unchecked) private var finished = false
    private let ended = RingMutex<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    /// Messages handed to the delegate per poll before the reactor's other duties get a turn.
    package static let defaultBatchLimit = 256

    /// A reader of `consumer`'s ring, polled by `reactor` once `start()` registers it.
    package convenience init(_ consumer: consuming RingConsumer, reactor: Reactor, delegate: any LinkReaderDelegate, batchLimit: Int = LinkReader.defaultBatchLimit) {
        self.init(reader: MessageReader(consumer: consumer), reactor: reactor, delegate: delegate, batchLimit: batchLimit)
    }

    /// A reader that goes on from `reader` (e.g. after a handshake read with `RingReceiver`,
    /// keeping any message it has begun to reassemble).
    package init(reader: consuming MessageReader, reactor: Reactor, delegate: any LinkReaderDelegate, batchLimit: Int = LinkReader.defaultBatchLimit) {
        stopRequest = ReaderStop(waiterWord: reader.consumer.waiterWord)
        self.reader = reader
        self.reactor = reactor
        self.delegate = delegate
        self.batchLimit = batchLimit
    }

    /// Registers the reader with its reactor (once). A reactor that is already shut down ends it
    /// at once with `.stopped`.
    package func start() { _ = reactor.addPoller(self) }

    /// Drives the same loop from the calling task instead of the reactor's duty cycle (use one or
    /// the other, once): polls, backs off the way `profile` says, and sleeps on the ring's waiter
    /// word through the reactor. For a protocol whose consumers are tasks on the global pool (gRPC
    /// streams): handing them a message from a pool thread enqueues the resumed task locally, where
    /// from the reactor thread every hand-off wakes a parked pool thread. Returns once the reader
    /// ended; task cancellation is not a stop (use `stop()`).
    package func run(profile: WaitProfile) async {
        var backoff = Backoff(profile)
        while true {
            switch poll() {
            case .finished: return
            case .progress: backoff.reset()
            case .idle:
                switch backoff.step() {
                case .spin: continue
                case .yield: await Task.yield()
                case .sleep:
                    defer { backoff.reset() }
                    guard case .on(let word) = prepareToSleep() else { continue }
                    do {
                        try await sleepOnReactor(reactor, word: UnsafeMutableRawPointer(bitPattern: word)!, honouringCancellation: false)
                    } catch {
                        finishSleep()
                        _ = end(.stopped)  // the reactor shut down under us
                        return
                    }
                    finishSleep()
                }
            }
        }
    }

    /// Ends the reader once everything the peer published so far was delivered (from any thread;
    /// wakes the reader if it sleeps). Idempotent.
    package func stop() { stopRequest.request(waking: reactor) }

    /// `stop()`, then returns once the reader has ended (its `linkReader(ended:)` has returned).
    package func stopAndWait() async {
        stop()
        await waitUntilEnded()
    }

    /// Returns once the reader has ended.
    package func waitUntilEnded() async {
        await withCheckedContinuation { continuation in
            let done = ended.withLock { state in
                if state.done { return true }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    // MARK: ReactorPoller

    package func poll() -> PollOutcome {
        guard !finished else { return .finished }
        var violation: String?
        do {
            let delegate = delegate
            let delivered = try reader.drain(limit: batchLimit, splitting: { delegate.linkReader(splitting: $0, firstFragment: $1) }) { message in
                guard violation == nil else { return }
                violation = delegate.linkReader(received: message)
            }
            if let violation { return end(.violation(violation)) }
            if delivered > 0 {
                delegate.linkReader(delivered: delivered)
                return .progress
            }
            return stopRequest.isRequested ? end(.stopped) : .idle
        } catch {
            return end(LinkEnd(after: error, violation: violation))
        }
    }

    package func prepareToSleep() -> PollerSleep {
        guard !finished else { return .busy }
        return stopRequest.prepareToSleep(&reader.consumer)
    }

    package func finishSleep() { reader.consumer.finishSleep() }

    package func reactorStopped() { _ = end(.stopped) }

    private func end(_ how: LinkEnd) -> PollOutcome {
        guard !finished else { return .finished }
        finished = true
        delegate.linkReader(ended: how)
        let waiters = ended.withLock { state in
            state.done = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
        return .finished
    }
}
