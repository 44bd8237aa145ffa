// RingHandshake — how a client and a server find each other, on RingLinux's link layer: the client
// connects to the server's Unix socket (LinkListener checks its SO_PEERCRED uid); the server creates
// one segment for the connection (a sealed memfd) and passes it with the LinkGreeting (protocol
// `grpc`); the client attaches (validating size, seals and header). Both then send a `handshake` frame carrying
// the stream-protocol version as the first frame on their ring.
#if canImport(Glibc)
import Glibc
#endif
import GRPCCore
import RingCore
import RingLinux

enum RingHandshake {
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

    /// Server side, on the accepting thread: creates the connection's segment and hands it over
    /// (LinkHandOver; the listener already checked the peer's uid). Closes `socket`.
    static func accept(socket: Int32, configuration: SegmentConfiguration, backend: ReactorBackendKind) throws -> SharedMemorySegment {
        defer { close(socket) }
        let segment = try SharedMemorySegment.create(configuration: configuration, name: "grpc-ring")
        try LinkHandOver.offer(LinkGreeting(linkProtocol: .grpc, pid: getpid(), backend: backend), segment: segment, on: socket)
        return segment
    }

    /// Client side: connects, receives the segment, attaches. Blocks briefly (a local socket; the
    /// server answers from its accepting thread; bounded by a receive timeout). A socket that is not
    /// a gRPC ring server's (a function host's, another greeting version) is `unavailable` with the
    /// `LinkError` as its cause.
    static func connect(path: String) throws -> (SharedMemorySegment, serverPID: Int32) {
        let link: ReceivedLink
        do { link = try LinkHandOver.receive(path: path, expecting: .grpc) } catch {
            throw RPCError(code: .unavailable, message: "cannot connect to the ring server at \(path): \(error)", cause: error)
        }
        guard link.doorbellDescriptors.isEmpty else {
            link.doorbellDescriptors.forEach { close($0) }
            close(link.segmentDescriptor)
            throw RPCError(code: .unavailable, message: "the ring server at \(path) sent doorbells (backend \(link.greeting.backend)), which a gRPC link cannot use")
        }
        do {
            return (try SharedMemorySegment.attach(descriptor: OwnedDescriptor(adopting: link.segmentDescriptor), role: .worker), link.credentials.pid)
        } catch {
            throw RPCError(code: .unavailable, message: "cannot attach the ring segment from \(path): \(error)")
        }
    }
}
