package import ArgumentParser
@_spi(Unsafe) import RingCore
import RingLinux

/// `ringbench cost`: what one message costs the ring's writer and its reader, measured in one
/// thread so that nothing but their own instructions counts — no cross-core transfer, no waiting.
///
/// Between two processes on these VMs the throughput rows move 3–4× with the placement of the
/// vCPUs, which hides a change of 10–20 % in the per-message code. Here the writer writes `--batch`
/// messages (as `throughput` does) and the reader drains them, in turn, in one thread, on a ring
/// small enough to stay in the core's caches. Timed, it is a per-message time; run under
/// `valgrind --tool=callgrind` (`make bench-cost`), it is a count of instructions per message that
/// is the same on every run of the same binary. The writer's and the reader's halves are separate
/// functions (`CostLoop.writeHalf` / `readHalf`) so callgrind reports them apart. The floor's
/// records go through the same two halves for comparison.
package struct CostCommand: ParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "cost",
        abstract: "Per-message cost of the ring's writer and reader in one thread (ns; instructions under callgrind: make bench-cost).")

    @Option(name: .long, help: "Message sizes in bytes, comma-separated (suffixes K allowed, at most 4K).")
    var sizes: String = "64,256"

    @Option(name: .long, help: "Transports, comma-separated: ring, floor.")
    var transports: String = "ring,floor"

    @Option(name: .long, help: "Messages per (transport, size).")
    var messages: Int = 20_000_000

    @Option(name: .long, help: "Messages per write half (one publication), as throughput's --batch.")
    var batch: Int = 32

    @Option(name: .long, help: "How the ring's writer writes: batch (RingProducer.writeBatch) or frames (tryWrite each frame).")
    var writer: RingWriterMode = .batch

    @Option(name: .long, help: "What the reader does with each payload: touch, read, copy.")
    var consume: ConsumeMode = .copy

    package init() {}

    package func validate() throws {
        guard messages >= 1 else { throw ValidationError("--messages must be at least 1") }
        guard batch >= 1, batch <= 1024 else { throw ValidationError("--batch must be in 1…1024") }
        for transport in parsedTransports() where transport != "ring" && transport != "floor" {
            throw ValidationError("--transports: unknown transport '\(transport)' (known: ring, floor)")
        }
        for size in try parsedSizes() where size < 8 || size > 4096 - FrameHeader.size {
            throw ValidationError("--sizes: \(size) is outside 8 B…\(4096 - FrameHeader.size) B (one small frame)")
        }
    }

    func parsedSizes() throws -> [Int] {
        try sizes.split(separator: ",").map { try ByteSize.parse(String($0), option: "--sizes") }
    }

    func parsedTransports() -> [String] { transports.split(separator: ",").map(String.init) }

    package func run() throws {
        print("transport  size     ns/message  messages")
        for transport in parsedTransports() {
            for size in try parsedSizes() {
                let loop = try CostLoop(size: size, batch: batch, writer: writer, consume: consume)
                let start = MonotonicClock.now()
                let delivered = try transport == "ring" ? loop.runRing(messages: messages) : loop.runFloor(messages: messages)
                let elapsed = MonotonicClock.now() - start
                guard delivered == UInt64(messages) else { throw CountMismatch(sent: UInt64(messages), received: delivered) }
                let label = transport.padding(toLength: 10, withPad: " ", startingAt: 0)
                let sizeLabel = "\(size) B".padding(toLength: 8, withPad: " ", startingAt: 0)
                print("\(label) \(sizeLabel) \(String(format: "%10.2f", Double(elapsed) / Double(messages)))  \(messages)")
            }
        }
    }
}

/// The two halves of `ringbench cost`, on one segment whose host→worker ring holds 64 KiB (in
/// L2 at every size, so only instructions count).
final class CostLoop {
    let segment: SharedMemorySegment
    let size: Int
    let batch: Int
    let writer: RingWriterMode
    var sink: PayloadSink
    let payload: UnsafeMutableRawBufferPointer

