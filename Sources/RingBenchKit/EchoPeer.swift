import RingCore
import RingLinux

/// The worker side of `ringbench latency`: echoes every message back, waiting with `profile`, until
/// the host closes its ring. Reports its wake syscalls in a final control message.
enum RingEchoPeer {
    static func run(descriptor: Int32, profile: WaitProfile) throws {
        let segment = try SharedMemorySegment.attach(descriptor: OwnedDescriptor(adopting: descriptor), role: .worker)
        var producer = segment.takeProducer()!
        var reader = MessageReader(consumer: segment.takeConsumer()!)
        var readBackoff = Backoff(profile)
        var writeBackoff = Backoff(profile)
        var failure: RingError?
        do {
            while true {
                _ = try reader.receive(backoff: &readBackoff) { message in
                    do throws(RingError) {
                        try producer.writeMessage(
                            kind: message.kind, flags: message.flags, streamId: message.streamId, payload: message.payload,
                            backoff: &writeBackoff)
                    } catch { failure = error }
                }
                if let failure { throw failure }
            }
        } catch RingError.closed {
            producer.close()
        }
    }
}
