// ConformanceService — the service every conformance test calls, on whichever transport. Messages
// are raw bytes; each method exercises one part of the transport contract.
import GRPCCore
import GRPCRingTransport
import Synchronization
import XCTest
import RingCore

enum Conformance {
    static let service = "conformance.Test"
    static let echo = MethodDescriptor(fullyQualifiedService: service, method: "Echo")          // unary
    static let collect = MethodDescriptor(fullyQualifiedService: service, method: "Collect")    // client streaming
    static let expand = MethodDescriptor(fullyQualifiedService: service, method: "Expand")      // server streaming
    static let chat = MethodDescriptor(fullyQualifiedService: service, method: "Chat")          // bidi echo
    static let fail = MethodDescriptor(fullyQualifiedService: service, method: "Fail")          // throws RPCError
    static let park = MethodDescriptor(fullyQualifiedService: service, method: "Park")          // waits to be cancelled
    static let abort = MethodDescriptor(fullyQualifiedService: service, method: "Abort")        // server cancels the RPC
    static let peers = MethodDescriptor(fullyQualifiedService: service, method: "Peers")        // "remote|local" as the server sees it

    /// The status and trailers `Fail` ends with.
    static let failureCode = RPCError.Code.permissionDenied
    static let failureMessage = "requested failure ✓"
    static var failureTrailers: Metadata {
        var trailers = Metadata()
        trailers.addString("why", forKey: "x-reason")
        trailers.addBinary([0, 1, 2, 0xfe, 0xff], forKey: "x-detail-bin")
        return trailers
    }

