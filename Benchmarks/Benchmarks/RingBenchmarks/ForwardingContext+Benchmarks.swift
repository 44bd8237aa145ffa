// 2. Forwarding context codec: encode into a reused buffer (what the ring does in place), and
//    decode (what a receiver does once per request; allocates its strings by design).
import Benchmark
import RingCore

func registerForwardingContextBenchmarks() {
    Benchmark(
        "ForwardingContext.encodeIntoBuffer",
        configuration: .init(thresholds: Suite.thresholds(mallocs: .exact))
    ) { benchmark in
        let context = identity(Fixture.context)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: context.encodedSize, alignment: 8)
        defer { buffer.deallocate() }

        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let size = context.encodedSize
            if size != buffer.count { benchmarkFailure("encodedSize", size) }
            do { try context.encode(into: buffer) } catch { benchmarkFailure("encode", error) }
            blackHole(buffer.baseAddress)
        }
        benchmark.stopMeasurement()
    }

    Benchmark(
        "ForwardingContext.decode",
        configuration: .init(thresholds: Suite.thresholds(mallocs: .relative(10)))
    ) { benchmark in
        let encoded: [UInt8]
        do { encoded = try Fixture.context.encoded() } catch { benchmarkFailure("encoded", error) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: encoded.count, alignment: 8)
        defer { buffer.deallocate() }
        buffer.copyBytes(from: encoded)
        let bytes = UnsafeRawBufferPointer(buffer)

        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            do { blackHole(try ForwardingContext(decoding: bytes)) } catch { benchmarkFailure("decode", error) }
        }
        benchmark.stopMeasurement()
    }
}
