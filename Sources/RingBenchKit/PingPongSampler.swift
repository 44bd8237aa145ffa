import Histogram

/// Times round trips into an HdrHistogram, closed loop or open loop.
///
/// Closed loop: the next request leaves as soon as the previous answer arrived; each sample is the
/// round trip itself. Open loop (`rate` set): requests are *scheduled* at a fixed rate and each
/// sample runs from its scheduled send time to the answer, so a stall delays — and is charged to —
/// every request scheduled behind it (the coordinated-omission correction of wrk2). The loop
/// spins until a scheduled time (a sleep would add a kernel wake-up to every sample).
struct PingPongSampler {
    var warmUpNanoseconds: UInt64
    var nanoseconds: UInt64
    /// Round trips per second, or nil for closed loop.
    var rate: Double?

    static func emptyHistogram() -> Histogram<UInt64> {
        Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    }

    /// Runs `body` (one round trip) after a warm-up; records into `histogram` and returns the round
    /// trips completed and the nanoseconds they took.
    func run(into histogram: inout Histogram<UInt64>, _ body: () throws -> Void) rethrows -> (count: UInt64, elapsed: UInt64) {
        let warmUpEnd = MonotonicClock.now() + warmUpNanoseconds
        while MonotonicClock.now() < warmUpEnd { try body() }
        let start = MonotonicClock.now()
        let end = start + nanoseconds
        var count: UInt64 = 0
        if let rate {
            let interval = max(UInt64(1e9 / rate), 1)
            var scheduled = start
            while scheduled < end {
                while MonotonicClock.now() < scheduled {}
                try body()
                histogram.record(MonotonicClock.now() - scheduled)
                scheduled += interval
                count += 1
            }
        } else {
            var now = start
            while now < end {
                try body()
                let after = MonotonicClock.now()
                histogram.record(after - now)
                now = after
                count += 1
            }
        }
        return (count, MonotonicClock.now() - start)
    }

    /// `run` for a round trip that suspends (an async endpoint), closed loop only: an open loop's
    /// schedule would be kept by spinning, which a suspending body cannot share with its peer.
    func runClosedLoop(into histogram: inout Histogram<UInt64>, _ body: () async throws -> Void) async rethrows -> (count: UInt64, elapsed: UInt64) {
        precondition(rate == nil, "an async round trip is sampled closed loop")
        let warmUpEnd = MonotonicClock.now() + warmUpNanoseconds
        while MonotonicClock.now() < warmUpEnd { try await body() }
        let start = MonotonicClock.now()
        var now = start
        var count: UInt64 = 0
        while now < start + nanoseconds {
            try await body()
            let after = MonotonicClock.now()
            histogram.record(after - now)
            (now, count) = (after, count + 1)
        }
        return (count, now - start)
    }
}
