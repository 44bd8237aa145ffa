package import ArgumentParser
import Foundation
import Histogram
import RingCore
import RingLinux

/// `ringbench latency`: request/response ping-pong between two processes.
package struct LatencyCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "latency",
        abstract: "Ping-pong round trips between two processes: HdrHistogram percentiles per wait profile, beside a raw futex ping-pong.")

    @Option(name: .long, help: "Message size in bytes (suffixes K and M allowed).")
    var size: String = "64"

    @Option(name: .long, help: "Wait profiles of the ring, comma-separated: latency, efficiency, alwaysSleep.")
    var profiles: String = "latency,efficiency,alwaysSleep"

    @Option(name: .long, help: "Reactor backends to measure the async path on, comma-separated: iouring-futex, iouring-eventfd, futex-thread, or none.")
    var backends: String = "iouring-futex,iouring-eventfd,futex-thread"

    @Option(name: .long, help: "Seconds of measurement per row (after a short warm-up).")
    var seconds: Double = 1.0

    @Flag(inversion: .prefixedNo, help: "Pin the two processes to CPU 0 and CPU 1.")
    var pin: Bool = true

    @Option(name: .long, help: "Write results as JSON to this path.")
    var json: String?

    package init() {}

    static let profileNames: [String: WaitProfile] = [
        "latency": .latency, "efficiency": .efficiency, "alwaysSleep": .alwaysSleep, "spinOnly": .spinOnly,
    ]

    func parsedProfiles() throws -> [String] {
        let names = profiles.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        guard !names.isEmpty else { throw ValidationError("--profiles is empty") }
        for name in names where Self.profileNames[name] == nil {
            throw ValidationError("--profiles: unknown profile '\(name)' (known: latency, efficiency, alwaysSleep)")
        }
        return names
    }

    func parsedBackends() throws -> [ReactorBackendKind] {
        if backends == "none" { return [] }
        return try backends.split(separator: ",").map { name in
            guard let kind = ReactorBackendKind(rawValue: String(name).trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--backends: unknown backend '\(name)' (known: \(ReactorBackendKind.allCases.map(\.rawValue).joined(separator: ", ")), none)")
            }
            return kind
        }
    }

    package func validate() throws {
        _ = try parsedProfiles()
        _ = try parsedBackends()
        let bytes = try ByteSize.parse(size, option: "--size")
        guard bytes >= 8, bytes <= 1 << 20 else { throw ValidationError("--size must be in 8 B…1 MiB") }
        guard seconds > 0, seconds <= 60 else { throw ValidationError("--seconds must be in (0, 60]") }
    }

    package func run() async throws {
        let bytes = try ByteSize.parse(size, option: "--size")
        let pinned = pin && ProcessInfo.processInfo.activeProcessorCount >= 2
        if pinned { try CPUAffinity.pin(toCPU: 0) }
        print("ringbench latency — round trip host → worker → host, \(Format.bytes(bytes)), "
              + "\(pinned ? "pinned CPU 0 / CPU 1" : "unpinned"), \(seconds) s per row")
        print(Format.pad("transport", 16) + Format.pad("profile", 13) + ["p50", "p90", "p99", "p99.9", "max"].map { Format.pad($0, 10) }.joined()
              + Format.pad("RTT/s", 11) + Format.pad("CPU s/M", 9) + "vs futex p50")
        var results: [BenchResult] = []
        let reference = try await measureFutex(pinned: pinned)
        results.append(reference)
        printRow(reference, referenceP50: reference.latencyNanoseconds!.p50)
        for name in try parsedProfiles() {
            let result = try await measureRing(profileName: name, size: bytes, pinned: pinned)
            results.append(result)
            printRow(result, referenceP50: reference.latencyNanoseconds!.p50)
        }
        for backend in try parsedBackends() {
            for name in try parsedProfiles() where name != "efficiency" {
                do {
                    let result = try await measureAsync(backend: backend, profileName: name, size: bytes, pinned: pinned)
                    results.append(result)
                    printRow(result, referenceP50: reference.latencyNanoseconds!.p50)
                } catch {
                    print(Format.pad("\(backend)", 16) + Format.pad(name, 13) + "skipped: \(error)")
                }
            }
        }
        if let json {
            try BenchReport(results: results, machine: .current()).write(to: json)
            print("wrote \(json)")
        }
    }

    func printRow(_ result: BenchResult, referenceP50: UInt64) {
        let l = result.latencyNanoseconds!
        let cells = [l.p50, l.p90, l.p99, l.p999, l.max].map { Format.pad(Format.nanoseconds($0), 10) }.joined()
        print(Format.pad(result.transport, 16) + Format.pad(result.parameters["profile"] ?? "", 13) + cells
              + Format.pad(Format.rate(result.messagesPerSecond), 11)
              + Format.pad(result.cpuSecondsPerMillion.map { Format.fixed($0, 2) } ?? "—", 9)
              + Format.fixed(Double(l.p50) / Double(max(referenceP50, 1)), 2) + "×")
    }

    func result(transport: String, profile: String, size: Int, histogram: Histogram<UInt64>, count: UInt64, elapsed: UInt64,
                cpuSeconds: Double, wakes: UInt64?) -> BenchResult {
        var result = BenchResult(
            scenario: "latency", transport: transport, messageSize: size,
            rates: Summary([Double(count) / (Double(elapsed) / 1e9)]), repetitions: 1, parameters: ["profile": profile])
        result.latencyNanoseconds = LatencyPercentiles(
            p50: histogram.valueAtPercentile(50), p90: histogram.valueAtPercentile(90), p99: histogram.valueAtPercentile(99),
            p999: histogram.valueAtPercentile(99.9), max: histogram.max)
        // Two messages (request and response) per round trip.
        result.cpuSecondsPerMillion = cpuSeconds / (Double(count * 2) / 1e6)
        result.wakeSyscallsPerMessage = wakes.map { Double($0) / Double(count * 2) }
        return result
    }

    /// The one ping-pong sampler of ringbench (compare's), closed loop, 100 ms of warm-up.
    var sampler: PingPongSampler { PingPongSampler(warmUpNanoseconds: 100_000_000, nanoseconds: UInt64(seconds * 1e9), rate: nil) }

    /// The four waiter words of a segment, in the order their doorbells are passed to the peer.
    static func doorbellWords(_ segment: SharedMemorySegment) -> [UnsafeMutableRawPointer] {
        RingDirection.allCases.flatMap { direction in
            let geometry = segment.geometry(direction)
            return [geometry.consumerWaiterAddress, geometry.producerWaiterAddress]
        }
    }

    /// Ping-pong through the reactor (`RingSender` / `RingReceiver`) on both sides.
    func measureAsync(backend: ReactorBackendKind, profileName: String, size: Int, pinned: Bool) async throws -> BenchResult {
        let profile = Self.profileNames[profileName]!
        let reactor = try Reactor(backend: backend)
        defer { reactor.shutdown() }
        let segment = try SharedMemorySegment.create(configuration: SegmentConfiguration(hostToWorkerCapacity: 1 << 20, workerToHostCapacity: 1 << 20))
        var inherit: [Int32: Int32] = [3: segment.unsafeFileDescriptor]
        if backend == .ioUringEventfd {
            for (index, word) in Self.doorbellWords(segment).enumerated() {
                guard let descriptor = try reactor.unsafeDoorbellDescriptor(for: word) else { continue }
                inherit[Int32(4 + index)] = descriptor
            }
        }
        let child = try spawnPeer(["--transport", "ring-echo-async", "--fd", "3", "--profile", profileName, "--backend", backend.rawValue],
                                  inherit: inherit, pinned: pinned)
        let waker = ReactorWaker(reactor)
        let sender = RingSender(segment.takeProducer(waker: waker)!, reactor: reactor, profile: profile)
        var receiver = RingReceiver(segment.takeConsumer(waker: waker)!, reactor: reactor, profile: profile)
        let payload = [UInt8](repeating: 7, count: size)
        let wakesBefore = reactor.counters
        let cpuBefore = ProcessCPU.selfSeconds() + ProcessCPU.seconds(of: child.pid)
        var id: UInt64 = 0
        var histogram = PingPongSampler.emptyHistogram()
        let (count, elapsed) = try await sampler.runClosedLoop(into: &histogram) {
            id += 1
            try await sender.send(kind: .data, streamId: id, payload: payload)
            var echoed = false
            while !echoed { _ = try await receiver.receive { message in echoed = message.streamId == id } }
        }
        let cpu = ProcessCPU.selfSeconds() + ProcessCPU.seconds(of: child.pid) - cpuBefore
        _ = wakesBefore
        sender.close()
        guard try child.wait() == .exited(0) else { throw ValidationError("async echo peer failed") }
        var result = result(transport: "\(backend)", profile: profileName, size: size, histogram: histogram, count: count,
                            elapsed: elapsed, cpuSeconds: cpu, wakes: nil)
        result.parameters["backend"] = backend.rawValue
        result.parameters["path"] = "async"
        return result
    }

    func spawnPeer(_ arguments: [String], inherit: [Int32: Int32], pinned: Bool) throws -> ChildProcess {
        try ChildProcess(executable: ProcessEnvironment.executablePath(),
                         arguments: ["_peer"] + arguments + (pinned ? ["--cpu", "1"] : []), inherit: inherit)
    }

    func measureFutex(pinned: Bool) async throws -> BenchResult {
        let segment = try SharedMemorySegment.create(configuration: SegmentConfiguration(hostToWorkerCapacity: 4096, workerToHostCapacity: 4096))
        let child = try spawnPeer(["--transport", "futex", "--fd", "3"], inherit: [3: segment.unsafeFileDescriptor], pinned: pinned)
        let word = FutexPingPong.word(segment)
        let cpuBefore = ProcessCPU.selfSeconds() + ProcessCPU.seconds(of: child.pid)
        var histogram = PingPongSampler.emptyHistogram()
        let (count, elapsed) = sampler.run(into: &histogram) { FutexPingPong.roundTrip(word) }
        let cpu = ProcessCPU.selfSeconds() + ProcessCPU.seconds(of: child.pid) - cpuBefore
        FutexPingPong.stopPeer(word)
        guard try child.wait() == .exited(0) else { throw ValidationError("futex peer failed") }
        return result(transport: "futex (raw)", profile: "alwaysSleep", size: 4, histogram: histogram, count: count,
                      elapsed: elapsed, cpuSeconds: cpu, wakes: count * 2)
    }

    func measureRing(profileName: String, size: Int, pinned: Bool) async throws -> BenchResult {
        let profile = Self.profileNames[profileName]!
        let segment = try SharedMemorySegment.create(configuration: SegmentConfiguration(hostToWorkerCapacity: 1 << 20, workerToHostCapacity: 1 << 20))
        let child = try spawnPeer(["--transport", "ring-echo", "--fd", "3", "--profile", profileName],
                                  inherit: [3: segment.unsafeFileDescriptor], pinned: pinned)
        var producer = segment.takeProducer()!
        var reader = MessageReader(consumer: segment.takeConsumer()!)
        var readBackoff = Backoff(profile)
        var writeBackoff = Backoff(profile)
        let payload = [UInt8](repeating: 7, count: size)
        let wakesBefore = WaitCounters.wakeSyscallCount
        let cpuBefore = ProcessCPU.selfSeconds() + ProcessCPU.seconds(of: child.pid)
        var id: UInt64 = 0
        var histogram = PingPongSampler.emptyHistogram()
        let (count, elapsed) = try sampler.run(into: &histogram) {
            id += 1
            try payload.withUnsafeBytes { try producer.writeMessage(kind: .data, streamId: id, payload: $0, backoff: &writeBackoff) }
            var echoed = false
            while !echoed {
                _ = try reader.receive(backoff: &readBackoff) { message in echoed = message.streamId == id }
            }
        }
        let cpu = ProcessCPU.selfSeconds() + ProcessCPU.seconds(of: child.pid) - cpuBefore
        let hostWakes = WaitCounters.wakeSyscallCount - wakesBefore
        if ProcessEnvironment.value("RINGBENCH_DEBUG") != nil {
            print("  host: \(hostWakes) wakes, \(WaitCounters.sleepCount) sleeps for \(count) round trips")
        }
        producer.close()
        guard try child.wait() == .exited(0) else { throw ValidationError("ring echo peer failed") }
        // The peer's wakes mirror ours in a ping-pong; report both sides as twice the host's.
        return result(transport: "ring", profile: profileName, size: size, histogram: histogram, count: count, elapsed: elapsed,
                      cpuSeconds: cpu, wakes: hostWakes * 2)
    }
}