    static func u32(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
    static func readU32(_ bytes: [UInt8], at offset: Int = 0) -> Int {
        (0..<4).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
    }
    /// Message `index` of a stream: 4-byte index then a pattern derived from it.
    static func message(_ index: Int, size: Int) -> [UInt8] {
        var bytes = u32(index)
        bytes.reserveCapacity(max(size, 4))
        while bytes.count < size { bytes.append(UInt8(truncatingIfNeeded: index &* 31 &+ bytes.count)) }
        return bytes
    }

    /// Counts the messages of a response while each is message `index` of `size` bytes, in order;
    /// the first one that differs is a test failure and ends the count.
    static func countInOrder(_ messages: RPCAsyncSequence<[UInt8], any Error>, size: Int) async throws -> Int {
        var index = 0
        for try await message in messages {
            guard message == Self.message(index, size: size) else {
                XCTFail("message \(index) differs")
                return index
            }
            index += 1
        }
        return index
    }

    /// A request stream that writes `message` and then stays open until the RPC ends (no clock
    /// involved: an AsyncStream that never yields ends its loop only when the task is cancelled).
    static func oneMessageThenOpen(_ message: [UInt8]) -> StreamingClientRequest<[UInt8]> {
        StreamingClientRequest<[UInt8]> { writer in
            try await writer.write(message)
            let (never, keepOpen) = AsyncStream<Never>.makeStream()
            for await _ in never {}
            keepOpen.finish()
            try Task.checkCancellation()
        }
    }

    /// Request metadata entries a handler echoes: keys starting with "x-".
    static func echoed(_ metadata: Metadata) -> Metadata {
        var out = Metadata()
        for (key, value) in metadata where key.hasPrefix("x-") {
            switch value {
            case .string(let string): out.addString(string, forKey: key)
            case .binary(let bytes): out.addBinary(bytes, forKey: key)
            }
        }
        return out
    }
}

/// What handlers observed, for tests to wait on.
final class ServerEvents: Sendable {
    private let stream: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation
    init() { (stream, continuation) = AsyncStream.makeStream() }
    func record(_ event: String) { continuation.yield(event) }
    /// The next event (suspends until one arrives).
    func next() async -> String? {
        var iterator = stream.makeAsyncIterator()
        return await iterator.next()
    }
}

struct ConformanceService: RegistrableRPCService {
    let events: ServerEvents

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        let events = events
        let raw = (RawBytesDeserializer(), RawBytesSerializer())
        router.registerHandler(forMethod: Conformance.echo, deserializer: raw.0, serializer: raw.1) { request, _ in
            var messages: [[UInt8]] = []
            for try await message in request.messages { messages.append(message) }
            guard messages.count == 1 else { throw RPCError(code: .invalidArgument, message: "\(messages.count) messages") }
            let echoed = Conformance.echoed(request.metadata)
            return StreamingServerResponse(single: ServerResponse(message: messages[0], metadata: echoed, trailingMetadata: echoed))
        }
        router.registerHandler(forMethod: Conformance.collect, deserializer: raw.0, serializer: raw.1) { request, _ in
            var count = 0
            var bytes = 0
            for try await message in request.messages {
                guard message.count >= 4, Conformance.readU32(message) == count, message == Conformance.message(count, size: message.count) else {
                    throw RPCError(code: .dataLoss, message: "message \(count) is wrong")
                }
                count += 1
                bytes += message.count
            }
            return StreamingServerResponse(single: ServerResponse(message: Conformance.u32(count) + Conformance.u32(bytes)))
        }
        router.registerHandler(forMethod: Conformance.expand, deserializer: raw.0, serializer: raw.1) { request, _ in
            var first: [UInt8]?
            for try await message in request.messages { first = first ?? message }
            guard let first, first.count == 8 else { throw RPCError(code: .invalidArgument, message: "expand wants count + size") }
            let count = Conformance.readU32(first)
            let size = Conformance.readU32(first, at: 4)
            return StreamingServerResponse { writer in
                for index in 0..<count { try await writer.write(Conformance.message(index, size: size)) }
                return [:]
            }
        }
        router.registerHandler(forMethod: Conformance.chat, deserializer: raw.0, serializer: raw.1) { request, _ in
            StreamingServerResponse(metadata: Conformance.echoed(request.metadata)) { writer in
                for try await message in request.messages { try await writer.write(message) }
                return [:]
            }
        }
        router.registerHandler(forMethod: Conformance.fail, deserializer: raw.0, serializer: raw.1) { request, _ in
            for try await _ in request.messages {}
            throw RPCError(code: Conformance.failureCode, message: Conformance.failureMessage, metadata: Conformance.failureTrailers)
        }
        router.registerHandler(forMethod: Conformance.park, deserializer: raw.0, serializer: raw.1) { request, context in
            StreamingServerResponse { writer in
                try await writer.write(Array("parked".utf8))
                // Waits until the RPC is cancelled (client reset, deadline, shutdown).
                await waitForRPCCancellation()
                events.record("park cancelled")
                throw RPCError(code: .cancelled, message: "parked RPC cancelled")
            }
        }
        router.registerHandler(forMethod: Conformance.peers, deserializer: raw.0, serializer: raw.1) { request, context in
            for try await _ in request.messages {}
            return StreamingServerResponse(single: ServerResponse(message: Array("\(context.remotePeer)|\(context.localPeer)".utf8)))
        }
        router.registerHandler(forMethod: Conformance.abort, deserializer: raw.0, serializer: raw.1) { request, context in
            StreamingServerResponse { writer in
                var iterator = request.messages.makeAsyncIterator()
                _ = try await iterator.next()
                try await writer.write(Array("aborting".utf8))
                context.cancellation.cancel()
                throw RPCError(code: .cancelled, message: "the server cancelled the RPC")
            }
        }
    }
}

/// Suspends until the current RPC's cancellation handle is cancelled.
func waitForRPCCancellation() async {
    let box = RingMutex<(cancelled: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))
    await withRPCCancellationHandler(operation: {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = box.withLock { state in
                if state.cancelled { return true }
                state.waiter = continuation
                return false
            }
            if now { continuation.resume() }
        }
    }, onCancelRPC: {
        box.withLock { state in
            state.cancelled = true
            defer { state.waiter = nil }
            return state.waiter
        }?.resume()
    })
}
