import Foundation
import Hummingbird
import NIOCore

/// Files under `<root>/static` (rest-api §4). Hand-written rather than Hummingbird's FileMiddleware because the
/// Spreed layout needs its own rules: the `ver=` cache-busting segment, 403 for directories, plain-text errors.
struct StaticFiles: Sendable {
    let root: URL

    init(root: String) {
        self.root = URL(fileURLWithPath: root).appendingPathComponent("static").standardizedFileURL
    }

    static let mimeTypes: [String: String] = [
        "html": "text/html; charset=utf-8", "css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8",
        "mjs": "text/javascript; charset=utf-8", "json": "application/json", "png": "image/png", "jpg": "image/jpeg",
        "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp", "svg": "image/svg+xml", "ico": "image/x-icon",
        "txt": "text/plain; charset=utf-8", "wav": "audio/wav", "ogg": "audio/ogg", "mp3": "audio/mpeg",
        "woff": "font/woff", "woff2": "font/woff2", "ttf": "font/ttf", "map": "application/json",
        "wasm": "application/wasm",
    ]

    static let httpDate: DateFormatter = {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return f
    }()

    /// `path` is the part after `static/` (already cleaned by the router, so it has no `..`).
    func serve(_ request: Request, path: String) -> Response {
        var segments = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        var longCache = false
        if segments.count > 1, segments[0].hasPrefix("ver=") {
            segments.removeFirst()
            longCache = true
        }
        let decoded = segments.map { $0.removingPercentEncoding ?? $0 }
        guard !decoded.contains(where: { $0 == ".." || $0.contains("/") || $0.contains("\0") }) else {
            return Reply.text(.notFound, "404 Not Found")
        }
        let url = decoded.reduce(root) { $0.appendingPathComponent($1) }
        guard url.path.hasPrefix(root.path) else { return Reply.text(.notFound, "404 Not Found") }
        return file(request, at: url, longCache: longCache)
    }

    func file(_ request: Request, at url: URL, longCache: Bool) -> Response {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
            return Reply.text(.notFound, "404 Not Found")
        }
        if isDir.boolValue { return Reply.text(.forbidden, "403 Forbidden") }
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: url.path),
              let data = FileManager.default.contents(atPath: url.path) else {
            return Reply.text(.notFound, "404 Not Found")
        }
        let modified = (attrs[.modificationDate] as? Date) ?? Date()
        var h = HTTPFields()
        h[.contentType] = Self.mimeTypes[url.pathExtension.lowercased()] ?? "application/octet-stream"
        h[.lastModified] = Self.httpDate.string(from: modified)
        h[.acceptRanges] = "bytes"
        if longCache {
            h[.expires] = Self.httpDate.string(from: Date().addingTimeInterval(365 * 24 * 3600))
            h[.cacheControl] = "public, max-age=31536000"
        }
        if let since = request.headers[.ifModifiedSince], let d = Self.httpDate.date(from: since),
           floor(modified.timeIntervalSince1970) <= d.timeIntervalSince1970 {
            h[.contentType] = nil
            return Response(status: .notModified, headers: h)
        }
        let bytes = [UInt8](data)
        if let range = request.headers[.range], let r = Self.byteRange(range, size: bytes.count) {
            h[.contentRange] = "bytes \(r.lowerBound)-\(r.upperBound - 1)/\(bytes.count)"
            return Reply.bytes(.partialContent, bytes[r], type: nil, headers: h)
        } else if request.headers[.range] != nil {
            h[.contentRange] = "bytes */\(bytes.count)"
            return Reply.bytes(.rangeNotSatisfiable, [], type: nil, headers: h)
        }
        let compressible = h[.contentType].map { $0.hasPrefix("text/") || $0.hasPrefix("application/json") || $0.hasPrefix("image/svg") } ?? false
        let response = Response(status: .ok, headers: h, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        return compressible ? Reply.compressed(response, for: request, body: bytes) : response
    }

    /// A single `bytes=a-b`, `bytes=a-` or `bytes=-n` range; multi-range requests are served whole.
    static func byteRange(_ header: String, size: Int) -> Range<Int>? {
        guard header.hasPrefix("bytes="), !header.contains(",") else { return nil }
        let spec = header.dropFirst(6).split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard spec.count == 2 else { return nil }
        if spec[0].isEmpty {
            guard let n = Int(spec[1]), n > 0, size > 0 else { return nil }
            return max(0, size - n)..<size
        }
        guard let start = Int(spec[0]), start < size else { return nil }
        let end = spec[1].isEmpty ? size - 1 : min(Int(spec[1]) ?? -1, size - 1)
        guard end >= start else { return nil }
        return start..<(end + 1)
    }
}
