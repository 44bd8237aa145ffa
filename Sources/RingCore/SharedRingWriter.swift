import Synchronization

/// Lets many tasks and threads of one process write to the same outbound ring.
///
/// Between processes the ring stays strictly single-producer: this process is the one producer,
/// and the serialisation happens here, in process-private memory, with a short `Mutex` held only
/// while one frame is copied in (never while waiting for space, never across an `await`). No lock
/// ever lives in shared memory, so a peer can never hold something this process waits on.
///
/// Why a lock rather than lock-free reservation: a reservation scheme must publish the shared
/// tail in order, so a writer preempted between reserving and committing stalls every later
/// writer anyway — on 2 vCPUs that is common. The uncontended lock costs one atomic exchange
/// pair; `Benchmarks/` measures both paths (see Docs/Architecture.md).
///
/// Large messages are written fragment by fragment, as many as the fragment window allows per call
/// (`maxFragments: 1` on a reactor thread, see `RingSender`), releasing the lock between calls;
/// other writers' frames may interleave, and the reader reassembles per stream id.
///
/// **Reassembly budget.** The reader buffers every message whose fragments have started but not
/// finished, and poisons the ring when those exceed its `ReassemblyLimits` (a peer that opens
/// partial messages without end is hostile). Concurrent writers of large messages must therefore
/// never have more unfinished than the reader accepts: a fragmented message is admitted only when
/// the bytes and count of messages already started here, plus its own, stay within the default
/// limits the reader derives from the same `maxMessageSize`. Otherwise the write returns `.full`
/// with nothing written (`partialBudgetRefused` says why) and is retried. Because the ring is FIFO,
/// the set of partial messages at the reader is always a subset of the set here when their frames
/// were written, so the reader's limit can never be reached by a well-behaved writer. A single
/// message is always admitted when nothing else is partial (`maxBufferedBytes ≥ maxMessageSize`).
///
/// **One message per stream at a time.** A stream id names one message at a time, whatever the
/// frame kind (WireFormat.md §2.5): a frame of stream S between two fragments of a message of S is
/// a protocol violation, and the reader poisons the ring. Writers of this process that share a
/// stream id (a gRPC stream's writer and its reader granting credit, an invocation's request and
/// its cancel) cannot know about each other, so the writer enforces the rule: a message that has not
/// started, on a stream whose fragmented message is unfinished here, returns `.full` with nothing
/// written (`streamHasPartialMessage` says why) and is retried once that message is out.
///
/// **Batches.** A caller with many small messages to send at once (a drain pass's replies, a batch
/// of invocations) writes each with `publish: false` and then calls `publish()` once: the reader
/// sees all of them through one release store of the tail and is woken at most once. Reserving is
/// already cheap per frame (the producer checks space against its cached copy of the reader's
/// head, touching no shared word); the shared-memory traffic a batch saves is the tail store, the
/// read of the reader's waiter word and the wake. Frames written unpublished stay invisible until
/// the next `publish()` or published write of *any* writer of this ring, so a caller that defers
/// must publish before it waits or returns.
public final class SharedRingWriter: Sendable {
    private struct State: ~Copyable {
        var producer: RingProducer
        /// Payload bytes and count of fragmented messages started and not yet finished.
        var partialBytes = 0
        var partialMessages = 0
        /// The stream ids of those messages (at most `partialBudget.maxPartialMessages`; a short
        /// array, scanned only while a fragmented message is unfinished).
        var partialStreams: [UInt64] = []
        var budgetRefusals: UInt64 = 0
        var streamBusyRefusals: UInt64 = 0

        /// Whether a fragmented message of `streamId` is unfinished.
        func hasPartial(_ streamId: UInt64) -> Bool {
            partialMessages > 0 && partialStreams.contains(streamId)
        }

        /// `hasPartial`, counting the refusal: a message of `streamId` that has not started waits.
        mutating func streamBusy(_ streamId: UInt64) -> Bool {
            guard hasPartial(streamId) else { return false }
            streamBusyRefusals &+= 1
            return true
        }
    }

    private let state: RingMutex<State>
    public let maxFrameLength: Int
    public let maxMessageSize: Int
    /// What the reader accepts partially received at once (its defaults for this `maxMessageSize`).
    public let partialBudget: ReassemblyLimits

