// RingHandshake — how a client and a server find each other: the client connects to the server's
// Unix socket; the server checks the client's credentials (SO_PEERCRED), creates one segment for
// the connection (a sealed memfd) and passes it with SCM_RIGHTS after a one-line greeting; the
// client attaches (validating size, seals and header). Both then send a `handshake` frame carrying
// the stream-protocol version as the first frame on their ring.
#if canImport(Glibc)
import Glibc
#endif
import GRPCCore
import RingCore
import RingLinux

enum RingHandshake {
    static let greeting = "GRPCRING1"
    /// 2: per-stream flow control (`streamCredit` frames, StreamFlowControl.swift). A peer that
    /// speaks 1 is refused at the handshake, never misread.
    static let protocolVersion: UInt16 = 2

    /// The payload of our handshake frame.
    static var helloPayload: [UInt8] { [UInt8(truncatingIfNeeded: protocolVersion), UInt8(truncatingIfNeeded: protocolVersion >> 8)] }

    /// Checks the peer's handshake frame; returns a violation or nil.
    static func check(_ frame: InboundFrame) -> String? {
        guard frame.kind == .handshake, frame.streamId == 0 else { return "expected a handshake frame, got \(frame.kind)" }
        guard frame.payload.count == 2 else { return "handshake of \(frame.payload.count) bytes" }
        let version = UInt16(frame.payload[0]) | UInt16(frame.payload[1]) << 8
        guard version == protocolVersion else { return "peer speaks stream protocol \(version), this side \(protocolVersion)" }
        return nil
    }

    /// Server side, on the accepting thread: creates the connection's segment and hands it over.
    /// Returns the segment and the client's pid. Closes `socket`.
    static func accept(socket: Int32, configuration: SegmentConfiguration) throws -> (SharedMemorySegment, clientPID: Int32) {
        defer { close(socket) }
        let credentials = try UnixSocket.peerCredentials(socket)
        guard credentials.uid == getuid() else {
            throw RPCError(code: .permissionDenied, message: "ring client uid \(credentials.uid) is not this server's uid")
        }
        let segment = try SharedMemorySegment.create(configuration: configuration, name: "grpc-ring")
        try UnixSocket.send(socket, bytes: Array("\(greeting)\n\(getpid())\n".utf8), descriptors: [segment.unsafeFileDescriptor])
        return (segment, credentials.pid)
    }

    /// Client side: connects, receives the segment, attaches. Blocks briefly (a local socket; the
    /// server answers from its accepting thread; bounded by a receive timeout).
    static func connect(path: String) throws -> (SharedMemorySegment, serverPID: Int32) {
        let socket: Int32
        do { socket = try UnixSocket.connect(path: path) } catch {
            throw RPCError(code: .unavailable, message: "cannot connect to the ring server at \(path): \(error)")
        }
        defer { close(socket) }
        UnixSocket.setReceiveTimeout(socket, seconds: 30)
        let credentials = try UnixSocket.peerCredentials(socket)
        let (bytes, descriptors) = try UnixSocket.receive(socket, maxBytes: 256, maxDescriptors: 1)
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
        guard lines.first == greeting, let descriptor = descriptors.first else {
            descriptors.forEach { close($0) }
            throw RPCError(code: .unavailable, message: "unexpected greeting from \(path) (\(bytes.count) bytes, \(descriptors.count) descriptors)")
        }
        do {
            return (try SharedMemorySegment.attach(descriptor: descriptor, role: .worker), credentials.pid)
        } catch {
            throw RPCError(code: .unavailable, message: "cannot attach the ring segment from \(path): \(error)")
        }
    }
}
