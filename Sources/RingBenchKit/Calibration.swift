@_spi(Unsafe) import RingCore
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

/// The cross-process floor: two processes bounce a sequence number through two shared words, each
/// on its own cache line and written by one side only (the layout a ring's head and tail use), with
/// busy-spinning acquire loads and release stores: no frame, no validation, no syscall. Nothing
/// built on shared memory can answer faster on this machine.
enum SpinPingPong {
    static let stop = UInt32.max

    /// Bytes of the scratch memory the two words live in (`SharedMapping.scratch`: memory of its
    /// own, not a segment's).
    static let scratchSize = 4096

    /// The two words, 1 KiB apart so not even an adjacent-line prefetch couples them.
    static func words(_ scratch: SharedMapping) -> (request: UnsafeAtomic<UInt32>, response: UnsafeAtomic<UInt32>) {
        func word(_ offset: Int) -> UnsafeAtomic<UInt32> {
            UnsafeAtomic(at: (scratch.region.base + offset).assumingMemoryBound(to: UInt32.AtomicRepresentation.self))
        }
        return (word(1024), word(2048))
    }

    /// The host side of round trip `sequence` (1, 2, 3…; never `stop`).
    @inline(__always)
    static func roundTrip(_ words: (request: UnsafeAtomic<UInt32>, response: UnsafeAtomic<UInt32>), sequence: UInt32) {
        words.request.store(sequence, ordering: .releasing)  // → read by runPeer's acquire load
        while words.response.load(ordering: .acquiring) != sequence {}  // ← runPeer's release store
    }

    static func stopPeer(_ words: (request: UnsafeAtomic<UInt32>, response: UnsafeAtomic<UInt32>)) {
        words.request.store(stop, ordering: .releasing)
    }

    /// The peer: echo every new request number into the response word until told to stop.
    static func runPeer(descriptor: Int32) throws {
        let scratch = try SharedMapping.attachScratch(descriptor: descriptor, size: scratchSize)
        let words = words(scratch)
        var last: UInt32 = 0
        while true {
            var current = words.request.load(ordering: .acquiring)  // ← roundTrip's release store
            while current == last { current = words.request.load(ordering: .acquiring) }
            if current == stop { return }
            words.response.store(current, ordering: .releasing)  // → read by roundTrip's acquire load
            last = current
        }
    }
}
