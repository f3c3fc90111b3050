// libopus behind two small classes. Browsers' Opus is decoded at the bridge's 16 kHz mixing rate (libopus
// resamples internally), and the phone's voice is encoded at 16 kHz for the room (RTP clock 48 kHz as RFC 7587 says).

import COpus

enum OpusError: Error, Equatable { case library(Int32) }

final class OpusEncoder {
    private let state: OpaquePointer
    let sampleRate: Int32
    private var output = [UInt8](repeating: 0, count: 1500)

    init(sampleRate: Int32 = 16000, bitrate: Int32 = 32000, complexity: Int32 = 5) throws {
        var error: Int32 = 0
        guard let state = opus_encoder_create(sampleRate, 1, OPUS_APPLICATION_VOIP, &error), error == OPUS_OK else {
            throw OpusError.library(error)
        }
        self.state = state
        self.sampleRate = sampleRate
        _ = copus_set_bitrate(state, bitrate)
        _ = copus_set_complexity(state, complexity)
        _ = copus_set_signal_voice(state)
        // In-band FEC lets browsers conceal a lost packet from the next one.
        _ = copus_set_inband_fec(state, 1)
        _ = copus_set_packet_loss_perc(state, 5)
    }

    deinit { opus_encoder_destroy(state) }

    /// Encodes one frame (20 ms: `sampleRate / 50` samples); the returned bytes are valid until the next call.
    func encode(_ pcm: UnsafeBufferPointer<Int16>, _ body: (UnsafeRawBufferPointer) -> Void) throws {
        guard let samples = pcm.baseAddress else { throw OpusError.library(OPUS_BAD_ARG) }
        let length = output.withUnsafeMutableBufferPointer { out in
            opus_encode(state, samples, Int32(pcm.count), out.baseAddress!, Int32(out.count))
        }
        guard length > 0 else { throw OpusError.library(length) }
        output.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[0 ..< Int(length)])) }
    }
}

final class OpusDecoder {
    private let state: OpaquePointer
    let sampleRate: Int32

    init(sampleRate: Int32 = 16000) throws {
        var error: Int32 = 0
        guard let state = opus_decoder_create(sampleRate, 1, &error), error == OPUS_OK else { throw OpusError.library(error) }
        self.state = state
        self.sampleRate = sampleRate
    }

    deinit { opus_decoder_destroy(state) }

    /// Decodes one packet into `out` (replacing its contents); `nil` asks for packet-loss concealment of one
    /// 20 ms frame. Returns the sample count, or 0 for an undecodable packet.
    @discardableResult
    func decode(_ packet: UnsafeRawBufferPointer?, into out: inout [Int16]) -> Int {
        let maxSamples = Int(sampleRate) * 120 / 1000 // the longest Opus packet: 120 ms
        if out.count < maxSamples { out = [Int16](repeating: 0, count: maxSamples) }
        let frame = packet == nil ? Int32(sampleRate / 50) : Int32(maxSamples)
        let count = out.withUnsafeMutableBufferPointer { buffer -> Int32 in
            opus_decode(state, packet?.bindMemory(to: UInt8.self).baseAddress, Int32(packet?.count ?? 0),
                        buffer.baseAddress!, frame, 0)
        }
        guard count > 0 else { return 0 }
        return Int(count)
    }
}
