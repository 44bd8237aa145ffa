import RingCore
import RingLinux

/// Starts the RingFixture executable (built beside the test bundle) as the worker of `segment`,
/// with the segment's descriptor inherited as fd 3.
func spawnFixture(_ mode: String, segment: SharedMemorySegment, environment: [String: String] = [:]) throws -> ChildProcess {
    let testBinary = ProcessEnvironment.executablePath()
    let directory = testBinary[..<testBinary.lastIndex(of: "/")!]
    var env = environment
    env["RING_SEGMENT_FD"] = "3"
    return try ChildProcess(
        executable: "\(directory)/RingFixture", arguments: [mode], environment: env,
        inherit: [3: segment.unsafeFileDescriptor])
}
