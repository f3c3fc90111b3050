/// Generated placeholder avatars: hashed background colour plus a head-and-shoulders silhouette, anti-aliased
/// analytically (coverage from an approximate signed distance), no fonts involved.
public enum Avatar {
    /// 64-bit FNV-1a over the UTF-8 bytes: stable across runs and platforms (unlike `Hasher`).
    static func hash(_ name: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in name.utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        return h
    }

    /// Background colour for a name: hue from the hash, moderate saturation/lightness so white reads well on it.
    public static func backgroundColor(for name: String) -> (r: UInt8, g: UInt8, b: UInt8) {
        let h = hash(name)
        let hue = Double(h % 360)
        let saturation = 0.45 + Double((h >> 16) % 20) / 100 // 0.45 ..< 0.65
        let lightness = 0.42 + Double((h >> 32) % 10) / 100 // 0.42 ..< 0.52
        return hsl(hue, saturation, lightness)
    }

    public static func render(name: String, size: Int) -> RGBAImage {
        let bg = backgroundColor(for: name)
        // Silhouette colour: the background mixed 80 % towards white.
        let fg = (r: mix(bg.r, 255, 0.8), g: mix(bg.g, 255, 0.8), b: mix(bg.b, 255, 0.8))
        let s = Double(size)
        // Shapes in pixel units.
        let head = (cx: 0.5 * s, cy: 0.38 * s, r: 0.18 * s)
        let body = (cx: 0.5 * s, cy: 0.98 * s, rx: 0.34 * s, ry: 0.30 * s)
        var pixels = [UInt8](repeating: 255, count: size * size * 4)
        for y in 0..<size {
            let py = Double(y) + 0.5
            for x in 0..<size {
                let px = Double(x) + 0.5
                // Head: exact distance to the circle.
                let dh = ((px - head.cx) * (px - head.cx) + (py - head.cy) * (py - head.cy)).squareRoot() - head.r
                // Shoulders: ellipse, distance approximated by scaling the normalised radius.
                let ex = (px - body.cx) / body.rx, ey = (py - body.cy) / body.ry
                let db = ((ex * ex + ey * ey).squareRoot() - 1) * min(body.rx, body.ry)
                let coverage = max(0, min(1, 0.5 - min(dh, db)))
                let i = (y * size + x) * 4
                pixels[i] = mix(bg.r, fg.r, coverage)
                pixels[i + 1] = mix(bg.g, fg.g, coverage)
                pixels[i + 2] = mix(bg.b, fg.b, coverage)
                // pixels[i + 3] stays 255: opaque.
            }
        }
        return RGBAImage(width: size, height: size, pixels: pixels)
    }

    private static func mix(_ a: UInt8, _ b: UInt8, _ t: Double) -> UInt8 {
        let v = Double(a) + (Double(b) - Double(a)) * t
        return UInt8(max(0, min(255, v.rounded())))
    }

    private static func hsl(_ h: Double, _ s: Double, _ l: Double) -> (r: UInt8, g: UInt8, b: UInt8) {
        let c = (1 - abs(2 * l - 1)) * s
        let hp = h / 60
        let x = c * (1 - abs(hp.truncatingRemainder(dividingBy: 2) - 1))
        let (r1, g1, b1): (Double, Double, Double)
        switch hp {
        case ..<1: (r1, g1, b1) = (c, x, 0)
        case ..<2: (r1, g1, b1) = (x, c, 0)
        case ..<3: (r1, g1, b1) = (0, c, x)
        case ..<4: (r1, g1, b1) = (0, x, c)
        case ..<5: (r1, g1, b1) = (x, 0, c)
        default: (r1, g1, b1) = (c, 0, x)
        }
        let m = l - c / 2
        func byte(_ v: Double) -> UInt8 { UInt8(max(0, min(255, ((v + m) * 255).rounded()))) }
        return (byte(r1), byte(g1), byte(b1))
    }
}
