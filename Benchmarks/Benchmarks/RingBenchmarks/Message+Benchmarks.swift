// 5. Whole messages with a forwarding context: `tryWriteMessage(context:)` encodes the context in
//    place next to a 64-byte payload, `MessageReader` delivers the message; once without and once
//    with decoding the context (decoding allocates its strings by design).
import Benchmark
import RingCore

func registerMessageBenchmarks() {
    let payloadSize = 64
    let batch = Fixture.batchSize(payloadSize: payloadSize, contextSize: Fixture.context.encodedSize)

    for decode in [false, true] {
        Benchmark(
            decode ? "Message.writeContextDrainDecode.64B" : "Message.writeContextDrain.64B",
            configuration: .init(thresholds: Suite.thresholds(mallocs: decode ? .relative(10) : .exact))
        ) { benchmark, ring in
            let count = benchmark.scaledIterations.count
            let payload = ring.payload.view
            let context = Fixture.context
            let delivered = ring.withHandles { producer, reader in
                var delivered = 0
                var pending = 0
                var bytes = 0
                for i in 0..<count {
                    var progress = MessageProgress()
                    do {
                        let outcome = try producer.tryWriteMessage(
                            kind: .invocationRequest, streamId: UInt64(truncatingIfNeeded: i), context: context,
                            payload: payload, progress: &progress)
                        if outcome != .written { benchmarkFailure("tryWriteMessage(context:)", outcome) }
                    } catch { benchmarkFailure("tryWriteMessage(context:)", error) }
                    pending += 1
                    if pending == batch || i == count - 1 {
                        do {
                            delivered += try reader.drain { message in
                                bytes &+= message.payload.count &+ message.context.count
                                if decode {
                                    do { blackHole(try message.decodeContext()) } catch {
                                        benchmarkFailure("decodeContext", error)
                                    }
                                }
                            }
                        } catch { benchmarkFailure("MessageReader.drain", error) }
                        pending = 0
                    }
                }
                blackHole(bytes)
                return delivered
            }
            if delivered != count { benchmarkFailure("delivered", delivered) }
        } setup: {
            MessageRing(payloadSize: payloadSize)
        }
    }
}
