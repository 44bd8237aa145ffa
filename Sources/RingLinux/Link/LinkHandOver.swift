// LinkHandOver — how a segment crosses a Unix socket to a process that is already running, for
// both protocols: the accepting side (a function host, a gRPC server) sends the LinkGreeting and
// the descriptors in one sendmsg; the connecting side (a worker, a gRPC client) receives them,
// parses the greeting and only then keeps the descriptors. Checking *who* connected (SO_PEERCRED
// against the allowed uids) is LinkListener's job, before any segment is created.
#if canImport(Glibc)
import Glibc
#endif

/// What the connecting side received: the greeting, who sent it, and the descriptors it now owns
/// (close them, or hand them to `SharedMemorySegment.attach` / `Reactor.adoptDoorbell`).
package struct ReceivedLink: Sendable {
    package let greeting: LinkGreeting
    /// SO_PEERCRED of the accepting process (its pid as this process's namespace sees it).
    package let credentials: PeerCredentials
    package let segmentDescriptor: Int32
    package let doorbellDescriptors: [Int32]
}

package enum LinkHandOver {
    /// Doorbells travel only on the eventfd backend: one per waiter word of the segment.
    package static let maximumDoorbells = 4

    /// Accepting side: sends `greeting` with the segment memfd and `doorbells` (SCM_RIGHTS) on the
    /// accepted `socket`. The caller closes the socket afterwards.
    package static func offer(_ greeting: LinkGreeting, segment: SharedMemorySegment, doorbells: [Int32] = [], on socket: Int32) throws(SystemError) {
        try UnixSocket.send(socket, bytes: greeting.bytes, descriptors: [segment.unsafeFileDescriptor] + doorbells)
    }

    /// Connecting side: connects to `path`, receives the greeting and descriptors (bounded by a
    /// receive timeout: an accepting side that never answers cannot hang us), and checks that the
    /// link carries `expected`. On any error every received descriptor is closed.
    package static func receive(path: String, expecting expected: LinkProtocol, timeoutSeconds: Int = 30) throws(LinkError) -> ReceivedLink {
        let socket: Int32
        do { socket = try UnixSocket.connect(path: path) } catch { throw .unreachable(path: path, error) }
        defer { close(socket) }
        UnixSocket.setReceiveTimeout(socket, seconds: timeoutSeconds)
        let credentials: PeerCredentials
        let bytes: [UInt8]
        let descriptors: [Int32]
        do {
            credentials = try UnixSocket.peerCredentials(socket)
            (bytes, descriptors) = try UnixSocket.receive(socket, maxBytes: LinkGreeting.maximumBytes + 1, maxDescriptors: 1 + maximumDoorbells)
        } catch {
            throw .unreachable(path: path, error)
        }
        do throws(LinkError) {
            if bytes.isEmpty { throw .unreachable(path: path, SystemError(call: "recvmsg (the peer closed the socket before greeting)", errno: ECONNRESET)) }
            let greeting = try LinkGreeting.parse(bytes, expecting: expected)
            guard let segment = descriptors.first else { throw .descriptors("the greeting came without a segment descriptor") }
            return ReceivedLink(greeting: greeting, credentials: credentials, segmentDescriptor: segment, doorbellDescriptors: Array(descriptors.dropFirst()))
        } catch {
            descriptors.forEach { close($0) }
            throw error
        }
    }
}
