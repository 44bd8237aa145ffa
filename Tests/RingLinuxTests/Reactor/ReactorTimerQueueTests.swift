// ReactorTimerQueueTests — the timer heap on its own: deadline order, ties, removal, lazy deletion.
@testable import RingLinux
import RingTestSupport
import Testing

@Suite struct ReactorTimerQueueTests {
    @Test func popsDueTimersInDeadlineOrderWithTiesInIdOrder() {
        var queue = TimerQueue<String>()
        queue.insert(id: 4, deadline: 30, payload: "d")
        queue.insert(id: 1, deadline: 10, payload: "a")
        queue.insert(id: 3, deadline: 20, payload: "c")
        queue.insert(id: 2, deadline: 20, payload: "b")
        queue.insert(id: 5, deadline: 40, payload: "e")
        #expect(queue.nextDeadline() == 10)
        #expect(queue.popDue(now: 9).isEmpty)
        #expect(queue.popDue(now: 20).map(\.payload) == ["a", "b", "c"])
        #expect(queue.nextDeadline() == 30)
        #expect(queue.removeAll().map(\.payload) == ["d", "e"])
        #expect(queue.isEmpty)
        #expect(queue.nextDeadline() == nil)
    }

    @Test func removedTimersNeverComeBack() {
        var queue = TimerQueue<Int>()
        for id in 1...10 { queue.insert(id: UInt64(id), deadline: UInt64(100 - id), payload: id) }
        #expect(queue.remove(id: 10) == 10)  // the earliest
        #expect(queue.remove(id: 10) == nil)
        #expect(queue.remove(id: 5) == 5)
        #expect(queue.nextDeadline() == 91)
        #expect(queue.popDue(now: .max).map(\.payload) == [9, 8, 7, 6, 4, 3, 2, 1])
        #expect(queue.count == 0)
    }

    @Test func agreesWithSortingOnRandomSchedules() {
        var random = TestRandom(seed: 42)
        for _ in 0..<200 {
            var queue = TimerQueue<UInt64>()
            var live: [UInt64: UInt64] = [:]
            for id in UInt64(1)...UInt64(Int.random(in: 1...60, using: &random)) {
                let deadline = UInt64.random(in: 0...50, using: &random)
                queue.insert(id: id, deadline: deadline, payload: id)
                live[id] = deadline
                if Bool.random(using: &random), let victim = live.keys.randomElement(using: &random) {
                    #expect(queue.remove(id: victim) == victim)
                    live[victim] = nil
                }
            }
            let now = UInt64.random(in: 0...50, using: &random)
            let expected = live.filter { $0.value <= now }.sorted { ($0.value, $0.key) < ($1.value, $1.key) }.map(\.key)
            #expect(queue.popDue(now: now).map(\.id) == expected)
            #expect(queue.count == live.count - expected.count)
        }
    }

    /// The top stays live through any mix of inserts, removals and pops: `nextDeadline` (which
    /// trusts the top without a lookup) is always the earliest live deadline.
    @Test func nextDeadlineIsTheEarliestLiveOneThroughEveryChange() {
        var random = TestRandom(seed: 7)
        var queue = TimerQueue<UInt64>()
        var live: [UInt64: UInt64] = [:]
        var now: UInt64 = 0
        for id in UInt64(1)...5_000 {
            let deadline = now + UInt64.random(in: 0...200, using: &random)
            queue.insert(id: id, deadline: deadline, payload: id)
            live[id] = deadline
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<4:
                if let victim = live.keys.randomElement(using: &random) {
                    #expect(queue.remove(id: victim) == victim)
                    live[victim] = nil
                }
            case 4:
                now += UInt64.random(in: 0...40, using: &random)
                let expected = live.filter { $0.value <= now }.sorted { ($0.value, $0.key) < ($1.value, $1.key) }.map(\.key)
                #expect(queue.popDue(now: now).map(\.id) == expected)
                for id in expected { live[id] = nil }
            default: break
            }
            #expect(queue.nextDeadline() == live.values.min())
            #expect(queue.count == live.count)
        }
    }
}
