// StressPlan — everything one `ringbench stress` run is asked to do: load shape, message-size mix,
// faults and the negative control. Parsed by StressCommand, validated here, read by StressRun.
import RingBenchKit
import RingAudit

/// What a stress run does.
package struct StressPlan: Sendable, Equatable {
    /// Closed loop (a fixed number in flight) or open loop (a fixed rate, up to a cap in flight).
    package enum Load: Sendable, Equatable {
        case closed(concurrency: Int)
        case open(ratePerSecond: Double, maxInFlight: Int)
    }

    /// The deliberate breakage of the negative control: the host sends the request with a stripped
    /// context and *then* stores the full forwarding context in a side table that the reply path
    /// reads — the original host's order. `dropFraction` of the stores are skipped outright.
    package struct NegativeControl: Sendable, Equatable {
        package var dropFraction: Double
        package init(dropFraction: Double) { self.dropFraction = dropFraction }

        /// Whether the store of invocation `id`'s context is skipped (deterministic in `id`).
        package func drops(_ id: UInt64) -> Bool {
            dropFraction > 0 && Double(StressDigest.mix(id ^ 0xD809) % 1_000_000) < dropFraction * 1_000_000
        }
    }

    package var workers = 2
    package var load = Load.closed(concurrency: 128)
    /// Seconds of load (new invocations stop being issued after it).
    package var duration: Double = 10
    /// Stop after this many invocations instead (whichever comes first).
    package var invocationLimit: UInt64?
    /// Message sizes and their weights; each invocation's request and reply carry its size.
    package var sizes = StressSizeMix.standard
    /// Seconds granted to in-flight invocations after the load stops; what is still open then is lost.
    package var drainTimeout: Double = 30

    // Faults.
    /// SIGKILL a random ready worker every so many seconds (it is restarted).
    package var killEvery: Double?
    /// Keep the load (and the kills) going past `duration` until this many kills were sent.
    package var minimumKills = 0
    /// SIGSTOP a random worker every so many seconds, SIGCONT after `stallMilliseconds`.
    package var stallEvery: Double?
    package var stallMilliseconds: Double = 50
    /// The host's liveness timeout in seconds (`FunctionHostConfiguration.livenessTimeout`); nil
    /// keeps the host's default. A stall longer than it is detected: the worker is killed, what it
    /// held fails with `workerStalled`, and it is restarted.
    package var livenessTimeout: Double?
    /// Make a random worker scribble over its ring every so many seconds (it is isolated, restarted).
    package var hostileEvery: Double?
    /// Added to each worker's environment (tests: RingExampleWorker's knobs).
    package var workerEnvironment: [String: String] = [:]
    /// Rings of 64 KiB each way: constant back-pressure and fragmentation.
    package var tinyRing = false
    /// Fraction of invocations the caller cancels after a random 0…2 ms.
    package var cancelFraction: Double = 0
    /// Fraction of invocations given a deadline 0…1 ms away.
    package var deadlineFraction: Double = 0
    /// Fraction of invocations carrying 4…16 MiB each way.
    package var hugeFraction: Double = 0
    package var negativeControl: NegativeControl?

    /// Longest a worker may take to start (FunctionHostConfiguration.startTimeout).
    package var workerStartTimeout: Double = 30

    /// Seconds between RSS / fd samples and between progress lines.
    package var sampleInterval: Double = 1
    package var progressInterval: Double = 5

    package init() {}

    /// Whether workers are restarted (any fault that ends one).
    var restartsWorkers: Bool { killEvery != nil || hostileEvery != nil || stallsEndWorkers }

    /// Whether a stall outlasts the host's liveness timeout (the host then ends the worker).
    var stallsEndWorkers: Bool {
        guard stallEvery != nil else { return false }
        return stallMilliseconds / 1000 >= livenessTimeout ?? 10
    }

    /// Largest request or reply payload this plan produces.
    var largestMessage: Int { max(sizes.largest, hugeFraction > 0 ? StressSizeMix.hugeRange.upperBound : 0) + StressReply.headerSize }

    /// The faults this plan injects, by name (for the report).
    var faultNames: [String] {
        var names: [String] = []
        if killEvery != nil { names.append("kill") }
        if stallEvery != nil { names.append("stall") }
        if hostileEvery != nil { names.append("hostile") }
        if tinyRing { names.append("tiny-ring") }
        if cancelFraction > 0 { names.append("cancel") }
        if deadlineFraction > 0 { names.append("deadline") }
        if hugeFraction > 0 { names.append("huge") }
        return names
    }

    package func validate() throws(StressPlanError) {
        guard (1...16).contains(workers) else { throw .invalid("--workers must be in 1...16") }
        switch load {
        case .closed(let c): guard (1...10_000).contains(c) else { throw .invalid("--concurrency must be in 1...10000") }
        case .open(let rate, let cap):
            guard rate > 0, rate <= 10_000_000 else { throw .invalid("--rate must be in (0, 10000000]") }
            guard (1...100_000).contains(cap) else { throw .invalid("--concurrency (the open loop's cap) must be in 1...100000") }
        }
        guard duration > 0 else { throw .invalid("--duration must be positive") }
        for (name, fraction) in [("--cancel-fraction", cancelFraction), ("--deadline-fraction", deadlineFraction), ("--huge-fraction", hugeFraction)] {
            guard (0...1).contains(fraction) else { throw .invalid("\(name) must be in 0...1") }
        }
        for (name, every) in [("--kill-every", killEvery), ("--stall-every", stallEvery), ("--hostile-every", hostileEvery)] {
            if let every, !(every > 0) { throw .invalid("\(name) must be positive") }
        }
        guard minimumKills == 0 || killEvery != nil else { throw .invalid("--min-kills needs --kill-every") }
        guard stallMilliseconds > 0 else { throw .invalid("--stall-ms must be positive") }
        if let timeout = livenessTimeout, !(timeout > 0) { throw .invalid("--liveness-timeout must be positive") }
        if let control = negativeControl, !(0...1).contains(control.dropFraction) { throw .invalid("--negative-control drop fraction must be in 0...1") }
        guard sampleInterval > 0, progressInterval > 0, drainTimeout > 0 else { throw .invalid("intervals must be positive") }
    }
}

