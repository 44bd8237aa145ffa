// 4. The cost of the in-process lock: 64-byte messages written uncontended through
//    `SharedRingWriter` (Mutex + `tryWriteMessage`), against the same `tryWriteMessage` path on a
//    bare `RingProducer`. `Ring.writeDrain.64B` is the plain `tryWrite` path for reference.
import Benchmark
import RingCore

func registerSharedRingWriterBenchmarks() {
    let payloadSize = 64
    let batch = Fixture.batchSize(payloadSize: payloadSize)

    Benchmark(
        "RingProducer.writeMessageDrain.64B",
        configuration: .init(thresholds: Suite.thresholds(mallocs: .exact))
    ) { benchmark, ring in
        let count = benchmark.scaledIterations.count
        let payload = ring.payload.view
        let delivered = ring.withHandles { producer, consumer in
            var delivered = 0
            var pending = 0
            var bytes = 0
            for i in 0..<count {
                var progress = MessageProgress()
                do {
                    let outcome = try producer.tryWriteMessage(
                        kind: .data, streamId: UInt64(truncatingIfNeeded: i), payload: payload, progress: &progress)
                    if outcome != .written { benchmarkFailure("tryWriteMessage", outcome) }
                } catch { benchmarkFailure("tryWriteMessage", error) }
                pending += 1
                if pending == batch || i == count - 1 {
                    do { delivered += try consumer.drain { frame in bytes &+= frame.payload.count } } catch {
                        benchmarkFailure("drain", error)
                    }
                    pending = 0
                }
            }
            blackHole(bytes)
            return delivered
        }
        if delivered != count { benchmarkFailure("delivered", delivered) }
    } setup: {
        DirectRing(payloadSize: payloadSize)
    }

    Benchmark(
        "SharedRingWriter.writeDrain.64B",
        configuration: .init(thresholds: Suite.thresholds(mallocs: .exact))
    ) { benchmark, ring in
        let count = benchmark.scaledIterations.count
        let payload = ring.payload.view
        let writer = ring.writer
        let delivered = ring.withConsumer { consumer in
            var delivered = 0
            var pending = 0
            var bytes = 0
            for i in 0..<count {
                do {
                    let outcome = try writer.tryWrite(kind: .data, streamId: UInt64(truncatingIfNeeded: i), payload: payload)
                    if outcome != .written { benchmarkFailure("SharedRingWriter.tryWrite", outcome) }
                } catch { benchmarkFailure("SharedRingWriter.tryWrite", error) }
                pending += 1
                if pending == batch || i == count - 1 {
                    do { delivered += try consumer.drain { frame in bytes &+= frame.payload.count } } catch {
                        benchmarkFailure("drain", error)
                    }
                    pending = 0
                }
            }
            blackHole(bytes)
            return delivered
        }
        if delivered != count { benchmarkFailure("delivered", delivered) }
    } setup: {
        LockedRing(payloadSize: payloadSize)
    }
}
