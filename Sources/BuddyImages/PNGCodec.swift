import CPNG

/// An 8-bit-per-channel RGBA bitmap, rows top to bottom, no padding, colours not premultiplied (sRGB).
public struct RGBAImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// `width * height * 4` bytes: R, G, B, A per pixel.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A transparent-black (all zero) image.
    public init(width: Int, height: Int) {
        self.init(width: width, height: height, pixels: [UInt8](repeating: 0, count: max(0, width) * max(0, height) * 4))
    }

    /// The RGBA value at (x, y); no bounds checking beyond Swift's array check.
    public func pixel(x: Int, y: Int) -> (r: UInt8, g: UInt8, b: UInt8, a: UInt8) {
        let i = (y * width + x) * 4
        return (pixels[i], pixels[i + 1], pixels[i + 2], pixels[i + 3])
    }
}

public enum PNGError: Error, Equatable, CustomStringConvertible {
    /// Not a PNG, corrupt or truncated data; the message is libpng's.
    case invalid(String)
    /// The header declares more pixels than `PNGCodec.maxDimension` allows (decompression-bomb guard).
    case tooLarge(width: Int, height: Int)
    /// The `RGBAImage` handed to `encode` is inconsistent (zero/negative size, wrong pixel count, too large).
    case badImage(String)
    /// libpng failed while writing.
    case encodeFailed(String)

    public var description: String {
        switch self {
        case .invalid(let m): return "invalid PNG: \(m)"
        case .tooLarge(let w, let h): return "PNG too large: \(w)x\(h)"
        case .badImage(let m): return "bad image: \(m)"
        case .encodeFailed(let m): return "PNG encoding failed: \(m)"
        }
    }
}

/// PNG decoding/encoding through libpng's *simplified* API (libpng ≥ 1.6; Debian 12 ships 1.6.39).
///
/// Why the simplified API: libpng's classic API reports errors by calling `longjmp` back to a `setjmp` made by the
/// caller (or `abort()`s when there is none). Swift cannot call `setjmp` at all (functions that "return twice" are
/// not imported), and a `longjmp` across Swift frames would skip ARC releases, `defer` blocks and exclusivity
/// bookkeeping — undefined behaviour that shows up as leaks or crashes. We would need a C shim for every call. The
/// simplified API (`png_image_*`) does its `setjmp`/`longjmp` entirely inside libpng (`png_safe_execute`) and
/// reports failure as a zero return value plus a message in `png_image.message`, so it is safe to call directly.
///
/// Reading with `format = PNG_FORMAT_RGBA` performs the normalisation the classic API would need
/// `png_set_expand`/`png_set_palette_to_rgb`, `png_set_strip_16`, `png_set_gray_to_rgb`, `png_set_add_alpha`/tRNS
/// expansion and `png_set_interlace_handling` for: palette, grey (1–16 bit), 16-bit, Adam7 interlaced, with or
/// without alpha/tRNS.
public enum PNGCodec {
    /// Largest accepted width and height (and pixel count `maxDimension²`): a 4096×4096 RGBA bitmap is 64 MiB.
    /// A tiny PNG can declare a huge image whose IDAT inflates to gigabytes; we check the header before inflating.
    public static let maxDimension = 4096

    /// The eight-byte PNG signature.
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    // PNG_FORMAT_RGBA = PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA (composite macro, spelled out here).
    private static let formatRGBA: UInt32 = 0x02 | 0x01
    private static let flag16BitSRGB: UInt32 = 0x04 // PNG_IMAGE_FLAG_16BIT_sRGB

