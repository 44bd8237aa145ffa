#if canImport(Glibc)
import Glibc
#endif
import RingLinux

/// The byte-stream baselines: what a host would use instead of shared memory.
package enum StreamKind: String, CaseIterable, Sendable {
    /// A stream socketpair (AF_UNIX, SOCK_STREAM) — what gRPC-over-UDS rides on.
    case unix
    /// Two pipes, one per direction, with 1 MiB buffers.
    case pipe
    /// TCP over 127.0.0.1 with TCP_NODELAY (as gRPC sets it).
    case tcp
}

/// A bidirectional byte stream between this process and a peer process. The peer inherits its
/// reading end as descriptor 3 and its writing end as descriptor 4 (the same socket twice for unix
/// and tcp). Every baseline uses one such channel, so they differ only in the kernel path.
final class StreamChannel {
    let kind: StreamKind
    /// Our ends.
    let writeEnd: Int32
    let readEnd: Int32
    /// The peer's ends (the child gets duplicates; ours are closed in deinit).
    let peerReadEnd: Int32
    let peerWriteEnd: Int32
    private var writeClosed = false

    init(kind: StreamKind) throws {
        self.kind = kind
        switch kind {
        case .unix:
            var fds: [Int32] = [0, 0]
            try Syscall.call("socketpair") {
                socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds)
            }
            (writeEnd, readEnd, peerReadEnd, peerWriteEnd) = (fds[0], fds[0], fds[1], fds[1])
        case .pipe:
            var toPeer: [Int32] = [0, 0]
            var fromPeer: [Int32] = [0, 0]
            try Syscall.call("pipe") { pipe(&toPeer) }
            try Syscall.call("pipe") { pipe(&fromPeer) }
            for fd in toPeer + fromPeer { try Self.closeOnExec(fd) }
            // 1 MiB pipe buffers (the default 64 KiB cannot hold one 64 KiB message and its prefix,
            // which would cost the baseline a sleep per message). F_SETPIPE_SZ is Linux-only (1031).
            for fd in [toPeer[1], fromPeer[1]] { _ = fcntl(fd, 1031, Int32(1 << 20)) }
            (writeEnd, readEnd, peerReadEnd, peerWriteEnd) = (toPeer[1], fromPeer[0], toPeer[0], fromPeer[1])
        case .tcp:
            let (client, server) = try Self.loopbackPair()
            (writeEnd, readEnd, peerReadEnd, peerWriteEnd) = (client, client, server, server)
        }
    }

    deinit {
        var open = Set([writeEnd, readEnd, peerReadEnd, peerWriteEnd])
        if writeClosed && kind == .pipe { open.remove(writeEnd) }
        open.forEach { close($0) }
    }

    var inherit: [Int32: Int32] { [3: peerReadEnd, 4: peerWriteEnd] }

    /// Ends our direction: the peer reads end-of-file and exits.
    func closeWrite() {
        switch kind {
        case .unix, .tcp: shutdown(writeEnd, Int32(SHUT_WR))
        case .pipe:
            if !writeClosed { close(writeEnd) }
        }
        writeClosed = true
    }

    /// Children get only the descriptors mapped explicitly (ChildProcess `inherit`).
    static func closeOnExec(_ fd: Int32) throws {
        _ = try Syscall.call("fcntl(F_SETFD)") { fcntl(fd, F_SETFD, FD_CLOEXEC) }
    }

    /// A connected TCP pair over 127.0.0.1 (listener on an ephemeral port, closed once accepted).
    static func loopbackPair() throws -> (client: Int32, server: Int32) {
        let streamType = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let listener = try Syscall.call("socket") { socket(AF_INET, streamType, 0) }
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                try Syscall.call("bind") { bind(listener, raw, length) }
                try Syscall.call("listen") { listen(listener, 1) }
                try Syscall.call("getsockname") { getsockname(listener, raw, &length) }
            }
        }
        let client = try Syscall.call("socket") { socket(AF_INET, streamType, 0) }
        _ = try withUnsafePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                try Syscall.call("connect") { connect(client, raw, length) }
            }
        }
        let server = try Syscall.call("accept") { accept(listener, nil, nil) }
        try closeOnExec(server)
        for fd in [client, server] {
            var one: Int32 = 1
            try Syscall.call("setsockopt(TCP_NODELAY)") {
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            }
        }
        return (client, server)
    }
}
