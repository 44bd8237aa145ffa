import RingCore

// InvocationTable — the host's record of one worker's invocations, keyed by invocation number (the
// frame stream id). A plain state machine (no I/O, no locks: its owner holds it in a Mutex), generic
// over how a caller waits and what it receives, so it is tested without processes.
//
// Entries live in reused slots, and the number names the slot: `generation << 32 | (slot + 1)`. A
// response finds its entry by index (no hashing: a dictionary's hash, probe and delete were ≈ 8 % of
// the host's reactor thread at 64 in flight), and a number from an earlier use of the slot, or one a
// hostile worker made up, finds another generation or no entry: the same violation as before. Numbers
// are unique per connection (a slot's generation advances each time it is freed; 2^31 uses of one
// slot before a number repeats); the first invocations are numbered 1, 2, 3… Generations have 31
// bits, so every number is below 2^63: the host's control requests are numbered from 2^63 + 1
// (`ChannelProtocol.firstControlID`) and never share a stream id with an invocation.
//
// Every entry has two halves that end independently:
// - the caller: waiting (with or without its waiter attached yet) → outcome ready → done;
// - the worker: it owes an answer until its response arrives, or it can never answer (the request
//   was never written, or the connection ended).
// An entry is removed when both halves are done. Each caller receives exactly one outcome, whatever
// the order of response, cancellation, deadline, transmit failure and connection failure.

struct InvocationTable<Waiter, Outcome> {
    enum Caller {
        /// No outcome yet; the waiter is nil until the caller attaches it.
        case waiting(Waiter?)
        /// The outcome arrived before the caller attached (boxed: the rare case keeps every entry small,
        /// so the table moves a few words per entry, not a whole outcome).
        indirect case ready(Outcome)
        /// The caller has its outcome.
        case done
    }

    struct Entry {
        let invocationID: ContextID
        var caller: Caller
        /// The worker still owes an answer.
        var workerOwes = true
        /// The whole request frame is in the ring.
        var sent = false
        /// The caller gave up before the request was written: send a cancel once it is.
        var cancelOwed = false

        /// Both halves are done: the entry can go.
        var isFinished: Bool {
            if case .done = caller { return !workerOwes }
            return false
        }
    }

    private struct Slot {
        /// Advanced (modulo 2^31) each time the slot is freed: part of the number of the slot's
        /// next invocation.
        var generation: UInt32
        var entry: Entry?
    }

    /// Generations wrap here, keeping numbers below 2^63.
    static var generationLimit: UInt32 { 1 << 31 }

    private var slots: [Slot] = []
    /// The generation a new slot starts at (0; tests start near the wrap).
    private let firstGeneration: UInt32
    /// Free slots, most recently freed last (reused first: its memory is warm).
    private var free: [Int] = []
    /// Entries in the table.
    private(set) var count = 0
    var isEmpty: Bool { count == 0 }
    /// Set once the connection ended; every later registration fails with it.
    private(set) var closedWith: Outcome?
    /// Invocations the worker still owes an answer for (what the pool balances on).
    private(set) var outstanding = 0
    /// Responses that arrived after their caller had given up (cancel or deadline).
    private(set) var lateResponses = 0

    // MARK: Caller side

    init(firstGeneration: UInt32 = 0) {
        precondition(firstGeneration < Self.generationLimit)
        self.firstGeneration = firstGeneration
    }

    /// Registers an invocation; nil once the table is closed (see `closedWith`).
    mutating func register(invocationID: ContextID) -> UInt64? {
        guard closedWith == nil else { return nil }
        let index: Int
        if let reused = free.popLast() {
            index = reused
        } else {
            guard slots.count < Int(UInt32.max) else { return nil }
            index = slots.count
            slots.append(Slot(generation: firstGeneration))
        }
        slots[index].entry = Entry(invocationID: invocationID, caller: .waiting(nil))
        count += 1
        outstanding += 1
        return UInt64(slots[index].generation) << 32 | UInt64(index + 1)
    }

