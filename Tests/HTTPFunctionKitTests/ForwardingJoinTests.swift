// ForwardingJoin: a reply is joined by number and checked against the key it carries; the late
// join's reply before the store is the original failure; nothing is ever left waiting.
@testable import HTTPFunctionKit
import RingChannel
import RingCore
import Testing

@Suite struct ForwardingJoinTests {
    let request = ContextID(high: 7, low: 1)
    let far = ContinuousClock.now.advanced(by: .seconds(3600))

    func reply(_ number: UInt64, key: ContextID, succeeded: Bool = true, body: [UInt8] = [1]) throws -> EventStreamReply {
        EventStreamReply(
            number: number, succeeded: succeeded, context: ForwardingContext(invocationId: ContextID(high: 0, low: number), forwardingId: key),
            payload: succeeded ? try HTTPPayload.encode(HTTPFunctionReply(status: 200, body: body)) : Array("boom".utf8))
    }

    /// Opens an entry in the correct order, runs `then`, and returns what the caller was answered.
    func outcome(deadline: ContinuousClock.Instant? = nil, _ then: (ForwardingJoin) -> Void) async -> RouteOutcome {
        let join = ForwardingJoin()
        let outcome = await withCheckedContinuation { waiter in
            join.open(number: 1, requestID: request, deadline: deadline ?? far, waiter: waiter)
            then(join)
        }
        #expect(join.count == 0)
        return outcome
    }

    @Test func aReplyNamingItsRequestIsPassedOn() async throws {
        let reply = try reply(1, key: request, body: [4, 5])
        #expect(await outcome { $0.deliver(reply) } == .reply(HTTPFunctionReply(status: 200, body: [4, 5])))
    }

    @Test func aReplyNamingAnotherRequestIsAMismatch() async throws {
        let other = ContextID(high: 7, low: 2)
        let reply = try reply(1, key: other)
        #expect(await outcome { $0.deliver(reply) } == .mismatchedKey(expected: request, received: other))
    }

    @Test func aReplyWithoutAKeyIsMissing() async throws {
        let reply = try reply(1, key: .zero)
        #expect(await outcome { $0.deliver(reply) } == .missingKey)
    }

    @Test func theLateJoinLosesTheKeyWhenTheReplyWinsTheStore() async throws {
        let join = ForwardingJoin()
        let reply = try reply(1, key: request)
        // The reply arrives before the caller's send completed: the caller is released, then stores
        // the key too late, and finds the original failure waiting for it.
        await withCheckedContinuation { sent in
            join.openLate(number: 1, requestID: request, deadline: far, sent: sent)
            join.deliver(reply)
        }
        join.storeKey(number: 1)
        #expect(await join.wait(number: 1) == .missingKey)
        #expect(join.count == 0)
    }

    @Test func theLateJoinKeepsTheKeyWhenTheStoreWins() async throws {
        let join = ForwardingJoin()
        let reply = try reply(1, key: request)
        await withCheckedContinuation { sent in
            join.openLate(number: 1, requestID: request, deadline: far, sent: sent)
            join.markSent(number: 1)
        }
        join.storeKey(number: 1)
        join.deliver(reply)  // before the caller waits: kept for it
        #expect(await join.wait(number: 1) == .reply(HTTPFunctionReply(status: 200, body: [1])))
        #expect(join.count == 0)
    }

    @Test func failuresWorkerLossAndDeadlinesAnswerTheCaller() async throws {
        let failed = try reply(1, key: request, succeeded: false)
        #expect(await outcome { $0.deliver(failed) } == .failed("boom"))
        #expect(await outcome { $0.failAll(.workerLost("gone")) } == .workerLost("gone"))
        let past = ContinuousClock.now
        #expect(await outcome(deadline: past) { $0.expire(now: past) } == .timedOut)
        // A reply for what is no longer pending is dropped, not delivered twice.
        let late = try reply(1, key: request)
        #expect(await outcome { join in
            join.fail(number: 1, .timedOut)
            join.deliver(late)
        } == .timedOut)
    }
}

/// The ring route's check of the key decoded from the response frame.
@Suite struct RingRouteOutcomeTests {
    let request = ContextID(high: 9, low: 1)

    func result(key: ContextID, status: InvocationStatus = .success, payload: [UInt8]? = nil) throws -> InvocationResult {
        InvocationResult(
            status: status, payload: try payload ?? HTTPPayload.encode(HTTPFunctionReply(status: 202, body: [7])),
            context: ForwardingContext(invocationId: ContextID(high: 1, low: 1), forwardingId: key), workerID: WorkerID(name: "w"), number: 1)
    }

    @Test func onlyAReplyNamingTheRequestIsPassedOn() throws {
        #expect(RingRoute.outcome(of: try result(key: request), requestID: request) == .reply(HTTPFunctionReply(status: 202, body: [7])))
        let other = ContextID(high: 9, low: 2)
        #expect(RingRoute.outcome(of: try result(key: other), requestID: request) == .mismatchedKey(expected: request, received: other))
        #expect(RingRoute.outcome(of: try result(key: .zero), requestID: request) == .missingKey)
        #expect(RingRoute.outcome(of: try result(key: request, status: .failure(message: "no")), requestID: request) == .failed("worker w#0: no"))
        #expect(RingRoute.outcome(of: try result(key: request, status: .cancelled), requestID: request) == .failed("worker w#0 cancelled the invocation"))
        #expect(RingRoute.outcome(of: try result(key: request, payload: [1]), requestID: request) == .failed("worker w#0: HTTP payload truncated in status"))
    }
}
