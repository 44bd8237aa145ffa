// swift-tools-version: 6.1
//
// RingTransport — lock-free shared-memory rings between a function host and its workers.
//
// Module map (see Docs/Architecture.md):
//   CRingShim    C system library: liburing + the few calls Swift cannot import (variadic syscall, constants).
//   CRingPrefetch one inline C function: the CPU's prefetch hint, which Swift cannot emit.
//   RingCore     pure core: segment layout, frames, forwarding-context codec, ring algorithms. No syscalls.
//   RingLinux    Linux layer: syscall funnel, memfd segments, mmap, futex, processes, the io_uring
//                reactor, and the link layer both protocols stand on (greeting, hand-over, listener).
//   RingBenchKit ringbench's measurements (testable); `ringbench` is its executable and root command.
//   RingStress   the audited stress harness (`ringbench stress`), which `make test` runs.
//   RingFixture  a test fixture executable (cross-process echo) used by the test suite.
//   RingChannel  the host/worker channel: spawn/attach, handshake, invocations, cancellation, crashes,
//                pools, shutdown (Docs/Protocol.md). RingExampleWorker is its example worker.
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "RingTransport",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "RingCore", targets: ["RingCore"]),
        .library(name: "RingLinux", targets: ["RingLinux"]),
        .library(name: "RingChannel", targets: ["RingChannel"]),
        .library(name: "GRPCRingTransport", targets: ["GRPCRingTransport"]),
        .library(name: "GRPCRingAutoTransport", targets: ["GRPCRingAutoTransport"]),
        .executable(name: "RingExampleWorker", targets: ["RingExampleWorker"]),
        .executable(name: "ringbench", targets: ["ringbench"]),
        .executable(name: "GRPCRingExample", targets: ["GRPCRingExample"]),
        .executable(name: "RingHTTPHost", targets: ["RingHTTPHost"]),
        .executable(name: "RingHTTPWorker", targets: ["RingHTTPWorker"]),
        // The C ABI of the worker side (Docs/WorkerABI.md): libringworker.so with
        // ringtransport/worker.h. `make worker-lib` builds it self-contained (static Swift runtime).
        .library(name: "ringworker", type: .dynamic, targets: ["RingWorkerABI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
    ],
    targets: [
        .systemLibrary(
            name: "CRingShim",
            pkgConfig: "liburing",
            providers: [.apt(["liburing-dev"])]
        ),
        .systemLibrary(name: "CRingPrefetch"),
        .target(
            name: "RingCore",
            dependencies: ["CRingPrefetch", .product(name: "Atomics", package: "swift-atomics")],
            swiftSettings: strict
        ),
        .target(
            name: "RingLinux",
            dependencies: ["RingCore", "CRingShim", .product(name: "Atomics", package: "swift-atomics")],
            swiftSettings: strict
        ),
        .target(
            name: "RingBenchKit",
            dependencies: [
                "RingCore", "RingLinux", "RingChannel", "RingAudit",
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Metrics", package: "swift-metrics"),
                "GRPCRingTransport",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCInProcessTransport", package: "grpc-swift-2"),
            ],
            swiftSettings: strict
        ),
        .target(name: "RingAudit", swiftSettings: strict),
        .target(
            name: "RingStress",
            dependencies: [
                "RingAudit", "RingBenchKit", "RingChannel", "RingCore", "RingLinux",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "ringbench",
            dependencies: ["RingBenchKit", "RingStress", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict
        ),
        .executableTarget(name: "RingFixture", dependencies: ["RingCore", "RingLinux"], swiftSettings: strict),
        .target(
            name: "RingTestSupport", dependencies: ["RingCore", "RingLinux"], path: "Tests/RingTestSupport",
            swiftSettings: strict
        ),
        .testTarget(name: "RingCoreTests", dependencies: ["RingCore", "RingTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "RingLinuxTests", dependencies: ["RingCore", "RingLinux", "RingTestSupport", "CRingShim"], swiftSettings: strict
        ),
        .testTarget(
            name: "RingStressTests",
            dependencies: ["RingAudit", "RingStress", "RingBenchKit", "RingChannel", "RingCore", "RingLinux", "RingTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "RingBenchKitTests", dependencies: ["RingAudit", "RingBenchKit", "ringbench", "RingChannel", "RingCore", "RingLinux", "RingTestSupport", "GRPCRingTransport", .product(name: "GRPCCore", package: "grpc-swift-2")],
            swiftSettings: strict
        ),
        .target(
            name: "RingChannel",
            dependencies: [
                "RingCore", "RingLinux",
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The C ABI: the header (a C target, so the Swift side imports the very types C sees) and
        // its implementation over ChannelWorker's deferred mode.
        .target(name: "CRingWorker", exclude: ["ringworker.map", "ringworker.pc.in"]),
        .target(
            name: "RingWorkerABI",
            dependencies: [
                "CRingWorker", "RingAudit", "RingChannel", "RingCore", "RingLinux",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // A worker in C against the header, for the tests of the C ABI (WorkerABITests).
        .executableTarget(name: "RingABIFixture", dependencies: ["CRingWorker", "RingWorkerABI"]),
        .executableTarget(
            name: "RingExampleWorker",
            dependencies: [
                "RingAudit", "RingChannel", "RingCore", "RingLinux", .product(name: "Logging", package: "swift-log"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "RingChannelTests",
            dependencies: [
                "RingChannel", "RingCore", "RingLinux", "RingTestSupport",
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
            .target(
            name: "GRPCRingTransport",
            dependencies: [
                "RingCore", "RingLinux",
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
            ],
            swiftSettings: strict
        ),
        // `.auto`: the rings to a server on this machine, HTTP/2 (with the caller's transport
        // security) to the rest. Its own target so that GRPCRingTransport links no TLS.
        .target(
            name: "GRPCRingAutoTransport",
            dependencies: [
                "GRPCRingTransport",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "GRPCRingExample",
            dependencies: [
                "GRPCRingAutoTransport", "GRPCRingTransport", "RingLinux",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "GRPCRingFixture",
            dependencies: [
                "GRPCRingTransport",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            ],
            swiftSettings: strict
        ),
        // The HTTP function host example (Docs/HTTP.md): the front, the routes and the worker's
        // functions; RingHTTPHost and RingHTTPWorker are its executables.
        .target(
            name: "HTTPFunctionKit",
            dependencies: [
                "GRPCRingTransport", "RingChannel", "RingCore", "RingLinux",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "RingHTTPHost",
            dependencies: [
                "HTTPFunctionKit", "RingChannel", "RingLinux",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "RingHTTPWorker",
            dependencies: [
                "HTTPFunctionKit", "RingChannel", "RingLinux",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "HTTPFunctionKitTests",
            dependencies: [
                "HTTPFunctionKit", "RingChannel", "RingCore", "RingLinux", "RingTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "GRPCRingTransportTests",
            dependencies: [
                "GRPCRingAutoTransport", "GRPCRingTransport", "RingTestSupport", "RingLinux", "RingCore",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            ],
            swiftSettings: strict
        ),
    ]
)
