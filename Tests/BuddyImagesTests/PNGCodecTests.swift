import BuddyImages
import Foundation
import XCTest

/// Fixtures written with a few lines of Python (zlib + struct, no imaging library); see the comments for the
/// pixel formulas the tests check against.
enum Fixtures {
    /// 5×3, colour type 3 (palette), 4-bit, PLTE red/green/blue/(250,200,100), tRNS 255/128/0 (entry 3 opaque);
    /// index = (x + y) % 4.
    static let palette4 = png("iVBORw0KGgoAAAANSUhEUgAAAAUAAAADBAMAAACpGNjLAAAADFBMVEX/AAAA/wAAAP/6yGQKEUjlAAAAA3RSTlP/gAB/bWh4AAAAFElEQVR42mNgVGZgEDIQYFBmVAAAA+4Au6uFXzEAAAAASUVORK5CYII=")
    /// 11×9, colour type 2 (RGB), 8-bit, Adam7 interlaced, Sub filter; pixel = (x*20, y*25, x*y*7 % 256).
    static let interlacedRGB = png("iVBORw0KGgoAAAANSUhEUgAAAAsAAAAJCAIAAAEcAXHsAAAAfklEQVR42n3LsQ3CQBBE0T8RmaMlQCIjOZHhyD2QXEAJV4AbcBuO6YAWCK8Ml8IQYOzkpCfNajQr4AmiOt7KPnNdRCEzmhK+vpTK8OuqYzHRkzhvidnVY0uBqz9F3+1eojiGlWK+7v+r63ElTgSHBnH34tggJi8uDeLlxa3hA/2BJdBbdpG4AAAAAElFTkSuQmCC")
    /// 3×2, colour type 4 (grey + alpha), 16-bit; grey = x*30000 + y*5000, alpha = 65535 (row 0) / 32768 (row 1).
    static let grayAlpha16 = png("iVBORw0KGgoAAAANSUhEUgAAAAMAAAACEAQAAABn7XLSAAAAI0lEQVR42mNgYPj/v9Tg//9XCf//Mwh3NDB07Ghg+PuigQEAsT4NKrakj0sAAAAASUVORK5CYII=")
    /// 10×2, colour type 0 (grey), 1-bit; value = (x + y) % 2.
    static let gray1 = png("iVBORw0KGgoAAAANSUhEUgAAAAoAAAACAQAAAABJGnB9AAAADklEQVR42mMIdWBY1QAABIMBwP37T9kAAAAASUVORK5CYII=")

    static func png(_ b64: String) -> [UInt8] { [UInt8](Data(base64Encoded: b64)!) }

    /// 64×48: four quadrants (split at x = 32, y = 24): red, green / blue, white; opaque.
    static func quadrants(width: Int = 64, height: Int = 48) -> RGBAImage {
        var image = RGBAImage(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                let c: [UInt8]
                switch (x < width / 2, y < height / 2) {
                case (true, true): c = [255, 0, 0, 255]
                case (false, true): c = [0, 255, 0, 255]
                case (true, false): c = [0, 0, 255, 255]
                case (false, false): c = [255, 255, 255, 255]
                }
                image.pixels.replaceSubrange((y * width + x) * 4..<(y * width + x) * 4 + 4, with: c)
            }
        }
        return image
    }

    /// A gradient with varying (non-zero) alpha.
    static func gradient(width: Int, height: Int) -> RGBAImage {
        var image = RGBAImage(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                let i = (y * width + x) * 4
                image.pixels[i] = UInt8(x * 255 / max(1, width - 1))
                image.pixels[i + 1] = UInt8(y * 255 / max(1, height - 1))
                image.pixels[i + 2] = UInt8((x * 7 + y * 13) % 256)
                image.pixels[i + 3] = UInt8(255 - (x + y) % 200)
            }
        }
        return image
    }
}

