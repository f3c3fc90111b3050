// Synthetic RTP that an SFU cannot tell from a browser's: VP8 at 1.5 Mbit/s, 30 fps, a keyframe every 2 s, with
// RFC 7741 payload descriptors (so that SFUs which start subscribers at a keyframe do so), and Opus every 20 ms.
// Payload bytes are filler: nobody decodes them.

/// RTP packet writing shared by both streams: fixed header plus an optional one-byte MID extension (RFC 8285).
struct RtpStream {
    let ssrc: UInt32
    let payloadType: UInt8
    /// (extension id, mid value) when the server negotiated the MID extension.
    var mid: (id: UInt8, value: [UInt8])?
    private(set) var sequenceNumber = UInt16.random(in: 0 ... 0x7FFF)
    var timestamp = UInt32.random(in: 0 ... .max)

    init(ssrc: UInt32, payloadType: UInt8) {
        self.ssrc = ssrc
        self.payloadType = payloadType
    }

    mutating func packet(marker: Bool, payload: (inout [UInt8]) -> Void) -> [UInt8] {
        var p: [UInt8] = []
        p.reserveCapacity(1250)
        p.append(mid == nil ? 0x80 : 0x90)
        p.append((marker ? 0x80 : 0) | payloadType)
        p.appendBigEndian(sequenceNumber)
        p.appendBigEndian(timestamp)
        p.appendBigEndian(ssrc)
        if let mid {
            let elementLength = 1 + mid.value.count
            let words = (elementLength + 3) / 4
            p += [0xBE, 0xDE]
            p.appendBigEndian(UInt16(words))
            p.append(mid.id << 4 | UInt8(mid.value.count - 1))
            p += mid.value
            p += [UInt8](repeating: 0, count: words * 4 - elementLength)
        }
        payload(&p)
        sequenceNumber &+= 1
        return p
    }
}

/// VP8 frames as RTP packets: the GOP's bytes split so that the average is `bitrate` with a large keyframe.
struct SyntheticVideo {
    static let framesPerSecond = 30
    static let bitrate = 1_500_000
    static let keyframeInterval = 60                      // frames: one every 2 s
    static let keyframeBytes = 45_000
    static let maxPayloadBytes = 1150                      // plus headers and tag: 1170-1200 bytes on the wire
    static let clockTicksPerFrame: UInt32 = 90_000 / 30
    static var deltaFrameBytes: Int {
        (bitrate / 8 * keyframeInterval / framesPerSecond - keyframeBytes) / (keyframeInterval - 1)
    }

    var rtp: RtpStream
    private var frameIndex = 0
    private var pictureID = UInt16.random(in: 0 ... 0x7FFF)

    init(ssrc: UInt32) { rtp = RtpStream(ssrc: ssrc, payloadType: MediaFormat.vp8PayloadType) }

    /// The next frame's packets; the marker bit ends the frame.
    mutating func nextFrame() -> [[UInt8]] {
        let isKeyframe = frameIndex % Self.keyframeInterval == 0
        let frameBytes = isKeyframe ? Self.keyframeBytes : Self.deltaFrameBytes
        let count = (frameBytes + Self.maxPayloadBytes - 1) / Self.maxPayloadBytes
        var packets: [[UInt8]] = []
        for index in 0 ..< count {
            let size = frameBytes / count + (index < frameBytes % count ? 1 : 0)
            packets.append(rtp.packet(marker: index == count - 1) { p in
                // Payload descriptor: X=1, S on the first packet, partition 0; I=1 with a 15-bit picture id.
                p += [index == 0 ? 0x90 : 0x80, 0x80, 0x80 | UInt8(pictureID >> 8), UInt8(pictureID & 0xFF)]
                var header: [UInt8] = []
                if index == 0 {
                    // Frame tag: P bit 0 = keyframe, version 0, show_frame 1, first partition size; keyframes then
                    // carry the start code and 1280x720, which Janus checks before it calls a packet a keyframe.
                    let tag = UInt32(1000) << 5 | 1 << 4 | (isKeyframe ? 0 : 1)
                    header = [UInt8(tag & 0xFF), UInt8(tag >> 8 & 0xFF), UInt8(tag >> 16 & 0xFF)]
                    if isKeyframe { header += [0x9D, 0x01, 0x2A, 0x00, 0x05, 0xD0, 0x02] }
                }
                p += header
                p += Filler.bytes.prefix(max(0, size - header.count))
            })
        }
        rtp.timestamp &+= Self.clockTicksPerFrame
        pictureID = (pictureID &+ 1) & 0x7FFF
        frameIndex += 1
        return packets
    }
}

/// Opus, 20 ms per packet, about 32 kbit/s (80-byte payloads).
struct SyntheticAudio {
    static let packetsPerSecond = 50
    var rtp: RtpStream

    init(ssrc: UInt32) { rtp = RtpStream(ssrc: ssrc, payloadType: MediaFormat.opusPayloadType) }

    mutating func nextPacket() -> [UInt8] {
        let packet = rtp.packet(marker: false) { p in
            p.append(0x78) // TOC: SILK+CELT hybrid, 20 ms, one frame
            p += Filler.bytes.prefix(79)
        }
        rtp.timestamp &+= 960
        return packet
    }
}

enum Filler {
    static let bytes: [UInt8] = (0 ..< 2048).map { _ in UInt8.random(in: 0 ... 255) }
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }
}
