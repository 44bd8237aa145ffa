// RequestQueue — the cross-thread submission path into the reactor: a mutex-protected list of
// requests plus a "nudge" that wakes the reactor thread from its sleep. At most one nudge is
// outstanding per reactor iteration: the first request after the reactor took the queue nudges,
// the ones that follow ride along.
#if canImport(Glibc)
    import Glibc
#endif
import Atomics
import CRingShim
import Synchronization

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
    }

    private let state = Mutex(State())
    let nudge: ReactorNudge
    private let counters: ReactorCounterStorage

    init(nudge: ReactorNudge, counters: ReactorCounterStorage) {
        self.nudge = nudge
        self.counters = counters
    }

    /// Appends a request; nudges the reactor unless `nudging` is false (the caller is the reactor
    /// thread, which takes the queue before it sleeps) or a nudge is already on its way. Returns
    /// false when the queue is closed: the caller must `reject()` the request.
    func enqueue(_ request: ReactorRequest, nudging: Bool) -> Bool {
        let isWake = if case .wake = request { true } else { false }
        return state.withLock { state in
            guard !state.closed else { return false }
            state.items.append(request)
            if nudging && !state.nudgePending {
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
            state.nudgePending = false
            var taken: [ReactorRequest] = []
            swap(&taken, &state.items)
            return taken
        }
    }

    /// Whether requests are waiting (the reactor thread checks before it sleeps).
    var hasRequests: Bool { state.withLock { !$0.items.isEmpty } }

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
