import BuddyImages
import Foundation
import XCTest

private func dataURL(_ mime: String, _ bytes: [UInt8]) -> String {
    "data:\(mime);base64,\(Data(bytes).base64EncodedString())"
}

/// Splits `img:<imageid>/<changeid>/picture.<ext>`.
private func parts(_ result: DataURLResult, file: StaticString = #filePath, line: UInt = #line) -> (imageId: String, changeId: String, ext: String)? {
    guard case .stored(let value) = result else {
        XCTFail("expected .stored, got \(result)", file: file, line: line)
        return nil
    }
    guard value.hasPrefix("img:") else { XCTFail(value, file: file, line: line); return nil }
    let fields = value.dropFirst(4).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    guard fields.count == 3, fields[2].hasPrefix("picture.") else { XCTFail(value, file: file, line: line); return nil }
    return (fields[0], fields[1], String(fields[2].dropFirst("picture.".count)))
}

private let urlSafe = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

private let jpegBytes: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x00, 0x01, 0xFF, 0xD9]
private let gifBytes: [UInt8] = Array("GIF89a".utf8) + [1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x3B]
private let webpBytes: [UInt8] = Array("RIFF".utf8) + [26, 0, 0, 0] + Array("WEBPVP8L".utf8) + [13, 0, 0, 0, 0x2F, 0, 0, 0, 0]

final class BuddyImageStoreTests: XCTestCase {
    var redPNG: [UInt8] = []
    var bluePNG: [UInt8] = []
    var quadrantsPNG: [UInt8] = []

    override func setUpWithError() throws {
        redPNG = try PNGCodec.encode(RGBAImage(width: 1, height: 1, pixels: [255, 0, 0, 255]))
        bluePNG = try PNGCodec.encode(RGBAImage(width: 1, height: 1, pixels: [0, 0, 255, 255]))
        quadrantsPNG = try PNGCodec.encode(Fixtures.quadrants())
    }

    func testGoodPNGIsStoredAndRewritten() throws {
        let store = BuddyImageStore()
        let now = Date(timeIntervalSince1970: 1_700_000_000.5)
        let result = store.accept(dataURL: dataURL("image/png", redPNG), session: "s1", now: now)
        let p = try XCTUnwrap(parts(result))
        XCTAssertEqual(p.imageId.count, 20)
        XCTAssertEqual(p.changeId.count, 12) // 9-byte varint of ~1.7e18 ns
        XCTAssertEqual(p.ext, "png")
        XCTAssertTrue(p.imageId.unicodeScalars.allSatisfy(urlSafe.contains))
        XCTAssertTrue(p.changeId.unicodeScalars.allSatisfy(urlSafe.contains))
        // change id = base64url(uvarint(unix nanoseconds))
        XCTAssertEqual(p.changeId, BuddyImageStore.changeId(unixNanoseconds: UInt64(now.timeIntervalSince1970 * 1e9)))

        let image = try XCTUnwrap(store.image(id: p.imageId))
        XCTAssertEqual(image.imageId, p.imageId)
        XCTAssertEqual(image.changeId, p.changeId)
        XCTAssertEqual(image.mimeType, "image/png")
        XCTAssertEqual(image.data, redPNG)
        XCTAssertEqual(image.changedAt, now)
        XCTAssertEqual(image.statusValue, "img:\(p.imageId)/\(p.changeId)/picture.png")
        XCTAssertEqual(store.image(session: "s1"), image)
        XCTAssertEqual(store.count, 1)
        XCTAssertNil(store.image(id: "nope"))
    }

    func testSamePictureKeepsBothIds() throws {
        let store = BuddyImageStore()
        let first = store.accept(dataURL: dataURL("image/png", redPNG), session: "s1", now: Date(timeIntervalSince1970: 1000))
        let again = store.accept(dataURL: dataURL("image/png", redPNG), session: "s1", now: Date(timeIntervalSince1970: 2000))
        XCTAssertEqual(first, again)
        let id = try XCTUnwrap(parts(first)).imageId
        XCTAssertEqual(store.image(id: id)?.changedAt, Date(timeIntervalSince1970: 1000))
    }

