import RingLinux

/// A product built beside the test bundle (`.build/<configuration>/<name>`): RingExampleWorker,
/// ringbench, the fixtures.
public func builtExecutablePath(_ name: String) -> String {
    let testBinary = ProcessEnvironment.executablePath()
    return "\(testBinary[..<testBinary.lastIndex(of: "/")!])/\(name)"
}
