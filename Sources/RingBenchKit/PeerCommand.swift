package import ArgumentParser
import RingLinux

/// `ringbench _peer`: the receiving process of a measurement (started by ringbench itself).
package struct PeerCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "_peer", abstract: "Internal: the receiving side of a measurement.", shouldDisplay: false)

    @Option var transport: String
    @Option var fd: Int32
    /// Where stream peers write (defaults to `--fd`; a pipe pair needs two descriptors).
    @Option var writeFd: Int32?
    @Option var consume: ConsumeMode = .copy
    @Option var maxSize: Int = 1 << 20
    @Option var cpu: Int?
    @Option var profile: String = "latency"
    @Option var backend: String?

    package init() {}

    package func run() async throws {
        if let cpu { try CPUAffinity.pin(toCPU: cpu) }
        switch transport {
        case "ring":
            guard let waitProfile = LatencyCommand.profileNames[profile] else { throw ValidationError("unknown profile \(profile)") }
            try RingThroughputPeer.run(descriptor: fd, consume: consume, profile: waitProfile)
        case "floor": try FloorThroughputPeer.run(descriptor: fd, consume: consume, payloadSize: maxSize)
        case "unix", "pipe", "tcp":
            try StreamThroughputPeer.run(input: fd, output: writeFd ?? fd, consume: consume, maxSize: maxSize)
        case "stream-echo": try StreamEchoPeer.run(input: fd, output: writeFd ?? fd, maxSize: maxSize)
        case "spin": try SpinPingPong.runPeer(descriptor: fd)
        case "ring-echo":
            guard let waitProfile = LatencyCommand.profileNames[profile] else { throw ValidationError("unknown profile \(profile)") }
            try RingEchoPeer.run(descriptor: fd, profile: waitProfile)
        case "futex": try FutexPingPong.runPeer(descriptor: fd)
        case "ring-echo-async":
            guard let waitProfile = LatencyCommand.profileNames[profile] else { throw ValidationError("unknown profile \(profile)") }
            guard let kind = backend.flatMap(ReactorBackendKind.init(rawValue:)) else { throw ValidationError("--backend is required") }
            try await AsyncEchoPeer.run(descriptor: fd, backend: kind, profile: waitProfile)
        default: throw ValidationError("unknown transport \(transport)")
        }
    }
}
