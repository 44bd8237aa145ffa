import RingBenchKit

/// The `ringbench` executable: all logic lives in RingBenchKit (testable).
@main
enum RingBenchMain {
    static func main() async {
        await RingBench.main(nil)
    }
}
