// RequestQueue — the cross-thread submission path into the reactor: a mutex-protected list of
// requests plus a "nudge" that wakes the reactor thread from its sleep. Only a parked reactor is
// nudged, at most once per sleep: while it runs its duty cycle it sees new requests through an
// atomic flag it checks every turn, so a busy reactor costs a request no syscall.
#if canImport(Glibc)
    import Glibc
#endif
import Atomics
import CRingShim
import Synchronization
import RingCore

/// How the reactor thread is woken for new requests.
final class ReactorNudge: Sendable {
    enum Mechanism: Sendable {
        /// An eventfd on which the io_uring backends always keep a READ armed; written with
        /// write(2) (never IORING_OP_WRITE: it is punted to a worker thread).
        case eventfd(Int32)
        /// A private-memory word the futex-thread backend includes in its futex_waitv set: bumped,
        /// then woken with futex(2).
        case futexWord(UInt)
    }

    let mechanism: Mechanism

    init(for kind: ReactorBackendKind) throws(SystemError) {
        switch kind {
        case .ioUringFutex, .ioUringEventfd:
            mechanism = .eventfd(try EventDescriptor.create())
        case .futexThread:
            let word = UnsafeMutableRawPointer.allocate(byteCount: 4, alignment: 4)
            word.storeBytes(of: 0, as: UInt32.self)
            mechanism = .futexWord(UInt(bitPattern: word))
        }
    }

    /// Wakes the reactor thread. Called with the queue's lock held, so `release()` (which runs after
    /// the queue is closed) can never race with it.
    func ring() {
        switch mechanism {
        case .eventfd(let descriptor):
            EventDescriptor.signal(descriptor)
        case .futexWord(let address):
            let word = UnsafeMutableRawPointer(bitPattern: address)!
            // Pairs with the reactor's acquiring load of the word before it takes the queue: a bump
            // after that load makes its futex_waitv return EAGAIN instead of sleeping.
            FutexWord.atomic(word).wrappingIncrement(ordering: .sequentiallyConsistent)
            FutexWord.wakeAll(word)
        }
    }

    /// Frees the nudge's descriptor or word. Called once, by the reactor thread, after the queue closed.
    func release() {
        switch mechanism {
        case .eventfd(let descriptor): close(descriptor)
        case .futexWord(let address): UnsafeMutableRawPointer(bitPattern: address)!.deallocate()
        }
    }
}

/// Requests waiting for the reactor thread.
final class RequestQueue: Sendable {
    private struct State {
        var items: [ReactorRequest] = []
        var closed = false
        var nudgePending = false
        /// The reactor is (about to be) asleep: a request must nudge it.
        var parked = false
    }

    private let state = RingMutex(State())
    /// Set with every request, cleared when the reactor takes them: the reactor's per-turn check.
    private let pending = Atomic<Bool>(false)
    let nudge: ReactorNudge
    private let counters: ReactorCounterStorage

    init(nudge: ReactorNudge, counters: ReactorCounterStorage) {
        self.nudge = nudge
        self.counters = counters
    }

    /// Appends a request; nudges the reactor when it is parked, unless `nudging` is false (the caller
    /// is the reactor thread, which takes the queue before it sleeps) or a nudge is already on its
    /// way. Returns false when the queue is closed: the caller must `reject()` the request.
    func enqueue(_ request: ReactorRequest, nudging: Bool) -> Bool {
        let isWake = if case .wake = request { true } else { false }
        return state.withLock { state in
            guard !state.closed else { return false }
            state.items.append(request)
            pending.store(true, ordering: .releasing)
            if nudging && state.parked && !state.nudgePending {
                state.nudgePending = true
                nudge.ring()
                counters.bump(.nudges)
                if isWake { counters.bump(.wakeNudges) }
            }
            return true
        }
    }

    /// Takes every queued request (the reactor thread, once per iteration). A request enqueued
    /// after this nudges again.
    func takeAll() -> [ReactorRequest] {
        state.withLock { state in
            pending.store(false, ordering: .relaxed)
            var taken: [ReactorRequest] = []
            swap(&taken, &state.items)
            return taken
        }
    }

    /// Whether requests are waiting (the reactor thread checks before it sleeps).
    var hasRequests: Bool { state.withLock { !$0.items.isEmpty } }

    /// Whether requests may be waiting: one atomic load, the reactor's check on every turn (a
    /// request enqueued after the check is seen next turn, or by `park()`).
    var mayHaveRequests: Bool { pending.load(ordering: .acquiring) }

    /// The reactor is about to sleep: from now on requests nudge it. Returns false (and stays
    /// unparked) when requests are already waiting. Both sides decide under the lock, so either the
    /// reactor sees the request here or the request sees `parked` and nudges.
    func park() -> Bool {
        state.withLock { state in
            guard state.items.isEmpty else { return false }
            state.parked = true
            return true
        }
    }

    /// The reactor woke: requests stop nudging it.
    func unpark() {
        state.withLock { state in
            state.parked = false
            state.nudgePending = false
        }
    }

    /// Closes the queue for good and returns what was still in it.
    func close() -> [ReactorRequest] {
        state.withLock { state in
            state.closed = true
            var taken: [ReactorRequest] = []
            swap(&taken, &state.items)
            return taken
        }
    }
}
