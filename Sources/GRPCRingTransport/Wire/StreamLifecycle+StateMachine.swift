// StreamLifecycle — the per-stream lifecycles of gRPC over the rings as plain state machines, with
// no I/O and no locks (the connection or writer that owns one holds it under its own lock and
// carries out what it decides). Tested transition by transition in StreamLifecycleTests.
//
//   server, requests it receives:   open ──half-close──▶ halfClosed
//                                     └───────reset (from open or halfClosed)──▶ reset
//   server, responses it sends:     idle ──metadata──▶ open ──status──▶ statusSent
//                                     └──────┴──finish without status──▶ resetSent
//                                     └──────┴──client reset──▶ cancelledByClient ──finish──▶ closedAfterCancel
//   client, responses it receives:  awaitingMetadata ──metadata──▶ receivingMessages ──status/reset──▶ closed
//                                     └─────────status (trailers only) / reset──────────────▶ closed
import GRPCCore

/// The server's view of the requests a client sends on one stream.
struct ServerRequestsStateMachine: Equatable {
    enum State: Equatable { case open, halfClosed, reset }
    enum Decision: Equatable {
        /// Hand it to the handler (a message) / finish the handler's request sequence (half-close).
        case deliver
        /// The stream ended on this side already (a frame that crossed a reset): ignore it.
        case drop
    }

    private(set) var state: State = .open

    /// Whether the client reset the stream (its handler's cancellation handle must fire).
    var resetByClient: Bool { state == .reset }

    mutating func message() -> Decision { state == .open ? .deliver : .drop }

    mutating func halfClose() -> Decision {
        guard state == .open else { return .drop }
        state = .halfClosed
        return .deliver
    }

    /// The client reset the stream; false if it was reset already.
    mutating func reset() -> Bool {
        guard state != .reset else { return false }
        state = .reset
        return true
    }
}

/// The server's view of the responses it sends on one stream.
struct ServerResponsesStateMachine: Equatable {
    enum State: Equatable { case idle, open, statusSent, resetSent, cancelledByClient, closedAfterCancel }
    enum Part: Equatable { case metadata, message, status }
    enum Write: Equatable {
        /// Send the part (a status also ends the stream: the owner's end runs once after it).
        case send
        /// Refuse the write with this error; nothing is sent.
        case refuse(RPCError.Code, String)
    }
    enum Finish: Equatable {
        /// Send a reset with the error, then end.
        case sendReset
        /// End without sending anything (the client reset the stream).
        case endSilently
        /// Ended already: nothing to do.
        case none
    }

    private(set) var state: State = .idle

    mutating func write(_ part: Part) -> Write {
        switch state {
        case .cancelledByClient, .closedAfterCancel:
            return .refuse(.cancelled, "the client cancelled the RPC")
        case .statusSent, .resetSent:
            return .refuse(.failedPrecondition, "the response stream already ended")
        case .open where part == .metadata:
            return .refuse(.failedPrecondition, "response metadata was already sent")
        case .idle, .open:
            state = part == .status ? .statusSent : .open
            return .send
        }
    }

    mutating func finish() -> Finish {
        switch state {
        case .idle, .open:
            state = .resetSent
            return .sendReset
        case .cancelledByClient:
            state = .closedAfterCancel
            return .endSilently
        case .statusSent, .resetSent, .closedAfterCancel:
            return .none
        }
    }

    /// The client reset the stream: later writes fail, nothing more is sent.
    mutating func clientReset() {
        if state == .idle || state == .open { state = .cancelledByClient }
    }
}

/// The client's view of the responses a server sends on one stream.
struct ClientResponsesStateMachine: Equatable {
    enum State: Equatable { case awaitingMetadata, receivingMessages, closed }
    enum Decision: Equatable {
        /// Hand the part to the caller.
        case deliver
        /// Hand the part to the caller and end the stream (status) / end it with the reset's error.
        case finish
        /// The server broke the stream protocol; the connection ends.
        case violation(String)
    }

