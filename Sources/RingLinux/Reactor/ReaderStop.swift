// ReaderStop — the stop request of a ring reader that a reactor polls (a `ReactorPoller` draining
// one ring), and the one Dekker pair it needs: `request` (any thread) stores the flag, then wakes
// the reader if it announced a sleep; `prepareToSleep` (reactor thread) announces the sleep, then
// reads the flag. Whichever runs second sees the other, so a stop is never slept through
// (Docs/Waiting.md, "Why no wake-up can be lost").
import Atomics
package import RingCore

package final class ReaderStop: Sendable {
    private let requested = ManagedAtomic<Bool>(false)
    /// The consumer's waiter word of the ring the reader drains (an address, kept as an integer so
    /// the type stays Sendable; the ring's owner keeps the mapping alive).
    private let waiterWord: UInt

    package init(waiterWord: UnsafeMutableRawPointer) {
        self.waiterWord = UInt(bitPattern: waiterWord)
    }

    /// Whether a stop was requested.
    package var isRequested: Bool { requested.load(ordering: .sequentiallyConsistent) }

    /// Requests the stop (from any thread) and wakes the reader if it announced a sleep: the same
    /// claim as a producer's — flip the announced `sleeping` to `awake`; only the winner wakes.
    package func request(waking reactor: Reactor) {
        requested.store(true, ordering: .sequentiallyConsistent)
        let word = UnsafeMutableRawPointer(bitPattern: waiterWord)!
        let atomic = UnsafeAtomic<UInt32>(at: word.assumingMemoryBound(to: UInt32.AtomicRepresentation.self))
        if atomic.compareExchange(expected: RingWaiter.sleeping, desired: RingWaiter.awake, ordering: .sequentiallyConsistent).exchanged {
            reactor.wakeNow(word)
        }
    }

    /// The reader's `ReactorPoller.prepareToSleep`: announces the sleep on `consumer`'s waiter word
    /// (which re-checks the ring), then reads the stop flag. `.busy` when frames arrived, the ring
    /// failed (the next poll reports it) or a stop was requested; else the word to sleep on.
    package func prepareToSleep(_ consumer: inout RingConsumer) -> PollerSleep {
        do {
            guard try consumer.prepareToSleep() else { return .busy }
        } catch {
            return .busy
        }
        if isRequested {
            consumer.finishSleep()
            return .busy
        }
        return .on(word: waiterWord)
    }
}
