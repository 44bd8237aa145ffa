import Foundation
import RingCore
import RingLinux
import RingTestSupport
import Testing

@testable import RingBenchKit

/// The floor ring of `ringbench throughput` / `compare` moves every record exactly, in order, across
/// many wraps, between two threads over a shared-memory segment — a limit row must be a real ring.
@Suite struct FloorRecordsTests {
    @Test func everyRecordArrivesByteExactInOrderAcrossWraps() throws {
        let segment = try SharedMemorySegment.create(
            configuration: SegmentConfiguration(hostToWorkerCapacity: 4096, workerToHostCapacity: 4096, maxMessageSize: 1024))
        let payloadSize = 20  // 32-byte records (8 + 20, rounded to 8): 128 slots of 4 KiB
        let writerSide = try FloorRecords(geometry: segment.geometry(.hostToWorker), payloadSize: payloadSize)
        let readerSide = try FloorRecords(geometry: segment.geometry(.hostToWorker), payloadSize: payloadSize)
        #expect(writerSide.slots == 128)
        let count: UInt64 = 20_000
        let writer = Thread {
            var position: UInt64 = 0
            var cachedHead: UInt64 = 0
            var payload = [UInt8](repeating: 0, count: payloadSize)
            for sequence in 0..<count {
                for index in payload.indices { payload[index] = UInt8(truncatingIfNeeded: sequence &+ UInt64(index) &* 3) }
                payload.withUnsafeBytes {
                    writerSide.write(sequence: sequence, payload: $0.baseAddress!, position: &position, cachedHead: &cachedHead)
                }
                if sequence % 7 == 6 { writerSide.publish(position) }
            }
            payload.withUnsafeBytes {
                writerSide.write(sequence: FloorRecords.endOfRepetition, payload: $0.baseAddress!, position: &position, cachedHead: &cachedHead)
            }
            writerSide.publish(position)
        }
        writer.start()
        try withWatchdog(seconds: 120) {
            var position: UInt64 = 0
            var cachedTail: UInt64 = 0
            var expected: UInt64 = 0
            var mismatches = 0
            while true {
                var bytes: [UInt8] = []
                // No spin limit: it waits as long as it takes (the watchdog bounds the test).
                let sequence = readerSide.receive(position: &position, cachedTail: &cachedTail) { bytes = Array($0) }!
                if sequence == FloorRecords.endOfRepetition { break }
                let pattern = (0..<payloadSize).map { UInt8(truncatingIfNeeded: expected &+ UInt64($0) &* 3) }
                if sequence != expected || bytes != pattern { mismatches += 1 }
                expected += 1
            }
            #expect(expected == count)
            #expect(mismatches == 0)
        }
    }

    @Test func aRingTooSmallForTwoRecordsIsAClearError() throws {
        let segment = try SharedMemorySegment.create(
            configuration: SegmentConfiguration(hostToWorkerCapacity: 256, workerToHostCapacity: 256, maxMessageSize: 64, maxFrameLength: 64))
        #expect(throws: (any Error).self) { try FloorRecords(geometry: segment.geometry(.hostToWorker), payloadSize: 200) }
    }
}
