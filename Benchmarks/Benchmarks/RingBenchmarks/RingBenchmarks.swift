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
    registerBatchWriteDrainBenchmarks()
}

/// Metrics and tolerances shared by every benchmark of the suite.
///
/// `thresholds check` compares only the p90 of a run with the p90 stored under `Thresholds/`, and a
/// measured metric *without* a tolerance counts as `.strict` (0 % / 0 deviation) — so every metric
/// here gets one explicitly.
enum Suite {
    /// `.instructions` is left out on purpose: this VM has no PMU (the metric is silently dropped),
    /// and in package-benchmark 1.38.1 merely requesting it adds 16 harness mallocs to every measured
    /// iteration, which would hide a real allocation in the hot paths.
    static let metrics: [BenchmarkMetric] = [.wallClock, .throughput, .mallocCountTotal]

    enum MallocTolerance {
        /// Deterministic count, no deviation allowed (the hot paths: 0 per iteration).
        case exact
        /// Paths that allocate by design (decoding strings): allow a small drift across toolchains.
        case relative(Double)
    }

    static func thresholds(mallocs: MallocTolerance) -> [BenchmarkMetric: BenchmarkThresholds] {
        // Time on a shared 2-vCPU VM swings ~2.2x between runs (whole runs land in a fast or a slow
        // mode), so wall clock is only a tripwire: p90 more than 2.5x the stored p90 fails. A relative
        // difference of wall clock cannot go below -100 %, so a faster run is never flagged.
        let time = BenchmarkThresholds(relative: [.p50: 150.0, .p90: 150.0])
        let malloc: BenchmarkThresholds
        switch mallocs {
        case .exact: malloc = BenchmarkThresholds(absolute: BenchmarkThresholds.Absolute.strict)
        case .relative(let percent): malloc = BenchmarkThresholds(relative: [.p50: percent, .p90: percent])
        }
        return [
            .wallClock: time,
            // Same samples as wall clock, reported for reading only: its relative difference is
            // unbounded for faster runs, so any tolerance would flag noise as an "improvement" (which
            // also fails `thresholds check`).
            .throughput: .none,
            .mallocCountTotal: malloc,
        ]
    }
}
