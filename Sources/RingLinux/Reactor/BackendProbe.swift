// BackendProbe — what the kernel offers, found once at start-up: can an io_uring be set up, does
// it support FUTEX_WAIT/WAKE (opcode probe, then a self-test: a WAIT with a wrong expected value must
// complete with -EAGAIN and a WAKE with 0), and does futex_waitv(2) exist.
#if canImport(Glibc)
    import Glibc
#endif
import CRingShim

/// Whether a mechanism works here, with a human-readable detail either way.
public enum BackendAvailability: Sendable, Equatable {
    case available(String)
    case unavailable(String)

    public var isAvailable: Bool { if case .available = self { true } else { false } }

    public var detail: String {
        switch self {
        case .available(let detail), .unavailable(let detail): detail
        }
    }
}

/// The results of probing the kernel.
public struct BackendProbe: Sendable, Equatable {
    /// io_uring_setup works (not blocked by seccomp, kernel.io_uring_disabled, or an old kernel).
    public var ioUring: BackendAvailability
    /// IORING_OP_FUTEX_WAIT/WAKE are supported and pass the self-test.
    public var futexOpcodes: BackendAvailability
    /// futex_waitv(2) works (the futex-thread backend then sleeps on all words at once; without it
    /// it re-checks pending words every millisecond).
    public var futexWaitv: BackendAvailability

    public init(ioUring: BackendAvailability, futexOpcodes: BackendAvailability, futexWaitv: BackendAvailability) {
        self.ioUring = ioUring
        self.futexOpcodes = futexOpcodes
        self.futexWaitv = futexWaitv
    }

    /// Whether `kind` can run here, and why (not).
    public func availability(of kind: ReactorBackendKind) -> BackendAvailability {
        switch kind {
        case .ioUringFutex:
            guard case .available(let ring) = ioUring else { return ioUring }
            guard case .available(let futex) = futexOpcodes else { return futexOpcodes }
            return .available("\(ring); \(futex)")
        case .ioUringEventfd:
            guard case .available(let ring) = ioUring else { return ioUring }
            return .available("\(ring); waiters sleep on eventfd doorbells read through io_uring, woken with write(2)")
        case .futexThread:
            switch futexWaitv {
            case .available: return .available("futex(2)/futex_waitv(2) on a dedicated thread, poll(2) on pidfds")
            case .unavailable(let why):
                return .available("futex(2) on a dedicated thread re-checking words every 1 ms (futex_waitv unavailable: \(why))")
            }
        }
    }

    /// Probes this kernel.
    public static func run() -> BackendProbe {
        let waitv: BackendAvailability =
            switch FutexWord.waitvAvailable() {
            case .success: .available("futex_waitv works")
            case .failure(let error): .unavailable("\(error)")
            }
        let ring: IOUring
        do {
            ring = try IOUring(IOUring.Options(entries: 8, completionEntries: 16, singleIssuer: false))
        } catch {
            let hint =
                error.errno == EPERM || error.errno == ENOSYS ? " (seccomp, kernel.io_uring_disabled or an old kernel)" : ""
            let unavailable = BackendAvailability.unavailable("io_uring_setup failed: \(error)\(hint)")
            return BackendProbe(ioUring: unavailable, futexOpcodes: unavailable, futexWaitv: waitv)
        }
        return BackendProbe(ioUring: .available("io_uring works"), futexOpcodes: probeFutexOpcodes(ring), futexWaitv: waitv)
    }

    /// Opcode probe, then the self-test on a word of our own.
    private static func probeFutexOpcodes(_ ring: borrowing IOUring) -> BackendAvailability {
        let wait = Int32(CRS_IORING_OP_FUTEX_WAIT)
        let wake = Int32(CRS_IORING_OP_FUTEX_WAKE)
        guard ring.supports(opcode: wait), ring.supports(opcode: wake) else {
            return .unavailable("the kernel lacks IORING_OP_FUTEX_WAIT/WAKE (ops 51/52, Linux ≥ 6.7)")
        }
        let word = UnsafeMutableRawPointer.allocate(byteCount: 4, alignment: 4)
        let limit = UnsafeMutablePointer<__kernel_timespec>.allocate(capacity: 1)
        defer {
            word.deallocate()
            limit.deallocate()
        }
        word.storeBytes(of: 1, as: UInt32.self)
        var results: [UInt64: Int32] = [:]
        do {
            // WAIT expecting 0 while the word holds 1 must fail at once with -EAGAIN; the linked
            // timeout only bounds a kernel that would sleep instead.
            try ring.prepareFutexWait(word, expected: 0, userData: 1, flags: .link)
            try ring.prepareLinkTimeout(.relative(nanoseconds: 1_000_000_000), storage: limit, userData: 2)
            try ring.prepareFutexWake(word, userData: 3)
            try ring.submitAndWait(3)
            ring.drainCompletions { results[$0.userData] = $0.result }
        } catch {
            return .unavailable("FUTEX_WAIT self-test failed: \(error)")
        }
        guard results[1] == -EAGAIN else {
            return .unavailable(
                "FUTEX_WAIT self-test completed with \(results[1].map(String.init) ?? "nothing"), expected -EAGAIN")
        }
        guard let woken = results[3], woken >= 0 else {
            return .unavailable("FUTEX_WAKE self-test completed with \(results[3].map(String.init) ?? "nothing")")
        }
        return .available("FUTEX_WAIT/WAKE (ops 51/52) probed; self-test WAIT with a wrong value → -EAGAIN")
    }
}
