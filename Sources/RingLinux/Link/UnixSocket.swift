// UnixSocket — the socket through which peers that are already running find each other: a listener
// at a path (mode 0600), the peer's credentials (SO_PEERCRED), and descriptors (the segment memfd,
// doorbells) passed with SCM_RIGHTS. Used by RingChannel (workers connecting to a host) and
// GRPCRingTransport (gRPC clients connecting to a server). Every call goes through the syscall funnel.
#if canImport(Glibc)
import Glibc
#endif

/// `struct ucred` (Glibc hides it behind _GNU_SOURCE): the peer's pid, uid and gid.
package struct PeerCredentials: Equatable, Sendable {
    package var pid: Int32 = 0
    package var uid: UInt32 = 0
    package var gid: UInt32 = 0
    package init() {}
}

package enum UnixSocket {
    static func address(_ path: String) throws(SystemError) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { throw SystemError(call: "socket path (\(bytes.count) bytes)", errno: ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }

    /// A listening socket at `path`, mode 0600 (only this user may connect).
    package static func listen(path: String, backlog: Int32 = 64) throws(SystemError) -> Int32 {
        let fd = try Syscall.call("socket(AF_UNIX)") { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        do throws(SystemError) {
            var address = try self.address(path)
            try Syscall.call("bind(\(path))") {
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
                }
            }
            try Syscall.call("chmod(\(path), 0600)") { chmod(path, 0o600) }
            try Syscall.call("listen") { Glibc.listen(fd, backlog) }
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    /// Accepts one connection; nil once the listening socket was shut down.
    package static func accept(_ listener: Int32) throws(SystemError) -> Int32? {
        while true {
            // Glibc's module map hides accept4: accept, then close-on-exec (a child spawned in the
            // window would inherit the socket; it is closed right after the handshake is sent).
            let fd = Glibc.accept(listener, nil, nil)
            if fd >= 0 {
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                return fd
            }
            switch errno {
            case EINTR, ECONNABORTED, EPROTO: continue
            case EINVAL, EBADF: return nil  // shut down (or closed) under us
            default: throw SystemError(call: "accept4", errno: errno)
            }
        }
    }

    /// Wakes a thread blocked in `accept` on `listener`.
    package static func shutdownListener(_ listener: Int32) { _ = shutdown(listener, Int32(SHUT_RDWR)) }

    package static func peerCredentials(_ fd: Int32) throws(SystemError) -> PeerCredentials {
        var credentials = PeerCredentials()
        var length = socklen_t(MemoryLayout<PeerCredentials>.size)
        try Syscall.call("getsockopt(SO_PEERCRED)") { getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) }
        return credentials
    }

    package static func connect(path: String) throws(SystemError) -> Int32 {
        let fd = try Syscall.call("socket(AF_UNIX)") { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        do throws(SystemError) {
            var address = try self.address(path)
            try Syscall.call("connect(\(path))") {
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
                }
            }
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    /// Bounds blocking reads on `fd` (a host that never sends cannot hang a connecting worker).
    package static func setReceiveTimeout(_ fd: Int32, seconds: Int) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Control-message buffer size for `count` descriptors (CMSG_SPACE).
    private static func controlSpace(_ count: Int) -> Int {
        let align = MemoryLayout<Int>.size
        func aligned(_ n: Int) -> Int { (n + align - 1) & ~(align - 1) }
        return aligned(MemoryLayout<cmsghdr>.size) + aligned(count * MemoryLayout<Int32>.size)
    }

    /// Sends `bytes` with `descriptors` attached (SCM_RIGHTS), in one sendmsg.
    package static func send(_ fd: Int32, bytes: [UInt8], descriptors: [Int32]) throws(SystemError) {
        let space = controlSpace(descriptors.count)
        let control = UnsafeMutableRawPointer.allocate(byteCount: space, alignment: MemoryLayout<cmsghdr>.alignment)
        defer { control.deallocate() }
        control.initializeMemory(as: UInt8.self, repeating: 0, count: space)
        let header = control.assumingMemoryBound(to: cmsghdr.self)
        header.pointee.cmsg_len = MemoryLayout<cmsghdr>.size + descriptors.count * MemoryLayout<Int32>.size
        header.pointee.cmsg_level = SOL_SOCKET
        header.pointee.cmsg_type = Int32(SCM_RIGHTS)
        let data = control + ((MemoryLayout<cmsghdr>.size + MemoryLayout<Int>.size - 1) & ~(MemoryLayout<Int>.size - 1))
        for (index, descriptor) in descriptors.enumerated() {
            data.storeBytes(of: descriptor, toByteOffset: index * 4, as: Int32.self)
        }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 8)
        defer { buffer.deallocate() }
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        let vector = UnsafeMutablePointer<iovec>.allocate(capacity: 1)
        defer { vector.deallocate() }
        vector.initialize(to: iovec(iov_base: buffer, iov_len: bytes.count))
        var message = msghdr()
        message.msg_iov = vector
        message.msg_iovlen = 1
        message.msg_control = descriptors.isEmpty ? nil : control
        message.msg_controllen = descriptors.isEmpty ? 0 : space
        let sent = try Syscall.call("sendmsg") { sendmsg(fd, &message, Int32(MSG_NOSIGNAL)) }
        guard sent == bytes.count else { throw SystemError(call: "sendmsg (short write \(sent) of \(bytes.count))", errno: EIO) }
    }

    /// Receives one message of at most `maxBytes` with at most `maxDescriptors` descriptors (each
    /// close-on-exec, owned by the caller).
    package static func receive(_ fd: Int32, maxBytes: Int, maxDescriptors: Int) throws(SystemError) -> (bytes: [UInt8], descriptors: [Int32]) {
        let space = controlSpace(maxDescriptors)
        let control = UnsafeMutableRawPointer.allocate(byteCount: space, alignment: MemoryLayout<cmsghdr>.alignment)
        defer { control.deallocate() }
        control.initializeMemory(as: UInt8.self, repeating: 0, count: space)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(maxBytes, 1), alignment: 8)
        defer { buffer.deallocate() }
        let vector = UnsafeMutablePointer<iovec>.allocate(capacity: 1)
        defer { vector.deallocate() }
        vector.initialize(to: iovec(iov_base: buffer, iov_len: maxBytes))
        var message = msghdr()
        message.msg_iov = vector
        message.msg_iovlen = 1
        message.msg_control = control
        message.msg_controllen = space
        let received = try Syscall.call("recvmsg") { recvmsg(fd, &message, Int32(MSG_CMSG_CLOEXEC)) }
        let controlLength = message.msg_controllen
        let flags = message.msg_flags
        var descriptors: [Int32] = []
        if controlLength >= MemoryLayout<cmsghdr>.size {
            let header = control.assumingMemoryBound(to: cmsghdr.self).pointee
            if header.cmsg_level == SOL_SOCKET && header.cmsg_type == Int32(SCM_RIGHTS) {
                let dataOffset = (MemoryLayout<cmsghdr>.size + MemoryLayout<Int>.size - 1) & ~(MemoryLayout<Int>.size - 1)
                let count = min((Int(header.cmsg_len) - dataOffset) / 4, maxDescriptors)
                for index in 0..<max(count, 0) {
                    descriptors.append(control.load(fromByteOffset: dataOffset + index * 4, as: Int32.self))
                }
            }
        }
        if flags & Int32(MSG_CTRUNC) != 0 {
            descriptors.forEach { close($0) }
            throw SystemError(call: "recvmsg (descriptors truncated)", errno: EMSGSIZE)
        }
        return ([UInt8](UnsafeRawBufferPointer(start: buffer, count: received)), descriptors)
    }
}

/// A detached-at-will OS thread for blocking calls (the socket listener), joinable once.
package final class BlockingThread: @unchecked Sendable {
    private var thread = pthread_t()

    package init(_ body: @escaping @Sendable () -> Void) throws(SystemError) {
        final class Box {
            let body: @Sendable () -> Void
            init(_ body: @escaping @Sendable () -> Void) { self.body = body }
        }
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        let result = pthread_create(&thread, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        guard result == 0 else {
            Unmanaged<Box>.fromOpaque(box).release()
            throw SystemError(call: "pthread_create", errno: result)
        }
    }

    package func join() { pthread_join(thread, nil) }
}
