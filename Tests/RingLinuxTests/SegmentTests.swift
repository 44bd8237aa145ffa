#if canImport(Glibc)
import Glibc
#endif
import CRingShim
@_spi(Unsafe) import RingCore
import RingLinux
import RingTestSupport
import Testing

@Suite struct SegmentTests {
    @Test func createSealsAndAttachesThroughADuplicateDescriptor() throws {
        let host = try SharedMemorySegment.create(configuration: SegmentConfiguration(hostToWorkerCapacity: 1 << 16, workerToHostCapacity: 1 << 12))
        let fd = dup(host.unsafeFileDescriptor)
        let worker = try SharedMemorySegment.attach(descriptor: OwnedDescriptor(adopting: fd), role: .worker)
        #expect(worker.header == host.header)
        #expect(worker.peerLiveness == .attached)
        #expect(host.peerLiveness == .attached)
        // The seals hold: the file can be neither shrunk nor grown.
        #expect(ftruncate(host.unsafeFileDescriptor, 4096) == -1)
        #expect(errno == EPERM)
        #expect(ftruncate(host.unsafeFileDescriptor, off_t(host.configuration.totalSize * 2)) == -1)

        // One producer and one consumer per side, each handed out once.
        guard var producer = host.takeProducer(), var consumer = worker.takeConsumer() else {
            Issue.record("first take must succeed")
            return
        }
        let secondProducer = isNone(host.takeProducer())
        let secondConsumer = isNone(worker.takeConsumer())
        #expect(secondProducer)
        #expect(secondConsumer)
        let payload: [UInt8] = Array("hello through the mapping".utf8)
        #expect(try payload.withUnsafeBytes { try producer.tryWrite(kind: .data, streamId: 5, payload: $0) } == .written)
        var received: [UInt8] = []
        #expect(try consumer.drain { received = Array($0.payload) } == 1)
        #expect(received == payload)
    }

    @Test func attachRejectsAnUnsealedDescriptor() throws {
        let fd = memfdForTest()
        #expect(ftruncate(fd, 16384) == 0)
        #expect(throws: SegmentError.self) { try SharedMemorySegment.attach(descriptor: OwnedDescriptor(adopting: fd)) }
    }

    @Test func attachRejectsWrongMagicVersionAndSize() throws {
        // A sealed memfd with garbage: bad magic.
        let host = try SharedMemorySegment.create(configuration: SegmentConfiguration(hostToWorkerCapacity: 4096, workerToHostCapacity: 4096))
        host.region.write(UInt64(0xBAD), at: SegmentLayout.Header.magic)
        #expect(throws: SegmentError.badMagic(found: 0xBAD)) { try SharedMemorySegment.attach(descriptor: OwnedDescriptor(adopting: dup(host.unsafeFileDescriptor))) }
        host.region.write(SegmentLayout.magic, at: SegmentLayout.Header.magic)
        host.region.write(UInt32(9), at: SegmentLayout.Header.formatVersion)
        #expect(throws: SegmentError.versionMismatch(found: 9, supported: 1)) {
            try SharedMemorySegment.attach(descriptor: OwnedDescriptor(adopting: dup(host.unsafeFileDescriptor)))
        }
        host.region.write(UInt32(1), at: SegmentLayout.Header.formatVersion)
        host.region.write(UInt64(1 << 20), at: SegmentLayout.Header.totalSize)
        #expect(throws: SegmentError.sizeMismatch(header: 1 << 20, mapping: host.configuration.totalSize)) {
            try SharedMemorySegment.attach(descriptor: OwnedDescriptor(adopting: dup(host.unsafeFileDescriptor)))
        }
        // Too small to hold a header.
        let tiny = memfdForTest()
        #expect(ftruncate(tiny, 100) == 0)
        #expect(throws: SegmentError.tooSmall(size: 100, minimum: SegmentLayout.firstDataOffset)) {
            try SharedMemorySegment.attach(descriptor: OwnedDescriptor(adopting: tiny), requireSeals: false)
        }
    }

    @Test func namedSegmentIsPrivateAndExclusive() throws {
        let path = "/dev/shm/ringtransport-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let host = try SharedMemorySegment.createNamed(path: path, configuration: SegmentConfiguration(hostToWorkerCapacity: 4096, workerToHostCapacity: 4096))
        defer { try? SharedMemorySegment.unlinkNamed(path: path) }
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        #expect(throws: SystemError.self) { try SharedMemorySegment.createNamed(path: path) }
        let worker = try SharedMemorySegment.attachNamed(path: path)
        #expect(worker.header == host.header)
    }

    @Test func invalidConfigurationIsTyped() {
        #expect(throws: SegmentError.self) { try SharedMemorySegment.create(configuration: SegmentConfiguration(hostToWorkerCapacity: 1000)) }
    }

    /// Counts only this test's own segments (by their unique memfd name), so tests running in
    /// parallel cannot disturb the count.
    @Test func descriptorsAndMappingsAreReleased() throws {
        let name = "leakcheck-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        for _ in 0..<100 {
            let host = try SharedMemorySegment.create(
                configuration: SegmentConfiguration(hostToWorkerCapacity: 4096, workerToHostCapacity: 4096), name: name)
            let worker = try SharedMemorySegment.attach(descriptor: OwnedDescriptor(adopting: dup(host.unsafeFileDescriptor)))
            _ = worker.takeConsumer()
            #expect(ProcessResources.descriptors(matching: name) == 2)
            #expect(ProcessResources.mappings(matching: name) == 2)
        }
        #expect(ProcessResources.descriptors(matching: name) == 0)
        #expect(ProcessResources.mappings(matching: name) == 0)
    }

    func memfdForTest() -> Int32 {
        let fd = crs_memfd_create("test", UInt32(CRS_MFD_CLOEXEC))
        precondition(fd >= 0)
        return fd
    }

    func isNone(_ producer: consuming RingProducer?) -> Bool {
        switch consume producer {
        case .none: true
        case .some: false
        }
    }

    func isNone(_ consumer: consuming RingConsumer?) -> Bool {
        switch consume consumer {
        case .none: true
        case .some: false
        }
    }
}