    /// - Parameter partialBudget: what the peer's reader accepts partially received; the default is
    ///   the reader's default for this ring's `maxMessageSize` (what `MessageReader` uses).
    public init(_ producer: consuming RingProducer, partialBudget: ReassemblyLimits? = nil) {
        maxFrameLength = producer.maxFrameLength
        maxMessageSize = producer.maxMessageSize
        self.partialBudget = partialBudget ?? ReassemblyLimits(maxMessageSize: producer.maxMessageSize)
        self.state = RingMutex(State(producer: producer))
    }

    /// Writes one whole message if it fits one frame and the ring has space now; never blocks.
    /// Messages that need fragments go through `tryWriteMessage(progress:)`.
    ///
    /// - Parameter publish: false writes the frame without making it visible: a batch of writes
    ///   followed by one `publish()` costs one release store and at most one wake-up for all of them
    ///   (see "Batches" below).
    public func tryWrite(
        kind: FrameKind, flags: FrameFlags = [], streamId: UInt64,
        context: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        payload: UnsafeRawBufferPointer, publish: Bool = true
    ) throws(RingError) -> WriteOutcome {
        var progress = MessageProgress()
        return try tryWriteMessage(
            kind: kind, flags: flags, streamId: streamId, context: context, payload: payload, progress: &progress,
            publish: publish)
    }

    /// As `RingProducer.tryWriteMessage`: writes as many fragments as fit now, keeping its place in
    /// `progress`. The lock is held for one call at a time. With `publish: false` an unfragmented
    /// message stays invisible until `publish()` (fragments of a large message are published as
    /// they are written, so the reader can drain while the rest streams in).
    public func tryWriteMessage(
        kind: FrameKind, flags: FrameFlags = [], streamId: UInt64,
        context: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        payload: UnsafeRawBufferPointer, progress: inout MessageProgress, publish: Bool = true
    ) throws(RingError) -> WriteOutcome {
        try tryWriteMessage(
            kind: kind, flags: flags, streamId: streamId, context: context, payload: GatheredPayload(payload), progress: &progress,
            publish: publish)
    }

    /// The same with a payload in two parts, written back to back (`GatheredPayload`).
    /// `maxFragments`: return `.full` (keeping the place in `progress`) after writing that many
    /// fragments, to let a caller on a reactor thread give the loop a turn between them.
    package func tryWriteMessage(
        kind: FrameKind, flags: FrameFlags = [], streamId: UInt64,
        context: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        payload: GatheredPayload, progress: inout MessageProgress, publish: Bool = true, maxFragments: Int = .max
    ) throws(RingError) -> WriteOutcome {
        try write(streamId: streamId, contextLength: context.count, payloadLength: payload.count, maxFragments: maxFragments, progress: &progress) {
            (producer, progress, maxFragments) throws(RingError) in
            try producer.tryWriteMessage(
                kind: kind, flags: flags, streamId: streamId, context: context, payload: payload, progress: &progress,
                publish: publish, maxFragments: maxFragments)
        }
    }

    /// Encodes the context in place with the payload (see `RingProducer.tryWriteMessage(context:)`);
    /// `publish` as in `tryWriteMessage(context: UnsafeRawBufferPointer…)`.
    public func tryWriteMessage(
        kind: FrameKind, flags: FrameFlags = [], streamId: UInt64, context: ForwardingContext,
        payload: UnsafeRawBufferPointer, progress: inout MessageProgress, publish: Bool = true
    ) throws(RingError) -> WriteOutcome {
        try tryWriteMessage(
            kind: kind, flags: flags, streamId: streamId, context: context, payload: GatheredPayload(payload), progress: &progress,
            publish: publish)
    }

