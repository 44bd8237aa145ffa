import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import RingCore
import RingLinux
import RingTestSupport
import Testing

/// The waiter protocol across processes: every hand-off through sleep, back-pressure through sleep,
/// and an idle reader that costs (almost) no CPU.
@Suite(.serialized) struct WaitingTests {
    /// 5 × 10⁵ round trips = 10⁶ hand-offs with spin budget 0 on both sides: every time a side finds
    /// its ring empty it announces and sleeps at once, so a single lost wake-up hangs the test (the
    /// watchdog turns that into a failure).
    @Test func millionHandOffsThroughSleepLoseNoWakeUp() throws {
        let roundTrips = 500_000
        let segment = try SharedMemorySegment.create(
            configuration: SegmentConfiguration(hostToWorkerCapacity: 1 << 12, workerToHostCapacity: 1 << 12))
        let child = try spawnFixture("echo", segment: segment,
                                     environment: ["RING_WAIT_PROFILE": "alwaysSleep", "RING_FAIL_ON_TIMEOUT": "1"])
        var producer = segment.takeProducer()!
        var reader = MessageReader(consumer: segment.takeConsumer()!)
        var readBackoff = Backoff(.alwaysSleep)
        var writeBackoff = Backoff(.alwaysSleep)
        let sleepsBefore = WaitCounters.sleepCount
        try withWatchdog(seconds: 600) {
            for id in 0..<UInt64(roundTrips) {
                var word = id.littleEndian
                try withUnsafeBytes(of: &word) {
                    try producer.writeMessage(kind: .data, streamId: id, payload: $0, backoff: &writeBackoff)
                }
                var echoed: UInt64?
                _ = try reader.receive(backoff: &readBackoff) { message in
                    echoed = UInt64(littleEndian: message.payload.loadUnaligned(as: UInt64.self))
                    #expect(message.streamId == id)
                }
                guard echoed == id else {
                    Issue.record("round trip \(id) echoed \(String(describing: echoed))")
                    return
                }
            }
            producer.close()
            #expect(try child.wait() == .exited(0))
        }
        // The host side went to sleep (how often depends on scheduling, so only that it did).
        #expect(WaitCounters.sleepCount - sleepsBefore > 0)
        // Every sleep of this test ended by a wake-up (or a changed word), never by the 100 ms
        // bound: a lost wake-up cannot hide behind the bound. (The child checks its own sleeps.)
        #expect(readBackoff.timedOutSleeps + writeBackoff.timedOutSleeps == 0)
    }

    /// A producer blocked on a full ring sleeps and resumes as the consumer (another thread here)
    /// drains; all bytes arrive in order.
    @Test func blockedProducerResumesWhenConsumerDrains() throws {
        let segment = try TestSegmentPair(capacity: 1 << 12)
        let messages = 20_000
        let sendable = SendableProducer(segment.host.takeProducer()!)
        let done = DispatchSemaphore(value: 0)
        let failure = LockedBox<String?>(nil)
        try withWatchdog(seconds: 300) {
            Thread.start {
                var producer = sendable.take()
                var backoff = Backoff(.alwaysSleep)
                do {
                    for id in 0..<UInt64(messages) {
                        let payload = [UInt8](repeating: UInt8(truncatingIfNeeded: id), count: 300)
                        try payload.withUnsafeBytes {
                            try producer.writeMessage(kind: .data, streamId: id, payload: $0, backoff: &backoff)
                        }
                    }
                    producer.close()
                } catch { failure.value = "\(error)" }
                done.signal()
            }
            var reader = MessageReader(consumer: segment.worker.takeConsumer()!)
            var backoff = Backoff(.alwaysSleep)
            var next: UInt64 = 0
            do {
                while true {
                    // Take one message at a time so the producer keeps hitting a full ring.
                    _ = try reader.receive(limit: 1, backoff: &backoff) { message in
                        #expect(message.streamId == next)
                        #expect(message.payload.count == 300 && message.payload[299] == UInt8(truncatingIfNeeded: next))
                        next += 1
                    }
                }
            } catch RingError.closed {}
            done.wait()
            #expect(failure.value == nil)
            #expect(next == UInt64(messages))
        }
    }

    /// A connected reader with nothing to read sleeps: its CPU time over an idle interval is a
    /// handful of milliseconds (a count from /proc, not a latency).
    @Test func idleReaderUsesAlmostNoCPU() throws {
        let segment = try SharedMemorySegment.create(
            configuration: SegmentConfiguration(hostToWorkerCapacity: 1 << 12, workerToHostCapacity: 1 << 12))
        let child = try spawnFixture("echo", segment: segment, environment: ["RING_WAIT_PROFILE": "efficiency"])
        var producer = segment.takeProducer()!
        var reader = MessageReader(consumer: segment.takeConsumer()!)
        var backoff = Backoff(.efficiency)
        try withWatchdog(seconds: 120) {
            // One round trip proves the child is attached and in its receive loop.
            try [UInt8(1)].withUnsafeBytes { try producer.writeMessage(kind: .data, streamId: 1, payload: $0, backoff: &backoff) }
            _ = try reader.receive(backoff: &backoff) { _ in }
            let before = try cpuNanoseconds(of: child.pid)
            usleep(2_000_000)  // the measured idle interval (not synchronisation)
            let after = try cpuNanoseconds(of: child.pid)
            let milliseconds = Double(after - before) / 1e6
            #expect(milliseconds < 20, "idle reader used \(milliseconds) ms of CPU in 2 s")
            producer.close()
            #expect(try child.wait() == .exited(0))
        }
    }

    /// Nanoseconds `pid` has run on a CPU, from /proc/<pid>/schedstat (exact, unlike the
    /// tick-sampled utime/stime of /proc/<pid>/stat).
    func cpuNanoseconds(of pid: Int32) throws -> UInt64 {
        guard let file = fopen("/proc/\(pid)/schedstat", "r") else { throw SystemError(call: "fopen", errno: errno) }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 256)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { throw SystemError(call: "fgets", errno: errno) }
        let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return UInt64(line.split(separator: " ")[0])!
    }
}

/// A host segment and a worker attachment of it in the same process.
final class TestSegmentPair {
    let host: SharedMemorySegment
    let worker: SharedMemorySegment

    init(capacity: Int) throws {
        host = try SharedMemorySegment.create(configuration: SegmentConfiguration(hostToWorkerCapacity: capacity, workerToHostCapacity: capacity))
        worker = try SharedMemorySegment.attach(descriptor: OwnedDescriptor(adopting: dup(host.unsafeFileDescriptor)), role: .worker)
    }
}
