// One producer forwarded to one subscriber connection. The subscriber sees its own SSRC, a continuous
// sequence number and timestamp line starting at random values, and its own payload type.

import NIOCore

public final class Consumer {
    public let id: String
    let producer: Producer
    let transport: WebRtcTransport
    /// The subscriber's payload type for the producer's codec.
    let payloadType: UInt8
    /// The SSRC announced to the subscriber in a=ssrc.
    public let ssrc: UInt32
    /// Video starts at a keyframe: anything before it would not decode.
    private(set) var waitingForKeyframe: Bool

    private var started = false
    private var sequenceOffset: UInt16 = 0
    private var timestampOffset: UInt32 = 0
    private let firstSequenceNumber = UInt16.random(in: 0 ... 0x7FFF) // low half: no early wrap confusion
    private let firstTimestamp = UInt32.random(in: 0 ... .max)

    /// Test hook (see Router.simulatedForwardingLossInterval).
    var simulatedLossInterval: Int?
    private var forwardedCount = 0

    // For Sender Reports.
    private(set) var packetsSent: UInt32 = 0
    private(set) var octetsSent: UInt32 = 0
    private(set) var lastTimestamp: UInt32 = 0
    private(set) var lastSentAt: NIODeadline?

    init(id: String, producer: Producer, transport: WebRtcTransport, payloadType: UInt8, ssrc: UInt32) {
        self.id = id
        self.producer = producer
        self.transport = transport
        self.payloadType = payloadType
        self.ssrc = ssrc
        self.waitingForKeyframe = producer.kind == .video && producer.codec.isVP8
    }

    func forward(_ packet: UnsafeRawBufferPointer, header: RTPHeaderView, isKeyframeStart: Bool) {
        guard transport.isConnected else { return }
        if waitingForKeyframe {
            guard isKeyframeStart else { return }
            waitingForKeyframe = false
        }
        if !started {
            // Offsets are fixed at the first forwarded packet; later gaps pass through and get NACKed.
            started = true
            sequenceOffset = firstSequenceNumber &- header.sequenceNumber
            timestampOffset = firstTimestamp &- header.timestamp
        }
        forwardedCount += 1
        if let interval = simulatedLossInterval, forwardedCount % interval == 0 { return }
        send(packet, sequenceNumber: header.sequenceNumber, timestamp: header.timestamp)
        packetsSent &+= 1
        octetsSent &+= UInt32(truncatingIfNeeded: header.payloadRange.count)
        lastTimestamp = header.timestamp &+ timestampOffset
        lastSentAt = .now()
    }

    /// Answers a subscriber's NACK (sequence numbers in the subscriber's numbering) from the producer's cache.
    /// Returns how many packets were resent.
    @discardableResult
    func retransmit(_ sequenceNumbers: [UInt16]) -> Int {
        guard started else { return 0 }
        var resent = 0
        for outgoing in sequenceNumbers {
            let original = outgoing &- sequenceOffset
            let found = producer.cache.withPacket(original) { packet -> Bool in
                guard let header = try? RTPHeaderView(packet) else { return false }
                send(packet, sequenceNumber: header.sequenceNumber, timestamp: header.timestamp)
                return true
            }
            if found == true { resent += 1 }
        }
        return resent
    }

    private func send(_ packet: UnsafeRawBufferPointer, sequenceNumber: UInt16, timestamp: UInt32) {
        let ssrc = ssrc, payloadType = payloadType
        let outSequence = sequenceNumber &+ sequenceOffset, outTimestamp = timestamp &+ timestampOffset
        transport.sendRtp(maxLength: packet.count) { out in
            out.copyMemory(from: packet)
            let rewritten = UnsafeMutableRawBufferPointer(rebasing: out[0 ..< packet.count])
            guard (try? RTP.rewrite(rewritten, ssrc: ssrc, sequenceNumber: outSequence, timestamp: outTimestamp,
                                    payloadType: payloadType)) != nil else { return 0 }
            return packet.count
        }
    }

    /// The Sender Report for this stream: the RTP timestamp is extrapolated to `now` from the last packet.
    func senderReport(now: NIODeadline, wallClock: UInt64) -> RTCPSenderReport? {
        guard let lastSentAt else { return nil }
        let elapsed = Double((now - lastSentAt).nanoseconds) / 1e9
        let rtpNow = lastTimestamp &+ UInt32(truncatingIfNeeded: Int64(elapsed * Double(producer.codec.clockRate)))
        return RTCPSenderReport(ssrc: ssrc, ntpTimestamp: wallClock, rtpTimestamp: rtpNow,
                                packetCount: packetsSent, octetCount: octetsSent, reports: [])
    }
}