/// Deterministic generator for the fuzz loops (SplitMix64).
struct SeededRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// CRC-32 (PNG/zlib polynomial) to build or repair chunks in tests.
func pngCRC32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        crc ^= UInt32(b)
        for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
    }
    return ~crc
}

/// Rewrites every chunk CRC so that mutations reach the decoder instead of failing the CRC check.
func fixCRCs(_ png: [UInt8]) -> [UInt8] {
    var out = png
    var p = 8
    while p + 12 <= out.count {
        let length = Int(out[p]) << 24 | Int(out[p + 1]) << 16 | Int(out[p + 2]) << 8 | Int(out[p + 3])
        guard length >= 0, p + 12 + length <= out.count else { break }
        let crc = pngCRC32(out[(p + 4)..<(p + 8 + length)])
        out[p + 8 + length] = UInt8(crc >> 24)
        out[p + 9 + length] = UInt8(crc >> 16 & 0xFF)
        out[p + 10 + length] = UInt8(crc >> 8 & 0xFF)
        out[p + 11 + length] = UInt8(crc & 0xFF)
        p += 12 + length
    }
    return out
}

func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
    let typeBytes = Array(type.utf8)
    let n = UInt32(data.count)
    let crc = pngCRC32((typeBytes + data)[...])
    return [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + typeBytes + data
        + [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]
}

/// A PNG whose IHDR claims `width`×`height` (valid CRCs) followed by a tiny IDAT and IEND.
func pngClaiming(width: UInt32, height: UInt32) -> [UInt8] {
    func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
    let ihdr = be(width) + be(height) + [8, 6, 0, 0, 0]
    // zlib stream of an empty stored block: not enough data for any row.
    let idat: [UInt8] = [0x78, 0x01, 0x01, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x01]
    return PNGCodec.signature + chunk("IHDR", ihdr) + chunk("IDAT", idat) + chunk("IEND", [])
}

final class PNGCodecTests: XCTestCase {
    func testRoundTrip1x1() throws {
        let image = RGBAImage(width: 1, height: 1, pixels: [10, 20, 30, 40])
        let png = try PNGCodec.encode(image)
        XCTAssertEqual(Array(png.prefix(8)), PNGCodec.signature)
        XCTAssertTrue(PNGCodec.dimensions(png)! == (1, 1))
        XCTAssertEqual(try PNGCodec.decode(png), image)
    }

    func testRoundTrip64x48() throws {
        let image = Fixtures.gradient(width: 64, height: 48)
        let png = try PNGCodec.encode(image)
        XCTAssertTrue(PNGCodec.dimensions(png)! == (64, 48))
        let decoded = try PNGCodec.decode(png)
        XCTAssertEqual(decoded.width, 64)
        XCTAssertEqual(decoded.height, 48)
        XCTAssertEqual(decoded.pixels, image.pixels)
    }

    func testRoundTripFullyTransparentAndOpaque() throws {
        var image = Fixtures.quadrants(width: 8, height: 6)
        for i in stride(from: 3, to: image.pixels.count, by: 8) { image.pixels[i] = 0 } // every other pixel clear
        let decoded = try PNGCodec.decode(PNGCodec.encode(image))
        XCTAssertEqual(decoded.width, 8)
        for p in 0..<(8 * 6) {
            let a = image.pixels[p * 4 + 3]
            XCTAssertEqual(decoded.pixels[p * 4 + 3], a, "alpha of pixel \(p)")
            if a != 0 { XCTAssertEqual(Array(decoded.pixels[p * 4..<p * 4 + 3]), Array(image.pixels[p * 4..<p * 4 + 3])) }
        }
    }

    func testEncodeRejectsInconsistentImages() {
        XCTAssertThrowsError(try PNGCodec.encode(RGBAImage(width: 0, height: 5)))
        XCTAssertThrowsError(try PNGCodec.encode(RGBAImage(width: 2, height: 2, pixels: [1, 2, 3])))
        XCTAssertThrowsError(try PNGCodec.encode(RGBAImage(width: -1, height: 2, pixels: [])))
    }