    func testDifferentPictureKeepsImageIdNewChangeId() throws {
        let store = BuddyImageStore()
        let a = try XCTUnwrap(parts(store.accept(dataURL: dataURL("image/png", redPNG), session: "s1", now: Date(timeIntervalSince1970: 1000))))
        let b = try XCTUnwrap(parts(store.accept(dataURL: dataURL("image/png", bluePNG), session: "s1", now: Date(timeIntervalSince1970: 2000))))
        XCTAssertEqual(a.imageId, b.imageId)
        XCTAssertNotEqual(a.changeId, b.changeId)
        XCTAssertEqual(store.image(id: a.imageId)?.data, bluePNG)
        XCTAssertEqual(store.image(id: a.imageId)?.changedAt, Date(timeIntervalSince1970: 2000))
        // Same bytes under another (allowed) type also counts as a change... but PNG bytes are not a GIF, so a
        // type change needs matching bytes: switch to a GIF.
        let c = try XCTUnwrap(parts(store.accept(dataURL: dataURL("image/gif", gifBytes), session: "s1", now: Date(timeIntervalSince1970: 2000))))
        XCTAssertEqual(c.imageId, a.imageId)
        XCTAssertNotEqual(c.changeId, b.changeId, "change ids stay unique even with the same timestamp")
        XCTAssertEqual(c.ext, "gif")
        XCTAssertEqual(store.count, 1)
        // Another session gets its own image id.
        let d = try XCTUnwrap(parts(store.accept(dataURL: dataURL("image/png", redPNG), session: "s2")))
        XCTAssertNotEqual(d.imageId, a.imageId)
        XCTAssertEqual(store.count, 2)
    }

    func testOtherRasterTypes() throws {
        let store = BuddyImageStore()
        XCTAssertEqual(try XCTUnwrap(parts(store.accept(dataURL: dataURL("image/jpeg", jpegBytes), session: "j"))).ext, "jpg")
        XCTAssertEqual(try XCTUnwrap(parts(store.accept(dataURL: dataURL("image/webp", webpBytes), session: "w"))).ext, "webp")
        XCTAssertEqual(try XCTUnwrap(parts(store.accept(dataURL: dataURL("IMAGE/PNG", redPNG), session: "p"))).ext, "png")
        XCTAssertEqual(store.image(session: "p")?.mimeType, "image/png")
    }

    func testUnparsableDataURLsAreUnchanged() {
        let store = BuddyImageStore()
        XCTAssertEqual(store.accept(dataURL: "data:image/png;base64,!!!not base64!!!", session: "s"), .unchanged)
        XCTAssertEqual(store.accept(dataURL: "data:image/png;base64,iVBORw0KGgo", session: "s"), .unchanged) // no padding
        XCTAssertEqual(store.accept(dataURL: "data:image/png;utf8,abc", session: "s"), .unchanged)
        XCTAssertEqual(store.accept(dataURL: "data:image/png,iVBORw0KGgo=", session: "s"), .unchanged) // no ';'
        XCTAssertEqual(store.accept(dataURL: "img:abc/def/picture.png", session: "s"), .unchanged)
        XCTAssertEqual(store.accept(dataURL: "https://example.com/a.png", session: "s"), .unchanged)
        XCTAssertEqual(store.accept(dataURL: "", session: "s"), .unchanged)
        XCTAssertEqual(store.count, 0)
    }

