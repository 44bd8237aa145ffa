// The per-stream lifecycles without I/O: every event in every state, for the server's requests
// and responses and the client's responses (StreamLifecycle+StateMachine.swift).
import GRPCCore
@testable import GRPCRingTransport
import XCTest

final class StreamLifecycleTests: XCTestCase {
    // MARK: Server, requests received

    func testServerRequests() {
        var open = ServerRequestsStateMachine()
        XCTAssertEqual(open.message(), .deliver)
        XCTAssertEqual(open.message(), .deliver)
        XCTAssertEqual(open.state, .open)

        var halfClosed = open
        XCTAssertEqual(halfClosed.halfClose(), .deliver)
        XCTAssertEqual(halfClosed.state, .halfClosed)
        XCTAssertFalse(halfClosed.resetByClient)
        XCTAssertEqual(halfClosed.message(), .drop, "a message after the half-close")
        XCTAssertEqual(halfClosed.halfClose(), .drop, "a second half-close")
        XCTAssertTrue(halfClosed.reset(), "a reset after the half-close still cancels the handler")
        XCTAssertTrue(halfClosed.resetByClient)

        var reset = ServerRequestsStateMachine()
        XCTAssertTrue(reset.reset())
        XCTAssertEqual(reset.state, .reset)
        XCTAssertFalse(reset.reset(), "a second reset")
        XCTAssertEqual(reset.message(), .drop, "a message that crossed the reset")
        XCTAssertEqual(reset.halfClose(), .drop)
        XCTAssertTrue(reset.resetByClient)
    }

    // MARK: Server, responses sent

    func testServerResponsesInOrder() {
        var responses = ServerResponsesStateMachine()
        XCTAssertEqual(responses.write(.metadata), .send)
        XCTAssertEqual(responses.state, .open)
        XCTAssertEqual(responses.write(.metadata), .refuse(.failedPrecondition, "response metadata was already sent"))
        XCTAssertEqual(responses.write(.message), .send)
        XCTAssertEqual(responses.write(.message), .send)
        XCTAssertEqual(responses.write(.status), .send)
        XCTAssertEqual(responses.state, .statusSent)
        for part in [ServerResponsesStateMachine.Part.metadata, .message, .status] {
            XCTAssertEqual(responses.write(part), .refuse(.failedPrecondition, "the response stream already ended"))
        }
        XCTAssertEqual(responses.finish(), .none, "finish after the status")
        responses.clientReset()
        XCTAssertEqual(responses.state, .statusSent, "a reset after the status changes nothing")
    }

    func testServerResponsesTrailersOnlyAndMessagesBeforeMetadata() {
        var trailersOnly = ServerResponsesStateMachine()
        XCTAssertEqual(trailersOnly.write(.status), .send)
        XCTAssertEqual(trailersOnly.state, .statusSent)
        var messageFirst = ServerResponsesStateMachine()
        XCTAssertEqual(messageFirst.write(.message), .send)
        XCTAssertEqual(messageFirst.state, .open)
    }

    func testServerResponsesFinishedWithoutStatusResetOnce() {
        for writeFirst in [false, true] {
            var responses = ServerResponsesStateMachine()
            if writeFirst { XCTAssertEqual(responses.write(.metadata), .send) }
            XCTAssertEqual(responses.finish(), .sendReset)
            XCTAssertEqual(responses.state, .resetSent)
            XCTAssertEqual(responses.finish(), .none)
            XCTAssertEqual(responses.write(.message), .refuse(.failedPrecondition, "the response stream already ended"))
        }
    }

    func testServerResponsesAfterTheClientReset() {
        for writeFirst in [false, true] {
            var responses = ServerResponsesStateMachine()
            if writeFirst { XCTAssertEqual(responses.write(.metadata), .send) }
            responses.clientReset()
            XCTAssertEqual(responses.state, .cancelledByClient)
            for part in [ServerResponsesStateMachine.Part.metadata, .message, .status] {
                XCTAssertEqual(responses.write(part), .refuse(.cancelled, "the client cancelled the RPC"))
            }
            XCTAssertEqual(responses.finish(), .endSilently, "nothing is sent to a client that reset")
            XCTAssertEqual(responses.state, .closedAfterCancel)
                XCTAssertEqual(responses.finish(), .none)
            responses.clientReset()
            XCTAssertEqual(responses.state, .closedAfterCancel)
        }
    }

    // MARK: Client, responses received

