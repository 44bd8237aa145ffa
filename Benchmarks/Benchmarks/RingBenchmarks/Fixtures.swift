// In-process rings in heap memory, shared by the ring benchmarks.
import Benchmark
@_spi(Unsafe) import RingCore

enum Fixture {
    /// Data-area capacity of each ring. maxFrameLength defaults to a quarter of it (256 KiB), so a
    /// 64 KiB message is one frame.
    static let ringCapacity = 1 << 20

    /// A freshly formatted segment in heap memory; returns the geometry of its host → worker ring.
    /// The geometry keeps the memory alive.
    static func hostToWorkerGeometry(capacity: Int = ringCapacity) -> RingGeometry {
        let configuration = SegmentConfiguration(hostToWorkerCapacity: capacity, workerToHostCapacity: capacity)
        let memory = HeapSegmentMemory(size: configuration.totalSize)
        do {
            try SegmentHeader.format(memory.region, configuration: configuration, creatorPID: 1)
            let header = try SegmentHeader(validating: memory.region)
            return RingGeometry(region: memory.region, header: header, direction: .hostToWorker)
        } catch {
            fatalError("cannot format a benchmark segment: \(error)")
        }
    }

    /// Messages written between two drains: as many frames as fill half the ring, so a batch always
    /// fits whatever the wrap position (a wrap costs at most one frame of padding).
    static func batchSize(payloadSize: Int, contextSize: Int = 0, capacity: Int = ringCapacity) -> Int {
        let frame = (FrameHeader.size + contextSize + payloadSize + 7) & ~7
        return max(1, (capacity / 2) / frame)
    }

    /// A realistic forwarding context: two ids, a 55-character traceparent, a tracestate, a
    /// deadline, retry counters and three attributes.
    static let context = ForwardingContext(
        invocationId: ContextID(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210),
        forwardingId: ContextID(high: 0x1111_2222_3333_4444, low: 0x5555_6666_7777_8888),
        traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        tracestate: "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
        deadlineNanoseconds: 1_700_000_000_000_000_000,
        retryCount: 1,
        maxRetries: 3,
        attributes: [
            .init(key: "function", value: "resize-image"),
            .init(key: "tenant", value: "acme-prod"),
            .init(key: "region", value: "eu-west-1"),
        ]
    )
}

/// A heap buffer filled with a byte pattern, allocated once per benchmark (outside measurement).
final class Payload {
    let bytes: UnsafeMutableRawBufferPointer

    init(size: Int) {
        bytes = .allocate(byteCount: size, alignment: 64)
        for i in 0..<size { bytes[i] = UInt8(truncatingIfNeeded: i &* 31) }
    }

    var view: UnsafeRawBufferPointer { UnsafeRawBufferPointer(bytes) }

    deinit { bytes.deallocate() }
}

/// Both handles of one ring, owned together so a single thread can write and drain.
///
/// The handles are `~Copyable`; they are lent to the measured loop as `inout` once per outer
/// iteration, so the loop works on them like local variables (no per-call exclusivity check on
/// a class property).
final class DirectRing {
    private var producer: RingProducer
    private var consumer: RingConsumer
    let payload: Payload

    init(payloadSize: Int) {
        let geometry = Fixture.hostToWorkerGeometry()
        producer = RingProducer(geometry: geometry)
        consumer = RingConsumer(geometry: geometry)
        payload = Payload(size: payloadSize)
    }

    func withHandles<R>(_ body: (inout RingProducer, inout RingConsumer) -> R) -> R {
        body(&producer, &consumer)
    }
}

/// A ring written through `SharedRingWriter` (the in-process lock) and drained directly.
final class LockedRing {
    let writer: SharedRingWriter
    private var consumer: RingConsumer
    let payload: Payload

    init(payloadSize: Int) {
        let geometry = Fixture.hostToWorkerGeometry()
        writer = SharedRingWriter(RingProducer(geometry: geometry))
        consumer = RingConsumer(geometry: geometry)
        payload = Payload(size: payloadSize)
    }

    func withConsumer<R>(_ body: (inout RingConsumer) -> R) -> R {
        body(&consumer)
    }
}

/// A ring read whole-message at a time through `MessageReader`.
final class MessageRing {
    private var producer: RingProducer
    private var reader: MessageReader
    let payload: Payload

    init(payloadSize: Int) {
        let geometry = Fixture.hostToWorkerGeometry()
        producer = RingProducer(geometry: geometry)
        reader = MessageReader(consumer: RingConsumer(geometry: geometry))
        payload = Payload(size: payloadSize)
    }

    func withHandles<R>(_ body: (inout RingProducer, inout MessageReader) -> R) -> R {
        body(&producer, &reader)
    }
}

/// Stops the benchmark on an outcome that means the benchmark itself is wrong (the batch was sized
/// to fit, so `.full` or an error is a bug, not a measurement).
@inline(never)
func benchmarkFailure(_ what: String, _ detail: Any) -> Never {
    fatalError("benchmark invariant broken: \(what): \(detail)")
}