    /// The same with a payload in two parts, written back to back (`GatheredPayload`);
    /// `maxFragments` as in the variant above.
    package func tryWriteMessage(
        kind: FrameKind, flags: FrameFlags = [], streamId: UInt64, context: ForwardingContext,
        payload: GatheredPayload, progress: inout MessageProgress, publish: Bool = true, maxFragments: Int = .max
    ) throws(RingError) -> WriteOutcome {
        // Sizing the context costs a walk over it: skip that when even the largest legal context
        // leaves the message in one frame (the common case). An unencodable context is reported
        // by the producer; it is sized as the largest legal one here.
        let largest = ForwardingContext.Limits.maxEncodedSize
        let contextLength =
            needsFragments(contextLength: largest, payloadLength: payload.count)
            ? ((try? context.validatedEncodedSize()) ?? largest) : 0
        return try write(streamId: streamId, contextLength: contextLength, payloadLength: payload.count, maxFragments: maxFragments, progress: &progress) {
            (producer, progress, maxFragments) throws(RingError) in
            try producer.tryWriteMessage(
                kind: kind, flags: flags, streamId: streamId, context: context, payload: payload, progress: &progress,
                publish: publish, maxFragments: maxFragments)
        }
    }

    /// Writes one unfragmented frame of `contextLength + payloadLength` bytes whose context and
    /// payload `fill` writes in place (a message built where it goes, no array in between); never
    /// blocks. The caller checked that the frame fits one frame (`maxFrameLength`); messages that
    /// need fragments go through `tryWriteMessage(progress:)`. `fill` runs under the writer's lock:
    /// keep it to copying bytes.
    ///
    /// - Returns: `.full` when the ring has no room now, or a fragmented message of the same stream
    ///   is unfinished (nothing was written, `fill` not called).
    /// - Throws: `.messageTooLarge`/`.contextTooLarge` before writing; `.protocolViolation`/`.closed`.
    package func tryWriteFrame(
        kind: FrameKind, flags: FrameFlags = [], streamId: UInt64, contextLength: Int, payloadLength: Int, publish: Bool = true,
        _ fill: (_ context: UnsafeMutableRawBufferPointer, _ payload: UnsafeMutableRawBufferPointer) -> Void
    ) throws(RingError) -> WriteOutcome {
        precondition(FrameHeader.size + contextLength + payloadLength <= maxFrameLength, "use tryWriteMessage for fragments")
        let result: Result<WriteOutcome, RingError> = state.withLock { state in
            do throws(RingError) {
                try state.producer.checkMessageLimits(contextLength: contextLength, payloadLength: payloadLength)
                if state.streamBusy(streamId) { return .success(.full) }
                return .success(try state.producer.tryWriteFrame(
                    kind: kind, flags: flags.intersection(.userSettable).union(.unfragmented), streamId: streamId,
                    contextLength: contextLength, payloadLength: payloadLength, publish: publish, fill))
            } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// `tryWriteFrame` with the forwarding context encoded in place: `contextLength` is the
    /// context's `validatedEncodedSize()` (the encoder traps on any other length).
    package func tryWriteFrame(
        kind: FrameKind, flags: FrameFlags = [], streamId: UInt64, context: ForwardingContext, contextLength: Int, payloadLength: Int,
        publish: Bool = true, _ fill: (_ payload: UnsafeMutableRawBufferPointer) -> Void
    ) throws(RingError) -> WriteOutcome {
        try tryWriteFrame(
            kind: kind, flags: flags, streamId: streamId, contextLength: contextLength, payloadLength: payloadLength, publish: publish
        ) { contextOut, payloadOut in
            context.encodeUnchecked(into: contextOut)
            fill(payloadOut)
        }
    }

    /// Makes every frame written so far visible — this caller's and any other writer's unpublished
    /// ones — with one release store of the tail, and claims at most one wake-up of the reader.
    /// A no-op (one uncontended lock) when nothing is pending.
    public func publish() { state.withLock { $0.producer.publish() } }

    /// Whether the last `.full` of a message that had not started was the reassembly budget (other
    /// large messages of this process unfinished), not ring space: waiting for the consumer to free
    /// space does not help then; another writer finishing does.
    public func partialBudgetRefuses(contextLength: Int, payloadLength: Int) -> Bool {
        guard needsFragments(contextLength: contextLength, payloadLength: payloadLength) else { return false }
        return state.withLock { !admits(payloadLength, $0) }
    }

    /// Whether a fragmented message of `streamId` is unfinished here: a new message of that stream
    /// (of any kind) waits until it is out — another writer finishing it is what helps, not space.
    public func streamHasPartialMessage(_ streamId: UInt64) -> Bool {
        state.withLock { $0.hasPartial(streamId) }
    }

    /// How often a message waited for another message of its stream to finish.
    public var streamBusyRefusals: UInt64 { state.withLock { $0.streamBusyRefusals } }

    /// Bytes and count of fragmented messages this writer has started and not finished.
    public var partialInUse: (bytes: Int, messages: Int) {
        state.withLock { ($0.partialBytes, $0.partialMessages) }
    }

    /// How often a fragmented message was held back by the reassembly budget.
    public var budgetRefusals: UInt64 { state.withLock { $0.budgetRefusals } }

    private func needsFragments(contextLength: Int, payloadLength: Int) -> Bool {
        FrameHeader.size + contextLength + payloadLength > maxFrameLength
    }

    private func admits(_ payloadLength: Int, _ state: borrowing State) -> Bool {
        state.partialMessages == 0
            || (state.partialMessages < partialBudget.maxPartialMessages
                && state.partialBytes + payloadLength <= partialBudget.maxBufferedBytes)
    }

    /// One locked write with the budget's bookkeeping around it.
    private func write(
        streamId: UInt64, contextLength: Int, payloadLength: Int, maxFragments: Int = .max, progress: inout MessageProgress,
        _ body: (inout RingProducer, inout MessageProgress, _ maxFragments: Int) throws(RingError) -> WriteOutcome
    ) throws(RingError) -> WriteOutcome {
        let fragmented = needsFragments(contextLength: contextLength, payloadLength: payloadLength)
        // Oversized messages are refused by the producer with `messageTooLarge`, never deferred.
        let budgeted = fragmented && payloadLength <= maxMessageSize
        var local = progress
        let result: Result<WriteOutcome, RingError> = state.withLock { state in
            let wasStarted = local.started
            if !wasStarted && state.streamBusy(streamId) { return .success(.full) }
            if budgeted && !wasStarted && !admits(payloadLength, state) {
                state.budgetRefusals &+= 1
                return .success(.full)
            }
            do throws(RingError) {
                let outcome = try body(&state.producer, &local, maxFragments)
                if budgeted {
                    if !wasStarted && local.started {
                        state.partialMessages += 1
                        state.partialBytes += payloadLength
                        state.partialStreams.append(streamId)
                    }
                    if outcome == .written && local.started {
                        state.partialMessages -= 1
                        state.partialBytes -= payloadLength
                        if let index = state.partialStreams.firstIndex(of: streamId) {
                            state.partialStreams.swapAt(index, state.partialStreams.count - 1)
                            state.partialStreams.removeLast()
                        }
                    }
                }
                return .success(outcome)
            } catch { return .failure(error) }
        }
        progress = local
        return try result.get()
    }

    /// The next frame a message needs after `progress` (`RingProducer.nextFrame`): what a writer
    /// that got `.full` waits for.
    package func nextFrame(contextLength: Int, payloadLength: Int, progress: MessageProgress) -> NextFrame {
        state.withLock { $0.producer.nextFrame(contextLength: contextLength, payloadLength: payloadLength, progress: progress) }
    }

    /// Announces that a writer waits for `untilFree` bytes (see `RingProducer.prepareToSleep`);
    /// callers must make sure only one writer of this process sleeps on the word at a time.
    public func prepareToSleep(untilFree bytes: Int, fragment: Bool = false) throws(RingError) -> Bool {
        let result: Result<Bool, RingError> = state.withLock { state in
            do throws(RingError) { return .success(try state.producer.prepareToSleep(untilFree: bytes, fragment: fragment)) } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Withdraws the announcement.
    public func finishSleep() { state.withLock { $0.producer.finishSleep() } }

    /// The producer's waiter word.
    package var waiterWord: UnsafeMutableRawPointer { state.withLock { $0.producer.waiterWord } }

    /// Whether the consumer closed the ring.
    public var consumerClosed: Bool { state.withLock { $0.producer.consumerClosed } }

    /// Counters of the underlying producer.
    public var counters: RingCounters { state.withLock { $0.producer.counters } }

    /// Publishes pending frames and closes the ring.
    public func close() { state.withLock { $0.producer.close() } }
}
