#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A failed system call: which call and the errno it returned.
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    public let call: String
    public let errno: Int32

    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    public var description: String { "\(call) failed: \(String(cString: strerror(errno))) (errno \(errno))" }
}

/// The one funnel every syscall in RingTransport goes through, with one written errno policy:
/// - `EINTR` is retried;
/// - `EAGAIN`/`EWOULDBLOCK` is a value (`nil`) for the calls that may legitimately block
///   (`wouldBlockIsValue: true`), an error otherwise;
/// - `EBADF` and `EFAULT` are programmer errors (a closed descriptor, a wild pointer) and trap;
/// - everything else throws `SystemError`.
package enum Syscall {
    @discardableResult
    package static func call<R: FixedWidthInteger>(_ name: @autoclosure () -> String, _ body: () -> R) throws(SystemError) -> R {
        while true {
            let result = body()
            if result != -1 { return result }
            let code = errno
            if code == EINTR { continue }
            try fail(name(), code)
        }
    }

    /// As `call`, but `EAGAIN`/`EWOULDBLOCK` returns nil instead of throwing.
    package static func callAllowingWouldBlock<R: FixedWidthInteger>(
        _ name: @autoclosure () -> String, _ body: () -> R
    ) throws(SystemError) -> R? {
        while true {
            let result = body()
            if result != -1 { return result }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { return nil }
            try fail(name(), code)
        }
    }

    static func fail(_ name: String, _ code: Int32) throws(SystemError) -> Never {
        if code == EBADF || code == EFAULT {
            fatalError("\(name): \(String(cString: strerror(code))) — a RingTransport bug (bad descriptor or address)")
        }
        throw SystemError(call: name, errno: code)
    }
}
