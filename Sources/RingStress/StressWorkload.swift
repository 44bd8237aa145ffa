// StressWorkload — what one stress invocation sends and what the worker's `digest` function answers.
//
//   request  [u32 LE reply size][pattern(seed = id)]                        (the invocation's size)
//   reply    [u64 context digest][u64 payload digest][u64 payload count][pattern(seed = context digest)]
//
// The context digest is over the encoding of the context the worker decoded from its request frame;
// the payload digest over the request payload it received. Every field is little-endian.
import RingCore
import RingBenchKit
import RingAudit

/// Everything about invocation `id` that the audit checks against.
struct StressInvocation: Sendable {
    let id: UInt64
    /// The full forwarding context (what the reply path must see).
    let context: ForwardingContext
    let request: [UInt8]
    let requestDigest: UInt64
    let replySize: Int
    /// The caller cancels this invocation after so many nanoseconds (cancellation storm).
    let cancelAfterNanoseconds: UInt64?
    /// Whether the huge-message fault chose this invocation's size.
    let isHuge: Bool

    var hasDeadline: Bool { context.deadlineNanoseconds != nil }

    init(id: UInt64, plan: StressPlan, now: UInt64) {
        self.id = id
        let roll = StressDigest.mix(id ^ 0xFA17)
        var size = plan.sizes.size(for: id)
        isHuge = plan.hugeFraction > 0 && Double(roll % 1_000_000) < plan.hugeFraction * 1_000_000
        if isHuge {
            let range = StressSizeMix.hugeRange
            size = range.lowerBound + Int((roll >> 20) % UInt64(range.upperBound - range.lowerBound + 1))
        }
        var deadline: UInt64?
        if plan.deadlineFraction > 0, Double((roll >> 8) % 1_000_000) < plan.deadlineFraction * 1_000_000 {
            deadline = now &+ (roll >> 40) % 1_000_000
        }
        if plan.cancelFraction > 0, Double((roll >> 16) % 1_000_000) < plan.cancelFraction * 1_000_000 {
            cancelAfterNanoseconds = (roll >> 32) % 2_000_000
        } else {
            cancelAfterNanoseconds = nil
        }
        context = StressInvocation.context(for: id, deadline: deadline)
        replySize = size
        request = StressRequest.make(id: id, size: size, replySize: size)
        requestDigest = StressDigest.hash(request, seed: StressDigest.payloadSeed)
    }

    /// The forwarding context of invocation `id`: every field derived from the id, so a context that
    /// belongs to another invocation (or is missing a field) never compares equal.
    static func context(for id: UInt64, deadline: UInt64?) -> ForwardingContext {
        let a = StressDigest.mix(id)
        let b = StressDigest.mix(a)
        func hex(_ value: UInt64) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
        return ForwardingContext(
            invocationId: ContextID(high: 0x5354_5245_5353_0000 ^ (id >> 48), low: id),
            forwardingId: ContextID(high: a, low: b),
            traceparent: "00-\(hex(a))\(hex(b))-\(hex(a ^ b))-01",
            tracestate: id % 4 == 0 ? "stress=\(id)" : "",
            deadlineNanoseconds: deadline,
            retryCount: UInt32(id % 3), maxRetries: 3,
            attributes: id % 3 == 0 ? [.init(key: "stress.id", value: String(id))] : [])
    }

    /// The context the negative control puts into the request frame: only what routing needs.
    var strippedContext: ForwardingContext {
        ForwardingContext(invocationId: context.invocationId, deadlineNanoseconds: context.deadlineNanoseconds)
    }
}

enum StressRequest {
    static func make(id: UInt64, size: Int, replySize: Int) -> [UInt8] {
        precondition(size >= 4)
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            raw.storeBytes(of: UInt32(truncatingIfNeeded: replySize).littleEndian, toByteOffset: 0, as: UInt32.self)
            StressDigest.fill(UnsafeMutableRawBufferPointer(rebasing: raw[4...]), seed: id)
            count = size
        }
    }
}

/// The worker's answer, parsed.
struct StressReply: Equatable {
    static let headerSize = 24
    let contextDigest: UInt64
    let payloadDigest: UInt64
    let payloadCount: UInt64
    /// Whether the bytes after the header are exactly `replySize` bytes of the context digest's pattern.
    let tailIntact: Bool

    init?(_ payload: [UInt8], replySize: Int) {
        guard payload.count >= Self.headerSize else { return nil }
        (contextDigest, payloadDigest, payloadCount, tailIntact) = payload.withUnsafeBytes { raw in
            let c = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
            let p = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            let n = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
            let tail = UnsafeRawBufferPointer(rebasing: raw[Self.headerSize...])
            return (c, p, n, tail.count == replySize && StressDigest.matches(tail, seed: c))
        }
    }

    /// What a correct worker answers (used by tests to forge replies).
    static func encode(contextDigest: UInt64, payloadDigest: UInt64, payloadCount: Int, replySize: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: headerSize + replySize) { buffer, count in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            raw.storeBytes(of: contextDigest.littleEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: payloadDigest.littleEndian, toByteOffset: 8, as: UInt64.self)
            raw.storeBytes(of: UInt64(payloadCount).littleEndian, toByteOffset: 16, as: UInt64.self)
            StressDigest.fill(UnsafeMutableRawBufferPointer(rebasing: raw[headerSize...]), seed: contextDigest)
            count = headerSize + replySize
        }
    }

    /// The digest the worker computes over a context it decoded.
    static func contextDigest(_ context: ForwardingContext) -> UInt64 {
        StressDigest.hash((try? context.encoded()) ?? [], seed: StressDigest.contextSeed)
    }
}