    init(size: Int, batch: Int, writer: RingWriterMode, consume: ConsumeMode) throws {
        segment = try SharedMemorySegment.create(
            configuration: SegmentConfiguration(hostToWorkerCapacity: 64 << 10, workerToHostCapacity: 64 << 10, maxMessageSize: 64 << 10))
        self.size = size
        self.batch = batch
        self.writer = writer
        sink = PayloadSink(mode: consume, maxSize: size)
        payload = makeSenderPayload(size: size)
    }

    deinit {
        sink.free()
        payload.deallocate()
    }

    /// Writes and drains `messages` through the ring; returns how many the reader delivered.
    func runRing(messages: Int) throws(RingError) -> UInt64 {
        // Both ends of the host→worker ring, in this one thread.
        let geometry = segment.geometry(.hostToWorker)
        var producer = RingProducer(geometry: geometry)
        var reader = MessageReader(consumer: RingConsumer(geometry: geometry))
        let bytes = UnsafeRawBufferPointer(start: payload.baseAddress, count: size)
        var written = 0
        var delivered: UInt64 = 0
        while written < messages {
            let want = min(batch, messages - written)
            written += try Self.writeHalf(&producer, bytes: bytes, count: want, first: UInt64(written), writer: writer)
            delivered &+= try Self.readHalf(&reader, sink: &sink)
        }
        producer.close()
        return delivered
    }

    /// Writes up to `count` frames and publishes them; returns how many were written (fewer when
    /// the batch met the end of the data area: the next one starts after the wrap).
    @inline(never)
    static func writeHalf(
        _ producer: inout RingProducer, bytes: UnsafeRawBufferPointer, count: Int, first: UInt64, writer: RingWriterMode
    ) throws(RingError) -> Int {
        if writer == .batch {
            return try producer.writeBatch { frames in
                var i = 0
                while i < count, frames.append(kind: .data, streamId: first &+ UInt64(i), payload: bytes) { i &+= 1 }
            }
        }
        var i = 0
        while i < count, try producer.tryWrite(kind: .data, streamId: first &+ UInt64(i), payload: bytes, publish: false) == .written {
            i &+= 1
        }
        producer.publish()
        return i
    }

    /// Drains every published message into the sink; returns how many.
    @inline(never)
    static func readHalf(_ reader: inout MessageReader, sink: inout PayloadSink) throws(RingError) -> UInt64 {
        var count: UInt64 = 0
        _ = try reader.drain { message in
            sink.consume(message.payload)
            count &+= 1
        }
        return count
    }

    /// The floor's records through the same two halves.
    func runFloor(messages: Int) throws -> UInt64 {
        let records = try FloorRecords(geometry: segment.geometry(.hostToWorker), payloadSize: size)
        let source = UnsafeRawPointer(payload.baseAddress!)
        var writePosition: UInt64 = 0
        var cachedHead: UInt64 = 0
        var readPosition: UInt64 = 0
        var cachedTail: UInt64 = 0
        var written = 0
        var delivered: UInt64 = 0
        while written < messages {
            let want = min(batch, messages - written, Int(records.slots))
            Self.floorWriteHalf(records, source: source, count: want, first: UInt64(written), position: &writePosition, cachedHead: &cachedHead)
            written += want
            delivered &+= Self.floorReadHalf(records, count: want, position: &readPosition, cachedTail: &cachedTail, sink: &sink)
        }
        return delivered
    }

    @inline(never)
    static func floorWriteHalf(
        _ records: FloorRecords, source: UnsafeRawPointer, count: Int, first: UInt64, position: inout UInt64, cachedHead: inout UInt64
    ) {
        for i in 0..<count {
            records.write(sequence: first &+ UInt64(i), payload: source, position: &position, cachedHead: &cachedHead)
        }
        records.publish(position)
    }

    @inline(never)
    static func floorReadHalf(
        _ records: FloorRecords, count: Int, position: inout UInt64, cachedTail: inout UInt64, sink: inout PayloadSink
    ) -> UInt64 {
        var delivered: UInt64 = 0
        for _ in 0..<count {
            guard records.receive(position: &position, cachedTail: &cachedTail, spins: 1, { sink.consume($0) }) != nil else { break }
            delivered &+= 1
        }
        return delivered
    }
}
