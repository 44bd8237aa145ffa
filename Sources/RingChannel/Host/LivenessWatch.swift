// LivenessWatch — the decision of the liveness watch, without I/O: at each look (every half
// `livenessTimeout`), a worker that has work pending and has sent no frame since the previous look
// gets one status ping (never two at once). WorkerConnection carries it out.
import RingLinux

struct LivenessWatch {
    var timer: TimerToken?
    private(set) var lastFrames: UInt64 = 0
    private(set) var pinging = false

    /// A look at the worker: `frames` read from it so far, whether it owes answers. Returns true
    /// when a status ping must be sent now.
    mutating func look(frames: UInt64, pending: Bool) -> Bool {
        defer { lastFrames = frames }
        guard pending, frames == lastFrames, !pinging else { return false }
        pinging = true
        return true
    }

    /// The ping was answered, timed out, or the connection ended.
    mutating func pingEnded() { pinging = false }
}
