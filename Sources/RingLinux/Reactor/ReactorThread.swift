// ReactorThread — the dedicated OS thread (pthread, not Swift's cooperative pool) a reactor's
// backend loop runs on, and the one-shot handshake that reports whether its setup succeeded.
#if canImport(Glibc)
    import Glibc
#endif
import CRingShim
import Dispatch
import Synchronization
import RingCore

final class ReactorThread: Sendable {
    private enum State {
        case running(pthread_t)
        case finished
    }

    private let state: RingMutex<State>

    private init(_ thread: pthread_t) { state = RingMutex(.running(thread)) }

    /// Starts `body` on a new thread named `name` (at most 15 characters).
    static func start(name: String, _ body: @escaping @Sendable () -> Void) throws(SystemError) -> ReactorThread {
        final class Box {
            let name: String
            let body: @Sendable () -> Void
            init(_ name: String, _ body: @escaping @Sendable () -> Void) {
                self.name = name
                self.body = body
            }
        }
        let box = Unmanaged.passRetained(Box(name, body)).toOpaque()
        var thread = pthread_t()
        // pthread_create returns its error rather than setting errno, so it cannot go through
        // Syscall.call; the error is typed the same way.
        let result = pthread_create(
            &thread, nil,
            { raw in
                let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
                _ = crs_set_thread_name(box.name)
                box.body()
                return nil
            }, box)
        guard result == 0 else {
            Unmanaged<Box>.fromOpaque(box).release()
            throw SystemError(call: "pthread_create", errno: result)
        }
        return ReactorThread(thread)
    }

    /// Waits for the thread to end (idempotent; concurrent callers wait for the first one's join).
    func join() {
        state.withLock { state in
            guard case .running(let thread) = state else { return }
            pthread_join(thread, nil)
            state = .finished
        }
    }

    /// Lets the thread end on its own (when the last owner goes away on the thread itself).
    func detach() {
        state.withLock { state in
            guard case .running(let thread) = state else { return }
            pthread_detach(thread)
            state = .finished
        }
    }
}

/// The reactor thread's report of its setup: a description of what it set up, or the error.
final class StartupHandshake: Sendable {
    private let result = RingMutex<Result<String, ReactorError>?>(nil)
    private let ready = DispatchSemaphore(value: 0)

    func report(_ outcome: Result<String, ReactorError>) {
        result.withLock { $0 = outcome }
        ready.signal()
    }

    func wait() -> Result<String, ReactorError> {
        ready.wait()
        return result.withLock { $0! }
    }
}
