// Doorbells — the eventfd backend's map from a futex word to the eventfd that stands in for it.
//
// Without io_uring FUTEX_WAIT (Linux < 6.7) the reactor cannot sleep on a futex word, so each word
// gets a "doorbell": an eventfd the reactor keeps a READ armed on, and that wakers signal with
// write(2) after changing the word. Across processes both sides must use the same eventfd: pass it
// with `Reactor.unsafeDoorbellDescriptor(for:)` / `adoptDoorbell(descriptor:for:)`. Writes happen
// under the lock, so `closeAll()` can never close a descriptor a waker is about to write.
#if canImport(Glibc)
    import Glibc
#endif
import Synchronization
import RingCore

final class Doorbells: Sendable {
    private struct State {
        var byWord: [UInt: Int32] = [:]
        var closed = false
    }

    private let state = RingMutex(State())

    /// The word's doorbell, created on first use. Nil after `closeAll()`.
    func descriptor(for word: UInt) throws(SystemError) -> Int32? {
        try state.withLock { (state) throws(SystemError) -> Int32? in
            guard !state.closed else { return nil }
            if let existing = state.byWord[word] { return existing }
            let created = try EventDescriptor.create()
            state.byWord[word] = created
            return created
        }
    }

    /// Makes `descriptor` (now owned by the registry) the word's doorbell, closing a previous one.
    /// Returns false (and closes `descriptor`) after `closeAll()`.
    func adopt(_ descriptor: Int32, for word: UInt) -> Bool {
        state.withLock { state in
            guard !state.closed else {
                close(descriptor)
                return false
            }
            if let previous = state.byWord.updateValue(descriptor, forKey: word) { close(previous) }
            return true
        }
    }

    /// Rings the word's doorbell with write(2). False when the word has none (nobody has waited on
    /// it yet: a sleeper arming later checks the word after arming its READ, so it sees the change).
    func ring(_ word: UInt) -> Bool {
        state.withLock { state in
            guard !state.closed, let descriptor = state.byWord[word] else { return false }
            EventDescriptor.signal(descriptor)
            return true
        }
    }

    /// Forgets the word's doorbell and returns it (the caller closes it); nil when it has none.
    /// A waker looking the word up afterwards finds no doorbell (a later wait would create one).
    func retire(_ word: UInt) -> Int32? {
        state.withLock { state in state.byWord.removeValue(forKey: word) }
    }

    /// Every doorbell descriptor (leak checks).
    var descriptors: [Int32] { state.withLock { Array($0.byWord.values) } }

    /// Closes every doorbell; later lookups find none.
    func closeAll() {
        state.withLock { state in
            state.closed = true
            for descriptor in state.byWord.values { close(descriptor) }
            state.byWord = [:]
        }
    }
}
