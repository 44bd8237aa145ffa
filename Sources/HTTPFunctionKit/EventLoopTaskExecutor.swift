// EventLoopTaskExecutor — a NIO event loop as an SE-0417 task executor (swift-nio 2.101 makes its
// loops `SerialExecutor`s but not `TaskExecutor`s). A request's task that prefers it runs on the
// connection's own loop thread: no hop to the global pool and back (each hop is a semaphore post and
// a kernel wake on these machines, the largest cost of the front in a CPU profile), and its response
// is written in the same turn that finishes it.
import NIOCore

final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
