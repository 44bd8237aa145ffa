import RingCore
import RingLinux

/// The worker side of `ringbench latency` through the reactor: async receive and send on a reactor
/// of the requested backend (the host uses the same backend). On `iouring-eventfd` the four waiter
/// words' doorbells arrive as inherited descriptors 4…7 (see `LatencyCommand.doorbellWords`).
enum AsyncEchoPeer {
    static func run(descriptor: Int32, backend: ReactorBackendKind, profile: WaitProfile) async throws {
        let segment = try SharedMemorySegment.attach(descriptor: OwnedDescriptor(adopting: descriptor), role: .worker)
        let reactor = try Reactor(backend: backend)
        defer { reactor.shutdown() }
        if backend == .ioUringEventfd {
            for (index, word) in LatencyCommand.doorbellWords(segment).enumerated() {
                try reactor.adoptDoorbell(descriptor: Int32(4 + index), for: word)
            }
        }
        let waker = ReactorWaker(reactor)
        let sender = RingSender(segment.takeProducer(waker: waker)!, reactor: reactor, profile: profile)
        var receiver = RingReceiver(segment.takeConsumer(waker: waker)!, reactor: reactor, profile: profile)
        var pending: [(UInt64, [UInt8])] = []
        do {
            while true {
                _ = try await receiver.receive { message in pending.append((message.streamId, message.copyPayload())) }
                for (id, payload) in pending { try await sender.send(kind: .data, streamId: id, payload: payload) }
                pending.removeAll(keepingCapacity: true)
            }
        } catch RingError.closed {
            sender.close()
        }
    }
}
