// TimerQueue — the reactor's timers as a pure data structure (no clock, no syscalls): a binary
// min-heap on (deadline, id) with lazy removal (a removed entry stays in the heap until it
// surfaces; the top is always live). Every backend arms one kernel timeout for the earliest
// deadline and asks this queue what is due, so timers fire in deadline order (ties in scheduling
// order) however late the reactor wakes.

struct TimerQueue<Payload> {
    private struct Entry {
        let deadline: UInt64
        let id: UInt64

        func precedes(_ other: Entry) -> Bool {
            deadline != other.deadline ? deadline < other.deadline : id < other.id
        }
    }

    private var heap: [Entry] = []
    /// The live timers; heap entries whose id is missing here were removed and are skipped.
    private var payloads: [UInt64: Payload] = [:]

    var count: Int { payloads.count }
    var isEmpty: Bool { payloads.isEmpty }

    /// Adds a timer. Ids must be unique among live timers; smaller ids win ties.
    mutating func insert(id: UInt64, deadline: UInt64, payload: Payload) {
        precondition(payloads[id] == nil, "duplicate timer id \(id)")
        payloads[id] = payload
        heap.append(Entry(deadline: deadline, id: id))
        siftUp(heap.count - 1)
    }

    /// Removes a live timer and returns its payload (nil if it already fired or was removed).
    mutating func remove(id: UInt64) -> Payload? {
        guard let payload = payloads.removeValue(forKey: id) else { return nil }
        if payloads.isEmpty {
            heap.removeAll(keepingCapacity: true)
        } else if heap.first?.id == id {
            dropRemovedTop()
        }
        return payload
    }

    /// The earliest live deadline.
    func nextDeadline() -> UInt64? { heap.first?.deadline }

    /// Removes and returns every timer whose deadline is ≤ `now`, earliest first. The reactor asks
    /// every turn, and the common answer — nothing — costs one compare: the heap's top is always
    /// live (removed entries are skipped when they would surface), so no lookup is needed to trust it.
    mutating func popDue(now: UInt64) -> [(id: UInt64, payload: Payload)] {
        var due: [(id: UInt64, payload: Payload)] = []
        while let top = heap.first, top.deadline <= now {
            popTop()
            if let payload = payloads.removeValue(forKey: top.id) { due.append((top.id, payload)) }
            dropRemovedTop()
        }
        return due
    }

    /// Removes and returns every live timer, earliest first.
    mutating func removeAll() -> [(id: UInt64, payload: Payload)] {
        popDue(now: .max)
    }

    // MARK: Heap

    /// Pops removed entries off the top, so that the top is live again (called whenever the top
    /// may have become a removed entry: it was popped, or it was the one removed).
    private mutating func dropRemovedTop() {
        while let top = heap.first, payloads[top.id] == nil { popTop() }
    }

    private mutating func popTop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        siftDown(0)
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count, heap[left].precedes(heap[smallest]) { smallest = left }
            if right < heap.count, heap[right].precedes(heap[smallest]) { smallest = right }
            if smallest == parent { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
