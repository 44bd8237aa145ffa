// FutexWord — the reactor's direct syscalls on 32-bit futex words: the ordered load that decides
// whether a wait is still needed, FUTEX_WAKE through futex(2), and futex_waitv(2) for the
// futex-thread backend. All futexes are shared (never FUTEX_PRIVATE): the words live in MAP_SHARED
// memory of two processes, and a private waiter would never meet a shared waker.
#if canImport(Glibc)
    import Glibc
#endif
import Atomics
import CRingShim

enum FutexWord {
    /// futex_waitv's limit (FUTEX_WAITV_MAX).
    static let waitvLimit = 128

    static func atomic(_ word: UnsafeMutableRawPointer) -> UnsafeAtomic<UInt32> {
        UnsafeAtomic(at: word.assumingMemoryBound(to: UInt32.AtomicRepresentation.self))
    }

    /// The word's current value. Acquire: pairs with the waker's store of the new value before its
    /// wake, so a waiter that sees the new value also sees what the waker published before it.
    static func load(_ word: UnsafeMutableRawPointer) -> UInt32 {
        atomic(word).load(ordering: .acquiring)
    }

    /// FUTEX_WAKE of every sleeper on `word` (one futex(2) syscall). Returns how many were woken.
    @discardableResult
    static func wakeAll(_ word: UnsafeMutableRawPointer) -> Int {
        precondition(Int(bitPattern: word) % 4 == 0, "a futex word must be 4-byte aligned")
        do {
            return try Syscall.call("futex(FUTEX_WAKE)") { crs_futex_wake(word.assumingMemoryBound(to: UInt32.self), Int32.max) }
        } catch {
            // EFAULT traps in Syscall; EINVAL/ENOSYS cannot happen for an aligned shared word.
            fatalError("\(error)")
        }
    }

    /// How a futex_waitv sleep ended.
    enum WaitvOutcome: Equatable {
        /// The entry at this index was woken.
        case woken(Int)
        /// A word already differed from its expected value (EAGAIN).
        case valueChanged
        case timedOut
    }

    /// futex_waitv over `entries` until the absolute CLOCK_MONOTONIC `deadline` (nil: none).
    static func waitv(
        _ entries: UnsafeMutablePointer<futex_waitv>, count: Int, deadline: UInt64?
    ) throws(SystemError) -> WaitvOutcome {
        var limit = timespec(tv_sec: 0, tv_nsec: 0)
        if let deadline {
            limit = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        }
        do {
            let index = try withUnsafePointer(to: &limit) { (pointer) throws(SystemError) -> Int? in
                try Syscall.callAllowingWouldBlock("futex_waitv") {
                    crs_futex_waitv(entries, UInt32(count), deadline == nil ? nil : pointer, CLOCK_MONOTONIC)
                }
            }
            guard let index else { return .valueChanged }
            return .woken(index)
        } catch  where error.errno == ETIMEDOUT {
            return .timedOut
        }
    }

    /// A futex_waitv entry for a shared 32-bit word.
    static func entry(_ word: UnsafeMutableRawPointer, expected: UInt32) -> futex_waitv {
        futex_waitv(
            val: UInt64(expected), uaddr: UInt64(UInt(bitPattern: word)), flags: UInt32(CRS_FUTEX2_SIZE_U32), __reserved: 0)
    }

    /// Whether futex_waitv(2) exists here (Linux ≥ 5.16, and not filtered out by seccomp): a call
    /// with a value that cannot match must fail with EAGAIN.
    static func waitvAvailable() -> Result<Void, SystemError> {
        let word = UnsafeMutableRawPointer.allocate(byteCount: 4, alignment: 4)
        defer { word.deallocate() }
        word.storeBytes(of: 1, as: UInt32.self)
        var entry = entry(word, expected: 0)
        do {
            let outcome = try waitv(&entry, count: 1, deadline: 0)
            return outcome == .valueChanged ? .success(()) : .failure(SystemError(call: "futex_waitv self-test", errno: EINVAL))
        } catch {
            return .failure(error)
        }
    }
}
