// The phone's video tile as a track of the room: its AvatarTile encoded with VP8 at a low frame rate (the picture
// never changes, so inter frames are a few bytes), a keyframe every few seconds and whenever a subscriber asks
// (PLI/FIR through the SFU), packetized per RFC 7741.

import NIOCore
import SFU

final class PhoneVideoPublisher {
    static let payloadType: UInt8 = 96
    static let fps = 2
    /// RTP payload bytes per packet (below any path MTU with SRTP and extensions added by the SFU).
    static let maxPayload = 1100

    private let transport: DirectTransport
    private let encoder: VP8Encoder
    private var packetizer: RtpPacketizer
    private var keyframeRequested = true
    private var timer: RepeatedTask?
    private var chunk = [UInt8](repeating: 0, count: PhoneVideoPublisher.maxPayload + 1)
    private(set) var framesSent = 0

    init(transport: DirectTransport, ssrc: UInt32, name: String) throws {
        self.transport = transport
        encoder = try VP8Encoder(width: 320, height: 240, fps: Self.fps)
        encoder.setPicture(rgba: AvatarTile.render(name: name))
        packetizer = RtpPacketizer(ssrc: ssrc, payloadType: Self.payloadType)
    }

    static func track(ssrc: UInt32, streamID: String, trackID: String) -> DirectTrack {
        DirectTrack(kind: .video, codec: RtpCodec(payloadType: payloadType, name: "VP8", clockRate: 90000,
                                                  feedback: [SDPRtcpFeedback(payloadType: "\(payloadType)", type: "nack"),
                                                             SDPRtcpFeedback(payloadType: "\(payloadType)", type: "nack", subtype: "pli"),
                                                             SDPRtcpFeedback(payloadType: "\(payloadType)", type: "ccm", subtype: "fir")]),
                    ssrc: ssrc, streamID: streamID, trackID: trackID)
    }

    /// Starts sending on the transport's loop; stops when the transport closes. The timer holds the publisher
    /// until then (nobody else needs a reference to it).
    func start() {
        transport.eventLoop.preconditionInEventLoop()
        transport.onRtcp = { [weak self] packets in
            for packet in packets {
                switch packet {
                case .pictureLossIndication, .fullIntraRequest: self?.keyframeRequested = true
                default: break
                }
            }
        }
        let interval = TimeAmount.milliseconds(Int64(1000 / Self.fps))
        timer = transport.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: interval) { _ in self.sendFrame() }
        transport.onClose = { self.stop() }
    }

    func stop() {
        timer?.cancel()
        timer = nil
    }

    private func sendFrame() {
        let keyframe = keyframeRequested
        keyframeRequested = false
        let ticks = UInt32(90000 / Self.fps)
        let transport = self.transport
        try? encoder.encode(keyframe: keyframe) { frame, _ in
            var offset = 0
            while offset < frame.count {
                let length = min(Self.maxPayload, frame.count - offset)
                let last = offset + length == frame.count
                // RFC 7741 payload descriptor, one byte: S (start of the partition) on the first packet, PID 0.
                chunk[0] = offset == 0 ? 0x10 : 0x00
                chunk.withUnsafeMutableBytes { out in
                    UnsafeMutableRawBufferPointer(rebasing: out[1 ..< 1 + length])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: frame[offset ..< offset + length]))
                }
                chunk.withUnsafeBytes { bytes in
                    packetizer.packetize(UnsafeRawBufferPointer(rebasing: bytes[0 ..< 1 + length]), ticks: last ? ticks : 0,
                                         marker: last) { packet in transport.receive(rtp: packet) }
                }
                offset += length
            }
            framesSent += 1
        }
    }
}

extension PhoneVideoPublisher: @unchecked Sendable {}