    /// The slot of invocation `number` while its entry lives; nil for any other number.
    private func slot(of number: UInt64) -> Int? {
        let index = Int(number & 0xFFFF_FFFF) - 1
        guard index >= 0, index < slots.count, slots[index].generation == UInt32(truncatingIfNeeded: number >> 32),
            slots[index].entry != nil
        else { return nil }
        return index
    }

    enum AttachAction {
        /// Suspend: the waiter will be resumed later.
        case suspend
        /// The outcome is already known: resume at once.
        case resume(Outcome)
    }

    /// Attaches the caller's waiter.
    mutating func attach(_ number: UInt64, _ waiter: Waiter) -> AttachAction {
        attach(number, waiter, sent: false).action
    }

    /// Attaches the caller's waiter and, when `sent`, marks the request as wholly in the ring (one
    /// lookup for both: the invocation fast path writes its request before it suspends). Returns
    /// what to do with the waiter, and whether a cancel frame is owed now (the caller gave up while
    /// the request was being written).
    mutating func attach(_ number: UInt64, _ waiter: Waiter, sent: Bool) -> (action: AttachAction, sendCancel: Bool) {
        let result = update(number) { entry -> (AttachAction, Bool) in
            var owed = false
            if sent, entry.workerOwes {
                entry.sent = true
                owed = entry.cancelOwed
                entry.cancelOwed = false
            }
            switch entry.caller {
            case .waiting(nil):
                entry.caller = .waiting(waiter)
                return (.suspend, owed)
            case .ready(let outcome):
                entry.caller = .done
                return (.resume(outcome), owed)
            case .waiting(.some), .done:
                preconditionFailure("invocation \(number) attached twice")
            }
        }
        guard let result else { preconditionFailure("invocation \(number) attached twice or never registered") }
        return result
    }

    /// The request is wholly in the ring. Returns true when a cancel frame is owed now (the caller
    /// gave up while the request was being written).
    mutating func markSent(_ number: UInt64) -> Bool {
        update(number) { entry -> Bool in
            guard entry.workerOwes else { return false }
            entry.sent = true
            defer { entry.cancelOwed = false }
            return entry.cancelOwed
        } ?? false
    }

    /// The request could not be written (the ring failed or the worker is gone): the worker will
    /// never answer; the caller gets `outcome` unless it already has one.
    mutating func transmitFailed(_ number: UInt64, _ outcome: Outcome) -> (Waiter, Outcome)? {
        var outstanding = self.outstanding
        defer { self.outstanding = outstanding }
        return update(number) { entry -> (Waiter, Outcome)? in
            if entry.workerOwes {
                entry.workerOwes = false
                outstanding -= 1
            }
            return Self.settle(&entry, outcome)
        } ?? nil
    }

    struct AbandonAction {
        /// Resume this waiter with this outcome.
        var resume: (Waiter, Outcome)?
        /// Write a cancel frame for the invocation now.
        var sendCancel = false
    }

    /// The caller gives up (task cancelled, deadline passed): it gets `outcome` unless it already has
    /// one, and the worker is told to cancel (at once if the request is out, else once it is).
    mutating func abandon(_ number: UInt64, _ outcome: Outcome) -> AbandonAction {
        update(number) { entry -> AbandonAction in
            guard case .waiting(let waiter) = entry.caller else { return AbandonAction() }
            var action = AbandonAction()
            if let waiter {
                entry.caller = .done
                action.resume = (waiter, outcome)
            } else {
                entry.caller = .ready(outcome)
            }
            if entry.workerOwes {
                if entry.sent { action.sendCancel = true } else { entry.cancelOwed = true }
            }
            return action
        } ?? AbandonAction()
    }

    // MARK: Worker side

    enum ResponseAction {
        /// Resume the caller.
        case resume(Waiter, Outcome)
        /// Delivered: the caller will find the outcome when it attaches.
        case stored
        /// The caller already gave up; the response is dropped (counted in `lateResponses`).
        case late
        /// A protocol violation: no such invocation, a second answer, or another invocation's id.
        case violation(String)
    }

