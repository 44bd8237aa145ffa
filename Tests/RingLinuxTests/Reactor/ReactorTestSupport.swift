// ReactorTestSupport — fixtures shared by the reactor tests: futex words in a MAP_SHARED memfd
// (mappable twice, like two processes), a one-shot callback outcome to block on, starting a reactor
// on a backend or skipping with the reason, and a "barrier" that proves earlier requests were handled.
#if canImport(Glibc)
    import Glibc
#endif
import Atomics
import CRingShim
import Dispatch
import RingLinux
import Synchronization
import Testing
import RingCore

/// 32-bit words in one page of a memfd, mapped MAP_SHARED; `secondMapping()` maps the same page
/// again at another address, as a peer process would see it.
final class SharedWords: @unchecked Sendable {
    let descriptor: Int32
    let base: UnsafeMutableRawPointer
    private let owner: SharedWords?

    init() {
        descriptor = crs_memfd_create("reactor-test-words", UInt32(CRS_MFD_CLOEXEC))
        precondition(descriptor >= 0 && ftruncate(descriptor, 4096) == 0, "memfd")
        base = SharedWords.map(descriptor)
        owner = nil
    }

    private init(sharing other: SharedWords) {
        descriptor = other.descriptor
        base = SharedWords.map(other.descriptor)
        owner = other
    }

    private static func map(_ descriptor: Int32) -> UnsafeMutableRawPointer {
        let address = mmap(nil, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0)
        precondition(address != nil && address != MAP_FAILED, "mmap")
        return address!
    }

    deinit {
        munmap(base, 4096)
        if owner == nil { close(descriptor) }
    }

    /// The same page at a different address.
    func secondMapping() -> SharedWords { SharedWords(sharing: self) }

    func word(_ index: Int) -> UnsafeMutableRawPointer { base + 4 * index }

    private func atomic(_ index: Int) -> UnsafeAtomic<UInt32> {
        UnsafeAtomic(at: word(index).assumingMemoryBound(to: UInt32.AtomicRepresentation.self))
    }

    /// Acquire: pairs with `store`'s release (the value is the message).
    func load(_ index: Int) -> UInt32 { atomic(index).load(ordering: .acquiring) }

    /// Release: publishes the value before the wake that follows it.
    func store(_ index: Int, _ value: UInt32) { atomic(index).store(value, ordering: .releasing) }

    /// Sequentially consistent store and load: the two halves of a Dekker pair (announce, re-check).
    func storeSequential(_ index: Int, _ value: UInt32) { atomic(index).store(value, ordering: .sequentiallyConsistent) }
    func loadSequential(_ index: Int) -> UInt32 { atomic(index).load(ordering: .sequentiallyConsistent) }

    /// Sequentially consistent compare-exchange; whether it exchanged.
    func compareExchange(_ index: Int, expected: UInt32, desired: UInt32) -> Bool {
        atomic(index).compareExchange(expected: expected, desired: desired, ordering: .sequentiallyConsistent).exchanged
    }
}

/// A callback result to block on, which also counts how often the callback ran.
final class Outcome<Value: Sendable & Equatable>: Sendable {
    private let state = RingMutex<(value: Value?, calls: Int)>((nil, 0))
    private let ready = DispatchSemaphore(value: 0)

    var callback: @Sendable (Value) -> Void {
        { value in
            self.state.withLock { state in
                state.calls += 1
                if state.value == nil { state.value = value }
            }
            self.ready.signal()
        }
    }

    /// Blocks until the callback ran (the test's watchdog bounds a hang).
    func wait() -> Value {
        ready.wait()
        ready.signal()  // later waits return at once
        return state.withLock { $0.value! }
    }

    var calls: Int { state.withLock { $0.calls } }
    var value: Value? { state.withLock { $0.value } }
}

enum ReactorFixture {
    /// Starts a reactor on `kind`, or cancels (skips) the test case with the reason it cannot run here.
    static func start(_ kind: ReactorBackendKind, options: ReactorOptions = ReactorOptions()) throws -> Reactor {
        let availability = WaitBackend.probe.availability(of: kind)
        guard availability.isAvailable else {
            print("SKIP \(kind): \(availability.detail)")
            try Test.cancel("backend \(kind) unavailable here: \(availability.detail)")
        }
        return try Reactor(backend: kind, options: options)
    }

    /// Returns once the reactor has handled every request made before this call: requests are
    /// handled in order, before due timers fire, and a timer at deadline 0 is due at once.
    static func barrier(_ reactor: Reactor) {
        let done = Outcome<TimerResult>()
        reactor.schedule(at: 0, done.callback)
        _ = done.wait()
    }

    /// Sleeps on `word` through the reactor until it holds `target`, re-checking after every wake.
    static func waitUntil(_ reactor: Reactor, _ words: SharedWords, _ index: Int, equals target: UInt32) {
        while true {
            let seen = words.load(index)
            if seen == target { return }
            let outcome = Outcome<WaitResult>()
            reactor.waitForChange(of: words.word(index), from: seen, outcome.callback)
            let result = outcome.wait()
            precondition(result == .changed, "wait ended with \(result)")
        }
    }
}
