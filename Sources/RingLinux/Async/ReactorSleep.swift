import Synchronization
import RingCore

/// Why an async ring operation stopped waiting.
public enum RingWaitError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The reactor shut down while the operation waited.
    case reactorShutdown
    /// The kernel refused the wait.
    case waitFailed(SystemError)

    public var description: String {
        switch self {
        case .reactorShutdown: "the reactor shut down while waiting"
        case .waitFailed(let error): "waiting failed: \(error)"
        }
    }
}

/// Suspends the calling task until `word` no longer holds `RingWaiter.sleeping`, through the
/// reactor (io_uring FUTEX_WAIT or a fallback) — never blocking a thread of the cooperative pool.
/// Task cancellation cancels the reactor wait and throws `CancellationError` (unless
/// `honouringCancellation` is false: then only the word or the reactor ends the wait).
func sleepOnReactor(_ reactor: Reactor, word: UnsafeMutableRawPointer, honouringCancellation: Bool = true) async throws {
    let pending = PendingWait()
    let address = UInt(bitPattern: word)
    try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let token = reactor.waitForChange(of: UnsafeMutableRawPointer(bitPattern: address)!, from: RingWaiter.sleeping) { result in
                switch result {
                case .changed: continuation.resume()
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .shutdown: continuation.resume(throwing: RingWaitError.reactorShutdown)
                case .failed(let error): continuation.resume(throwing: RingWaitError.waitFailed(error))
                }
            }
            if pending.arm(token) { reactor.cancel(token) }
        }
    } onCancel: {
        guard honouringCancellation else { return }
        if let token = pending.cancel() { reactor.cancel(token) }
    }
}

/// Resolves the race between arming a reactor wait and the task being cancelled.
final class PendingWait: Sendable {
    private let state = RingMutex<(token: WaitToken?, cancelled: Bool)>((nil, false))

    /// Records the token; returns true when the task was already cancelled (cancel it now).
    func arm(_ token: WaitToken) -> Bool {
        state.withLock { state in
            state.token = token
            return state.cancelled
        }
    }

    /// Marks the wait cancelled; returns the token to cancel if it is armed.
    func cancel() -> WaitToken? {
        state.withLock { state in
            state.cancelled = true
            return state.token
        }
    }
}
