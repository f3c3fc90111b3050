// 8 kHz ↔ 16 kHz conversion for narrowband phones: the bridge mixes at 16 kHz (wideband, what G.722 and our Opus
// encoder use), phones on G.711 run at 8 kHz. A 2× polyphase half-band FIR (windowed sinc, 31 taps) is enough:
// it keeps 0–3.4 kHz flat and stops images/aliases above 4 kHz by > 50 dB. Written by hand because it is
// 40 lines and the libraries that do it (libsamplerate, speexdsp) are not among our dependencies.

import Foundation

struct HalfBandFilter {
    static let taps: [Float] = {
        let n = 31, center = 15
        var h = [Float](repeating: 0, count: n)
        for i in 0 ..< n {
            let k = Double(i - center)
            let sinc = k == 0 ? 0.5 : sin(Double.pi * k / 2) / (Double.pi * k)
            let window = 0.42 - 0.5 * cos(2 * Double.pi * Double(i) / Double(n - 1)) + 0.08 * cos(4 * Double.pi * Double(i) / Double(n - 1))
            h[i] = Float(sinc * window)
        }
        let sum = h.reduce(0, +)
        return h.map { $0 / sum }
    }()
}

/// The filter's delay line: each sample is stored twice (at `position` and `position + 31`), so the newest 31
/// samples are always contiguous and the dot product needs no index wrapping and no shifting.
struct DelayLine {
    private var samples = [Float](repeating: 0, count: 62)
    private var position = 0

    @inline(__always) mutating func push(_ x: Float) {
        position = position == 30 ? 0 : position + 1
        samples[position] = x
        samples[position + 31] = x
    }

    /// Σ h[k]·x[n−k] over the 31 newest samples (x[n] the last pushed).
    @inline(__always) func filter(_ h: [Float]) -> Float {
        var acc: Float = 0
        samples.withUnsafeBufferPointer { x in
            h.withUnsafeBufferPointer { taps in
                // Oldest sample first: x[position + 1 ... position + 31] is x[n−30] ... x[n].
                for k in 0 ..< 31 { acc += x[position + 1 + k] * taps[30 - k] }
            }
        }
        return acc
    }
}

/// 8 kHz → 16 kHz: zero-stuff and filter (the filter's gain is doubled to keep the level).
struct Upsampler {
    private var line = DelayLine()

    mutating func process(_ input: [Int16], into out: inout [Float]) {
        out.removeAll(keepingCapacity: true)
        let h = HalfBandFilter.taps
        for sample in input {
            line.push(Float(sample) * 2)
            out.append(line.filter(h))
            line.push(0)
            out.append(line.filter(h))
        }
    }
}

/// 16 kHz → 8 kHz: filter, keep every other sample.
struct Downsampler {
    private var line = DelayLine()
    private var odd = false

    mutating func process(_ input: ArraySlice<Float>, into out: inout [Int16]) {
        out.removeAll(keepingCapacity: true)
        let h = HalfBandFilter.taps
        for sample in input {
            line.push(sample)
            if !odd { out.append(clampToInt16(line.filter(h))) }
            odd.toggle()
        }
    }
}

@inline(__always) func clampToInt16(_ value: Float) -> Int16 {
    Int16(max(-32768, min(32767, value.rounded())))
}
