// ConnectionReader — the reader of one worker's worker → host ring, polled by the host reactor's
// duty cycle (RingLinux's ReactorPoller): each turn it drains what the worker published and resolves
// it inline on the reactor thread — an invocation's reply resumes its caller's continuation there,
// and a caller that prefers the reactor's executor (`FunctionHost.executor`) runs in the same turn.
// No task, lock hand-off or wake-up per message; the reactor's idle profile decides when to sleep.
import RingCore
import RingLinux

final class ConnectionReader: ReactorPoller, @unchecked Sendable {
    // @unchecked: `receiver` and `finished` are touched on the reactor thread only (the poller
    // contract); `stopRequest` is Sendable.
    private let connection: WorkerConnection
    private var receiver: RingReceiver
    private let stopRequest: ReaderStop
    private var finished = false
    /// Messages handed to the connection per poll before the reactor's other duties get a turn.
    static let batchLimit = 256

    init(connection: WorkerConnection, receiver: consuming RingReceiver) {
        self.connection = connection
        self.stopRequest = ReaderStop(waiterWord: receiver.reader.consumer.waiterWord)
        self.receiver = receiver
    }

    /// Ends the reader once everything the worker published so far was delivered (from any thread;
    /// wakes the reader if it sleeps).
    func stop() { stopRequest.request(waking: connection.reactor) }

    // MARK: ReactorPoller

    func poll() -> PollOutcome {
        guard !finished else { return .finished }
        var violation: String?
        do {
            let delivered = try receiver.reader.drain(limit: Self.batchLimit) { message in
                guard violation == nil else { return }
                violation = connection.handle(message)
            }
            if let violation { return end(.violation(violation)) }
            if delivered > 0 {
                connection.recordOccupancy()
                return .progress
            }
            if stopRequest.isRequested { return end(.stopped) }
            return .idle
        } catch {
            return end(LinkEnd(after: error, violation: violation))
        }
    }

    func prepareToSleep() -> PollerSleep {
        guard !finished else { return .busy }
        return stopRequest.prepareToSleep(&receiver.reader.consumer)
    }

    func finishSleep() { receiver.reader.consumer.finishSleep() }

    func reactorStopped() { _ = end(.stopped) }

    private func end(_ how: WorkerLifecycle.ReaderEnd) -> PollOutcome {
        if !finished {
            finished = true
            connection.readerEnded(how)
        }
        return .finished
    }
}
