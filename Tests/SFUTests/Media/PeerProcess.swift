import Foundation

/// Helpers shared by the end-to-end tests that drive external WebRTC peers (aiortc, Chromium) as subprocesses.
enum PeerProcess {
    /// Lines of a pipe, read on a thread of their own (blocking reads must not tie up the cooperative pool).
    static func lines(of handle: FileHandle) -> AsyncStream<String> {
        AsyncStream { continuation in
            Thread.detachNewThread {
                var buffer = Data()
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    buffer.append(chunk)
                    while let newline = buffer.firstIndex(of: 0x0A) {
                        continuation.yield(String(decoding: buffer[buffer.startIndex ..< newline], as: UTF8.self))
                        buffer.removeSubrange(buffer.startIndex ... newline)
                    }
                }
                continuation.finish()
            }
        }
    }

    /// Runs a command (through /usr/bin/env, output discarded) and returns its exit status (-1 if it cannot start).
    static func run(_ arguments: [String]) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return -1 }
        p.waitUntilExit()
        return p.terminationStatus
    }
}
