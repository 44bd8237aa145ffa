// The stress audit's verdicts, ledger and workload, without processes: every violation class is
// forged and must be reported as exactly that class.
import RingAudit
import RingChannel
import RingCore
import Testing

import RingBenchKit
@testable import RingStress

@Suite struct StressAuditTests {
    let plan = StressPlan()
    let worker = WorkerID(name: "stress0", generation: 1)

    func invocation(_ id: UInt64) -> StressInvocation { StressInvocation(id: id, plan: plan, now: 0) }

    /// What a correct worker answers to `invocation`.
    func correctResult(_ invocation: StressInvocation, seenContext: ForwardingContext? = nil, payload: [UInt8]? = nil) -> InvocationResult {
        let seen = seenContext ?? invocation.context
        let request = payload ?? invocation.request
        let reply = StressReply.encode(
            contextDigest: StressReply.contextDigest(seen), payloadDigest: StressDigest.hash(request, seed: StressDigest.payloadSeed),
            payloadCount: request.count, replySize: invocation.replySize)
        return InvocationResult(status: .success, payload: reply, context: invocation.context, workerID: worker, number: invocation.id)
    }

    func verdict(_ invocation: StressInvocation, _ result: InvocationResult, reply: ForwardingContext?) -> StressVerdict {
        StressAudit.verdict(on: result, invocation: invocation, frameContext: invocation.context, replyContext: reply)
    }

    @Test func aCorrectReplyIsVerified() {
        for id in [1, 2, 3, 12, 1000] as [UInt64] {
            let i = invocation(id)
            #expect(verdict(i, correctResult(i), reply: i.context) == .verified)
        }
    }

    @Test func aMissingReplyContextIsReported() {
        let i = invocation(7)
        #expect(verdict(i, correctResult(i), reply: nil) == .missingContext)
    }

    @Test func anotherInvocationsContextIsAMismatch() {
        let i = invocation(7)
        guard case .mismatchedContext = verdict(i, correctResult(i), reply: invocation(8).context) else {
            Issue.record("expected a mismatch")
            return
        }
    }

    @Test func aContextMissingOneFieldIsAMismatch() {
        let i = invocation(9)
        var partial = i.context
        partial.traceparent = ""
        #expect(verdict(i, correctResult(i), reply: partial) != .verified)
        partial = i.context
        partial.forwardingId = .zero
        #expect(verdict(i, correctResult(i), reply: partial) != .verified)
    }

    @Test func aWorkerThatSawAnotherContextIsAMismatch() {
        let i = invocation(10)
        guard case .mismatchedContext = verdict(i, correctResult(i, seenContext: invocation(11).context), reply: i.context) else {
            Issue.record("expected a mismatch")
            return
        }
    }

    @Test func corruptedPayloadsAreReported() {
        let i = invocation(4)
        var request = i.request
        request[request.count - 1] ^= 1
        guard case .payloadCorruption = verdict(i, correctResult(i, payload: request), reply: i.context) else {
            Issue.record("request corruption not reported")
            return
        }
        let good = correctResult(i)
        var bytes = good.payload
        bytes[bytes.count - 1] ^= 0x80
        let bad = InvocationResult(status: .success, payload: bytes, context: i.context, workerID: worker, number: 4)
        guard case .payloadCorruption = verdict(i, bad, reply: i.context) else {
            Issue.record("reply corruption not reported")
            return
        }
        let short = InvocationResult(status: .success, payload: [1, 2, 3], context: i.context, workerID: worker, number: 4)
        guard case .payloadCorruption = verdict(i, short, reply: i.context) else {
            Issue.record("short reply not reported")
            return
        }
    }

    @Test func badRepliesAreExpectedOnlyFromHostileWorkers() {
        var expectations = StressExpectations()
        let corrupt = StressVerdict.payloadCorruption("x")
        #expect(StressAudit.attributing(corrupt, to: worker, expectations: expectations) == .payloadCorruption("x (from stress0#1)"))
        #expect(StressAudit.attributing(.missingContext, to: worker, expectations: expectations) == .missingContext)
        expectations.hostile.insert(worker)
        #expect(StressAudit.attributing(corrupt, to: worker, expectations: expectations) == .expectedError(kind: "hostileReply"))
        #expect(StressAudit.attributing(.mismatchedContext("y"), to: worker, expectations: expectations) == .expectedError(kind: "hostileReply"))
        #expect(StressAudit.attributing(.verified, to: worker, expectations: expectations) == .verified)
    }

