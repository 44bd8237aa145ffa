import Atomics
import RingLinux

/// The machine's own limits, measured in the same run as the transports so that "% of limit" holds
/// on a noisy VM: single-process memcpy bandwidth per message size, and the cross-process round
/// trip of one atomic word bounced between two busy-spinning processes.
enum Calibration {
    /// Bytes/s of `memcpy` between two private `size`-byte buffers in one thread (hot in cache for
    /// small sizes): the most a one-way transport that copies the payload once could move.
    static func memcpyBandwidth(size: Int, nanoseconds: UInt64) -> Double {
        let source = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        let destination = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        defer {
            source.deallocate()
            destination.deallocate()
        }
        source.initializeMemory(as: UInt8.self, repeating: 0x5A, count: size)
        destination.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        // Warm-up, then timed batches sized to ~1 ms so the clock is read rarely.
        var batch = 16
        var copies: UInt64 = 0
        var start = MonotonicClock.now()
        let warmUpEnd = start + nanoseconds / 10
        while MonotonicClock.now() < warmUpEnd {
            let t0 = MonotonicClock.now()
            for _ in 0..<batch { destination.copyMemory(from: source, byteCount: size) }
            if MonotonicClock.now() - t0 < 1_000_000 { batch *= 2 }
        }
        start = MonotonicClock.now()
        let end = start + nanoseconds
        var now = start
        while now < end {
            for _ in 0..<batch { destination.copyMemory(from: source, byteCount: size) }
            copies += UInt64(batch)
            now = MonotonicClock.now()
        }
        precondition(destination.load(as: UInt8.self) == 0x5A)
        return Double(copies) * Double(size) / (Double(now - start) / 1e9)
    }
}

/// The cross-process floor: two processes bounce one shared word (ping → pong) with busy-spinning
/// acquire loads and release stores, no ring, no frame, no syscall. Nothing shared-memory based
/// can answer faster on this machine.
enum SpinPingPong {
    static let ping: UInt32 = 1
    static let pong: UInt32 = 2
    static let stop: UInt32 = 3

    /// The host side of one round trip.
    @inline(__always)
    static func roundTrip(_ word: UnsafeAtomic<UInt32>) {
        word.store(ping, ordering: .releasing)  // → read by runPeer's acquire load
        while word.load(ordering: .acquiring) != pong {}
    }

    static func stopPeer(_ word: UnsafeAtomic<UInt32>) {
        word.store(stop, ordering: .releasing)
    }

    /// The peer: answer every ping with a pong until told to stop.
    static func runPeer(descriptor: Int32) throws {
        let segment = try SharedMemorySegment.attach(descriptor: descriptor, role: .worker)
        let word = FutexPingPong.atomic(FutexPingPong.word(segment))
        while true {
            var current = word.load(ordering: .acquiring)
            while current != ping && current != stop { current = word.load(ordering: .acquiring) }
            if current == stop { return }
            word.store(pong, ordering: .releasing)  // → read by roundTrip's acquire load
        }
    }
}
