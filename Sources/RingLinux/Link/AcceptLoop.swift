// AcceptLoop — the one accept loop of both listeners (FunctionHost.listen(on:) and the gRPC ring
// server), on their blocking threads. It never stops on a transient failure: when accept(2) fails
// for lack of a resource (EMFILE, ENFILE, ENOMEM, ENOBUFS — a descriptor or memory that a closing
// connection will give back), it reports the failure and pauses, 1 ms doubling to 1 s while the
// failures go on, then accepts again — swift-nio's AcceptBackoffHandler does the same. Any other
// failure is reported and retried after the longest pause: a listener never dies silently. It ends
// only when the listener is shut down (accept returns nil).
#if canImport(Glibc)
    import Glibc
#endif

/// How long an accept loop pauses after consecutive failures of accept(2).
package struct AcceptBackoff: Sendable, Equatable {
    package static let initialNanoseconds: UInt64 = 1_000_000
    package static let maximumNanoseconds: UInt64 = 1_000_000_000

    /// Failures since the last successful accept.
    package private(set) var consecutiveFailures = 0

    package init() {}

    /// Whether `error` is a shortage that passes by itself (descriptors or memory freed by others).
    package static func isTransient(_ error: SystemError) -> Bool {
        [EMFILE, ENFILE, ENOMEM, ENOBUFS].contains(error.errno)
    }

    /// The pause before the next accept after `error`: for a transient error 1 ms, doubling with
    /// every consecutive failure up to 1 s; for any other error, 1 s at once.
    package mutating func pause(after error: SystemError) -> UInt64 {
        consecutiveFailures += 1
        guard Self.isTransient(error) else { return Self.maximumNanoseconds }
        let doublings = UInt64(min(consecutiveFailures - 1, 10))
        return min(Self.initialNanoseconds << doublings, Self.maximumNanoseconds)
    }

    /// An accept succeeded: the next failure starts again from the shortest pause.
    package mutating func succeeded() { consecutiveFailures = 0 }
}

package enum AcceptLoop {
    /// What the loop tells its owner about a failure (to log it): the error, the pause it takes,
    /// and how many failures in a row that makes.
    package typealias Report = (_ error: SystemError, _ pauseNanoseconds: UInt64, _ consecutiveFailures: Int) -> Void

    /// Accepts on `listener` until it is shut down, handing every accepted descriptor to `onAccept`.
    /// `accept` and `pause` are the real calls unless a test replaces them.
    package static func run(
        listener: Int32,
        accept: (Int32) throws(SystemError) -> Int32? = { listener throws(SystemError) in try UnixSocket.accept(listener) },
        pause: (UInt64) -> Void = AcceptLoop.sleep,
        report: Report,
        onAccept: (Int32) -> Void
    ) {
        var backoff = AcceptBackoff()
        while true {
            do {
                guard let descriptor = try accept(listener) else { return }
                backoff.succeeded()
                onAccept(descriptor)
            } catch {
                let nanoseconds = backoff.pause(after: error)
                report(error, nanoseconds, backoff.consecutiveFailures)
                pause(nanoseconds)
            }
        }
    }

    /// Sleeps the calling (blocking, non-Concurrency) thread.
    package static func sleep(_ nanoseconds: UInt64) {
        var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