    private(set) var state: State = .awaitingMetadata

    mutating func metadata() -> Decision {
        switch state {
        case .awaitingMetadata:
            state = .receivingMessages
            return .deliver
        case .receivingMessages: return .violation("second response metadata")
        case .closed: return .violation("response metadata after the stream ended")
        }
    }

    mutating func message() -> Decision {
        switch state {
        case .awaitingMetadata: return .violation("response message before response metadata")
        case .receivingMessages: return .deliver
        case .closed: return .violation("response message after the stream ended")
        }
    }

    /// A status (trailers; trailers-only when no metadata came) or a reset.
    mutating func end(reset: Bool) -> Decision {
        guard state != .closed else { return .violation("\(reset ? "reset" : "status") after the stream ended") }
        state = .closed
        return .finish
    }
}

/// The client's view of the requests it sends on one stream: when the `streamOpen` frame goes
/// (metadata is held until the first message or the half-close, or a flush sends it alone), and
/// the ordering rules around it — a message that finds the open frame taken waits for it; a reset
/// goes only for a stream whose open frame was sent, after that send returned, and nothing of the
/// stream is sent after a reset.
//
//   none ──metadata──▶ held ──message / half-close / flush──▶ sending ──send returned──▶ sent
//                        └──reset──▶ discarded (the server never hears of the stream)
struct ClientRequestsStateMachine: Equatable {
    enum Open: Equatable { case none, held, sending, sent, discarded }
    enum Metadata: Equatable {
        /// Hold it (until the first message, the half-close or the flush).
        case hold
        /// The stream was reset before the request task got here: the server must never see it.
        case refuseReset
    }
    enum Message: Equatable {
        /// Send it inside the `streamOpen` frame with the held metadata (take the metadata now).
        case sendWithOpen
        /// Send it as a `streamMessage` once the open frame's send (the flush's) has returned.
        case sendAfterOpen
        /// The request side already finished or was reset.
        case refuseFinished
    }
    enum Finish: Equatable {
        case sendOpenWithHalfClose
        case sendHalfCloseAfterOpen
        case alreadyFinished
    }
    enum Reset: Equatable {
        /// The server never saw the stream, or it was reset already: send nothing.
        case nothing
        case sendNow
        /// The open frame is being sent: send the reset when that send returns.
        case sendAfterOpen
    }

    private(set) var open: Open = .none
    private(set) var finished = false
    private(set) var reset = false

    mutating func writeMetadata() -> Metadata {
        precondition(open == .none || open == .discarded, "request metadata written twice")
        if reset { return .refuseReset }
        open = .held
        return .hold
    }

    /// The flush task: takes the held metadata to send alone; false if something else took it.
    mutating func takeForFlush() -> Bool {
        guard open == .held else { return false }
        open = .sending
        return true
    }

    mutating func writeMessage() -> Message {
        if finished { return .refuseFinished }
        guard open == .held else { return .sendAfterOpen }
        open = .sending
        return .sendWithOpen
    }

    mutating func finish() -> Finish {
        if finished { return .alreadyFinished }
        finished = true
        guard open == .held else { return .sendHalfCloseAfterOpen }
        open = .sending
        return .sendOpenWithHalfClose
    }

    /// The request side failed; false if it had finished already.
    mutating func finishWithError() -> Bool {
        defer { finished = true }
        return !finished
    }

    /// The send of the open frame returned.
    mutating func openSendReturned() {
        if open == .sending { open = .sent }
    }

    mutating func resetStream() -> Reset {
        defer {
            reset = true
            finished = true
        }
        if open == .held || open == .none { open = .discarded }
        guard !reset else { return .nothing }
        switch open {
        case .sending: return .sendAfterOpen
        case .sent: return .sendNow
        case .none, .held, .discarded: return .nothing
        }
    }
}
