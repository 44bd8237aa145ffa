import RingCore

// InvocationTable — the host's record of one worker's invocations, keyed by invocation number (the
// frame stream id). A plain state machine (no I/O, no locks: its owner holds it in a Mutex), generic
// over how a caller waits and what it receives, so it is tested without processes.
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
        /// The outcome arrived before the caller attached.
        case ready(Outcome)
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
    }

    private(set) var entries: [UInt64: Entry] = [:]
    private var nextNumber: UInt64 = 1
    /// Set once the connection ended; every later registration fails with it.
    private(set) var closedWith: Outcome?
    /// Invocations the worker still owes an answer for (what the pool balances on).
    private(set) var outstanding = 0
    /// Responses that arrived after their caller had given up (cancel or deadline).
    private(set) var lateResponses = 0

    // MARK: Caller side

    /// Registers an invocation; nil once the table is closed (see `closedWith`).
    mutating func register(invocationID: ContextID) -> UInt64? {
        guard closedWith == nil else { return nil }
        let number = nextNumber
        nextNumber &+= 1
        entries[number] = Entry(invocationID: invocationID, caller: .waiting(nil))
        outstanding += 1
        return number
    }

    enum AttachAction {
        /// Suspend: the waiter will be resumed later.
        case suspend
        /// The outcome is already known: resume at once.
        case resume(Outcome)
    }

    /// Attaches the caller's waiter.
    mutating func attach(_ number: UInt64, _ waiter: Waiter) -> AttachAction {
        guard var entry = entries[number] else { preconditionFailure("invocation \(number) attached twice or never registered") }
        switch entry.caller {
        case .waiting(nil):
            entry.caller = .waiting(waiter)
            entries[number] = entry
            return .suspend
        case .ready(let outcome):
            entry.caller = .done
            store(number, entry)
            return .resume(outcome)
        case .waiting(.some), .done:
            preconditionFailure("invocation \(number) attached twice")
        }
    }

    /// The request is wholly in the ring. Returns true when a cancel frame is owed now (the caller
    /// gave up while the request was being written).
    mutating func markSent(_ number: UInt64) -> Bool {
        guard var entry = entries[number], entry.workerOwes else { return false }
        entry.sent = true
        let owed = entry.cancelOwed
        entry.cancelOwed = false
        entries[number] = entry
        return owed
    }

    /// The request could not be written (the ring failed or the worker is gone): the worker will
    /// never answer; the caller gets `outcome` unless it already has one.
    mutating func transmitFailed(_ number: UInt64, _ outcome: Outcome) -> (Waiter, Outcome)? {
        guard var entry = entries[number] else { return nil }
        if entry.workerOwes {
            entry.workerOwes = false
            outstanding -= 1
        }
        let resume = settle(&entry, outcome)
        store(number, entry)
        return resume
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
        guard var entry = entries[number] else { return AbandonAction() }
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
        store(number, entry)
        return action
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
    mutating func response(_ number: UInt64, invocationID: ContextID, _ outcome: Outcome) -> ResponseAction {
        guard var entry = entries[number] else { return .violation("response to unknown invocation \(number)") }
        guard entry.workerOwes else { return .violation("second response to invocation \(number)") }
        guard entry.invocationID == invocationID else {
            return .violation("response to invocation \(number) carries the context of invocation \(invocationID), expected \(entry.invocationID)")
        }
        entry.workerOwes = false
        outstanding -= 1
        defer { store(number, entry) }
        switch entry.caller {
        case .waiting(.some(let waiter)):
            entry.caller = .done
            return .resume(waiter, outcome)
        case .waiting(nil):
            entry.caller = .ready(outcome)
            return .stored
        case .ready, .done:
            lateResponses += 1
            return .late
        }
    }

    // MARK: The connection ends

    /// Ends the table: every caller without an outcome gets `outcome` (those attached are returned to
    /// be resumed; the others find it when they attach), and no invocation is registered any more.
    mutating func close(_ outcome: Outcome) -> [(Waiter, Outcome)] {
        guard closedWith == nil else { return [] }
        closedWith = outcome
        var resumes: [(Waiter, Outcome)] = []
        for number in Array(entries.keys) {
            var entry = entries[number]!
            if entry.workerOwes {
                entry.workerOwes = false
                outstanding -= 1
            }
            if let resume = settle(&entry, outcome) { resumes.append(resume) }
            store(number, entry)
        }
        return resumes
    }

    /// Whether invocation `number` still has an entry (for tests).
    func contains(_ number: UInt64) -> Bool { entries[number] != nil }

    // MARK: Helpers

    /// Gives the caller `outcome` unless it has one; returns the waiter to resume.
    private func settle(_ entry: inout Entry, _ outcome: Outcome) -> (Waiter, Outcome)? {
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

    /// Writes the entry back, or removes it once both halves are done.
    private mutating func store(_ number: UInt64, _ entry: Entry) {
        if case .done = entry.caller, !entry.workerOwes {
            entries[number] = nil
        } else {
            entries[number] = entry
        }
    }
}
