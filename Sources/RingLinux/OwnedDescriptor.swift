// OwnedDescriptor — a file descriptor this process owns, as a value that cannot be copied: whoever
// holds it closes it (when the value ends) or hands it on (`consume`, or a `consuming` parameter
// such as SharedMemorySegment.attach). At the public boundary it replaces a bare Int32, so "who
// closes this descriptor" is answered by the type: never twice, never forgotten.
#if canImport(Glibc)
import Glibc
#endif

public struct OwnedDescriptor: ~Copyable, Sendable {
    /// The descriptor number; valid while this value lives.
    public let rawValue: Int32

    /// Takes ownership of `rawValue` (an open descriptor nobody else will close).
    public init(adopting rawValue: Int32) {
        self.rawValue = rawValue
    }

    /// Gives up ownership without closing: the caller now owns the number.
    public consuming func release() -> Int32 {
        let raw = rawValue
        discard self
        return raw
    }

    deinit { close(rawValue) }
}