    /// Decodes any valid PNG into 8-bit RGBA. Throws `PNGError` for anything else; never traps on bad input.
    public static func decode(_ bytes: [UInt8], maxDimension: Int = PNGCodec.maxDimension) throws -> RGBAImage {
        guard bytes.count >= 8, Array(bytes[0..<8]) == signature else {
            throw PNGError.invalid("missing PNG signature")
        }
        return try bytes.withUnsafeBytes { raw -> RGBAImage in
            var image = png_image()
            image.version = UInt32(PNG_IMAGE_VERSION)
            image.opaque = nil
            // libpng keeps reading from `raw` until png_image_finish_read/png_image_free, so everything happens
            // inside this closure.
            defer { png_image_free(&image) }
            guard png_image_begin_read_from_memory(&image, raw.baseAddress, raw.count) != 0 else {
                throw PNGError.invalid(message(of: &image))
            }
            let width = Int(image.width), height = Int(image.height)
            guard width > 0, height > 0 else { throw PNGError.invalid("empty image") }
            guard width <= maxDimension, height <= maxDimension else {
                throw PNGError.tooLarge(width: width, height: height)
            }
            // 16-bit files without gAMA/sRGB: treat the samples as sRGB (what browsers do), not linear.
            image.flags |= flag16BitSRGB
            image.format = formatRGBA
            var pixels = [UInt8](repeating: 0, count: width * height * 4)
            let ok = pixels.withUnsafeMutableBytes { out in
                png_image_finish_read(&image, nil, out.baseAddress, Int32(width * 4), nil)
            }
            guard ok != 0 else { throw PNGError.invalid(message(of: &image)) }
            return RGBAImage(width: width, height: height, pixels: pixels)
        }
    }

    /// Width and height from the IHDR chunk without inflating anything (nil when not a PNG).
    public static func dimensions(_ bytes: [UInt8]) -> (width: Int, height: Int)? {
        guard bytes.count >= 24, Array(bytes[0..<8]) == signature,
              bytes[12] == 0x49, bytes[13] == 0x48, bytes[14] == 0x44, bytes[15] == 0x52 else { return nil }
        func be32(_ o: Int) -> Int {
            Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
        }
        return (be32(16), be32(20))
    }

    /// Encodes an 8-bit RGBA image as a non-interlaced 8-bit RGBA PNG (with an sRGB chunk, as libpng writes it).
    public static func encode(_ image: RGBAImage) throws -> [UInt8] {
        let w = image.width, h = image.height
        guard w > 0, h > 0 else { throw PNGError.badImage("size \(w)x\(h)") }
        guard w <= 1 << 16, h <= 1 << 16, w * h <= 1 << 28 else { throw PNGError.badImage("size \(w)x\(h) too large") }
        guard image.pixels.count == w * h * 4 else {
            throw PNGError.badImage("expected \(w * h * 4) bytes, got \(image.pixels.count)")
        }
        return try image.pixels.withUnsafeBytes { src -> [UInt8] in
            // Raw data plus one filter byte per row, plus zlib/chunk overhead: almost always enough for one pass.
            var capacity = w * h * 4 + h + (w * h * 4) / 64 + 1024
            for _ in 0..<2 {
                var png = png_image()
                png.version = UInt32(PNG_IMAGE_VERSION)
                png.opaque = nil
                png.width = UInt32(w)
                png.height = UInt32(h)
                png.format = formatRGBA
                png.flags = 0
                var out = [UInt8](repeating: 0, count: capacity)
                var size = capacity
                let ok = out.withUnsafeMutableBytes { dst in
                    png_image_write_to_memory(&png, dst.baseAddress, &size, 0, src.baseAddress, Int32(w * 4), nil)
                }
                let msg = message(of: &png)
                png_image_free(&png)
                if ok != 0 {
                    out.removeSubrange(size...)
                    return out
                }
                // Failure with a larger size reported means "buffer too small": retry once with that size.
                guard size > capacity else { throw PNGError.encodeFailed(msg) }
                capacity = size
            }
            throw PNGError.encodeFailed("output buffer too small")
        }
    }

    private static func message(of image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            let end = bytes.firstIndex(of: 0) ?? bytes.count
            let text = String(decoding: bytes[..<end], as: UTF8.self)
            return text.isEmpty ? "libpng error" : text
        }
    }
}

// MARK: - Resizing

extension PNGCodec {
    /// Sizes accepted by `resized(_:toSquare:)` and the store's renditions.
    public static let renditionSizes: ClosedRange<Int> = 1...512

