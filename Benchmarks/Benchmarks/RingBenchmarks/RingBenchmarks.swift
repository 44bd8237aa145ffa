// Entry point of the RingBenchmarks suite: shared configuration, then one registration function
// per concept (each in its own `…+Benchmarks.swift` file).
import Benchmark

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: Suite.metrics,
        timeUnits: .nanoseconds,
        warmupIterations: 10,
        scalingFactor: .kilo,
        maxDuration: .seconds(1),
        maxIterations: .kilo(10),
        thresholds: Suite.thresholds(mallocs: .exact)
    )

    registerFrameHeaderBenchmarks()
    registerForwardingContextBenchmarks()
    registerRingWriteDrainBenchmarks()
    registerSharedRingWriterBenchmarks()
    registerMessageBenchmarks()
}

/// Metrics and tolerances shared by every benchmark of the suite.
///
/// Every metric a benchmark measures gets an explicit tolerance: package-benchmark treats a metric
/// without one as `.strict` (0 % / 0 deviation), which no timing on a shared 2-vCPU VM can meet.
/// `thresholds check` compares only the p90 of a run with the p90 stored under `Thresholds/`.
enum Suite {
    static let metrics: [BenchmarkMetric] = [.wallClock, .throughput, .mallocCountTotal, .instructions]

    enum MallocTolerance {
        /// Deterministic count; any change is a regression (hot paths: must stay 0).
        case exact
        /// Paths that allocate by design (decoding strings): allow a small relative drift across
        /// toolchains.
        case relative(Double)
    }

    static func thresholds(mallocs: MallocTolerance) -> [BenchmarkMetric: BenchmarkThresholds] {
        // Time is noisy on a small shared VM: only a large slowdown at p90 fails.
        let time = BenchmarkThresholds(relative: [.p50: 50.0, .p90: 50.0])
        let malloc: BenchmarkThresholds
        switch mallocs {
        case .exact: malloc = BenchmarkThresholds(absolute: BenchmarkThresholds.Absolute.strict)
        case .relative(let percent): malloc = BenchmarkThresholds(relative: [.p50: percent, .p90: percent])
        }
        return [
            .wallClock: time,
            .throughput: time,
            .instructions: BenchmarkThresholds(relative: [.p50: 15.0, .p90: 15.0]),
            .mallocCountTotal: malloc,
        ]
    }
}
