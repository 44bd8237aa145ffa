import RingCore
import RingLinux

/// The ring side of `ringbench throughput`: host → worker data, worker → host count answers.
final class RingThroughputSender: ThroughputSender {
    let segment: SharedMemorySegment
    // Optionals so the hot loop can move them into locals (no dynamic exclusivity checks).
    var producer: RingProducer?
    var reader: MessageReader?
    let batch: Int
    let writer: RingWriterMode
    let payload: UnsafeMutableRawBufferPointer

    let profile: WaitProfile

    init(capacity: Int, maxSize: Int, batch: Int, writer: RingWriterMode = .batch, profile: WaitProfile = .latency) throws {
        self.profile = profile
        segment = try SharedMemorySegment.create(
            configuration: SegmentConfiguration(hostToWorkerCapacity: capacity, workerToHostCapacity: capacity,
                                                maxMessageSize: max(maxSize, 1 << 20)))
        producer = segment.takeProducer()!
        reader = MessageReader(consumer: segment.takeConsumer()!)
        self.batch = max(batch, 1)
        self.writer = writer
        payload = makeSenderPayload(size: maxSize)
    }

    deinit { payload.deallocate() }

    var inherit: [Int32: Int32] { [3: segment.unsafeFileDescriptor] }

    func run(size: Int, nanoseconds: UInt64) throws -> RepetitionOutcome {
        var producer = self.producer.take()!
        var reader = self.reader.take()!
        let result = Result {
            try Self.stream(size: size, nanoseconds: nanoseconds, batch: batch, writer: writer, profile: profile, payload: payload,
                            producer: &producer, reader: &reader)
        }
        self.producer = consume producer
        self.reader = consume reader
        return try result.get()
    }

    /// The measured loop, on locals (a class property would pay a dynamic exclusivity check per access).
    static func stream(
        size: Int, nanoseconds: UInt64, batch: Int, writer: RingWriterMode, profile: WaitProfile, payload: UnsafeMutableRawBufferPointer,
        producer: inout RingProducer, reader: inout MessageReader
    ) throws -> RepetitionOutcome {
        let bytes = UnsafeRawBufferPointer(start: payload.baseAddress, count: size)
        let single = FrameHeader.size + size <= producer.maxFrameLength
        var backoff = Backoff(profile)
        var sent: UInt64 = 0
        var unpublished = 0
        let deadline = MonotonicClock.now() + nanoseconds
        let batched = writer == .batch && single && size <= producer.maxBatchPayload
        repeat {
            if batched {
                // Small messages: `batch` frames per reservation and publication (writeBatch).
                var written = 0
                while written < 1024 {
                    let want = min(batch, 1024 - written)
                    let first = sent
                    let count = try producer.writeBatch { frames in
                        var i: UInt64 = 0
                        while i < UInt64(want), frames.append(kind: .data, streamId: first &+ i, payload: bytes) { i &+= 1 }
                    }
                    if count == 0 {
                        try producer.awaitSpace(frameBytes: FrameHeader.size + size, backoff: &backoff)
                    } else {
                        backoff.reset()
                    }
                    written += count
                    sent &+= UInt64(count)
                }
                continue
            }
            for _ in 0..<1024 {
                if single {
                    while try producer.tryWrite(kind: .data, streamId: sent, payload: bytes, publish: false) == .full {
                        try producer.awaitSpace(frameBytes: FrameHeader.size + size, backoff: &backoff)
                    }
                    backoff.reset()
                    unpublished += 1
                    if unpublished == batch {
                        producer.publish()
                        unpublished = 0
                    }
                } else {
                    producer.publish()
                    try producer.writeMessage(kind: .data, streamId: sent, payload: bytes, backoff: &backoff)
                }
                sent += 1
            }
        } while MonotonicClock.now() < deadline
        producer.publish()
        var count = sent.littleEndian
        try withUnsafeBytes(of: &count) { try producer.writeMessage(kind: .control, streamId: 0, payload: $0, backoff: &backoff) }
        var received: UInt64?
        var peerWakes: UInt64 = 0
        while received == nil {
            _ = try reader.receive(backoff: &backoff) { message in
                received = UInt64(littleEndian: message.payload.loadUnaligned(as: UInt64.self))
                peerWakes = UInt64(littleEndian: message.payload.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            }
        }
        guard received == sent else { throw CountMismatch(sent: sent, received: received!) }
        return RepetitionOutcome(messages: sent, peerWakes: peerWakes)
    }

    func finish() throws { producer!.close() }
}

/// The ring side of `ringbench _peer`.
enum RingThroughputPeer {
    static func run(descriptor: Int32, consume: ConsumeMode, profile: WaitProfile) throws {
        let segment = try SharedMemorySegment.attach(descriptor: OwnedDescriptor(adopting: descriptor), role: .worker)
        var producer = segment.takeProducer()!
        var reader = MessageReader(consumer: segment.takeConsumer()!)
        var sink = PayloadSink(mode: consume, maxSize: segment.configuration.maxMessageSize)
        defer { sink.free() }
        var backoff = Backoff(profile)
        var writeBackoff = Backoff(profile)
        var count: UInt64 = 0
        var wakesReported = WaitCounters.wakeSyscallCount
        var failure: RingError?
        do {
            while true {
                _ = try reader.receive(backoff: &backoff) { message in
                    if message.kind == .data {
                        sink.consume(message.payload)
                        count += 1
                    } else {
                        let wakes = WaitCounters.wakeSyscallCount
                        var answer = (count.littleEndian, (wakes - wakesReported).littleEndian)
                        wakesReported = wakes
                        count = 0
                        do throws(RingError) {
                            try withUnsafeBytes(of: &answer) { bytes throws(RingError) in
                                try producer.writeMessage(kind: .control, streamId: 0, payload: bytes, backoff: &writeBackoff)
                            }
                        } catch { failure = error }
                    }
                }
                if let failure { throw failure }
            }
        } catch RingError.closed {
            producer.close()
        }
        if sink.accumulator == 0x5EED { print("") }  // keeps the sink observable
    }
}
