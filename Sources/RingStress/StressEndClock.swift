// StressEndClock — when the host itself detected a worker's end. FunctionHost counts every end in
// `ringchannel_worker_ends_total` synchronously, on its reactor thread, just before it emits the
// `.ended` event; this metrics factory timestamps those increments. The load generator's own event
// loop runs on the (saturated) cooperative pool, so its receipt time measures queueing as well —
// the report gives both.
import Metrics
import Synchronization
import RingCore
import RingBenchKit

final class StressEndClock: MetricsFactory, Sendable {
    private let stamps = RingMutex<[UInt64]>([])

    /// The time of the oldest end not yet matched to an `.ended` event (events come in the same
    /// order as the increments).
    func takeOldest() -> UInt64? {
        stamps.withLock { $0.isEmpty ? nil : $0.removeFirst() }
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        label == "ringchannel_worker_ends_total" ? EndCounter(clock: self) : NOOPMetricsHandler.instance
    }

    func stamp() {
        let now = MonotonicClock.now()
        stamps.withLock { $0.append(now) }
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler { NOOPMetricsHandler.instance }
    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler { NOOPMetricsHandler.instance }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler { NOOPMetricsHandler.instance }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { NOOPMetricsHandler.instance }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyMeter(_ handler: any MeterHandler) {}
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}

    private final class EndCounter: CounterHandler, Sendable {
        let clock: StressEndClock
        init(clock: StressEndClock) { self.clock = clock }
        func increment(by amount: Int64) { for _ in 0..<max(amount, 0) { clock.stamp() } }
        func reset() {}
    }
}