    func testDisallowedTypesAreRejected() {
        let store = BuddyImageStore()
        let svg = Array(#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.utf8)
        let html = Array("<html><script>alert(1)</script></html>".utf8)
        guard case .rejected = store.accept(dataURL: dataURL("image/svg+xml", svg), session: "s") else { return XCTFail("svg") }
        guard case .rejected = store.accept(dataURL: dataURL("text/html", html), session: "s") else { return XCTFail("html") }
        guard case .rejected = store.accept(dataURL: dataURL("text/html", redPNG), session: "s") else { return XCTFail("html mime") }
        guard case .rejected = store.accept(dataURL: dataURL("image/png", jpegBytes), session: "s") else { return XCTFail("png/jpeg") }
        guard case .rejected = store.accept(dataURL: dataURL("image/jpeg", redPNG), session: "s") else { return XCTFail("jpeg/png") }
        guard case .rejected = store.accept(dataURL: dataURL("image/png", html), session: "s") else { return XCTFail("png/html") }
        guard case .rejected = store.accept(dataURL: dataURL("image/png", []), session: "s") else { return XCTFail("empty") }
        // No ';' → image/x-unknown: never stored, even when the bytes are a real GIF header.
        guard case .rejected = store.accept(dataURL: "data:GIF89a" + String(repeating: "x", count: 10), session: "s") else {
            return XCTFail("x-unknown")
        }
        // PNG header with absurd dimensions.
        guard case .rejected = store.accept(dataURL: dataURL("image/png", pngClaiming(width: 100_000, height: 100_000)), session: "s") else {
            return XCTFail("huge PNG")
        }
        XCTAssertEqual(store.count, 0)
    }

    func testRejectedPictureKeepsThePreviousOne() throws {
        let store = BuddyImageStore()
        let first = store.accept(dataURL: dataURL("image/png", redPNG), session: "s")
        guard case .rejected = store.accept(dataURL: dataURL("image/svg+xml", Array("<svg/>".utf8)), session: "s") else { return XCTFail() }
        XCTAssertEqual(store.image(session: "s")?.statusValue, { if case .stored(let v) = first { return v }; return nil }())
    }

    func testTooLargeIsRejected() {
        let store = BuddyImageStore(maxBytes: 100)
        var big = redPNG
        big += [UInt8](repeating: 0, count: 101 - big.count)
        XCTAssertEqual(big.count, 101)
        guard case .rejected = store.accept(dataURL: dataURL("image/png", big), session: "s") else { return XCTFail("base64") }
        // Raw (no comma) data part over the limit.
        let raw = "data:image/gif;GIF89a" + String(repeating: "x", count: 200)
        guard case .rejected = store.accept(dataURL: raw, session: "s") else { return XCTFail("raw") }
        // Exactly at the limit is fine.
        XCTAssertNotNil(parts(store.accept(dataURL: dataURL("image/png", Array(big.prefix(100))), session: "s")))
    }

    func testNoCommaQuirkTakesRawBytes() throws {
        let store = BuddyImageStore()
        let text = "GIF89a-raw-bytes"
        let p = try XCTUnwrap(parts(store.accept(dataURL: "data:image/gif;" + text, session: "s")))
        XCTAssertEqual(p.ext, "gif")
        XCTAssertEqual(store.image(id: p.imageId)?.data, Array(text.utf8))
        // "data:image/png;base64" (no comma): the bytes are the text "base64" → not a PNG.
        guard case .rejected = store.accept(dataURL: "data:image/png;base64", session: "t") else { return XCTFail() }
    }

    func testRemoval() throws {
        let store = BuddyImageStore()
        let a = try XCTUnwrap(parts(store.accept(dataURL: dataURL("image/png", redPNG), session: "a")))
        let b = try XCTUnwrap(parts(store.accept(dataURL: dataURL("image/png", redPNG), session: "b")))
        XCTAssertEqual(store.count, 2)
        XCTAssertNotNil(store.rendition(id: a.imageId, size: 8))
        store.remove(session: "a")
        XCTAssertNil(store.image(id: a.imageId))
        XCTAssertNil(store.image(session: "a"))
        XCTAssertNil(store.rendition(id: a.imageId, size: 8))
        XCTAssertNotNil(store.image(id: b.imageId))
        XCTAssertEqual(store.count, 1)
        store.remove(session: "a")
        store.remove(session: "unknown")
        XCTAssertEqual(store.count, 1)
        // A later picture for the same session name starts a new image.
        let again = try XCTUnwrap(parts(store.accept(dataURL: dataURL("image/png", redPNG), session: "a")))
        XCTAssertNotEqual(again.imageId, a.imageId)
    }

    // MARK: Renditions

    func testPNGRenditionIsResizedAndCached() throws {
        let store = BuddyImageStore()
        let p = try XCTUnwrap(parts(store.accept(dataURL: dataURL("image/png", quadrantsPNG), session: "s")))
        let r = try XCTUnwrap(store.rendition(id: p.imageId, size: 46))
        XCTAssertEqual(r.mimeType, "image/png")
        let image = try PNGCodec.decode(r.data)
        XCTAssertEqual(image.width, 46)
        XCTAssertEqual(image.height, 46)
        XCTAssertEqual(image.pixel(x: 0, y: 0).r, 255)
        XCTAssertEqual(image.pixel(x: 45, y: 45).b, 255)
        XCTAssertEqual(store.rendition(id: p.imageId, size: 46)?.data, r.data)
        // Sizes are clamped to 1...512.
        XCTAssertEqual(try PNGCodec.decode(XCTUnwrap(store.rendition(id: p.imageId, size: 0)).data).width, 1)
        XCTAssertEqual(try PNGCodec.decode(XCTUnwrap(store.rendition(id: p.imageId, size: 9999)).data).width, 512)
        XCTAssertNil(store.rendition(id: "unknown", size: 46))
        // After a change the rendition follows the new picture.
        let blue = try PNGCodec.encode(RGBAImage(width: 4, height: 4, pixels: [UInt8](repeating: 0, count: 16).flatMap { _ in [0, 0, 255, 255] as [UInt8] }))
        _ = store.accept(dataURL: dataURL("image/png", blue), session: "s")
        let r2 = try PNGCodec.decode(XCTUnwrap(store.rendition(id: p.imageId, size: 46)).data)
        XCTAssertEqual([r2.pixel(x: 0, y: 0).r, r2.pixel(x: 0, y: 0).b], [0, 255])
    }

    func testNonPNGAndBrokenPNGRenditionsAreTheOriginal() throws {
        let store = BuddyImageStore()
        let j = try XCTUnwrap(parts(store.accept(dataURL: dataURL("image/jpeg", jpegBytes), session: "j")))
        let r = try XCTUnwrap(store.rendition(id: j.imageId, size: 46))
        XCTAssertEqual(r.mimeType, "image/jpeg")
        XCTAssertEqual(r.data, jpegBytes)
        let broken = PNGCodec.signature + [1, 2, 3, 4, 5]
        let b = try XCTUnwrap(parts(store.accept(dataURL: dataURL("image/png", broken), session: "b")))
        XCTAssertEqual(store.rendition(id: b.imageId, size: 46)?.data, broken)
    }

    func testConcurrentUse() {
        let store = BuddyImageStore()
        let pngs = [redPNG, bluePNG, quadrantsPNG]
        DispatchQueue.concurrentPerform(iterations: 200) { i in
            let session = "s\(i % 10)"
            if case .stored(let v) = store.accept(dataURL: dataURL("image/png", pngs[i % 3]), session: session) {
                let id = String(v.dropFirst(4).prefix(20))
                _ = store.rendition(id: id, size: 16 + i % 3)
                _ = store.image(id: id)
            }
            if i % 7 == 0 { store.remove(session: session) }
        }
        XCTAssertLessThanOrEqual(store.count, 10)
    }

    // MARK: Default avatar

    func testDefaultAvatar() throws {
        let png = BuddyImageStore.defaultAvatar(name: "Alice", size: 46)
        XCTAssertEqual(png, BuddyImageStore.defaultAvatar(name: "Alice", size: 46), "deterministic")
        let image = try PNGCodec.decode(png)
        XCTAssertEqual(image.width, 46)
        XCTAssertEqual(image.height, 46)
        let corner = image.pixel(x: 0, y: 0)
        let head = image.pixel(x: 23, y: 17)
        XCTAssertEqual(corner.a, 255)
        XCTAssertGreaterThan(Int(head.r) + Int(head.g) + Int(head.b), Int(corner.r) + Int(corner.g) + Int(corner.b) + 150,
                             "silhouette is lighter than the background")
        let other = try PNGCodec.decode(BuddyImageStore.defaultAvatar(name: "Bob", size: 46)).pixel(x: 0, y: 0)
        XCTAssertNotEqual([corner.r, corner.g, corner.b], [other.r, other.g, other.b])
        XCTAssertEqual(try PNGCodec.decode(BuddyImageStore.defaultAvatar(name: "", size: 0)).width, 1)
        XCTAssertEqual(try PNGCodec.decode(BuddyImageStore.defaultAvatar(name: "x", size: 10_000)).width, 512)
    }

    // MARK: Helpers

    func testBase64MatchesGoStdEncoding() {
        XCTAssertEqual(Base64.decodeStandard(Array("QQ==".utf8)), .ok([0x41]))
        XCTAssertEqual(Base64.decodeStandard(Array("QUI=".utf8)), .ok([0x41, 0x42]))
        XCTAssertEqual(Base64.decodeStandard(Array("QUJD\r\nREVG".utf8)), .ok(Array("ABCDEF".utf8)))
        XCTAssertEqual(Base64.decodeStandard(Array("".utf8)), .ok([]))
        for bad in ["QQ", "QQ=", "Q===", "QQ==QQ==", "QUJ", "QU J", "QQ-_", "=QQQ", "QQ=A"] {
            XCTAssertEqual(Base64.decodeStandard(Array(bad.utf8)), .invalid, bad)
        }
        XCTAssertEqual(Base64.decodeStandard(Array("QUJDREVG".utf8), limit: 5), .tooLarge)
        XCTAssertEqual(Base64.decodeStandard(Array("QUJDREU=".utf8), limit: 5), .ok(Array("ABCDE".utf8)))
        XCTAssertEqual(Base64.encodeURL([0xFB, 0xFF]), "-_8")
        XCTAssertEqual(Base64.encodeStandard([0xFB, 0xFF]), "+/8=")
        let random = (0..<100).map { UInt8(truncatingIfNeeded: $0 * 37) }
        XCTAssertEqual(Base64.decodeStandard(Array(Base64.encodeStandard(random).utf8)), .ok(random))
        XCTAssertEqual(Base64.encodeStandard(random), Data(random).base64EncodedString())
    }

    func testUvarint() {
        XCTAssertEqual(BuddyImageStore.uvarint(0), [0])
        XCTAssertEqual(BuddyImageStore.uvarint(1), [1])
        XCTAssertEqual(BuddyImageStore.uvarint(127), [0x7F])
        XCTAssertEqual(BuddyImageStore.uvarint(300), [0xAC, 0x02])
        XCTAssertEqual(BuddyImageStore.uvarint(UInt64.max).count, 10)
        XCTAssertEqual(BuddyImageStore.uvarint(1_700_000_000_000_000_000).count, 9)
        XCTAssertEqual(BuddyImageStore.changeId(unixNanoseconds: 300), "rAI")
    }
}