package enum StressPlanError: Error, Equatable, CustomStringConvertible {
    case invalid(String)
    package var description: String {
        switch self { case .invalid(let detail): detail }
    }
}

/// Message sizes with weights; an invocation's size is chosen deterministically from its id.
package struct StressSizeMix: Sendable, Equatable {
    package var entries: [(size: Int, weight: Double)]

    /// Mostly small messages (peak invocation rate) with a tail of large ones up to 4 MiB.
    package static let standard = StressSizeMix(entries: [(64, 70), (1024, 20), (64 << 10, 8), (1 << 20, 1.5), (4 << 20, 0.5)])
    static let hugeRange = (4 << 20)...(16 << 20)

    package init(entries: [(size: Int, weight: Double)]) { self.entries = entries }

    /// "64:70,1K:20,64K:8,1M:1.5,4M:0.5" (a missing weight is 1).
    package static func parse(_ text: String) throws(StressPlanError) -> StressSizeMix {
        var entries: [(Int, Double)] = []
        for item in text.split(separator: ",") {
            let parts = item.split(separator: ":", maxSplits: 1)
            guard let size = try? ByteSize.parse(String(parts[0]), option: "--sizes"), size >= 4, size <= 16 << 20 else {
                throw .invalid("--sizes: '\(parts[0])' must be a size in 4 B...16 MiB")
            }
            let weight = parts.count > 1 ? Double(parts[1]) : 1
            guard let weight, weight > 0 else { throw .invalid("--sizes: weight of '\(item)' must be positive") }
            entries.append((size, weight))
        }
        guard !entries.isEmpty else { throw .invalid("--sizes: no sizes") }
        return StressSizeMix(entries: entries)
    }

    var largest: Int { entries.map(\.size).max() ?? 0 }

    /// The size of invocation `id`.
    func size(for id: UInt64) -> Int {
        let total = entries.reduce(0) { $0 + $1.weight }
        var point = Double(StressDigest.mix(id) % 1_000_000) / 1_000_000 * total
        for entry in entries {
            if point < entry.weight { return entry.size }
            point -= entry.weight
        }
        return entries.last!.size
    }

    package static func == (a: Self, b: Self) -> Bool {
        a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { $0.size == $1.size && $0.weight == $1.weight }
    }

    var description: String { entries.map { "\(Format.bytes($0.size)):\($0.weight)" }.joined(separator: ",") }
}