    /// The worker answered invocation `number` with the context of invocation `invocationID`.
    ///
    /// The outcome is consumed: on the common path (the caller waits) it moves into the returned
    /// action and on to the caller without a copy — an outcome holds the reply's payload and
    /// context, whose references a copy would retain and release again (a closure capturing it, as
    /// `update` takes, copies). Hence the inline lookup rather than `update`.
    mutating func response(_ number: UInt64, invocationID: ContextID, _ outcome: consuming Outcome) -> ResponseAction {
        guard let index = slot(of: number) else { return .violation("response to unknown invocation \(number)") }
        guard slots[index].entry!.workerOwes else { return .violation("second response to invocation \(number)") }
        let expected = slots[index].entry!.invocationID
        guard expected == invocationID else {
            return .violation("response to invocation \(number) carries the context of invocation \(invocationID), expected \(expected)")
        }
        slots[index].entry!.workerOwes = false
        outstanding -= 1
        let action: ResponseAction
        switch slots[index].entry!.caller {
        case .waiting(.some(let waiter)):
            slots[index].entry!.caller = .done
            action = .resume(waiter, outcome)
        case .waiting(nil):
            slots[index].entry!.caller = .ready(outcome)
            action = .stored
        case .ready, .done:
            lateResponses += 1
            action = .late
        }
        freeIfFinished(index)
        return action
    }

    // MARK: The connection ends

    /// Ends the table: every caller without an outcome gets `outcome` (those attached are returned to
    /// be resumed; the others find it when they attach), and no invocation is registered any more.
    mutating func close(_ outcome: Outcome) -> [(Waiter, Outcome)] {
        guard closedWith == nil else { return [] }
        closedWith = outcome
        var resumes: [(Waiter, Outcome)] = []
        var outstanding = self.outstanding
        for index in slots.indices where slots[index].entry != nil {
            let number = UInt64(slots[index].generation) << 32 | UInt64(index + 1)
            let resume = update(number) { entry -> (Waiter, Outcome)? in
                if entry.workerOwes {
                    entry.workerOwes = false
                    outstanding -= 1
                }
                return Self.settle(&entry, outcome)
            }
            if let resume, let resume { resumes.append(resume) }
        }
        self.outstanding = outstanding
        return resumes
    }

    /// The waiter attached to invocation `number` while it waits for its outcome; nil before it is
    /// attached, after its outcome, and for any other number. An attached waiter stays attached
    /// until the outcome: what this returns holds until the next `response` for the number.
    func attachedWaiter(_ number: UInt64) -> Waiter? {
        guard let index = slot(of: number), case .waiting(.some(let waiter)) = slots[index].entry!.caller else { return nil }
        return waiter
    }

    /// Whether invocation `number` still has an entry (for tests).
    func contains(_ number: UInt64) -> Bool { slot(of: number) != nil }

    // MARK: Helpers

    /// Gives the caller `outcome` unless it has one; returns the waiter to resume.
    private static func settle(_ entry: inout Entry, _ outcome: Outcome) -> (Waiter, Outcome)? {
        switch entry.caller {
        case .waiting(.some(let waiter)):
            entry.caller = .done
            return (waiter, outcome)
        case .waiting(nil):
            entry.caller = .ready(outcome)
            return nil
        case .ready, .done:
            return nil
        }
    }

    /// Runs `body` on entry `number` in place (found by index, no copy of the entry out and back),
    /// then frees the slot once both halves are done. Nil when there is no such entry.
    private mutating func update<R>(_ number: UInt64, _ body: (inout Entry) -> R) -> R? {
        guard let index = slot(of: number) else { return nil }
        let result = body(&slots[index].entry!)
        freeIfFinished(index)
        return result
    }

    /// Frees slot `index` once both halves of its entry are done.
    private mutating func freeIfFinished(_ index: Int) {
        guard slots[index].entry!.isFinished else { return }
        slots[index].entry = nil
        slots[index].generation = (slots[index].generation + 1) % Self.generationLimit
        free.append(index)
        count -= 1
    }
}