    func testDecodePaletteWithTransparency() throws {
        let image = try PNGCodec.decode(Fixtures.palette4)
        XCTAssertEqual(image.width, 5)
        XCTAssertEqual(image.height, 3)
        let palette: [(UInt8, UInt8, UInt8, UInt8)] = [(255, 0, 0, 255), (0, 255, 0, 128), (0, 0, 255, 0), (250, 200, 100, 255)]
        for y in 0..<3 {
            for x in 0..<5 {
                let expected = palette[(x + y) % 4]
                let p = image.pixel(x: x, y: y)
                XCTAssertEqual(p.a, expected.3, "alpha at \(x),\(y)")
                if expected.3 != 0 {
                    XCTAssertEqual([p.r, p.g, p.b], [expected.0, expected.1, expected.2], "colour at \(x),\(y)")
                }
            }
        }
    }

    func testDecodeInterlacedRGB() throws {
        let image = try PNGCodec.decode(Fixtures.interlacedRGB)
        XCTAssertEqual(image.width, 11)
        XCTAssertEqual(image.height, 9)
        for y in 0..<9 {
            for x in 0..<11 {
                let p = image.pixel(x: x, y: y)
                XCTAssertEqual([p.r, p.g, p.b, p.a], [UInt8(x * 20), UInt8(y * 25), UInt8(x * y * 7 % 256), 255], "\(x),\(y)")
            }
        }
    }

    func testDecodeGrayAlpha16() throws {
        let image = try PNGCodec.decode(Fixtures.grayAlpha16)
        XCTAssertEqual(image.width, 3)
        XCTAssertEqual(image.height, 2)
        for y in 0..<2 {
            for x in 0..<3 {
                let p = image.pixel(x: x, y: y)
                let grey = Int((x * 30000 + y * 5000) & 0xFFFF) * 255 / 65535
                let alpha = y == 0 ? 255 : 128
                XCTAssertEqual(p.r, p.g)
                XCTAssertEqual(p.g, p.b)
                XCTAssertLessThanOrEqual(abs(Int(p.a) - alpha), 1, "alpha at \(x),\(y)")
                XCTAssertLessThanOrEqual(abs(Int(p.r) - grey), 2, "grey at \(x),\(y): \(p.r) vs \(grey)")
            }
        }
    }

    func testDecodeGray1Bit() throws {
        let image = try PNGCodec.decode(Fixtures.gray1)
        XCTAssertEqual(image.width, 10)
        XCTAssertEqual(image.height, 2)
        for y in 0..<2 {
            for x in 0..<10 {
                let v: UInt8 = (x + y) % 2 == 0 ? 0 : 255
                let p = image.pixel(x: x, y: y)
                XCTAssertEqual([p.r, p.g, p.b, p.a], [v, v, v, 255])
            }
        }
    }

    // MARK: Resizing

