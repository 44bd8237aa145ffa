// IOUring+Prepare — the submission entries the reactor uses, one helper per operation.
//
// FUTEX_WAIT/WAKE are prepared by hand (liburing 2.3 has no helpers for them), exactly as
// FIELD-NOTES §4 prescribes: `fd` carries the futex2 flags (FUTEX2_SIZE_U32 only — never
// FUTEX2_PRIVATE, the words live in MAP_SHARED memory of two processes), `addr2` the value (expected
// value for WAIT, how many to wake for WAKE), `addr3` the mask 0xffffffff, `len` and `rw_flags` 0.
#if canImport(Glibc)
    import Glibc
#endif
import CRingShim

/// Submission entry flags (IOSQE_*); the C macros are built from enum values Swift does not fold.
struct SubmissionFlags: OptionSet, Sendable {
    let rawValue: UInt8
    /// The next entry starts only after this one completes (used to attach a LINK_TIMEOUT).
    static let link = SubmissionFlags(rawValue: 1 << 2)
    /// No completion is posted when the operation succeeds (Linux ≥ 5.17).
    static let skipSuccess = SubmissionFlags(rawValue: 1 << 6)
}

/// A timeout for IORING_OP_TIMEOUT / LINK_TIMEOUT, on CLOCK_MONOTONIC.
enum IOUringTimeout: Sendable, Equatable {
    case relative(nanoseconds: UInt64)
    case absolute(monotonicNanoseconds: UInt64)

    var nanoseconds: UInt64 {
        switch self {
        case .relative(let value), .absolute(let value): value
        }
    }
}

extension IOUring {
    /// futex2 size flag for a 32-bit word; deliberately without FUTEX2_PRIVATE (128).
    static let futexFlags = Int32(CRS_FUTEX2_SIZE_U32)
    /// All bits of the word take part in matching; a mask of 0 is EINVAL.
    static let futexMask: UInt64 = 0xffff_ffff
    /// "Wake everyone": the largest count futex2 accepts for a 32-bit futex.
    static let wakeAll: UInt32 = UInt32(Int32.max)

    /// FUTEX_WAIT (op 51): completes with 0 when woken, -EAGAIN if `*word != expected` at arm time.
    func prepareFutexWait(
        _ word: UnsafeMutableRawPointer, expected: UInt32, userData: UInt64, flags: SubmissionFlags = []
    ) throws(SystemError) {
        let entry = try nextEntry()
        io_uring_prep_rw(Int32(CRS_IORING_OP_FUTEX_WAIT), entry, IOUring.futexFlags, word, 0, UInt64(expected))
        entry.pointee.addr3 = IOUring.futexMask
        entry.pointee.rw_flags = 0
        entry.pointee.flags = flags.rawValue
        entry.pointee.user_data = userData
    }

    /// FUTEX_WAKE (op 52): wakes up to `count` waiters on `word` (in any process sharing the page).
    func prepareFutexWake(
        _ word: UnsafeMutableRawPointer, count: UInt32 = IOUring.wakeAll, userData: UInt64, flags: SubmissionFlags = []
    ) throws(SystemError) {
        let entry = try nextEntry()
        io_uring_prep_rw(Int32(CRS_IORING_OP_FUTEX_WAKE), entry, IOUring.futexFlags, word, 0, UInt64(count))
        entry.pointee.addr3 = IOUring.futexMask
        entry.pointee.rw_flags = 0
        entry.pointee.flags = flags.rawValue
        entry.pointee.user_data = userData
    }

    /// POLL_ADD (one-shot) for `events` on `descriptor`, e.g. POLLIN on a pidfd (readable at exit).
    func preparePoll(descriptor: Int32, events: Int16 = Int16(POLLIN), userData: UInt64) throws(SystemError) {
        let entry = try nextEntry()
        io_uring_prep_poll_add(entry, descriptor, UInt32(UInt16(bitPattern: events)))
        entry.pointee.user_data = userData
    }

    /// TIMEOUT on CLOCK_MONOTONIC; completes with -ETIME when it expires. `storage` must stay valid
    /// until the completion arrives.
    func prepareTimeout(
        _ timeout: IOUringTimeout, storage: UnsafeMutablePointer<__kernel_timespec>, userData: UInt64
    ) throws(SystemError) {
        let entry = try nextEntry()
        storage.pointee = IOUring.timespec(timeout.nanoseconds)
        let absolute: UInt32 = if case .absolute = timeout { IORING_TIMEOUT_ABS } else { 0 }
        io_uring_prep_timeout(entry, storage, 0, absolute)
        entry.pointee.user_data = userData
    }

    /// LINK_TIMEOUT: bounds the previous entry, which must carry `.link`.
    func prepareLinkTimeout(
        _ timeout: IOUringTimeout, storage: UnsafeMutablePointer<__kernel_timespec>, userData: UInt64
    ) throws(SystemError) {
        let entry = try nextEntry()
        storage.pointee = IOUring.timespec(timeout.nanoseconds)
        let absolute: UInt32 = if case .absolute = timeout { IORING_TIMEOUT_ABS } else { 0 }
        io_uring_prep_link_timeout(entry, storage, absolute)
        entry.pointee.user_data = userData
    }

    /// ASYNC_CANCEL of the operation whose user_data is `target` (futex waits are cancelled this
    /// way, not by descriptor). The target then completes with -ECANCELED.
    func prepareCancel(target: UInt64, userData: UInt64) throws(SystemError) {
        let entry = try nextEntry()
        io_uring_prep_cancel64(entry, target, 0)
        entry.pointee.user_data = userData
    }

    /// READ of `length` bytes into `buffer` (an eventfd read is 8 bytes: the counter, reset to 0).
    /// The descriptor must be blocking: io_uring returns -EAGAIN for an O_NONBLOCK file instead of
    /// waiting on it. `buffer` must stay valid until the completion arrives.
    func prepareRead(descriptor: Int32, into buffer: UnsafeMutableRawPointer, length: UInt32, userData: UInt64)
        throws(SystemError)
    {
        let entry = try nextEntry()
        io_uring_prep_read(entry, descriptor, buffer, length, 0)
        entry.pointee.user_data = userData
    }

    static func timespec(_ nanoseconds: UInt64) -> __kernel_timespec {
        __kernel_timespec(tv_sec: Int64(nanoseconds / 1_000_000_000), tv_nsec: Int64(nanoseconds % 1_000_000_000))
    }
}
