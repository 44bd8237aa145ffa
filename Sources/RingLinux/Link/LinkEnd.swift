// LinkEnd — how the reader of a link ended, decided one way for every link (LinkReader, whichever
// protocol is on top): a violation that the protocol layer found in a message wins over whatever
// the ring reported next; a ring the peer closed after its last message is an orderly end; a
// poisoned ring is a violation; anything else (this side stopped the reader, the peer process
// exited, the reactor shut down) is `stopped`, which each protocol refines with what it knows
// (gRPC tells a peer that exited from a local close).
import RingCore

package enum LinkEnd: Equatable, Sendable {
    /// The peer closed its ring after everything it sent was delivered.
    case closedByPeer
    /// The peer broke the protocol (the ring, or the protocol on top of it).
    case violation(String)
    /// The reader was stopped (by this side, the peer's exit, or the reactor's shutdown).
    case stopped

    /// The end of a reader whose drain threw `error` after the protocol layer reported `violation`
    /// (nil if none).
    package init(after error: any Error, violation: String?) {
        if let violation {
            self = .violation(violation)
            return
        }
        switch error as? RingError {
        case .closed?: self = .closedByPeer
        case .protocolViolation(let detail)?: self = .violation(detail)
        default: self = .stopped
        }
    }
}
