// WorkerReader — the worker's reader of the host → worker ring, polled by the worker reactor's duty
// cycle (RingLinux's ReactorPoller): each turn it drains what the host published and dispatches it
// inline on the reactor thread. An invocation whose delegate answers inline (`invokeInline`) is run
// and answered in the same turn, its reply written in place: no task, no thread hop, no wake-up
// while traffic flows. Other invocations start a task as before.
import Synchronization
import RingCore
import RingLinux

final class WorkerReader<Delegate: ChannelWorkerDelegate>: ReactorPoller, @unchecked Sendable {
    // @unchecked: `receiver` and `finished` are touched on the reactor thread only (the poller
    // contract); `stopRequest` is Sendable, `ended` behind a mutex.
    private let worker: ChannelWorker
    private let delegate: Delegate
    private var receiver: RingReceiver
    private let stopRequest: ReaderStop
    private var finished = false
    private let ended = RingMutex<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))
    static var batchLimit: Int { 256 }

    init(worker: ChannelWorker, delegate: Delegate, receiver: consuming RingReceiver) {
        self.worker = worker
        self.delegate = delegate
        self.stopRequest = ReaderStop(waiterWord: receiver.reader.consumer.waiterWord)
        self.receiver = receiver
    }

    /// Stops reading once what the host published so far was dispatched (from any thread), and
    /// returns when the reader is done.
    func stop() async {
        stopRequest.request(waking: worker.reactor)
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

    func poll() -> PollOutcome {
        guard !finished else { return .finished }
        var violation: String?
        do {
            let delivered = try receiver.reader.drain(limit: Self.batchLimit) { message in
                guard violation == nil else { return }
                violation = worker.dispatch(message, delegate)
            }
            if let violation {
                worker.end(.failure(.protocolViolation(violation)))
                return end()
            }
            if delivered > 0 { return .progress }
            return stopRequest.isRequested ? end() : .idle
        } catch {
            switch LinkEnd(after: error, violation: violation) {
            case .closedByPeer: worker.terminate(gracePeriodNanoseconds: 0)  // the host will send nothing more: finish what runs, end
            case .violation(let detail): worker.end(.failure(.protocolViolation(detail)))
            case .stopped: break
            }
            return end()
        }
    }

    func prepareToSleep() -> PollerSleep {
        guard !finished else { return .busy }
        return stopRequest.prepareToSleep(&receiver.reader.consumer)
    }

    func finishSleep() { receiver.reader.consumer.finishSleep() }

    func reactorStopped() { _ = end() }

    private func end() -> PollOutcome {
        guard !finished else { return .finished }
        finished = true
        let waiters = ended.withLock { state in
            state.done = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
        return .finished
    }
}
