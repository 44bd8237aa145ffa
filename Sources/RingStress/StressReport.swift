// StressReport — the outcome of one `ringbench stress` run: the audit's tally, what each fault did,
// resource drift, the negative control's own bookkeeping. Printed as a table and written by --json.
package import RingBenchKit
import Foundation

package struct StressReport: Codable, Sendable, Equatable {
    package var scenario = "stress"
    /// The plan, as text (workers, load, sizes, faults, negative control…).
    package var parameters: [String: String]
    /// Seconds from the first invocation to the last outcome.
    package var loadSeconds: Double
    package var outcomesPerSecond: Double
    /// Request + reply payload bytes of the issued invocations.
    package var payloadBytes: UInt64
    package var counts: StressCounts
    /// Round trip of verified invocations (including any cancellation delay).
    package var latencyNanoseconds: LatencyPercentiles?
    package var faults: [StressFaultReport]
    package var resources: StressResourceReport?
    package var negativeControl: NegativeControlReport?
    /// Workers that ended with an error no injected fault explains (each is a violation).
    package var unexplainedWorkerEnds: [String]
    /// Faults the plan asked for that the worker could not carry (e.g. it does not implement
    /// `hostile`): each is a violation, so a run that injected nothing cannot pass as if it had.
    package var uninjectedFaults: [String] = []
    /// Open-loop arrivals refused because the in-flight cap was reached (not sent, not violations).
    package var shed: UInt64
    package var machine: MachineInfo

    package struct NegativeControlReport: Codable, Sendable, Equatable {
        package var dropFraction: Double
        /// Side-table stores skipped on purpose.
        package var storesDropped: UInt64
        /// Side-table stores that came after the reply path had already looked.
        package var storesTooLate: UInt64
    }

    package var violations: UInt64 { counts.violations + UInt64(unexplainedWorkerEnds.count + uninjectedFaults.count) }
    package var passed: Bool { violations == 0 }

    package func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path))
    }

    /// The summary table.
    package var table: String {
        var lines: [String] = []
        func row(_ name: String, _ value: String) { lines.append("  " + Format.pad(name, 38) + value) }
        let c = counts
        lines.append("ringbench stress — " + parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        row("load time", Format.fixed(loadSeconds, 1) + " s")
        row("invocations issued", "\(c.issued)")
        row("outcomes", "\(c.outcomes)  (\(Format.rate(outcomesPerSecond))/s)")
        row("verified (context + payload)", "\(c.verified)")
        row("expected errors", "\(c.expectedErrors)" + Self.kinds(c.expectedErrorsByKind))
        if let l = latencyNanoseconds {
            row("latency p50 / p99 / p99.9 / max", [l.p50, l.p99, l.p999, l.max].map(Format.nanoseconds).joined(separator: " / "))
        }
        if shed > 0 { row("open-loop arrivals shed", "\(shed)") }
        lines.append("  violations")
        row("  missing context", "\(c.missingContext)")
        row("  mismatched context", "\(c.mismatchedContext)")
        row("  payload corruption", "\(c.payloadCorruption)")
        row("  lost (no outcome)", "\(c.lost)")
        row("  duplicate outcome", "\(c.duplicate)")
        row("  unexpected error", "\(c.unexpectedErrors)" + Self.kinds(c.unexpectedErrorsByKind))
        row("  unexplained worker ends", "\(unexplainedWorkerEnds.count)")
        row("  faults not injected", "\(uninjectedFaults.count)")
        for fault in faults {
            var text = "injected \(fault.injected)"
            if let detected = fault.detected { text += ", detected \(detected)" }
            if let d = fault.detectionNanoseconds {
                text += ", detection p50 \(Format.nanoseconds(d.p50)) p99 \(Format.nanoseconds(d.p99)) max \(Format.nanoseconds(d.max))"
            }
            if let d = fault.observedNanoseconds {
                text += " (seen by the load generator p50 \(Format.nanoseconds(d.p50)) p99 \(Format.nanoseconds(d.p99)))"
            }
            if !fault.failedInvocations.isEmpty { text += ", failed invocations" + Self.kinds(fault.failedInvocations) }
            for (key, value) in fault.notes.sorted(by: { $0.key < $1.key }) { text += ", \(key) \(value)" }
            row("fault \(fault.name)", text)
        }
        if let r = resources {
            row("RSS first / baseline / end / max",
                [r.rssBytes.first, r.rssBytes.baseline, r.rssBytes.end, r.rssBytes.max].map { Format.fixed($0 / 1_048_576, 1) + " MiB" }
                    .joined(separator: " / ") + "  drift \(Format.fixed(r.rssBytes.driftPercent, 2)) %")
            row("open fds first / baseline / end / max",
                [r.openDescriptors.first, r.openDescriptors.baseline, r.openDescriptors.end, r.openDescriptors.max].map { "\(Int($0))" }
                    .joined(separator: " / ") + "  drift \(Format.fixed(r.openDescriptors.driftPercent, 2)) %  (\(r.samples) samples)")
        }
        if let n = negativeControl {
            row("NEGATIVE CONTROL", "drop fraction \(n.dropFraction): stores dropped \(n.storesDropped), stores too late \(n.storesTooLate)")
        }
        for example in counts.examples + unexplainedWorkerEnds + uninjectedFaults { lines.append("  ! " + example) }
        lines.append(passed ? "PASS: 0 violations" : "FAIL: \(violations) violations")
        return lines.joined(separator: "\n")
    }

    static func kinds(_ byKind: [String: UInt64]) -> String {
        byKind.isEmpty ? "" : " (" + byKind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")"
    }
}
