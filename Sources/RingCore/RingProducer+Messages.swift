/// How far a message has been written; start with `MessageProgress()` and pass the same value to
/// every call for the same message.
public struct MessageProgress: Sendable, Equatable {
    /// Payload bytes already written.
    public var payloadWritten = 0
    /// Whether the first fragment (which carries the context) is written.
    public var started = false
    public var fragments = 0
    public init() {}
}

extension RingProducer {
    /// Writes a message of any size up to `maxMessageSize`, split into fragments when it does not
    /// fit one frame. Fragments are written as space allows: the call returns `.full` when it had
    /// to stop (keeping its place in `progress`) and `.written` once the last fragment is written.
    /// Each fragment is published as it is written, so a consumer can drain while a large message
    /// is still streaming in.
    ///
    /// The context travels in the first fragment; every fragment carries `messageLength`; the
    /// consumer delivers the message only whole. Limits are checked before anything is written.
    ///
    /// - Throws: `.messageTooLarge(size:limit:)`, `.contextTooLarge(size:limit:)` before writing;
    ///   `.protocolViolation`/`.closed` from the ring.
    @inlinable
    public mutating func tryWriteMessage(
        kind: FrameKind, flags: FrameFlags = [], streamId: UInt64,
        context: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        payload: UnsafeRawBufferPointer, progress: inout MessageProgress, publish: Bool = true
    ) throws(RingError) -> WriteOutcome {
        try tryWriteMessage(
            kind: kind, flags: flags, streamId: streamId, context: context, payload: GatheredPayload(payload), progress: &progress,
            publish: publish)
    }

    /// `tryWriteMessage` with a payload given in two parts (a protocol's prefix and the user's
    /// bytes), written back to back into the frames: a large message is never concatenated first.
    ///
    /// - Parameter maxFragments: stop after writing this many frames in this call (returning
    ///   `.full`, with `progress` kept): `SharedRingWriter` takes its lock per fragment, so the
    ///   other writers of the process get in between the fragments of a large message.
    @inlinable
    package mutating func tryWriteMessage(
        kind: FrameKind, flags: FrameFlags = [], streamId: UInt64,
        context: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        payload: GatheredPayload, progress: inout MessageProgress, publish: Bool = true, maxFragments: Int = .max
    ) throws(RingError) -> WriteOutcome {
        let userFlags = flags.intersection(.userSettable)
        let total = payload.count
        var budget = maxFragments
        if !progress.started {
            try checkMessageLimits(contextLength: context.count, payloadLength: total)
            precondition(!kind.requiresContext || context.count > 0, "\(kind) requires a forwarding context")
            let chunk = nextFrame(contextLength: context.count, payloadLength: total, progress: progress).payloadBytes
            let last = chunk == total
            let outcome = try tryWriteFrame(
                kind: kind, flags: userFlags.union(last ? .unfragmented : .firstFragment), streamId: streamId,
                contextLength: context.count, payloadLength: chunk, messageLength: total, publish: publish
            ) { contextOut, payloadOut in
                FrameCopy.copy(context, to: contextOut.baseAddress)
                payload.copy(from: 0, into: payloadOut)
            }
            guard outcome == .written else { return .full }
            progress.started = true
            progress.payloadWritten = chunk
            progress.fragments = 1
            if last { return .written }
            budget -= 1
        }
        while progress.payloadWritten < total {
            guard budget > 0 else { return .full }
            let start = progress.payloadWritten
            let chunk = nextFrame(contextLength: 0, payloadLength: total, progress: progress).payloadBytes
            let last = start + chunk == total
            let outcome = try tryWriteFrame(
                kind: kind, flags: last ? userFlags.union(.lastFragment) : userFlags, streamId: streamId,
                contextLength: 0, payloadLength: chunk, messageLength: total, publish: true
            ) { _, payloadOut in
                payload.copy(from: start, into: payloadOut)
            }
            guard outcome == .written else { return .full }
            progress.payloadWritten += chunk
            progress.fragments += 1
            budget -= 1
        }
        return .written
    }

    /// The next frame a message of `payloadLength` bytes needs after `progress` (what to wait for
    /// after `.full`): one frame when the whole message fits one, else a fragment of
    /// `fragmentPayloadLength` bytes (the first one less its context, but at least 4 KiB when the
    /// frame allows), which only the fragment window may hold (see "Fragments in small steps").
    @inlinable
    package func nextFrame(contextLength: Int, payloadLength: Int, progress: MessageProgress) -> NextFrame {
        guard !progress.started else {
            return NextFrame(contextBytes: 0, payloadBytes: min(payloadLength - progress.payloadWritten, fragmentPayloadLength), fragment: true)
        }
        let whole = maxFrameLength - FrameHeader.size - contextLength
        if payloadLength <= whole { return NextFrame(contextBytes: contextLength, payloadBytes: payloadLength, fragment: false) }
        return NextFrame(contextBytes: contextLength, payloadBytes: min(whole, max(fragmentPayloadLength - contextLength, 4096)), fragment: true)
    }

