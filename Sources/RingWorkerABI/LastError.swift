// LastError — `rt_last_error()`: the message of the last failing call, per thread (a pthread key
// whose destructor frees the thread's string).
#if canImport(Glibc)
import Glibc
#endif

enum LastError {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { free($0) }
        return key
    }()

    /// Records `message` for this thread and returns `code` (for `return LastError.set(...)`).
    @discardableResult
    static func set(_ message: String, _ code: Int32) -> Int32 {
        free(pthread_getspecific(key))
        pthread_setspecific(key, strdup(message))
        return code
    }

    static var current: UnsafePointer<CChar>? {
        pthread_getspecific(key).map { UnsafePointer($0.assumingMemoryBound(to: CChar.self)) }
    }
}
