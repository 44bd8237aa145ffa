// ReactorRegistry — the pending waits, timers and process watches of one reactor, with the rule
// that each callback runs exactly once: whoever removes an entry from here calls it. Owned by the
// reactor thread alone (every backend loop embeds one), so it needs no lock.

final class ReactorRegistry {
    struct Wait {
        let word: UInt
        let expected: UInt32
        let completion: @Sendable (WaitResult) -> Void

        var address: UnsafeMutableRawPointer { UnsafeMutableRawPointer(bitPattern: word)! }
    }

    private(set) var waits: [UInt64: Wait] = [:]
    private var watches: [UInt64: @Sendable (ProcessWatchResult) -> Void] = [:]
    private var timers = TimerQueue<@Sendable (TimerResult) -> Void>()

    var hasTimers: Bool { !timers.isEmpty }

    // MARK: Waits

    func addWait(id: UInt64, _ wait: Wait) { waits[id] = wait }

    /// Ends a pending wait with `result`; false if it already ended.
    @discardableResult
    func finishWait(_ id: UInt64, _ result: WaitResult) -> Bool {
        guard let wait = waits.removeValue(forKey: id) else { return false }
        wait.completion(result)
        return true
    }

    /// Ends (`.changed`) every pending wait whose word no longer holds its expected value.
    func finishChangedWaits() {
        let changed = waits.filter { FutexWord.load($0.value.address) != $0.value.expected }.keys
        for id in changed { finishWait(id, .changed) }
    }

    // MARK: Watches

    func addWatch(id: UInt64, _ callback: @escaping @Sendable (ProcessWatchResult) -> Void) { watches[id] = callback }

    func isWatching(_ id: UInt64) -> Bool { watches[id] != nil }

    @discardableResult
    func finishWatch(_ id: UInt64, _ result: ProcessWatchResult) -> Bool {
        guard let callback = watches.removeValue(forKey: id) else { return false }
        callback(result)
        return true
    }

    // MARK: Timers

    func addTimer(id: UInt64, deadline: UInt64, _ callback: @escaping @Sendable (TimerResult) -> Void) {
        timers.insert(id: id, deadline: deadline, payload: callback)
    }

    func cancelTimer(_ id: UInt64) {
        timers.remove(id: id)?(.cancelled)
    }

    func nextDeadline() -> UInt64? { timers.nextDeadline() }

    /// Fires every timer due at `now`, in deadline order.
    func fireDueTimers(now: UInt64 = ReactorClock.now()) {
        for timer in timers.popDue(now: now) { timer.payload(.fired) }
    }

    // MARK: Shutdown

    /// Ends everything still pending (`.shutdown` at a normal shutdown).
    func finishAll(wait: WaitResult, watch: ProcessWatchResult) {
        for id in waits.keys.sorted() { finishWait(id, wait) }
        for id in watches.keys.sorted() { finishWatch(id, watch) }
        for timer in timers.removeAll() { timer.payload(.shutdown) }
    }
}