    func testResize64x48To46() throws {
        let source = try PNGCodec.decode(PNGCodec.encode(Fixtures.quadrants()))
        let small = PNGCodec.resized(source, toSquare: 46)
        XCTAssertEqual(small.width, 46)
        XCTAssertEqual(small.height, 46)
        XCTAssertEqual(small.pixels.count, 46 * 46 * 4)
        // The 48×48 centre crop keeps the quadrants symmetric: corners are pure, the centre line is mixed.
        XCTAssertEqual([small.pixel(x: 0, y: 0).r, small.pixel(x: 0, y: 0).g, small.pixel(x: 0, y: 0).b], [255, 0, 0])
        XCTAssertEqual([small.pixel(x: 45, y: 0).r, small.pixel(x: 45, y: 0).g, small.pixel(x: 45, y: 0).b], [0, 255, 0])
        XCTAssertEqual([small.pixel(x: 0, y: 45).r, small.pixel(x: 0, y: 45).g, small.pixel(x: 0, y: 45).b], [0, 0, 255])
        XCTAssertEqual([small.pixel(x: 45, y: 45).r, small.pixel(x: 45, y: 45).g, small.pixel(x: 45, y: 45).b], [255, 255, 255])
        XCTAssertTrue(small.pixels.enumerated().allSatisfy { $0.offset % 4 != 3 || $0.element == 255 }, "stays opaque")
        // Output column 22 covers crop columns [22.96, 24.0) = original 31 (red); column 23 covers [24.0, 25.04) =
        // original 32–33 (green): the quadrant edge falls exactly between output pixels.
        XCTAssertEqual(small.pixel(x: 22, y: 10).r, 255)
        XCTAssertEqual(small.pixel(x: 22, y: 10).g, 0)
        XCTAssertEqual(small.pixel(x: 23, y: 10).r, 0)
        XCTAssertEqual(small.pixel(x: 23, y: 10).g, 255)
        // Shrinking a wholly uniform image keeps the colour exactly.
        let uniform = RGBAImage(width: 37, height: 53, pixels: [UInt8](repeating: 0, count: 37 * 53).flatMap { _ in [12, 34, 56, 255] as [UInt8] })
        let u = PNGCodec.resized(uniform, toSquare: 20)
        XCTAssertTrue(stride(from: 0, to: u.pixels.count, by: 4).allSatisfy { Array(u.pixels[$0..<$0 + 4]) == [12, 34, 56, 255] })
    }

    func testResizeAveragesAndMixes() {
        // 2×2 checkerboard black/white → 1×1 mid-grey.
        let checker = RGBAImage(width: 2, height: 2, pixels: [0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 255])
        let one = PNGCodec.resized(checker, toSquare: 1)
        XCTAssertEqual(one.width, 1)
        XCTAssertEqual(Int(one.pixels[0]), 128, accuracy: 1)
        XCTAssertEqual(one.pixels[3], 255)
        // 4×2 → centred 2×2 crop (columns 1–2, red) at the same size: the crop itself.
        let wide = RGBAImage(width: 4, height: 2, pixels: [
            9, 9, 9, 255, 255, 0, 0, 255, 255, 0, 0, 255, 9, 9, 9, 255,
            9, 9, 9, 255, 255, 0, 0, 255, 255, 0, 0, 255, 9, 9, 9, 255,
        ])
        XCTAssertEqual(PNGCodec.resized(wide, toSquare: 2).pixels, [UInt8](repeating: 0, count: 4).flatMap { _ in [255, 0, 0, 255] as [UInt8] })
    }

    func testResizeTransparentPixelsDoNotDarken() {
        // Left half opaque red, right half transparent black → red with half alpha, not dark red.
        let image = RGBAImage(width: 2, height: 2, pixels: [255, 0, 0, 255, 0, 0, 0, 0, 255, 0, 0, 255, 0, 0, 0, 0])
        let p = PNGCodec.resized(image, toSquare: 1).pixel(x: 0, y: 0)
        XCTAssertEqual(p.r, 255)
        XCTAssertEqual(Int(p.a), 128, accuracy: 1)
    }

    func testUpscaleBilinear() {
        let image = RGBAImage(width: 2, height: 2, pixels: [0, 0, 0, 255, 200, 0, 0, 255, 0, 0, 0, 255, 200, 0, 0, 255])
        let big = PNGCodec.resized(image, toSquare: 8)
        XCTAssertEqual(big.width, 8)
        XCTAssertEqual(big.pixel(x: 0, y: 0).r, 0)
        XCTAssertEqual(big.pixel(x: 7, y: 7).r, 200)
        var previous = -1
        for x in 0..<8 { // monotonic ramp along x
            let r = Int(big.pixel(x: x, y: 3).r)
            XCTAssertGreaterThanOrEqual(r, previous)
            previous = r
        }
        XCTAssertEqual(Int(big.pixel(x: 3, y: 3).r) + Int(big.pixel(x: 4, y: 3).r), 200, accuracy: 2)
    }

