import CRingShim

// IOUring — a thin, single-owner wrapper over liburing's `struct io_uring`.
//
// It sets a ring up (SINGLE_ISSUER | DEFER_TASKRUN when the kernel takes them, plain flags otherwise,
// SQPOLL only on request), probes opcodes, hands out submission entries, submits, and drains
// completions. The SQE preparation helpers live in IOUring+Prepare.swift. liburing returns `-errno`
// instead of setting errno; `IOUring.call` converts that and funnels every call through `Syscall`.
#if canImport(Glibc)
    import Glibc
#endif

/// One completion copied out of the completion queue (the CQE slot is already released).
struct IOUringCompletion: Sendable, Equatable {
    let userData: UInt64
    /// The operation's result: ≥ 0 on success, `-errno` on failure.
    let result: Int32
    let flags: UInt32
}

/// A liburing ring owned by exactly one thread. With `singleIssuer` (the default) the kernel binds
/// the ring to the thread that creates it: create it on the thread that will submit.
struct IOUring: ~Copyable {
    struct Options: Sendable {
        var entries: UInt32 = 256
        /// Completion queue size; larger than `entries` so many armed waits cannot overflow it.
        var completionEntries: UInt32 = 4096
        /// Try IORING_SETUP_SINGLE_ISSUER | DEFER_TASKRUN first (Linux ≥ 6.1), fall back to plain flags.
        var singleIssuer = true
        /// IORING_SETUP_SQPOLL with this idle time (ms). Opt-in only: the kernel thread spins for the
        /// idle time after every submit (FIELD-NOTES §4: 83 % of a core at 10 submits/s with 1 s).
        var sqPollIdleMilliseconds: UInt32?
    }

    private let ring: UnsafeMutablePointer<io_uring>
    /// The setup flags in effect.
    let setupFlags: UInt32

    init(_ options: Options = Options()) throws(SystemError) {
        let base = IORING_SETUP_CQSIZE
        var attempts: [UInt32]
        if options.sqPollIdleMilliseconds != nil {
            attempts = [base | IORING_SETUP_SQPOLL]
        } else if options.singleIssuer {
            attempts = [base | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, base]
        } else {
            attempts = [base]
        }
        let ring = UnsafeMutablePointer<io_uring>.allocate(capacity: 1)
        ring.initialize(to: io_uring())
        var lastError = SystemError(call: "io_uring_queue_init_params", errno: EINVAL)
        for flags in attempts {
            var params = io_uring_params()
            params.flags = flags
            params.cq_entries = max(options.completionEntries, options.entries * 2)
            params.sq_thread_idle = options.sqPollIdleMilliseconds ?? 0
            do {
                _ = try IOUring.call("io_uring_queue_init_params") { io_uring_queue_init_params(options.entries, ring, &params) }
                self.ring = ring
                self.setupFlags = flags
                return
            } catch {
                lastError = error
                // EINVAL: this kernel rejects the flags; try the next, plainer set.
                if error.errno != EINVAL { break }
            }
        }
        ring.deallocate()
        throw lastError
    }

    deinit {
        io_uring_queue_exit(ring)
        ring.deallocate()
    }

    /// The ring's descriptor (for leak checks; owned by the ring).
    var descriptor: Int32 { ring.pointee.ring_fd }

    /// A readable summary of the setup flags in effect.
    var setupDescription: String {
        var names: [String] = []
        if setupFlags & IORING_SETUP_SQPOLL != 0 { names.append("SQPOLL") }
        if setupFlags & IORING_SETUP_SINGLE_ISSUER != 0 { names.append("SINGLE_ISSUER") }
        if setupFlags & IORING_SETUP_DEFER_TASKRUN != 0 { names.append("DEFER_TASKRUN") }
        return names.isEmpty ? "plain flags" : names.joined(separator: "|")
    }

    // MARK: Probing

    /// Whether the kernel supports `opcode` (IORING_REGISTER_PROBE on this ring).
    func supports(opcode: Int32) -> Bool {
        guard let probe = io_uring_get_probe_ring(ring) else { return false }
        defer { io_uring_free_probe(probe) }
        return io_uring_opcode_supported(probe, opcode) != 0
    }

    // MARK: Submitting

    /// A vacant submission entry. When the submission queue is full, what is queued is submitted
    /// first to make room.
    func nextEntry() throws(SystemError) -> UnsafeMutablePointer<io_uring_sqe> {
        if let entry = io_uring_get_sqe(ring) { return entry }
        try submit()
        guard let entry = io_uring_get_sqe(ring) else {
            fatalError("io_uring submission queue still full after submitting")
        }
        return entry
    }

    /// Entries prepared but not yet submitted.
    var pendingSubmissions: UInt32 { io_uring_sq_ready(ring) }

    /// Vacant submission entries.
    var submissionSpace: UInt32 { io_uring_sq_space_left(ring) }

    /// Submits the prepared entries (one io_uring_enter, unless SQPOLL makes it unnecessary).
    @discardableResult
    func submit() throws(SystemError) -> Int32 {
        try IOUring.call("io_uring_submit") { io_uring_submit(ring) }
    }

    /// Submits the prepared entries and waits until at least `count` completions are available, in
    /// one io_uring_enter. With DEFER_TASKRUN this is also where the kernel posts completions.
    @discardableResult
    func submitAndWait(_ count: UInt32) throws(SystemError) -> Int32 {
        try IOUring.call("io_uring_submit_and_wait") { io_uring_submit_and_wait(ring, count) }
    }

    /// Submits what is prepared and asks the kernel to post the completions it holds, without
    /// waiting (io_uring_submit_and_get_events): a busy DEFER_TASKRUN ring collects this way.
    @discardableResult
    func submitAndCollect() throws(SystemError) -> Int32 {
        try IOUring.call("io_uring_submit_and_get_events") { io_uring_submit_and_get_events(ring) }
    }

    // MARK: Completing

    /// Delivers every completion already posted (peek + seen), oldest first, without entering the
    /// kernel. Returns how many were delivered.
    @discardableResult
    func drainCompletions(_ body: (IOUringCompletion) -> Void) -> Int {
        var delivered = 0
        var slot: UnsafeMutablePointer<io_uring_cqe>? = nil
        while io_uring_peek_cqe(ring, &slot) == 0, let entry = slot {
            let completion = IOUringCompletion(
                userData: entry.pointee.user_data, result: entry.pointee.res, flags: entry.pointee.flags)
            io_uring_cqe_seen(ring, entry)
            body(completion)
            delivered += 1
            slot = nil
        }
        return delivered
    }

    // MARK: The errno convention

    /// Runs a liburing call that returns `-errno` on failure through `Syscall` (EINTR retried).
    static func call(_ name: @autoclosure () -> String, _ body: () -> Int32) throws(SystemError) -> Int32 {
        try Syscall.call(name()) { () -> Int32 in
            let result = body()
            guard result < 0 else { return result }
            errno = -result
            return -1
        }
    }
}
