public import RingCore

/// The async reading end of a ring: `receive` returns at once when messages are there and otherwise
/// spins briefly, yields to other tasks, then suspends on the reactor until the producer wakes it.
/// `~Copyable`: one receiver per ring.
public struct RingReceiver: ~Copyable {
    public var reader: MessageReader
    public let reactor: Reactor
    public let profile: WaitProfile

    public init(_ consumer: consuming RingConsumer, reactor: Reactor, profile: WaitProfile = .latency) {
        self.reader = MessageReader(consumer: consumer)
        self.reactor = reactor
        self.profile = profile
    }

    /// The reader, to go on polling it elsewhere (a LinkReader after a handshake read here).
    package consuming func intoReader() -> MessageReader { reader }

    /// Delivers every message available (up to `limit`) once at least one is; returns how many.
    /// - Throws: `RingError.closed` once the producer closed and everything was delivered;
    ///   `RingError.protocolViolation`; `CancellationError` if the task is cancelled while waiting
    ///   (no message is lost: undelivered messages stay in the ring); `RingWaitError`.
    public mutating func receive(limit: Int = .max, _ body: (MessageView) -> Void) async throws -> Int {
        var backoff = Backoff(profile)
        while true {
            let delivered = try reader.drain(limit: limit, body)
            if delivered > 0 { return delivered }
            try Task.checkCancellation()
            switch backoff.step() {
            case .spin: continue
            case .yield: await Task.yield()
            case .sleep:
                if try reader.consumer.prepareToSleep() {
                    do {
                        try await sleepOnReactor(reactor, word: reader.consumer.waiterWord)
                    } catch {
                        reader.consumer.finishSleep()
                        throw error
                    }
                    reader.consumer.finishSleep()
                }
                backoff.reset()
            }
        }
    }
}