    func testClientResponsesInOrder() {
        var responses = ClientResponsesStateMachine()
        XCTAssertEqual(responses.metadata(), .deliver)
        XCTAssertEqual(responses.message(), .deliver)
        XCTAssertEqual(responses.message(), .deliver)
        XCTAssertEqual(responses.metadata(), .violation("second response metadata"))
        XCTAssertEqual(responses.end(reset: false), .finish)
        XCTAssertEqual(responses.state, .closed)
        XCTAssertEqual(responses.metadata(), .violation("response metadata after the stream ended"))
        XCTAssertEqual(responses.message(), .violation("response message after the stream ended"))
        XCTAssertEqual(responses.end(reset: false), .violation("status after the stream ended"))
        XCTAssertEqual(responses.end(reset: true), .violation("reset after the stream ended"))
    }

    func testClientResponsesTrailersOnlyResetAndMessageBeforeMetadata() {
        var trailersOnly = ClientResponsesStateMachine()
        XCTAssertEqual(trailersOnly.end(reset: false), .finish)
        var reset = ClientResponsesStateMachine()
        XCTAssertEqual(reset.end(reset: true), .finish)
        XCTAssertEqual(reset.state, .closed)
        var afterMetadata = ClientResponsesStateMachine()
        XCTAssertEqual(afterMetadata.metadata(), .deliver)
        XCTAssertEqual(afterMetadata.end(reset: true), .finish)
        var early = ClientResponsesStateMachine()
        XCTAssertEqual(early.message(), .violation("response message before response metadata"))
        XCTAssertEqual(early.state, .awaitingMetadata)
    }

    // MARK: Client, requests sent

    func testClientRequestsMetadataTravelsWithTheFirstMessage() {
        var requests = ClientRequestsStateMachine()
        XCTAssertEqual(requests.writeMetadata(), .hold)
        XCTAssertEqual(requests.open, .held)
        XCTAssertEqual(requests.writeMessage(), .sendWithOpen)
        XCTAssertEqual(requests.open, .sending)
        XCTAssertFalse(requests.takeForFlush(), "the flush finds the metadata taken")
        XCTAssertEqual(requests.writeMessage(), .sendAfterOpen, "a second message waits for the open frame")
        requests.openSendReturned()
        XCTAssertEqual(requests.open, .sent)
        XCTAssertEqual(requests.writeMessage(), .sendAfterOpen)
        XCTAssertEqual(requests.finish(), .sendHalfCloseAfterOpen)
        XCTAssertEqual(requests.finish(), .alreadyFinished)
        XCTAssertEqual(requests.writeMessage(), .refuseFinished)
        XCTAssertFalse(requests.finishWithError())
        XCTAssertEqual(requests.resetStream(), .sendNow, "a reset after the half-close: the server knows the stream")
        XCTAssertEqual(requests.resetStream(), .nothing, "never twice")
    }

    func testClientRequestsFlushHalfCloseAndErrors() {
        var flushed = ClientRequestsStateMachine()
        XCTAssertEqual(flushed.writeMetadata(), .hold)
        XCTAssertTrue(flushed.takeForFlush())
        XCTAssertFalse(flushed.takeForFlush())
        XCTAssertEqual(flushed.writeMessage(), .sendAfterOpen)
        XCTAssertEqual(flushed.resetStream(), .sendAfterOpen, "the open frame is still being sent: the reset waits for it")

        var unary = ClientRequestsStateMachine()
        XCTAssertEqual(unary.writeMetadata(), .hold)
        XCTAssertEqual(unary.finish(), .sendOpenWithHalfClose, "metadata and half-close in one frame")
        XCTAssertEqual(unary.open, .sending)

        var failed = ClientRequestsStateMachine()
        XCTAssertEqual(failed.writeMetadata(), .hold)
        XCTAssertTrue(failed.finishWithError())
        XCTAssertEqual(failed.writeMessage(), .refuseFinished)
        XCTAssertEqual(failed.resetStream(), .nothing, "the server never heard of the stream")
        XCTAssertEqual(failed.open, .discarded)
        XCTAssertFalse(failed.takeForFlush(), "discarded metadata is never flushed")
    }

    func testClientRequestsResetBeforeAnythingWasSent() {
        var early = ClientRequestsStateMachine()
        XCTAssertEqual(early.resetStream(), .nothing)
        XCTAssertEqual(early.writeMetadata(), .refuseReset, "GRPCCore's request task arrives after the reset")
        XCTAssertEqual(early.writeMessage(), .refuseFinished)
        XCTAssertEqual(early.finish(), .alreadyFinished)
    }
}
