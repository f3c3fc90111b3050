import BuddyImages
import Foundation
import Hummingbird

/// `GET /static/img/buddy/{flags}/{imageid}/...` (rest-api §8): pictures that sessions sent in their `Status`.
/// The flag `s<N>` asks for an N×N rendition (PNG pictures are resized with libpng; others are served as stored).
struct BuddyImageRoutes: Sendable {
    let store: BuddyImageStore

    func serve(_ request: Request, flags: String, imageId: String) -> Response {
        guard let image = store.image(id: imageId) else { return Reply.text(.notFound, "Unknown image") }
        var h = HTTPFields()
        h[.eTag] = "\"\(image.changeId)\""
        h[.lastModified] = StaticFiles.httpDate.string(from: image.changedAt)
        let age = Int(Date().timeIntervalSince(image.changedAt))
        if age >= 1 { h[.age] = String(age) }
        h[.expires] = StaticFiles.httpDate.string(from: Date().addingTimeInterval(86400))
        h[.cacheControl] = "public, no-transform, max-age=86400"
        if let inm = request.headers[.ifNoneMatch], inm.contains(image.changeId) {
            return Response(status: .notModified, headers: h)
        }
        var mime = image.mimeType, bytes = image.data
        if flags.hasPrefix("s"), let size = Int(flags.dropFirst()), size > 0, let r = store.rendition(id: imageId, size: size) {
            mime = r.mimeType
            bytes = r.data
        }
        if let range = request.headers[.range], let r = StaticFiles.byteRange(range, size: bytes.count) {
            h[.contentRange] = "bytes \(r.lowerBound)-\(r.upperBound - 1)/\(bytes.count)"
            return Reply.bytes(.partialContent, bytes[r], type: mime, headers: h)
        }
        h[.acceptRanges] = "bytes"
        return Reply.bytes(.ok, bytes, type: mime, headers: h)
    }

    /// `GET <B>static/img/avatar/s<N>/<name>`: a generated PNG avatar for sessions without a picture.
    func defaultAvatar(_ request: Request, flags: String, name: String) -> Response {
        let size = flags.hasPrefix("s") ? Int(flags.dropFirst()) ?? 46 : 46
        let png = BuddyImageStore.defaultAvatar(name: name.removingPercentEncoding ?? name, size: size)
        guard !png.isEmpty else { return Reply.text(.internalServerError, "avatar rendering failed") }
        var h = HTTPFields()
        h[.cacheControl] = "public, max-age=86400"
        return Reply.bytes(.ok, png, type: "image/png", headers: h)
    }
}
