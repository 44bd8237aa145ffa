// swift-tools-version: 6.1
//
// Micro-benchmarks of RingCore, built with package-benchmark (ordo-one). A separate package so the
// main package never depends on the benchmark tooling. See README.md for how to run and check it.
import PackageDescription

let package = Package(
    name: "RingTransportBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "RingTransport", path: ".."),
        // The repository's current name (the legacy `package-benchmark` identity prints a deprecation
        // warning on every run). Default traits also pull in the Swift 6.3 ARC runtime interposer,
        // which is not available here; MallocInterposer alone gives the malloc counters (no jemalloc
        // needed on Swift 6.3).
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "RingBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "RingCore", package: "RingTransport"),
            ],
            path: "Benchmarks/RingBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
