// 3. In-process ring, single thread: write a batch of frames that fits (each published as it is
//    written), then drain the batch with one call; per message, per size. The payload is copied in
//    once by the producer; the consumer reads it in place (zero copy) and only looks at its length.
import Benchmark
import RingCore

let ringPayloadSizes: [(label: String, bytes: Int)] = [("64B", 64), ("1KiB", 1 << 10), ("64KiB", 64 << 10)]

func registerRingWriteDrainBenchmarks() {
    for size in ringPayloadSizes {
        Benchmark(
            "Ring.writeDrain.\(size.label)",
            configuration: .init(thresholds: Suite.thresholds(mallocs: .exact))
        ) { benchmark, ring in
            let batch = Fixture.batchSize(payloadSize: size.bytes)
            let delivered = ring.withHandles { producer, consumer in
                writeThenDrain(
                    count: benchmark.scaledIterations.count, batch: batch, payload: ring.payload.view,
                    producer: &producer, consumer: &consumer)
            }
            if delivered != benchmark.scaledIterations.count { benchmarkFailure("delivered", delivered) }
        } setup: {
            DirectRing(payloadSize: size.bytes)
        }
    }
}

/// Writes `count` frames with `RingProducer.tryWrite`, draining every `batch` frames. Returns the
/// number of frames the consumer delivered.
@inline(__always)
func writeThenDrain(
    count: Int, batch: Int, payload: UnsafeRawBufferPointer,
    producer: inout RingProducer, consumer: inout RingConsumer
) -> Int {
    var delivered = 0
    var pending = 0
    var bytes = 0
    for i in 0..<count {
        do {
            let outcome = try producer.tryWrite(kind: .data, streamId: UInt64(truncatingIfNeeded: i), payload: payload)
            if outcome != .written { benchmarkFailure("tryWrite", outcome) }
        } catch { benchmarkFailure("tryWrite", error) }
        pending += 1
        if pending == batch || i == count - 1 {
            do {
                delivered += try consumer.drain { frame in bytes &+= frame.payload.count }
            } catch { benchmarkFailure("drain", error) }
            pending = 0
        }
    }
    blackHole(bytes)
    return delivered
}
