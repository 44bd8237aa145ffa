// 6. Batches: 64-byte messages written `publishEvery` at a time with `publish: false` and one
//    `publish()` per batch (one release store of the tail and one read of the reader's waiter word
//    for the whole batch), then drained by `MessageReader` in one pass — on a bare `RingProducer`
//    and through `SharedRingWriter`. Compare with `Ring.writeDrain.64B` and
//    `SharedRingWriter.writeDrain.64B`, which publish every frame. `Batch.writeBatchDrain.64B`
//    writes the same batches through `RingProducer.writeBatch` (one reservation for the 32).
import Benchmark
import RingCore

func registerBatchWriteDrainBenchmarks() {
    let payloadSize = 64
    let publishEvery = 32

    Benchmark(
        "Batch.producerWriteDrain.64B",
        configuration: .init(thresholds: Suite.thresholds(mallocs: .exact))
    ) { benchmark, ring in
        let count = benchmark.scaledIterations.count
        let payload = ring.payload.view
        let delivered = ring.withHandles { producer, reader in
            var bytes = 0
            defer { blackHole(bytes) }
            return writeInBatches(count: count, publishEvery: publishEvery) { i in
                do {
                    let outcome = try producer.tryWrite(kind: .data, streamId: UInt64(truncatingIfNeeded: i), payload: payload, publish: false)
                    if outcome != .written { benchmarkFailure("tryWrite", outcome) }
                } catch { benchmarkFailure("tryWrite", error) }
            } publish: {
                producer.publish()
            } drain: {
                do { return try reader.drain { message in bytes &+= message.payload.count } } catch { benchmarkFailure("drain", error) }
            }
        }
        if delivered != count { benchmarkFailure("delivered", delivered) }
    } setup: {
        MessageRing(payloadSize: payloadSize)
    }

    Benchmark(
        "Batch.writeBatchDrain.64B",
        configuration: .init(thresholds: Suite.thresholds(mallocs: .exact))
    ) { benchmark, ring in
        let count = benchmark.scaledIterations.count
        let payload = ring.payload.view
        let delivered = ring.withHandles { producer, reader in
            var bytes = 0
            defer { blackHole(bytes) }
            var delivered = 0
            var i = 0
            var empty = 0
            while i < count {
                let want = min(publishEvery, count - i)
                do {
                    // A batch ends early at the end of the data area (it pads it); the next one
                    // starts at the beginning. Two empty batches in a row would be a bug.
                    let written = try producer.writeBatch { batch in
                        var n = 0
                        while n < want, batch.append(kind: .data, streamId: UInt64(truncatingIfNeeded: i &+ n), payload: payload) { n += 1 }
                    }
                    empty = written == 0 ? empty + 1 : 0
                    if empty > 1 { benchmarkFailure("writeBatch", written) }
                    i += written
                } catch { benchmarkFailure("writeBatch", error) }
                do { delivered += try reader.drain { message in bytes &+= message.payload.count } } catch { benchmarkFailure("drain", error) }
            }
            return delivered
        }
        if delivered != count { benchmarkFailure("delivered", delivered) }
    } setup: {
        MessageRing(payloadSize: payloadSize)
    }

    Benchmark(
        "Batch.sharedWriterWriteDrain.64B",
        configuration: .init(thresholds: Suite.thresholds(mallocs: .exact))
    ) { benchmark, ring in
        let count = benchmark.scaledIterations.count
        let payload = ring.payload.view
        let writer = ring.writer
        let delivered = ring.withConsumer { consumer in
            var bytes = 0
            defer { blackHole(bytes) }
            return writeInBatches(count: count, publishEvery: publishEvery) { i in
                do {
                    let outcome = try writer.tryWrite(kind: .data, streamId: UInt64(truncatingIfNeeded: i), payload: payload, publish: false)
                    if outcome != .written { benchmarkFailure("SharedRingWriter.tryWrite", outcome) }
                } catch { benchmarkFailure("SharedRingWriter.tryWrite", error) }
            } publish: {
                writer.publish()
            } drain: {
                do { return try consumer.drain { frame in bytes &+= frame.payload.count } } catch { benchmarkFailure("drain", error) }
            }
        }
        if delivered != count { benchmarkFailure("delivered", delivered) }
    } setup: {
        LockedRing(payloadSize: payloadSize)
    }
}

/// Writes `count` messages `publishEvery` at a time (`write(i)` each, then one `publish()`), draining
/// after every batch. Returns the number of messages the drains delivered.
@inline(__always)
func writeInBatches(
    count: Int, publishEvery: Int, write: (Int) -> Void, publish: () -> Void, drain: () -> Int
) -> Int {
    var delivered = 0
    var i = 0
    while i < count {
        let end = min(i + publishEvery, count)
        while i < end {
            write(i)
            i += 1
        }
        publish()
        delivered += drain()
    }
    return delivered
}
