// ForwardingJoin: a reply is joined by number and checked against the key it carries; the late
// join's reply before the store is the original failure; nothing is ever left waiting.
@testable import HTTPFunctionKit
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

    /// Opens an entry, runs `then`, and returns what the waiting caller was answered.
    func outcome(keyStored: Bool, deadline: ContinuousClock.Instant? = nil, _ then: @escaping @Sendable (ForwardingJoin) throws -> Void) async throws -> RouteOutcome {
        let join = ForwardingJoin()
        let key = request
        let deadline = deadline ?? far
        return try await withCheckedThrowingContinuation { (result: CheckedContinuation<RouteOutcome, any Error>) in
            Task {
                let outcome = await withCheckedContinuation { continuation in
                    join.open(number: 1, requestID: key, keyStored: keyStored, deadline: deadline, continuation: continuation)
                    do { try then(join) } catch { join.fail(number: 1, .failed("\(error)")) }
                }
                #expect(join.count == 0)
                result.resume(returning: outcome)
            }
        }
    }

    @Test func aReplyNamingItsRequestIsPassedOn() async throws {
        let reply = try reply(1, key: request, body: [4, 5])
        #expect(try await outcome(keyStored: true) { $0.deliver(reply) } == .reply(HTTPFunctionReply(status: 200, body: [4, 5])))
    }

    @Test func aReplyNamingAnotherRequestIsAMismatch() async throws {
        let other = ContextID(high: 7, low: 2)
        let reply = try reply(1, key: other)
        #expect(try await outcome(keyStored: true) { $0.deliver(reply) } == .mismatchedKey(expected: request, received: other))
    }

    @Test func aReplyWithoutAKeyIsMissing() async throws {
        let reply = try reply(1, key: .zero)
        #expect(try await outcome(keyStored: true) { $0.deliver(reply) } == .missingKey)
    }

    @Test func theLateJoinLosesTheKeyWhenTheReplyWinsAndKeepsItOtherwise() async throws {
        let reply = try reply(1, key: request)
        #expect(try await outcome(keyStored: false) { $0.deliver(reply) } == .missingKey)
        #expect(try await outcome(keyStored: false) { join in
            join.storeKey(number: 1)
            join.deliver(reply)
        } == .reply(HTTPFunctionReply(status: 200, body: [1])))
    }

    @Test func failuresWorkerLossAndDeadlinesAnswerTheCaller() async throws {
        let failed = try reply(1, key: request, succeeded: false)
        #expect(try await outcome(keyStored: true) { $0.deliver(failed) } == .failed("boom"))
        #expect(try await outcome(keyStored: true) { $0.failAll(.workerLost("gone")) } == .workerLost("gone"))
        let past = ContinuousClock.now
        #expect(try await outcome(keyStored: true, deadline: past) { $0.expire(now: past) } == .timedOut)
        // A reply for what is no longer pending is dropped, not delivered twice.
        let late = try reply(1, key: request)
        #expect(try await outcome(keyStored: true) { join in
            join.fail(number: 1, .timedOut)
            join.deliver(late)
        } == .timedOut)
    }
}
