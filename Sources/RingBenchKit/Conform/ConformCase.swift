// ConformCase — one protocol case of `ringbench conform`: a name, what the worker must do, and the
// check. A case passes by returning a detail line and fails by throwing ConformFailure; every wait
// in it is bounded (`within`), so a worker that never answers fails the case instead of hanging the
// kit.
import RingChannel
import RingCore
import RingLinux

struct ConformCase: Sendable {
    let name: String
    /// What the worker must do (Docs/Protocol.md's words).
    let requirement: String
    let check: @Sendable (ConformSession) async throws -> String
}

struct ConformFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `body`'s value, or ConformFailure("`what`: no outcome within `seconds` s"); the body is cancelled
/// when the time is up.
func within<T: Sendable>(_ seconds: Double, _ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw ConformFailure("\(what): no outcome within \(seconds) s")
        }
        return value
    }
}

/// Repeats `probe` (every 5 ms) until it returns a value or `seconds` pass.
func eventually<T: Sendable>(_ seconds: Double, _ what: String, _ probe: @escaping @Sendable () async throws -> T?) async throws -> T {
    try await within(seconds, what) {
        while true {
            if let value = try await probe() { return value }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// A payload of `count` bytes that differs at every offset and between `seed`s (a lost, shifted or
/// swapped byte shows).
func conformPayload(_ count: Int, seed: UInt64) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    bytes.withUnsafeMutableBytes { buffer in
        var offset = 0
        while offset < count {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            withUnsafeBytes(of: state.littleEndian) { word in
                let take = min(8, count - offset)
                buffer.baseAddress!.advanced(by: offset).copyMemory(from: word.baseAddress!, byteCount: take)
            }
            offset += 8
        }
    }
    return bytes
}

/// A context with every field set (what the worker must echo, byte for byte).
func conformContext(_ id: UInt64, deadline: UInt64? = nil) -> ForwardingContext {
    ForwardingContext(
        invocationId: ContextID(high: 0x434F_4E46_4F52_4D00, low: id), forwardingId: ContextID(high: id &* 31, low: ~id),
        traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", tracestate: "conform=\(id)",
        deadlineNanoseconds: deadline, retryCount: 1, maxRetries: 3,
        attributes: [.init(key: "conform.case", value: "\(id)"), .init(key: "k", value: "v")])
}
