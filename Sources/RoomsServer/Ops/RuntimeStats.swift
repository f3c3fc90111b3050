import Foundation

/// Process figures for `/api/v1/stats` under the original's `runtime` keys (it reported Go's runtime; Rooms reports
/// threads, data segment and resident memory from /proc).
struct RuntimeStats: Sendable {
    func snapshot() -> [(String, Int64)] {
        var threads: Int64 = 0, rss: Int64 = 0, stack: Int64 = 0, heap: Int64 = 0
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) {
            for line in status.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1)
                guard parts.count == 2 else { continue }
                let value = Int64(parts[1].trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "") ?? 0
                switch parts[0] {
                case "Threads": threads = value
                case "VmRSS": rss = value * 1024
                case "VmStk": stack = value * 1024
                case "VmData": heap = value * 1024
                default: break
                }
            }
        }
        return [("goroutines", threads), ("alloc", rss), ("mallocs", 0), ("frees", 0), ("pauses", 0),
                ("heap", heap), ("stack", stack), ("rss", rss)]
    }
}
