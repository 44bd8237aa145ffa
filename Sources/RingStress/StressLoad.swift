// StressLoad — the load generators: a closed loop (C invocations always in flight) and an open loop
// (a fixed rate, with at most C in flight; what the cap refuses is counted as shed, not sent).
import RingBenchKit
import Synchronization

enum StressLoad {
    /// Issues invocations until `end` (monotonic ns), the ledger's limit, or cancellation; returns
    /// once every issued invocation has its outcome. Returns the number of open-loop arrivals shed.
    static func run(_ plan: StressPlan, invoker: StressInvoker, ledger: StressLedger, end: UInt64) async -> UInt64 {
        let faults = invoker.faults
        let minimumKills = UInt64(plan.minimumKills)
        /// Whether new invocations may still be issued.
        @Sendable func running() -> Bool { MonotonicClock.now() < end || faults.kills < minimumKills }
        switch plan.load {
        case .closed(let concurrency):
            await withDiscardingTaskGroup { group in
                for _ in 0..<concurrency {
                    group.addTask {
                        while !Task.isCancelled, running(), let id = ledger.takeID() {
                            guard await invoker.run(id) else { return }
                        }
                    }
                }
            }
            return 0
        case .open(let rate, let cap):
            let inFlight = InFlightCount()
            var shed: UInt64 = 0
            await withDiscardingTaskGroup { group in
                let start = MonotonicClock.now()
                var arrivals: UInt64 = 0
                while !Task.isCancelled {
                    let now = MonotonicClock.now()
                    guard running() else { return }
                    let due = UInt64(Double(now - start) / 1e9 * rate)
                    while arrivals < due {
                        arrivals += 1
                        guard inFlight.enter(cap: cap) else {
                            shed += 1
                            continue
                        }
                        guard let id = ledger.takeID() else { return }
                        group.addTask {
                            await invoker.run(id)
                            inFlight.leave()
                        }
                    }
                    try? await Task.sleep(nanoseconds: 1_000_000)
                }
            }
            return shed
        }
    }
}

/// The open loop's in-flight count.
final class InFlightCount: Sendable {
    private let value = Atomic<Int>(0)

    func enter(cap: Int) -> Bool {
        if value.wrappingAdd(1, ordering: .relaxed).newValue > cap {
            value.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func leave() { value.wrappingSubtract(1, ordering: .relaxed) }
}
