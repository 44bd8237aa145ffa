package import ArgumentParser
import Foundation
import RingCore
import RingLinux

/// `ringbench throughput`: one-way streaming from this process to a child process.
package struct ThroughputCommand: ParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "throughput",
        abstract: "Stream messages one way to a second process; print messages/s and bytes/s (median of repetitions).")

    @Option(name: .long, help: "Message sizes in bytes, comma-separated (suffixes K and M allowed).")
    var sizes: String = "64,4K,64K"

    @Option(name: .long, help: "Transports, comma-separated: ring, floor (the simplest SPSC ring over the same memory: the limit; with it, the ring row alternates its repetitions with the floor's and % floor is read in those pairs), unix, pipe, tcp.")
    var transports: String = "ring,floor,unix"

    @Option(name: .long, help: "Measured repetitions per (transport, size); one warm-up precedes them.")
    var repetitions: Int = 5

    @Option(name: .long, help: "Seconds per repetition.")
    var seconds: Double = 0.5

    @Option(name: .long, help: "What the receiver does with each payload: touch, read, copy.")
    var consume: ConsumeMode = .copy

    @Option(name: .long, help: "Ring data-area capacity in bytes (power of two).")
    var ringCapacity: String = "4M"

    @Option(name: .long, help: "Frames per tail publication (release store) on the ring.")
    var batch: Int = 32

    @Option(name: .long, help: "How the ring sender writes frames of at most 4 KiB: batch (RingProducer.writeBatch: one reservation and one publication per --batch frames) or frames (tryWrite each frame, one publication per --batch).")
    var writer: RingWriterMode = .batch

    @Option(name: .long, help: "Wait profile of both ring ends: latency, efficiency, alwaysSleep, spinOnly.")
    var profile: String = "latency"

    @Flag(inversion: .prefixedNo, help: "Pin sender and receiver to different CPUs (CPU 0 and 1).")
    var pin: Bool = true

    @Option(name: .long, help: "Write results as JSON to this path.")
    var json: String?

    package init() {}

    package func validate() throws {
        _ = try parsedSizes()
        _ = try parsedTransports()
        guard repetitions >= 1 else { throw ValidationError("--repetitions must be at least 1") }
        guard seconds > 0, seconds <= 60 else { throw ValidationError("--seconds must be in (0, 60]") }
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        guard LatencyCommand.profileNames[profile] != nil else {
            throw ValidationError("--profile: unknown profile '\(profile)' (known: latency, efficiency, alwaysSleep, spinOnly)")
        }
        let capacity = try ByteSize.parse(ringCapacity, option: "--ring-capacity")
        do { try SegmentConfiguration(hostToWorkerCapacity: capacity, workerToHostCapacity: capacity).validate() } catch {
            throw ValidationError("--ring-capacity: \(error)")
        }
    }

    func parsedSizes() throws -> [Int] {
        let values = try sizes.split(separator: ",").map { try ByteSize.parse(String($0), option: "--sizes") }
        guard !values.isEmpty else { throw ValidationError("--sizes is empty") }
        for value in values where value < 1 || value > 64 << 20 {
            throw ValidationError("--sizes: \(value) is outside 1 B…64 MiB")
        }
        return values
    }

    func parsedTransports() throws -> [ThroughputTransportKind] {
        let names = transports.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !names.isEmpty else { throw ValidationError("--transports is empty") }
        return try names.map { name in
            guard let kind = ThroughputTransportKind(rawValue: name) else {
                throw ValidationError(
                    "--transports: unknown transport '\(name)' (known: \(ThroughputTransportKind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return kind
        }
    }

    package func run() throws {
        let sizes = try parsedSizes()
        let kinds = try parsedTransports()
        let capacity = try ByteSize.parse(ringCapacity, option: "--ring-capacity")
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let pinned = pin && cores >= 2
        if pinned { try CPUAffinity.pin(toCPU: 0) }
        print("ringbench throughput — one way, sender process → receiver process, consume=\(consume.rawValue), "
              + "\(pinned ? "pinned CPU 0 → CPU 1" : "unpinned"), \(repetitions) × \(seconds) s, median [min–max]")
        print(Format.pad("transport", 10) + Format.pad("size", 9) + Format.pad("messages/s", 26) + Format.pad("bytes/s", 12)
              + Format.pad("wakes/msg", 11) + Format.pad("CPU s/M", 9) + Format.pad("vs unix", 9) + "% floor")
        var results: [BenchResult] = []
        for size in sizes {
            var rowResults: [BenchResult] = []
            // With the floor among the transports, the ring row alternates its repetitions with the
            // floor ring's, and its "% floor" is read in those pairs (`ThroughputMeasurement.pairedWith`).
            let pairFloor = kinds.contains(.floor)
            for kind in kinds {
                let measured = try measure(
                    kind: kind, size: size, capacity: capacity, pinned: pinned, pairedWith: kind == .ring && pairFloor ? .floor : nil)
                var parameters = ["consume": consume.rawValue, "pinned": String(pinned), "secondsPerRepetition": String(seconds)]
                if kind == .ring || kind == .floor {
                    parameters["ringCapacity"] = String(capacity)
                    parameters["batch"] = String(batch)
                    if kind == .ring { parameters["writer"] = writer.rawValue }
                    parameters["profile"] = profile
                }
                var result = BenchResult(
                    scenario: "throughput", transport: kind.rawValue, messageSize: size, rates: measured.rates,
                    repetitions: repetitions, parameters: parameters)
                result.cpuSecondsPerMillion = measured.cpuSecondsPerMillion
                result.wakeSyscallsPerMessage = kind == .ring ? measured.wakesPerMessage : nil
                if !measured.pairedRatios.isEmpty, let floor = measured.referenceRates {
                    result.percentOfFloor = 100 * Summary(measured.pairedRatios).median
                    result.pairedFloorRate = floor.median
                }
                rowResults.append(result)
            }
            let baseline = rowResults.first { $0.transport == ThroughputTransportKind.unix.rawValue }?.messagesPerSecond
            let floor = rowResults.first { $0.transport == ThroughputTransportKind.floor.rawValue }?.messagesPerSecond
            for index in rowResults.indices where rowResults[index].transport == ThroughputTransportKind.ring.rawValue {
                if rowResults[index].percentOfFloor == nil, let floor, floor > 0 { rowResults[index].percentOfFloor = 100 * rowResults[index].messagesPerSecond / floor }
            }
            for result in rowResults {
                let ratio = baseline.map { Format.fixed(result.messagesPerSecond / $0, 1) + "×" } ?? "—"
                print(Format.pad(result.transport, 10) + Format.pad(Format.bytes(size), 9)
                      + Format.pad("\(Format.rate(result.messagesPerSecond)) [\(Format.rate(result.messagesPerSecondMin))–\(Format.rate(result.messagesPerSecondMax))]", 26)
                      + Format.pad(Format.rate(result.bytesPerSecond) + "B", 12)
                      + Format.pad(result.wakeSyscallsPerMessage.map { Format.scientific($0) } ?? "—", 11)
                      + Format.pad(result.cpuSecondsPerMillion.map { Format.fixed($0, 3) } ?? "—", 9) + Format.pad(ratio, 9)
                      + (result.percentOfFloor.map { Format.fixed($0, 1) + " %" } ?? "—"))
            }
            results += rowResults
        }
        if let json {
            try BenchReport(results: results, machine: .current()).write(to: json)
            print("wrote \(json)")
        }
    }

    func measure(
        kind: ThroughputTransportKind, size: Int, capacity: Int, pinned: Bool, pairedWith: ThroughputTransportKind?
    ) throws -> ThroughputMeasurement.Measured {
        try ThroughputMeasurement(
            kind: kind, size: size, repetitions: repetitions, seconds: seconds, consume: consume, pinned: pinned,
            ringCapacity: capacity, batch: batch, writer: writer, profileName: profile, pairedWith: pairedWith
        ).run()
    }
}

/// How the ring sender of `ringbench throughput` writes messages that fit a batch frame.
package enum RingWriterMode: String, ExpressibleByArgument, Sendable {
    /// `RingProducer.writeBatch`: one reservation and one publication per `--batch` frames.
    case batch
    /// `tryWrite(publish: false)` per frame, one `publish()` per `--batch` frames.
    case frames
}

/// Parses "64", "4K", "1M" into bytes.
package enum ByteSize {
    package static func parse(_ text: String, option: String) throws -> Int {
        let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
        var digits = trimmed
        var scale = 1
        if trimmed.hasSuffix("K") { scale = 1 << 10; digits.removeLast() }
        else if trimmed.hasSuffix("M") { scale = 1 << 20; digits.removeLast() }
        guard let value = Int(digits), value >= 0, value <= Int.max / scale else {
            throw ValidationError("\(option): '\(text)' is not a size (use e.g. 64, 4K, 1M)")
        }
        return value * scale
    }
}