    /// Center-crops `image` to a square (the shorter side) and scales it to `size`×`size` (clamped to 1...512):
    /// exact area averaging when shrinking, bilinear interpolation when enlarging. Averaging is done on
    /// alpha-premultiplied values so transparent pixels do not darken edges. An empty input gives a transparent
    /// square.
    public static func resized(_ image: RGBAImage, toSquare size: Int) -> RGBAImage {
        let size = min(max(size, renditionSizes.lowerBound), renditionSizes.upperBound)
        let side = min(image.width, image.height)
        guard side > 0, image.pixels.count >= image.width * image.height * 4 else {
            return RGBAImage(width: size, height: size)
        }
        let x0 = (image.width - side) / 2, y0 = (image.height - side) / 2
        let taps = axisWeights(source: side, target: size)
        var out = [UInt8](repeating: 0, count: size * size * 4)
        var rowAcc = [Float](repeating: 0, count: size * 4)
        var hRow = [Float](repeating: 0, count: size * 4)
        let src = image.pixels
        let stride = image.width * 4
        for oy in 0..<size {
            for i in rowAcc.indices { rowAcc[i] = 0 }
            let (yStart, yWeights) = taps[oy]
            for (dy, wy) in yWeights.enumerated() where wy != 0 {
                let rowBase = (y0 + yStart + dy) * stride + x0 * 4
                // Horizontal pass over one source row, premultiplied.
                for ox in 0..<size {
                    let (xStart, xWeights) = taps[ox]
                    var r: Float = 0, g: Float = 0, b: Float = 0, a: Float = 0
                    var p = rowBase + xStart * 4
                    for wx in xWeights {
                        let alpha = Float(src[p + 3])
                        let wa = wx * alpha
                        r += wa * Float(src[p]); g += wa * Float(src[p + 1]); b += wa * Float(src[p + 2])
                        a += wa
                        p += 4
                    }
                    hRow[ox * 4] = r; hRow[ox * 4 + 1] = g; hRow[ox * 4 + 2] = b; hRow[ox * 4 + 3] = a
                }
                for i in 0..<(size * 4) { rowAcc[i] += wy * hRow[i] }
            }
            for ox in 0..<size {
                let a = rowAcc[ox * 4 + 3]
                let o = (oy * size + ox) * 4
                if a > 0.5 / 255 {
                    out[o] = clampByte(rowAcc[ox * 4] / a)
                    out[o + 1] = clampByte(rowAcc[ox * 4 + 1] / a)
                    out[o + 2] = clampByte(rowAcc[ox * 4 + 2] / a)
                    out[o + 3] = clampByte(a)
                }
            }
        }
        return RGBAImage(width: size, height: size, pixels: out)
    }

    @inline(__always)
    private static func clampByte(_ v: Float) -> UInt8 {
        let r = (v + 0.5).rounded(.down)
        return r <= 0 ? 0 : (r >= 255 ? 255 : UInt8(r))
    }

    /// For every target index: the first source index and the normalised weights of consecutive source samples.
    private static func axisWeights(source: Int, target: Int) -> [(Int, [Float])] {
        var result: [(Int, [Float])] = []
        result.reserveCapacity(target)
        let scale = Double(source) / Double(target)
        if source == target {
            for i in 0..<target { result.append((i, [1])) }
        } else if source > target {
            // Box filter: target pixel i covers source interval [i*scale, (i+1)*scale).
            for i in 0..<target {
                let lo = Double(i) * scale, hi = Double(i + 1) * scale
                let first = Int(lo.rounded(.down))
                let last = min(source - 1, Int((hi - 1e-9).rounded(.down)))
                var weights: [Float] = []
                for s in first...max(first, last) {
                    let cover = min(hi, Double(s + 1)) - max(lo, Double(s))
                    weights.append(Float(max(0, cover) / scale))
                }
                result.append((first, weights))
            }
        } else {
            // Bilinear: sample at the target pixel centre mapped into source coordinates.
            for i in 0..<target {
                let pos = min(max((Double(i) + 0.5) * scale - 0.5, 0), Double(source - 1))
                let first = min(Int(pos.rounded(.down)), source - 1)
                let frac = Float(pos - Double(first))
                if first + 1 < source, frac > 0 {
                    result.append((first, [1 - frac, frac]))
                } else {
                    result.append((first, [1]))
                }
            }
        }
        return result
    }
}