    @Test func errorsAreExpectedOnlyWhenAFaultExplainsThem() {
        let i = invocation(5)
        var expectations = StressExpectations()
        let exited = ChannelError.workerExited(workerID: worker, pid: 42, status: nil)
        #expect(StressAudit.verdict(on: exited, invocation: i, cancelled: false, expectations: expectations).isViolation)
        expectations.killed.insert(worker)
        #expect(StressAudit.verdict(on: exited, invocation: i, cancelled: false, expectations: expectations) == .expectedError(kind: "workerExited"))
        let violation = ChannelError.protocolViolation(workerID: worker, pid: 42, detail: "garbage")
        #expect(StressAudit.verdict(on: violation, invocation: i, cancelled: false, expectations: expectations).isViolation)
        expectations.hostile.insert(worker)
        #expect(!StressAudit.verdict(on: violation, invocation: i, cancelled: false, expectations: expectations).isViolation)
        #expect(StressAudit.verdict(on: CancellationError(), invocation: i, cancelled: false, expectations: expectations).isViolation)
        #expect(!StressAudit.verdict(on: CancellationError(), invocation: i, cancelled: true, expectations: expectations).isViolation)
        let late = ChannelError.deadlineExceeded(workerID: worker, invocationID: i.context.invocationId)
        #expect(StressAudit.verdict(on: late, invocation: i, cancelled: false, expectations: expectations).isViolation)
        #expect(StressAudit.verdict(on: ChannelError.noWorkerAvailable, invocation: i, cancelled: false, expectations: expectations).isViolation)
        let notReady = ChannelError.workerNotReady(WorkerID(name: "other", generation: 0))
        #expect(StressAudit.verdict(on: notReady, invocation: i, cancelled: false, expectations: expectations).isViolation)
        #expect(!StressAudit.verdict(on: ChannelError.workerNotReady(worker), invocation: i, cancelled: false, expectations: expectations).isViolation)
        expectations.poolMayBeEmpty = true
        #expect(!StressAudit.verdict(on: ChannelError.noWorkerAvailable, invocation: i, cancelled: false, expectations: expectations).isViolation)
    }

    @Test func theLedgerCountsDuplicatesAndLostExactly() {
        let ledger = StressLedger(limit: 5)
        var ids: [UInt64] = []
        while let id = ledger.takeID() { ids.append(id) }
        #expect(ids == [1, 2, 3, 4, 5])
        for id in ids { #expect(ledger.issue(id)) }
        ledger.record(1, .verified, latencyNanoseconds: 10)
        ledger.record(1, .verified, latencyNanoseconds: 10)
        ledger.record(2, .missingContext, latencyNanoseconds: 10)
        ledger.record(3, .expectedError(kind: "workerExited"), latencyNanoseconds: 10)
        let counts = ledger.close()
        #expect(counts.issued == 5)
        #expect(counts.outcomes == 4)
        #expect(counts.verified == 1)
        #expect(counts.duplicate == 1)
        #expect(counts.missingContext == 1)
        #expect(counts.expectedErrorsByKind == ["workerExited": 1])
        #expect(counts.lost == 2)
        #expect(counts.violations == 4)
        #expect(!ledger.issue(6))
    }

    @Test func patternsRoundTripAtEveryLength() {
        for count in 0..<40 {
            var bytes = [UInt8](repeating: 0, count: count)
            bytes.withUnsafeMutableBytes { StressDigest.fill($0, seed: 99) }
            #expect(bytes.withUnsafeBytes { StressDigest.matches($0, seed: 99) })
            #expect(count == 0 || !bytes.withUnsafeBytes { StressDigest.matches($0, seed: 98) })
            if count > 0 {
                bytes[count / 2] ^= 4
                #expect(!bytes.withUnsafeBytes { StressDigest.matches($0, seed: 99) })
            }
        }
        #expect(StressDigest.hash([1, 2, 3], seed: 1) != StressDigest.hash([1, 2, 4], seed: 1))
        #expect(StressDigest.hash([1, 2, 3], seed: 1) != StressDigest.hash([1, 2, 3], seed: 2))
    }

    @Test func contextsAreDistinctAndEncodable() throws {
        var seen = Set<ForwardingContext>()
        for id in 1...500 as ClosedRange<UInt64> {
            let context = StressInvocation.context(for: id, deadline: nil)
            _ = try context.encoded()
            seen.insert(context)
        }
        #expect(seen.count == 500)
    }

    @Test func sizeMixParsesAndChoosesDeterministically() throws {
        let mix = try StressSizeMix.parse("64:3,1K:1")
        #expect(mix.entries.map(\.size) == [64, 1024])
        let sizes = (1...4000 as ClosedRange<UInt64>).map { mix.size(for: $0) }
        #expect(sizes == (1...4000 as ClosedRange<UInt64>).map { mix.size(for: $0) })
        let small = sizes.filter { $0 == 64 }.count
        #expect(small > 2600 && small < 3400)
        #expect(throws: StressPlanError.self) { try StressSizeMix.parse("2") }
        #expect(throws: StressPlanError.self) { try StressSizeMix.parse("64:-1") }
    }

    @Test func commandLineBecomesAPlan() throws {
        let command = try StressCommand.parse(["--duration", "10m", "--kill-every", "2", "--workers", "3", "--negative-control", "0.1"])
        let plan = try command.plan()
        #expect(plan.duration == 600)
        #expect(plan.killEvery == 2)
        #expect(plan.workers == 3)
        #expect(plan.negativeControl == StressPlan.NegativeControl(dropFraction: 0.1))
        #expect(plan.faultNames == ["kill"])
        #expect(throws: (any Error).self) { try StressCommand.parse(["--duration", "soon"]) }
        #expect(throws: (any Error).self) { try StressCommand.parse(["--cancel-fraction", "2"]) }
        #expect(throws: (any Error).self) { try StressCommand.parse(["--workers", "0"]) }
    }
}
