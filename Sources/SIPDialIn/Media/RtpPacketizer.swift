// Builds the RTP packets the bridge originates (towards a phone, and the phone's tracks into the room): our own
// SSRC, sequence numbers and timestamps, optionally the RFC 6464 audio level so the room sees who speaks.

struct RtpPacketizer {
    let ssrc: UInt32
    let payloadType: UInt8
    private(set) var sequenceNumber = UInt16.random(in: 0 ... 0x7FFF)
    private(set) var timestamp = UInt32.random(in: 0 ... .max)
    /// One-byte extension id for the audio level (0: none).
    let audioLevelID: UInt8
    private var buffer = [UInt8](repeating: 0, count: 1500)
    private(set) var packetsSent = 0

    init(ssrc: UInt32 = UInt32.random(in: 1 ... .max), payloadType: UInt8, audioLevelID: UInt8 = 0) {
        self.ssrc = ssrc
        self.payloadType = payloadType
        self.audioLevelID = audioLevelID
    }

    /// Writes one packet with `payload` and hands it to `send` (the bytes are valid during the call), then
    /// advances the timestamp by `ticks`.
    mutating func packetize(_ payload: UnsafeRawBufferPointer, ticks: UInt32, marker: Bool = false, level: UInt8? = nil,
                            _ send: (UnsafeMutableRawBufferPointer) -> Void) {
        let headerLength = audioLevelID != 0 && level != nil ? 20 : 12
        guard headerLength + payload.count <= buffer.count else { return }
        let (ssrc, pt, seq, ts, levelID) = (ssrc, payloadType, sequenceNumber, timestamp, audioLevelID)
        buffer.withUnsafeMutableBytes { out in
            out[0] = headerLength == 20 ? 0x90 : 0x80
            out[1] = (marker ? 0x80 : 0) | pt
            out[2] = UInt8(seq >> 8); out[3] = UInt8(seq & 0xFF)
            out[4] = UInt8(ts >> 24); out[5] = UInt8((ts >> 16) & 0xFF); out[6] = UInt8((ts >> 8) & 0xFF); out[7] = UInt8(ts & 0xFF)
            out[8] = UInt8(ssrc >> 24); out[9] = UInt8((ssrc >> 16) & 0xFF); out[10] = UInt8((ssrc >> 8) & 0xFF); out[11] = UInt8(ssrc & 0xFF)
            if headerLength == 20, let level {
                out[12] = 0xBE; out[13] = 0xDE; out[14] = 0; out[15] = 1
                out[16] = levelID << 4 // length 1 - 1 = 0
                out[17] = level & 0x7F
                out[18] = 0; out[19] = 0
            }
            UnsafeMutableRawBufferPointer(rebasing: out[headerLength ..< (headerLength + payload.count)]).copyMemory(from: payload)
            send(UnsafeMutableRawBufferPointer(rebasing: out[0 ..< (headerLength + payload.count)]))
        }
        sequenceNumber &+= 1
        timestamp &+= ticks
        packetsSent += 1
    }

    /// Skips time without sending (silence while nobody speaks keeps the timestamp running).
    mutating func advance(ticks: UInt32) { timestamp &+= ticks }
}

/// RFC 6464 level of a frame: −dBov, 0 (loudest) … 127 (silence).
func audioLevel(of frame: ArraySlice<Float>) -> UInt8 {
    guard !frame.isEmpty else { return 127 }
    var energy: Float = 0
    for s in frame { energy += s * s }
    let rms = (energy / Float(frame.count)).squareRoot() / 32768
    guard rms > 0 else { return 127 }
    let dbov = -20 * log10f(rms)
    return UInt8(max(0, min(127, dbov.rounded())))
}

import Foundation
