@_spi(Unsafe) import RingCore
import Atomics
import RingLinux

/// The raw reference of `ringbench latency`: two processes hand a token back and forth through one
/// futex word in shared memory, each sleeping in FUTEX_WAIT as soon as it waits — the cost of a
/// kernel sleep/wake round trip with nothing else around it.
enum FutexPingPong {
    static let ping: UInt32 = 1
    static let pong: UInt32 = 2
    static let stop: UInt32 = 3

    /// The shared word (first 4 bytes of a small sealed segment's reserved header area).
    static func word(_ segment: SharedMemorySegment) -> UnsafeMutableRawPointer {
        segment.region.base + 96  // reserved bytes of the segment header (Docs/WireFormat.md §1.1)
    }

    static func atomic(_ word: UnsafeMutableRawPointer) -> UnsafeAtomic<UInt32> {
        UnsafeAtomic(at: word.assumingMemoryBound(to: UInt32.AtomicRepresentation.self))
    }

    /// One round trip from the host side.
    @inline(__always)
    static func roundTrip(_ word: UnsafeMutableRawPointer) {
        let value = atomic(word)
        value.store(ping, ordering: .releasing)
        Futex.wake(word)
        while value.load(ordering: .acquiring) != pong {
            Futex.wait(word, expected: ping, timeoutNanoseconds: 1_000_000_000)
        }
    }

    static func stopPeer(_ word: UnsafeMutableRawPointer) {
        atomic(word).store(stop, ordering: .releasing)
        Futex.wake(word)
    }

    /// The peer: answer every ping with a pong until told to stop.
    static func runPeer(descriptor: Int32) throws {
        let segment = try SharedMemorySegment.attach(descriptor: OwnedDescriptor(adopting: descriptor), role: .worker)
        let word = word(segment)
        let value = atomic(word)
        while true {
            var current = value.load(ordering: .acquiring)
            while current != ping && current != stop {
                Futex.wait(word, expected: current, timeoutNanoseconds: 1_000_000_000)
                current = value.load(ordering: .acquiring)
            }
            if current == stop { return }
            value.store(pong, ordering: .releasing)
            Futex.wake(word)
        }
    }
}
