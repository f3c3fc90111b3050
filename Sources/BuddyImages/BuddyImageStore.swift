import Foundation

/// One stored buddy picture (channeling-api §6.6, rest-api §8).
public struct BuddyImage: Sendable, Equatable {
    /// base64url of 15 random bytes (20 chars); fixed for the session.
    public let imageId: String
    /// base64url of the unsigned varint of the Unix nanoseconds of the last change (~12 chars); the HTTP ETag.
    public let changeId: String
    /// One of `image/png`, `image/jpeg`, `image/gif`, `image/webp` (lower case).
    public let mimeType: String
    public let data: [UInt8]
    /// Time of the last change: `Last-Modified`/`Age`.
    public let changedAt: Date

    public init(imageId: String, changeId: String, mimeType: String, data: [UInt8], changedAt: Date) {
        self.imageId = imageId
        self.changeId = changeId
        self.mimeType = mimeType
        self.data = data
        self.changedAt = changedAt
    }

    /// The `img:` value put into the status instead of the data URL.
    public var statusValue: String {
        let ext = ImageType(mimeType: mimeType).map { "/picture.\($0.fileExtension)" } ?? ""
        return "img:\(imageId)/\(changeId)\(ext)"
    }
}

/// Outcome of `BuddyImageStore.accept(dataURL:session:now:)`.
public enum DataURLResult: Sendable, Equatable {
    /// Stored (or identical to what was stored): replace the status value with `rewritten`
    /// (`img:<imageid>/<changeid>/picture.png` etc.).
    case stored(rewritten: String)
    /// Not a data URL, or one that does not parse: leave the status value as it is (original behaviour).
    case unchanged
    /// A parsable data URL Rooms refuses to store (type not allowed, bytes not of the claimed type, too large).
    /// Nothing was stored and the previous picture, if any, is kept; the caller decides what to do with the value.
    case rejected(reason: String)
}

/// In-memory buddy pictures, one per session. Thread-safe (one lock; PNG work for renditions runs outside it).
public final class BuddyImageStore: @unchecked Sendable {
    /// Largest accepted decoded picture, in bytes.
    public let maxBytes: Int
    /// Upper bound for the rendition cache (sum of cached PNG sizes).
    public let maxCacheBytes: Int

    private struct RenditionKey: Hashable {
        let imageId: String
        let changeId: String
        let size: Int
    }

    private let lock = NSLock()
    private var bySession: [String: BuddyImage] = [:]
    private var sessionByImageId: [String: String] = [:]
    private var renditions: [RenditionKey: (mimeType: String, data: [UInt8])] = [:]
    private var renditionOrder: [RenditionKey] = [] // insertion order, for FIFO eviction
    private var renditionBytes = 0
    private var lastChangeNanos: UInt64 = 0

    public init(maxBytes: Int = 1 << 20, maxCacheBytes: Int = 32 << 20) {
        self.maxBytes = max(0, maxBytes)
        self.maxCacheBytes = max(0, maxCacheBytes)
    }

    /// Number of stored pictures (= sessions with a picture).
    public var count: Int {
        lock.withLock { bySession.count }
    }

    /// Processes a `buddyPicture` string for `session` (channeling-api §6.6 with the Rooms fixes).
    /// Strings that are not `data:` URLs give `.unchanged`.
    public func accept(dataURL: String, session: String, now: Date = Date()) -> DataURLResult {
        let mimeType: String
        let bytes: [UInt8]
        switch DataURL.parse(dataURL, maxBytes: maxBytes) {
        case .notParsed:
            return .unchanged
        case .tooLarge:
            return .rejected(reason: "picture larger than \(maxBytes) bytes")
        case .data(let m, let b):
            mimeType = m
            bytes = b
        }
        guard let type = ImageType(mimeType: mimeType) else {
            return .rejected(reason: "type \(mimeType) not allowed")
        }
        guard type.matches(bytes) else {
            let actual = ImageType.sniff(bytes)?.mimeType ?? "unknown data"
            return .rejected(reason: "declared \(type.mimeType) but content is \(actual)")
        }
        if type == .png, let dims = PNGCodec.dimensions(bytes),
           dims.width > PNGCodec.maxDimension || dims.height > PNGCodec.maxDimension || dims.width == 0 || dims.height == 0 {
            return .rejected(reason: "PNG dimensions \(dims.width)x\(dims.height) not allowed")
        }

        return lock.withLock { () -> DataURLResult in
            let previous = bySession[session]
            if let previous, previous.mimeType == type.mimeType, previous.data == bytes {
                return .stored(rewritten: previous.statusValue) // identical picture keeps both ids
            }
            let imageId = previous?.imageId ?? newImageIdLocked()
            let image = BuddyImage(imageId: imageId, changeId: newChangeIdLocked(now), mimeType: type.mimeType,
                                   data: bytes, changedAt: now)
            if previous != nil { dropRenditionsLocked(imageId: imageId) }
            bySession[session] = image
            sessionByImageId[imageId] = session
            return .stored(rewritten: image.statusValue)
        }
    }

    /// The picture with this image id (for `GET /static/img/buddy/<flags>/<imageid>/...`).
    public func image(id: String) -> BuddyImage? {
        lock.withLock {
            guard let session = sessionByImageId[id] else { return nil }
            return bySession[session]
        }
    }

