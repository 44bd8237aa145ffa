#if canImport(Glibc)
import Glibc
#endif
import CRingShim
@_spi(Unsafe) package import RingCore

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

    /// The mapped descriptor (owned by the mapping: dup it to hand it on).
    package var unsafeFileDescriptor: Int32 { descriptor }

    /// Scratch memory two processes share, with no segment format: a sealed anonymous memfd of
    /// `size` bytes, zero-filled (ringbench's calibration rows, which must not borrow a segment's
    /// reserved bytes).
    package static func scratch(size: Int, name: String = "ringscratch") throws(SystemError) -> SharedMapping {
        let fd = try Syscall.call("memfd_create") { crs_memfd_create(name, UInt32(CRS_MFD_CLOEXEC | CRS_MFD_ALLOW_SEALING)) }
        do {
            try Syscall.call("ftruncate") { ftruncate(fd, off_t(size)) }
            try Syscall.call("fcntl(F_ADD_SEALS)") {
                crs_fcntl_int(fd, Int32(CRS_F_ADD_SEALS), Int32(CRS_F_SEAL_SHRINK | CRS_F_SEAL_GROW | CRS_F_SEAL_SEAL))
            }
        } catch {
            close(fd)
            throw error
        }
        return try SharedMapping(descriptor: fd, size: size, populate: true)
    }

    /// Maps scratch memory a peer created (`scratch(size:)`), after checking that the file holds at
    /// least `size` bytes (a shorter one would raise SIGBUS on access). Takes the descriptor.
    package static func attachScratch(descriptor: Int32, size: Int) throws(SystemError) -> SharedMapping {
        var info = stat()
        do {
            try Syscall.call("fstat") { fstat(descriptor, &info) }
        } catch {
            close(descriptor)
            throw error
        }
        guard Int(info.st_size) >= size else {
            close(descriptor)
            throw SystemError(call: "attach scratch memory of \(info.st_size) bytes, \(size) needed", errno: EINVAL)
        }
        return try SharedMapping(descriptor: descriptor, size: size, populate: true)
    }
}
