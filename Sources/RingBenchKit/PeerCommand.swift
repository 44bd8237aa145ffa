import ArgumentParser
import RingLinux

/// `ringbench _peer`: the receiving process of a measurement (started by ringbench itself).
struct PeerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "_peer", abstract: "Internal: the receiving side of a measurement.", shouldDisplay: false)

    @Option var transport: String
    @Option var fd: Int32
    @Option var consume: ConsumeMode = .copy
    @Option var maxSize: Int = 1 << 20
    @Option var cpu: Int?

    func run() throws {
        if let cpu { try CPUAffinity.pin(toCPU: cpu) }
        switch ThroughputTransportKind(rawValue: transport) {
        case .ring: try RingThroughputPeer.run(descriptor: fd, consume: consume)
        case .unix: try UnixSocketThroughputPeer.run(descriptor: fd, consume: consume, maxSize: maxSize)
        case nil: throw ValidationError("unknown transport \(transport)")
        }
    }
}
