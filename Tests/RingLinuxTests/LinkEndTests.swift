import RingCore
import RingLinux
import Testing

/// Every reader loop ends a link the same way: a violation found in a message wins; a closed ring
/// is an orderly end; a poisoned ring is a violation; anything else is a stop.
@Suite struct LinkEndTests {
    struct Elsewhere: Error {}

    @Test func theProtocolsViolationWinsOverWhatTheRingSaysNext() {
        #expect(LinkEnd(after: RingError.closed, violation: "bad frame") == .violation("bad frame"))
        #expect(LinkEnd(after: RingError.protocolViolation("torn header"), violation: "bad frame") == .violation("bad frame"))
        #expect(LinkEnd(after: CancellationError(), violation: "bad frame") == .violation("bad frame"))
    }

    @Test func withoutOneTheRingsErrorDecides() {
        #expect(LinkEnd(after: RingError.closed, violation: nil) == .closedByPeer)
        #expect(LinkEnd(after: RingError.protocolViolation("torn header"), violation: nil) == .violation("torn header"))
        #expect(LinkEnd(after: CancellationError(), violation: nil) == .stopped)
        #expect(LinkEnd(after: Elsewhere(), violation: nil) == .stopped)
    }
}
