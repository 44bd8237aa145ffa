#if canImport(Glibc)
    import Glibc
#endif
import ArgumentParser
import Atomics
import RingCore
import RingLinux

/// The `floor` transport of `ringbench throughput` and `compare`: the simplest SPSC ring that can
/// move the same messages between the same two processes over the same shared memory, measured
/// in the same run — the limit the real ring is read against ("% floor").
///
/// What it leaves out is exactly what the real ring pays for: fixed-size records (one 8-byte
/// sequence word + the payload, rounded to 8), so a record's place is computed, never read from
/// the peer; no validation of anything the peer wrote; no context, kinds, fragments or padding;
/// busy-spin on both sides (no sleep, no wake). Like the ring row, it publishes its tail once per
/// `batch` records and the receiver gives space back once per drained run, and the receiver
/// consumes each payload as `--consume` says. Trusting the peer is what makes it a floor and not
/// a transport: never use it for anything but a measurement.
final class FloorThroughputSender: ThroughputSender {
    let segment: SharedMemorySegment
    let records: FloorRecords
    var position: UInt64 = 0
    var cachedHead: UInt64 = 0
    let batch: Int
    let payload: UnsafeMutableRawBufferPointer
    var answers: MessageReader?

    init(capacity: Int, maxSize: Int, batch: Int) throws {
        segment = try SharedMemorySegment.create(
            configuration: SegmentConfiguration(
                hostToWorkerCapacity: capacity, workerToHostCapacity: 64 << 10, maxMessageSize: 64 << 10))
        records = try FloorRecords(geometry: segment.geometry(.hostToWorker), payloadSize: maxSize)
        answers = MessageReader(consumer: segment.takeConsumer()!)
        self.batch = max(batch, 1)
        payload = makeSenderPayload(size: maxSize)
    }

    deinit { payload.deallocate() }

    var inherit: [Int32: Int32] { [3: segment.unsafeFileDescriptor] }

    func run(size: Int, nanoseconds: UInt64) throws -> RepetitionOutcome {
        precondition(size == records.payloadSize, "a floor ring carries one record size")
        var sent: UInt64 = 0
        var position = self.position
        var cachedHead = self.cachedHead
        let records = self.records
        let source = UnsafeRawPointer(payload.baseAddress!)
        var unpublished = 0
        let deadline = MonotonicClock.now() + nanoseconds
        var peerWoken = false
        repeat {
            for _ in 0..<1024 {
                records.write(sequence: sent, payload: source, position: &position, cachedHead: &cachedHead)
                sent &+= 1
                unpublished &+= 1
                if unpublished == batch {
                    records.publish(position)
                    unpublished = 0
                }
            }
            if !peerWoken {
                // The peer sleeps between repetitions: once per repetition, after records are out.
                records.publish(position)
                records.wakePeer()
                peerWoken = true
            }
        } while MonotonicClock.now() < deadline
        records.write(sequence: FloorRecords.endOfRepetition, payload: source, position: &position,
                      cachedHead: &cachedHead)
        records.publish(position)
        self.position = position
        self.cachedHead = cachedHead
        var reader = answers.take()!
        var received: UInt64?
        var backoff = Backoff(.latency)
        let waited = Result { () throws(RingError) in
            while received == nil {
                _ = try reader.receive(backoff: &backoff) { message in
                    received = UInt64(littleEndian: message.payload.loadUnaligned(as: UInt64.self))
                }
            }
        }
        answers = consume reader
        try waited.get()
        guard received == sent else { throw CountMismatch(sent: sent, received: received!) }
        return RepetitionOutcome(messages: sent, peerWakes: 0)
    }

    func finish() throws {
        var position = self.position
        var cachedHead = self.cachedHead
        records.write(sequence: FloorRecords.exit, payload: UnsafeRawPointer(payload.baseAddress!),
                      position: &position, cachedHead: &cachedHead)
        records.publish(position)
        records.wakePeer()
    }
}

/// The receiving side of the floor (`ringbench _peer --transport floor`).
enum FloorThroughputPeer {
    static func run(descriptor: Int32, consume: ConsumeMode, payloadSize: Int) throws {
        let segment = try SharedMemorySegment.attach(descriptor: OwnedDescriptor(adopting: descriptor), role: .worker)
        let records = try FloorRecords(geometry: segment.geometry(.hostToWorker), payloadSize: payloadSize)
        var answers = segment.takeProducer()!
        var sink = PayloadSink(mode: consume, maxSize: payloadSize)
        defer { sink.free() }
        var position: UInt64 = 0
        var cachedTail: UInt64 = 0
        var count: UInt64 = 0
        let parent = getppid()
        var backoff = Backoff(.spinOnly)
        // Between repetitions (before the first one, and after answering one) the peer sleeps on
        // a futex until the sender's first publication of the next one wakes it, so that it leaves
        // its CPU to the peer of a row measured in turn with it (`ThroughputMeasurement.pairedWith`);
        // within a repetition it busy-spins, as a floor must.
        var betweenRepetitions = true
        while true {
            if betweenRepetitions {
                guard records.awaitRecords(after: position, parent: parent) else { break }
            }
            // A busy-spinning peer must not outlive ringbench (killed, or crashed mid-run): every
            // 2^24 empty polls it checks that its parent is still there.
            guard let sequence = records.receive(position: &position, cachedTail: &cachedTail, spins: 1 << 24, { sink.consume($0) }) else {
                if getppid() != parent { break }
                continue
            }
            betweenRepetitions = false
            if sequence < FloorRecords.endOfRepetition {
                count &+= 1
            } else if sequence == FloorRecords.endOfRepetition {
                betweenRepetitions = true
                var answer = count.littleEndian
                count = 0
                try withUnsafeBytes(of: &answer) { bytes throws(RingError) in
                    try answers.writeMessage(kind: .control, streamId: 0, payload: bytes, backoff: &backoff)
                }
            } else {
                break
            }
        }
        answers.close()
        if sink.accumulator == 0x5EED { print("") }  // keeps the sink observable
    }
}

