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
/// Large messages are written fragment by fragment, releasing the lock between fragments; other
/// writers' frames may interleave, and the reader reassembles per stream id.
public final class SharedRingWriter: Sendable {
    private let producer: Mutex<RingProducer>
    public let maxFrameLength: Int
    public let maxMessageSize: Int

    public init(_ producer: consuming RingProducer) {
        maxFrameLength = producer.maxFrameLength
        maxMessageSize = producer.maxMessageSize
        self.producer = Mutex(producer)
    }

    /// Writes one whole message if it fits one frame and the ring has space now; never blocks.
    /// Messages that need fragments go through `tryWriteMessage(progress:)`.
    public func tryWrite(
        kind: FrameKind, flags: FrameFlags = [], streamId: UInt64,
        context: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        payload: UnsafeRawBufferPointer
    ) throws(RingError) -> WriteOutcome {
        var progress = MessageProgress()
        return try tryWriteMessage(
            kind: kind, flags: flags, streamId: streamId, context: context, payload: payload, progress: &progress)
    }

    /// As `RingProducer.tryWriteMessage`: writes as many fragments as fit now, keeping its place in
    /// `progress`. The lock is held for one call at a time.
    public func tryWriteMessage(
        kind: FrameKind, flags: FrameFlags = [], streamId: UInt64,
        context: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        payload: UnsafeRawBufferPointer, progress: inout MessageProgress
    ) throws(RingError) -> WriteOutcome {
        var local = progress
        let result: Result<WriteOutcome, RingError> = producer.withLock { producer in
            do throws(RingError) {
                return .success(try producer.tryWriteMessage(
                    kind: kind, flags: flags, streamId: streamId, context: context, payload: payload,
                    progress: &local))
            } catch { return .failure(error) }
        }
        progress = local
        return try result.get()
    }

    /// Encodes the context in place with the payload (see `RingProducer.tryWriteMessage(context:)`).
    public func tryWriteMessage(
        kind: FrameKind, flags: FrameFlags = [], streamId: UInt64, context: ForwardingContext,
        payload: UnsafeRawBufferPointer, progress: inout MessageProgress
    ) throws(RingError) -> WriteOutcome {
        var local = progress
        let result: Result<WriteOutcome, RingError> = producer.withLock { producer in
            do throws(RingError) {
                return .success(try producer.tryWriteMessage(
                    kind: kind, flags: flags, streamId: streamId, context: context, payload: payload,
                    progress: &local))
            } catch { return .failure(error) }
        }
        progress = local
        return try result.get()
    }

    /// Announces that a writer waits for `untilFree` bytes (see `RingProducer.prepareToSleep`);
    /// callers must make sure only one writer of this process sleeps on the word at a time.
    public func prepareToSleep(untilFree bytes: Int) throws(RingError) -> Bool {
        let result: Result<Bool, RingError> = producer.withLock { producer in
            do throws(RingError) { return .success(try producer.prepareToSleep(untilFree: bytes)) } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Withdraws the announcement.
    public func finishSleep() { producer.withLock { $0.finishSleep() } }

    /// The producer's waiter word.
    public var waiterWord: UnsafeMutableRawPointer { producer.withLock { $0.waiterWord } }

    /// Whether the consumer closed the ring.
    public var consumerClosed: Bool { producer.withLock { $0.consumerClosed } }

    /// Counters of the underlying producer.
    public var counters: RingCounters { producer.withLock { $0.counters } }

    /// Publishes pending frames and closes the ring.
    public func close() { producer.withLock { $0.close() } }
}
