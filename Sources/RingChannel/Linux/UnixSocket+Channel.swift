import RingLinux

extension UnixSocket {
    /// The text message that accompanies the descriptors: magic, worker id, wait backend.
    static let greetingMagic = "RINGCHANNEL1"
}
