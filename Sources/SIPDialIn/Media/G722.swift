// ITU-T G.722 (64 kbit/s sub-band ADPCM, 16 kHz audio) through spandsp's bit-exact codec, which passes the ITU
// test vectors. 16 kHz in and out is the bridge's mixing rate, so wideband phones need no resampling at all.
// RFC 3551 quirk: the RTP clock (SDP `G722/8000`, timestamps) runs at 8000 although the codec samples at 16 kHz;
// one byte carries two 16 kHz samples, so a 20 ms frame is 320 samples, 160 bytes and 160 timestamp ticks.

import CSpanDSP

enum G722Error: Error, Equatable { case library }

final class G722Encoder {
    private let state: OpaquePointer
    private var output: [UInt8] = []

    init() throws {
        guard let state = g722_encode_init(nil, 64000, 0) else { throw G722Error.library }
        self.state = state
    }

    deinit { g722_encode_free(state) }

    /// Encodes 16 kHz samples (two per output byte); the bytes are valid during `body`.
    func encode(_ pcm: UnsafeBufferPointer<Int16>, _ body: (UnsafeRawBufferPointer) -> Void) {
        guard let samples = pcm.baseAddress, !pcm.isEmpty else { return }
        let capacity = (pcm.count + 1) / 2
        if output.count < capacity { output = [UInt8](repeating: 0, count: capacity) }
        let length = output.withUnsafeMutableBufferPointer { out in
            g722_encode(state, out.baseAddress!, samples, Int32(pcm.count))
        }
        guard length > 0 else { return }
        output.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[0 ..< Int(length)])) }
    }
}

final class G722Decoder {
    private let state: OpaquePointer

    init() throws {
        guard let state = g722_decode_init(nil, 64000, 0) else { throw G722Error.library }
        self.state = state
    }

    deinit { g722_decode_free(state) }

    /// Decodes `payload` into `out` (replacing its contents): two 16 kHz samples per byte, any length.
    func decode(_ payload: UnsafeRawBufferPointer, into out: inout [Int16]) {
        let needed = payload.count * 2
        if out.count < needed { out.append(contentsOf: repeatElement(0, count: needed - out.count)) }
        guard let bytes = payload.bindMemory(to: UInt8.self).baseAddress, !payload.isEmpty else {
            out.removeAll(keepingCapacity: true)
            return
        }
        let count = out.withUnsafeMutableBufferPointer { buffer in
            g722_decode(state, buffer.baseAddress!, bytes, Int32(payload.count))
        }
        out.removeSubrange(max(0, Int(count)) ..< out.count)
    }
}
