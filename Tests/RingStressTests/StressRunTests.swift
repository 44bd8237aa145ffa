// Stress runs against real worker processes: a run with kill faults must audit clean, and the
// negative control must make the same audit fail — with exact counts.
import Logging
import RingLinux
import RingTestSupport
import Testing

import RingBenchKit
@testable import RingStress

/// RingExampleWorker, built beside the test bundle.
func stressWorkerPath() -> String { builtExecutablePath("RingExampleWorker") }

func stressRun(_ plan: StressPlan) -> StressRun {
    StressRun(plan: plan, workerExecutable: stressWorkerPath(), logger: Logger(label: "stress") { _ in SwiftLogNoOpLogHandler() })
}

/// Two workers under a closed loop of 16; the full suite can starve this process's cooperative
/// pool, so a worker's start may take long.
func faultPlan(sizes: String) throws -> StressPlan {
    var plan = StressPlan()
    plan.workerStartTimeout = 300
    plan.workers = 2
    plan.load = .closed(concurrency: 16)
    plan.sizes = try StressSizeMix.parse(sizes)
    return plan
}

/// A run that must audit clean: every issued invocation has exactly one outcome, verified or an
/// error a fault explains.
func expectClean(_ report: StressReport) {
    let counts = report.counts
    #expect(report.passed, "\(report.table)")
    #expect(counts.violations == 0)
    #expect(counts.issued == counts.outcomes)
    #expect(counts.issued == counts.verified + counts.expectedErrors)
    #expect(counts.verified > 0)
}

@Suite(.serialized) struct StressRunTests {
    @Test func killsUnderLoadAuditClean() async throws {
        try await withWatchdog(seconds: 600) {
            var plan = try faultPlan(sizes: "64:90,64K:9,1M:1")
            // Time-based kills, but the run goes on until 3 were sent: the suite's other tests may
            // starve this process's cooperative pool for seconds.
            plan.duration = 1
            plan.killEvery = 0.3
            plan.minimumKills = 3
            let report = try await stressRun(plan).run()
            expectClean(report)
            let kill = try #require(report.faults.first { $0.name == "kill" })
            #expect(kill.injected >= 3)
            #expect(kill.detected == kill.injected)
        }
    }

    /// Stalls (SIGSTOP) longer than the host's liveness timeout: the host finds each stalled worker,
    /// kills and restarts it; what it held fails with `workerStalled`, every outcome is accounted for.
    @Test func stallsPastTheLivenessTimeoutAreDetectedAndAuditClean() async throws {
        try await withWatchdog(seconds: 600) {
            var plan = try faultPlan(sizes: "64:100")
            plan.duration = 3
            plan.stallEvery = 0.8
            plan.stallMilliseconds = 1200
            plan.livenessTimeout = 0.5
            let report = try await stressRun(plan).run()
            let counts = report.counts
            expectClean(report)
            #expect(Set(counts.expectedErrorsByKind.keys).isSubset(of: ["workerStalled", "workerNotReady", "noWorkerAvailable"]))
            let stall = try #require(report.faults.first { $0.name == "stall" })
            #expect(stall.injected >= 1)
            #expect((stall.detected ?? 0) >= 1 && (stall.detected ?? 0) <= stall.injected)
        }
    }

    /// `--hostile-every` against a worker that does not implement `hostile` injected nothing and
    /// used to pass ("injected N, detected 0"): the run now fails and says why.
    @Test func hostileFaultsAWorkerCannotCarryFailTheRun() async throws {
        try await withWatchdog(seconds: 600) {
            var plan = StressPlan()
            plan.workerStartTimeout = 300
            plan.workers = 1
            plan.load = .closed(concurrency: 4)
            plan.duration = 1
            plan.hostileEvery = 0.2
            plan.workerEnvironment = ["RING_EXAMPLE_WITHOUT": "hostile"]
            plan.sizes = try StressSizeMix.parse("64:100")
            let report = try await stressRun(plan).run()
            #expect(!report.passed)
            #expect(report.counts.violations == 0, "\(report.table)")
            #expect(report.uninjectedFaults.count == 1)
            #expect(report.uninjectedFaults.first?.contains("does not implement `hostile`") == true)
            #expect(report.table.contains("FAIL: 1 violations"))
            let hostile = try #require(report.faults.first { $0.name == "hostile" })
            #expect(hostile.injected > 0 && hostile.detected == 0)
        }
    }

    @Test func negativeControlIsCaughtByTheAudit() async throws {
        try await withWatchdog(seconds: 600) {
            var plan = StressPlan()
            // The full suite can starve this process's cooperative pool: a start may take long.
            plan.workerStartTimeout = 300
            plan.workers = 2
            plan.load = .closed(concurrency: 16)
            plan.duration = 600
            plan.invocationLimit = 2000
            plan.sizes = try StressSizeMix.parse("64:9,4K:1")
            plan.negativeControl = StressPlan.NegativeControl(dropFraction: 0.05)
            let report = try await stressRun(plan).run()
            let counts = report.counts
            let control = try #require(report.negativeControl)
            let dropped = (1...2000 as ClosedRange<UInt64>).filter { plan.negativeControl!.drops($0) }.count
            #expect(dropped > 0)
            #expect(counts.issued == 2000)
            #expect(counts.outcomes == 2000)
            #expect(control.storesDropped == UInt64(dropped))
            // Every dropped store and every store that came after the reply path looked is a
            // missing context, and nothing else is wrong.
            #expect(counts.missingContext == control.storesDropped + control.storesTooLate)
            #expect(counts.mismatchedContext == 0)
            #expect(counts.payloadCorruption == 0)
            #expect(counts.verified == 2000 - counts.missingContext)
            #expect(!report.passed)
        }
    }
}