    /// Throws the typed error a message of these sizes would hit; writes nothing.
    @inlinable
    public func checkMessageLimits(contextLength: Int, payloadLength: Int) throws(RingError) {
        if payloadLength > maxMessageSize { throw .messageTooLarge(size: payloadLength, limit: maxMessageSize) }
        let contextLimit = min(maxFrameLength - FrameHeader.size, ForwardingContext.Limits.maxEncodedSize)
        if contextLength > contextLimit { throw .contextTooLarge(size: contextLength, limit: contextLimit) }
    }

    /// Encodes `context` straight into the ring and writes `payload` with it — the forwarding
    /// context and the payload become visible together, by the same tail store. Fragments as
    /// `tryWriteMessage` does when the payload does not fit one frame.
    public mutating func tryWriteMessage(
        kind: FrameKind, flags: FrameFlags = [], streamId: UInt64, context: ForwardingContext,
        payload: UnsafeRawBufferPointer, progress: inout MessageProgress, publish: Bool = true
    ) throws(RingError) -> WriteOutcome {
        try tryWriteMessage(
            kind: kind, flags: flags, streamId: streamId, context: context, payload: GatheredPayload(payload), progress: &progress,
            publish: publish)
    }

    /// The same with a payload in two parts (see `tryWriteMessage(payload: GatheredPayload…)`).
    package mutating func tryWriteMessage(
        kind: FrameKind, flags: FrameFlags = [], streamId: UInt64, context: ForwardingContext,
        payload: GatheredPayload, progress: inout MessageProgress, publish: Bool = true, maxFragments: Int = .max
    ) throws(RingError) -> WriteOutcome {
        let size: Int
        do throws(ContextCodecError) { size = try context.validatedEncodedSize() } catch {
            throw .contextTooLarge(size: context.encodedSize, limit: ForwardingContext.Limits.maxEncodedSize)
        }
        try checkMessageLimits(contextLength: size, payloadLength: payload.count)
        if !progress.started && FrameHeader.size + size + payload.count <= maxFrameLength {
            // Common case: encode in place, no temporary buffer.
            let outcome = try tryWriteFrame(
                kind: kind, flags: flags.intersection(.userSettable).union(.unfragmented), streamId: streamId,
                contextLength: size, payloadLength: payload.count, publish: publish
            ) { contextOut, payloadOut in
                context.encodeUnchecked(into: contextOut)  // limits checked above; sizes match by construction
                payload.copy(from: 0, into: payloadOut)
            }
            if outcome == .written {
                progress.started = true
                progress.payloadWritten = payload.count
                progress.fragments = 1
            }
            return outcome
        }
        // Only the first fragment carries the context: later calls (one per fragment through
        // `SharedRingWriter`) do not encode it again.
        let encoded = progress.started ? [] : try! context.encoded()
        var local = progress
        let result: Result<WriteOutcome, RingError> = encoded.withUnsafeBytes { contextBytes in
            do throws(RingError) {
                return .success(try tryWriteMessage(
                    kind: kind, flags: flags, streamId: streamId, context: contextBytes, payload: payload,
                    progress: &local, publish: publish, maxFragments: maxFragments))
            } catch { return .failure(error) }
        }
        progress = local
        return try result.get()
    }
}

/// A message's payload in two parts written back to back — typically a protocol's prefix and the
/// user's bytes — so a large message is copied once, into the ring, and never concatenated in
/// memory first. Views: valid for the call they are passed to.
@usableFromInline
package struct GatheredPayload {
    @usableFromInline package let head: UnsafeRawBufferPointer
    @usableFromInline package let tail: UnsafeRawBufferPointer

    @inlinable
    package init(_ head: UnsafeRawBufferPointer, _ tail: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)) {
        self.head = head
        self.tail = tail
    }

    @inlinable package var count: Int { head.count + tail.count }

    /// Copies bytes `offset ..< offset + target.count` of the payload into `target`.
    @inlinable
    func copy(from offset: Int, into target: UnsafeMutableRawBufferPointer) {
        precondition(offset >= 0 && offset + target.count <= count)
        var written = 0
        if offset < head.count {
            let n = min(head.count - offset, target.count)
            FrameCopy.copy(UnsafeRawBufferPointer(rebasing: head[offset..<(offset + n)]), to: target.baseAddress)
            written = n
        }
        let rest = target.count - written
        if rest > 0 {
            let from = offset + written - head.count
            FrameCopy.copy(UnsafeRawBufferPointer(rebasing: tail[from..<(from + rest)]), to: target.baseAddress! + written)
        }
    }
}

/// The next frame of a message (`RingProducer.nextFrame`): its context and payload bytes, and
/// whether it is a fragment (whose room is the fragment window).
@usableFromInline
package struct NextFrame: Sendable, Equatable {
    @usableFromInline package let contextBytes: Int
    @usableFromInline package let payloadBytes: Int
    @usableFromInline package let fragment: Bool

    @inlinable
    package init(contextBytes: Int, payloadBytes: Int, fragment: Bool) {
        self.contextBytes = contextBytes
        self.payloadBytes = payloadBytes
        self.fragment = fragment
    }

    /// The frame's length, header included (before alignment).
    @inlinable package var frameLength: Int { FrameHeader.size + contextBytes + payloadBytes }
}
