#if canImport(Glibc)
import Glibc
#endif
public import RingCore

/// A shared mapping of a file descriptor, unmapped and closed when released.
///
/// The only owner of `mmap`/`munmap` in RingTransport. Its region's `owner` is the mapping itself,
/// so rings built on the region keep it alive.
package final class SharedMapping: @unchecked Sendable {
    package let size: Int
    let base: UnsafeMutableRawPointer
    let descriptor: Int32

    /// Maps `size` bytes of `descriptor` (taking ownership of the descriptor: it is closed when the
    /// mapping is released).
    init(descriptor: Int32, size: Int, populate: Bool) throws(SystemError) {
        var flags = MAP_SHARED
        if populate { flags |= MAP_POPULATE }
        let address = mmap(nil, size, PROT_READ | PROT_WRITE, flags, descriptor, 0)
        guard let address, address != MAP_FAILED else {
            let code = errno
            close(descriptor)
            throw SystemError(call: "mmap", errno: code)
        }
        self.base = address
        self.size = size
        self.descriptor = descriptor
    }

    deinit {
        munmap(base, size)
        close(descriptor)
    }

    package var region: SharedRegion { SharedRegion(base: base, size: size, owner: self) }
}