/// Fixed-size records in one ring's data area, indexed by the ring's tail and head words (in
/// records, not bytes). Both sides compute every address; neither validates the other.
struct FloorRecords: @unchecked Sendable {
    static let endOfRepetition = UInt64.max - 1
    static let exit = UInt64.max

    let payloadSize: Int
    let recordSize: Int
    let slots: UInt64
    let slotMask: UInt64
    let data: UnsafeMutableRawPointer
    let tail: UnsafeAtomic<UInt64>
    let head: UnsafeAtomic<UInt64>
    /// The ring's consumer waiter word, on which the peer sleeps between repetitions (1 = asleep).
    let idleWord: UnsafeMutableRawPointer
    let idle: UnsafeAtomic<UInt32>

    init(geometry: RingGeometry, payloadSize: Int) throws {
        self.payloadSize = payloadSize
        recordSize = (8 + payloadSize + 7) & ~7
        // A power of two of slots, so a record's place is a mask, not a division.
        let fit = geometry.capacity / UInt64(recordSize)
        slots = fit == 0 ? 0 : 1 << (63 - UInt64(fit.leadingZeroBitCount))
        slotMask = slots &- 1
        guard slots >= 2 else {
            throw ValidationError("floor: a \(geometry.capacity)-byte ring holds fewer than two \(payloadSize)-byte records")
        }
        data = geometry.data
        tail = UnsafeAtomic(at: (geometry.control + SegmentLayout.Control.tail).assumingMemoryBound(to: UInt64.AtomicRepresentation.self))
        head = UnsafeAtomic(at: (geometry.control + SegmentLayout.Control.head).assumingMemoryBound(to: UInt64.AtomicRepresentation.self))
        idleWord = geometry.control + SegmentLayout.Control.consumerWaiter
        idle = UnsafeAtomic(at: idleWord.assumingMemoryBound(to: UInt32.AtomicRepresentation.self))
    }

    /// Peer, between repetitions: sleeps until a record after `position` is published. Returns
    /// false when the parent is gone. Dekker pair with `wakePeer`: announce; fence; re-check.
    func awaitRecords(after position: UInt64, parent: pid_t) -> Bool {
        while true {
            idle.store(1, ordering: .sequentiallyConsistent)
            atomicMemoryFence(ordering: .sequentiallyConsistent)
            if tail.load(ordering: .acquiring) != position {
                idle.store(0, ordering: .sequentiallyConsistent)
                return true
            }
            _ = Futex.wait(idleWord, expected: 1, timeoutNanoseconds: 20_000_000)
            if getppid() != parent { return false }
        }
    }

    /// Sender, after publishing: wakes the peer if it announced that it sleeps (`awaitRecords`).
    func wakePeer() {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        if idle.load(ordering: .relaxed) == 1 {
            idle.store(0, ordering: .sequentiallyConsistent)
            Futex.wake(idleWord)
        }
    }

    @inline(__always)
    func address(_ position: UInt64) -> UnsafeMutableRawPointer {
        data + Int(position & slotMask) &* recordSize
    }

    /// Writes one record, busy-waiting for a free slot (publishing what is written while it waits).
    /// The record is not visible until `publish`.
    @inline(__always)
    func write(sequence: UInt64, payload: UnsafeRawPointer, position: inout UInt64, cachedHead: inout UInt64) {
        while position &- cachedHead >= slots {
            publish(position)
            cachedHead = head.load(ordering: .acquiring)
        }
        let record = address(position)
        record.storeBytes(of: sequence, as: UInt64.self)
        (record + 8).copyMemory(from: payload, byteCount: payloadSize)
        position &+= 1
    }

    /// Makes every record before `position` visible: one release store.
    @inline(__always)
    func publish(_ position: UInt64) { tail.store(position, ordering: .releasing) }

    /// Busy-waits for the next record, hands its payload to `consume`, gives the slot back once
    /// the published run is drained, and returns the record's sequence word.
    @inline(__always)
    /// Gives up (nil) after `spins` empty polls, so the caller can check on its parent.
    func receive(position: inout UInt64, cachedTail: inout UInt64, spins: Int = .max, _ consume: (UnsafeRawBufferPointer) -> Void) -> UInt64? {
        var left = spins
        while cachedTail == position {
            cachedTail = tail.load(ordering: .acquiring)
            left &-= 1
            if left == 0 && cachedTail == position { return nil }
        }
        let record = address(position)
        let sequence = record.load(as: UInt64.self)
        consume(UnsafeRawBufferPointer(start: record + 8, count: payloadSize))
        position &+= 1
        if cachedTail == position || position & 63 == 0 {
            head.store(position, ordering: .releasing)
        }
        return sequence
    }
}
