// RingFixture — the peer process of the cross-process tests.
//
// Usage: RingFixture <mode>, with the segment fd number in RING_SEGMENT_FD and the wait profile in
// RING_WAIT_PROFILE (latency, efficiency, alwaysSleep, spinOnly; default latency).
//   echo     attach as worker; echo every message (kind, flags, stream id, context, payload) back
//            until the host closes its ring; then close ours and exit 0.
//   hostile  attach as worker; write RING_HOSTILE_COUNT random words into our outbound ring's
//            control block and data area, publishing garbage, then exit 0.
// Exit status 2 = usage/attach error, 3 = ring error, 4 = a sleep timed out (message on stderr).
#if canImport(Glibc)
import Glibc
#endif
import RingCore
import RingLinux

func fail(_ code: Int32, _ message: String) -> Never {
    let line = "RingFixture: \(message)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    exit(code)
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else { fail(2, "usage: RingFixture echo|hostile") }
guard let fdText = ProcessEnvironment.value("RING_SEGMENT_FD"), let fd = Int32(fdText) else {
    fail(2, "RING_SEGMENT_FD is not set")
}
let segment: SharedMemorySegment
do { segment = try SharedMemorySegment.attach(descriptor: OwnedDescriptor(adopting: fd), role: .worker) } catch { fail(2, "attach: \(error)") }

switch arguments[1] {
case "echo":
    var producer = segment.takeProducer()!
    var reader = MessageReader(consumer: segment.takeConsumer()!)
    let profile: WaitProfile = switch ProcessEnvironment.value("RING_WAIT_PROFILE") {
    case "alwaysSleep": .alwaysSleep
    case "efficiency": .efficiency
    case "spinOnly": .spinOnly
    default: .latency
    }
    var readBackoff = Backoff(profile)
    var writeBackoff = Backoff(profile)
    var failure: RingError?
    do throws(RingError) {
        while true {
            _ = try reader.receive(backoff: &readBackoff) { message in
                guard failure == nil else { return }
                do throws(RingError) {
                    try producer.writeMessage(
                        kind: message.kind, flags: message.flags, streamId: message.streamId,
                        context: message.context, payload: message.payload, backoff: &writeBackoff)
                } catch { failure = error }
            }
            if let failure { throw failure }
        }
    } catch .closed {
        producer.close()
        // RING_FAIL_ON_TIMEOUT=1: a sleep that ended by its time bound (a lost wake-up) fails us.
        if ProcessEnvironment.value("RING_FAIL_ON_TIMEOUT") == "1" && WaitCounters.timeoutCount > 0 {
            fail(4, "\(WaitCounters.timeoutCount) sleep(s) ended by the time bound")
        }
        exit(0)
    } catch {
        fail(3, "echo: \(error)")
    }
case "hostile":
    let count = Int(ProcessEnvironment.value("RING_HOSTILE_COUNT") ?? "1000") ?? 1000
    var seed = UInt64(ProcessEnvironment.value("RING_HOSTILE_SEED") ?? "1") ?? 1
    let geometry = segment.geometry(.workerToHost)
    func nextRandom() -> UInt64 {
        seed ^= seed << 13
        seed ^= seed >> 7
        seed ^= seed << 17
        return seed
    }
    for _ in 0..<count {
        let r = nextRandom()
        if r % 4 == 0 {
            let word = Int(nextRandom() % 64) * 8
            geometry.control.storeBytes(of: nextRandom(), toByteOffset: word, as: UInt64.self)
        } else {
            let word = Int(nextRandom() % (geometry.capacity / 8)) * 8
            geometry.data.storeBytes(of: nextRandom(), toByteOffset: word, as: UInt64.self)
        }
    }
    exit(0)
default:
    fail(2, "unknown mode \(arguments[1])")
}