    /// The picture of a session, if it has one.
    public func image(session: String) -> BuddyImage? {
        lock.withLock { bySession[session] }
    }

    /// Forgets the session's picture (session ended). Unknown sessions are ignored.
    public func remove(session: String) {
        lock.withLock {
            guard let image = bySession.removeValue(forKey: session) else { return }
            sessionByImageId.removeValue(forKey: image.imageId)
            dropRenditionsLocked(imageId: image.imageId)
        }
    }

    /// The picture for an `s<N>` request: PNGs are center-cropped and scaled to `size`×`size` (clamped to 1...512)
    /// and re-encoded; results are cached per (image id, change id, size). Other types are returned unchanged:
    /// resizing JPEG, GIF or WebP would need libjpeg/giflib/libwebp, which Rooms does not link. A PNG that libpng
    /// cannot decode is also served as stored. Nil for unknown ids.
    public func rendition(id: String, size: Int) -> (mimeType: String, data: [UInt8])? {
        let size = min(max(size, PNGCodec.renditionSizes.lowerBound), PNGCodec.renditionSizes.upperBound)
        let lookup: (image: BuddyImage, cached: (mimeType: String, data: [UInt8])?)? = lock.withLock {
            guard let session = sessionByImageId[id], let image = bySession[session] else { return nil }
            return (image, renditions[RenditionKey(imageId: image.imageId, changeId: image.changeId, size: size)])
        }
        guard let (image, cached) = lookup else { return nil }
        if let cached { return cached }
        guard image.mimeType == ImageType.png.mimeType else { return (image.mimeType, image.data) }

        // Decode/resize/encode without holding the lock.
        var result: (mimeType: String, data: [UInt8]) = (image.mimeType, image.data)
        if let decoded = try? PNGCodec.decode(image.data),
           !(decoded.width == size && decoded.height == size),
           let encoded = try? PNGCodec.encode(PNGCodec.resized(decoded, toSquare: size)) {
            result = (ImageType.png.mimeType, encoded)
        }
        lock.withLock {
            // Only cache if the picture did not change or vanish meanwhile.
            guard let session = sessionByImageId[id], let current = bySession[session],
                  current.changeId == image.changeId else { return }
            insertRenditionLocked(RenditionKey(imageId: image.imageId, changeId: image.changeId, size: size), result)
        }
        return result
    }

    /// A generated PNG avatar (`size`×`size`, clamped to 1...512) for sessions without a picture: a background
    /// colour derived from a hash of `name` and a light head-and-shoulders silhouette. Deterministic.
    public static func defaultAvatar(name: String, size: Int) -> [UInt8] {
        let image = Avatar.render(name: name, size: min(max(size, 1), 512))
        return (try? PNGCodec.encode(image)) ?? []
    }

    /// Change id for a Unix time in nanoseconds: base64url (no padding) of its unsigned varint.
    public static func changeId(unixNanoseconds: UInt64) -> String {
        Base64.encodeURL(uvarint(unixNanoseconds))
    }

    /// Unsigned LEB128 varint, as Go's `binary.PutUvarint`.
    public static func uvarint(_ value: UInt64) -> [UInt8] {
        var v = value
        var out: [UInt8] = []
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
        return out
    }

    // MARK: - Private (call with the lock held)

    private func newImageIdLocked() -> String {
        var rng = SystemRandomNumberGenerator() // getrandom(2) on Linux: cryptographically secure
        while true {
            var bytes = [UInt8](repeating: 0, count: 15)
            for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
            let id = Base64.encodeURL(bytes)
            if sessionByImageId[id] == nil { return id }
        }
    }

    /// Strictly increasing across the store so two changes never share a change id (ETag), even with equal `now`.
    private func newChangeIdLocked(_ now: Date) -> String {
        let seconds = now.timeIntervalSince1970
        var nanos: UInt64 = seconds > 0 ? (seconds < 1.8e10 ? UInt64(seconds * 1e9) : UInt64.max / 2) : 0
        if nanos <= lastChangeNanos { nanos = lastChangeNanos &+ 1 }
        lastChangeNanos = nanos
        return Self.changeId(unixNanoseconds: nanos)
    }

    private func dropRenditionsLocked(imageId: String) {
        guard renditionOrder.contains(where: { $0.imageId == imageId }) else { return }
        renditionOrder.removeAll { key in
            guard key.imageId == imageId else { return false }
            if let old = renditions.removeValue(forKey: key) { renditionBytes -= old.data.count }
            return true
        }
    }

    private func insertRenditionLocked(_ key: RenditionKey, _ value: (mimeType: String, data: [UInt8])) {
        guard value.data.count <= maxCacheBytes else { return }
        if let old = renditions.updateValue(value, forKey: key) {
            renditionBytes -= old.data.count
        } else {
            renditionOrder.append(key)
        }
        renditionBytes += value.data.count
        var evict = 0
        while renditionBytes > maxCacheBytes, evict < renditionOrder.count {
            if let old = renditions.removeValue(forKey: renditionOrder[evict]) { renditionBytes -= old.data.count }
            evict += 1
        }
        if evict > 0 { renditionOrder.removeFirst(evict) }
    }
}