    func testResizeClampsSizeAndHandlesEmpty() {
        let image = Fixtures.gradient(width: 3, height: 3)
        XCTAssertEqual(PNGCodec.resized(image, toSquare: 0).width, 1)
        XCTAssertEqual(PNGCodec.resized(image, toSquare: 100_000).width, 512)
        let empty = PNGCodec.resized(RGBAImage(width: 0, height: 0), toSquare: 4)
        XCTAssertEqual(empty.width, 4)
        XCTAssertEqual(empty.pixels, [UInt8](repeating: 0, count: 64))
        XCTAssertEqual(PNGCodec.resized(image, toSquare: 3), image)
    }

    // MARK: Malformed input

    func testTruncatedInputThrows() throws {
        let png = try PNGCodec.encode(Fixtures.gradient(width: 64, height: 48))
        for length in 0..<png.count - 12 { // anything shorter than "...IEND" cut before the image data ends
            XCTAssertThrowsError(try PNGCodec.decode(Array(png.prefix(length))), "length \(length)")
        }
        XCTAssertThrowsError(try PNGCodec.decode([]))
    }

    func testRandomBytesThrow() {
        var rng = SeededRNG(seed: 42)
        for i in 0..<200 {
            let count = Int.random(in: 0...300, using: &rng)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if i % 2 == 0 { bytes = PNGCodec.signature + bytes } // get past the signature check half the time
            XCTAssertThrowsError(try PNGCodec.decode(bytes))
        }
    }

    func testHugeDimensionsRejectedBeforeInflating() {
        XCTAssertThrowsError(try PNGCodec.decode(pngClaiming(width: 100_000, height: 100_000))) { error in
            XCTAssertEqual(error as? PNGError, .tooLarge(width: 100_000, height: 100_000))
        }
        XCTAssertThrowsError(try PNGCodec.decode(pngClaiming(width: 5000, height: 1))) { error in
            XCTAssertEqual(error as? PNGError, .tooLarge(width: 5000, height: 1))
        }
        // Within limits but with no image data: libpng's error, not a crash.
        XCTAssertThrowsError(try PNGCodec.decode(pngClaiming(width: 300, height: 200))) { error in
            guard case .invalid = error as? PNGError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try PNGCodec.decode(pngClaiming(width: 0, height: 10)))
    }

    func testRandomMutationsNeverCrash() throws {
        let sources = [
            try PNGCodec.encode(Fixtures.gradient(width: 64, height: 48)),
            Fixtures.interlacedRGB, Fixtures.palette4, Fixtures.grayAlpha16,
        ]
        var rng = SeededRNG(seed: 0x5EED)
        var decoded = 0, failed = 0
        for i in 0..<2000 {
            var bytes = sources[i % sources.count]
            let mutations = Int.random(in: 1...6, using: &rng)
            for _ in 0..<mutations {
                let pos = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: bytes[pos] = UInt8.random(in: 0...255, using: &rng)
                case 1: bytes[pos] ^= 1 << UInt8.random(in: 0...7, using: &rng)
                case 2: bytes.remove(at: pos)
                default: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: pos)
                }
                if bytes.isEmpty { bytes = [0] }
            }
            // Half the time repair the CRCs so the mutation reaches IHDR parsing and inflate.
            if i % 2 == 1 { bytes = fixCRCs(bytes) }
            do {
                let image = try PNGCodec.decode(bytes)
                XCTAssertEqual(image.pixels.count, image.width * image.height * 4)
                XCTAssertLessThanOrEqual(image.width, PNGCodec.maxDimension)
                decoded += 1
            } catch {
                XCTAssertNotNil(error as? PNGError)
                failed += 1
            }
        }
        XCTAssertEqual(decoded + failed, 2000)
        XCTAssertGreaterThan(failed, 0)
    }
}
