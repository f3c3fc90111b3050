// One producer forwarded to one subscriber connection. The subscriber sees its own SSRC, a continuous
// sequence number and timestamp line starting at random values, and its own payload type; header extensions are
// rebuilt with the subscriber's ids (its own MID, audio level/abs-send-time re-keyed, everything else dropped), and
// NACKs are answered as RTX when the subscriber negotiated it.

import NIOCore

public final class Consumer {
    public let id: String
    let producer: Producer
    let transport: MediaTransport
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

    /// RFC 4588: retransmissions on their own SSRC and payload type, when negotiated.
    let rtx: (payloadType: UInt8, ssrc: UInt32)?
    private var rtxSequenceNumber = UInt16.random(in: 0 ... 0x7FFF)
    private(set) var rtxPacketsSent = 0

    /// The subscriber's mid and its MID extension id (0: not negotiated): every packet gets it (RFC 8843 §15).
    private let midID: UInt8
    private let midValue: [UInt8]
    /// Publisher extension id -> subscriber extension id (0: strip). Ids are per connection, so elements are
    /// re-keyed; elements the subscriber did not negotiate (transport-cc, the publisher's MID, ...) are dropped.
    private var extensionMap = [UInt8](repeating: 0, count: 16)

    init(id: String, producer: Producer, transport: MediaTransport, payloadType: UInt8, ssrc: UInt32,
         mid: String = "", extensionIDs: [String: UInt8] = [:], rtx: (payloadType: UInt8, ssrc: UInt32)? = nil) {
        self.rtx = rtx
        self.id = id
        self.producer = producer
        self.transport = transport
        self.payloadType = payloadType
        self.ssrc = ssrc
        self.waitingForKeyframe = producer.kind == .video && producer.codec.isVP8
        let midID = extensionIDs[RtpHeaderExtensionURI.mid] ?? 0
        let midValue = Array(mid.utf8)
        self.midID = (1 ... 14).contains(midID) && (1 ... 16).contains(midValue.count) ? midID : 0
        self.midValue = midValue
        for (uri, subscriberID) in extensionIDs where uri != RtpHeaderExtensionURI.mid {
            guard let publisherID = producer.headerExtensions[uri], (1 ... 14).contains(publisherID),
                  (1 ... 14).contains(subscriberID) else { continue }
            extensionMap[Int(publisherID)] = subscriberID
        }
    }

    convenience init(id: String, producer: Producer, transport: MediaTransport, track: SubscribedTrack) {
        self.init(id: id, producer: producer, transport: transport, payloadType: track.payloadType, ssrc: track.ssrc,
                  mid: track.mid, extensionIDs: track.extensionIDs, rtx: track.rtx)
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
                if let rtx {
                    sendRtx(packet, rtx: rtx, sequenceNumber: header.sequenceNumber, timestamp: header.timestamp)
                } else {
                    send(packet, sequenceNumber: header.sequenceNumber, timestamp: header.timestamp)
                }
                return true
            }
            if found == true { resent += 1 }
        }
        return resent
    }

    private func send(_ packet: UnsafeRawBufferPointer, sequenceNumber: UInt16, timestamp: UInt32) {
        let ssrc = ssrc, payloadType = payloadType
        let outSequence = sequenceNumber &+ sequenceOffset, outTimestamp = timestamp &+ timestampOffset
        // Room for our MID element (1 + 16 bytes), the 4-byte extension header and padding to a word.
        transport.sendRtp(maxLength: packet.count + 24) { out in
            // Always rebuilt: even with nothing negotiated, the publisher's elements must not reach the
            // subscriber under ids it never agreed to.
            let length = writeRekeyed(packet, into: out)
            guard length > 0 else { return 0 }
            let rewritten = UnsafeMutableRawBufferPointer(rebasing: out[0 ..< length])
            guard (try? RTP.rewrite(rewritten, ssrc: ssrc, sequenceNumber: outSequence, timestamp: outTimestamp,
                                    payloadType: payloadType)) != nil else { return 0 }
            return length
        }
    }

    /// An RTX packet (RFC 4588 §4): the rewritten packet on the RTX SSRC and payload type with its own sequence
    /// number, the original (subscriber-side) sequence number in front of the payload, padding dropped.
    private func sendRtx(_ packet: UnsafeRawBufferPointer, rtx: (payloadType: UInt8, ssrc: UInt32), sequenceNumber: UInt16,
                         timestamp: UInt32) {
        let osn = sequenceNumber &+ sequenceOffset, outTimestamp = timestamp &+ timestampOffset
        rtxSequenceNumber &+= 1
        let rtxSequence = rtxSequenceNumber
        rtxPacketsSent += 1
        transport.sendRtp(maxLength: packet.count + 26) { out in
            let length = writeRekeyed(packet, into: out)
            guard length > 0, let view = try? RTPHeaderView(UnsafeRawBufferPointer(rebasing: out[0 ..< length])) else { return 0 }
            let payload = view.payloadRange
            guard payload.upperBound + 2 <= out.count else { return 0 }
            // Shift the payload two bytes up (padding, if any, is cut off) and put the OSN in front of it.
            let moved = UnsafeMutableRawBufferPointer(rebasing: out[(payload.lowerBound + 2) ..< (payload.upperBound + 2)])
            moved.copyMemory(from: UnsafeRawBufferPointer(rebasing: out[payload]))
            out[payload.lowerBound] = UInt8(truncatingIfNeeded: osn >> 8)
            out[payload.lowerBound + 1] = UInt8(truncatingIfNeeded: osn)
            out[0] &= ~0x20
            let total = payload.upperBound + 2
            let rewritten = UnsafeMutableRawBufferPointer(rebasing: out[0 ..< total])
            guard (try? RTP.rewrite(rewritten, ssrc: rtx.ssrc, sequenceNumber: rtxSequence, timestamp: outTimestamp,
                                    payloadType: rtx.payloadType)) != nil else { return 0 }
            return total
        }
    }

    private func writeRekeyed(_ packet: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Int {
        Self.rekey(packet, into: out, midID: midID, midValue: midValue, extensionMap: extensionMap)
    }

    /// Copies `packet` into `out` with a new one-byte-form (RFC 8285 §4.2) extension block: the MID element
    /// (`midID` 0: none), then the packet's one-byte elements whose id maps to a non-zero id in `extensionMap`
    /// (16 entries), under that id. Two-byte-form elements are dropped. Returns the length (0: did not fit).
    /// Needs at most `packet.count + 24` bytes.
    static func rekey(_ packet: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer, midID: UInt8,
                      midValue: [UInt8], extensionMap: [UInt8]) -> Int {
        guard let header = try? RTPHeaderView(packet), extensionMap.count >= 16 else { return 0 }
        let fixed = RTP.fixedHeaderLength + 4 * header.csrcCount
        UnsafeMutableRawBufferPointer(rebasing: out[0 ..< fixed]).copyMemory(from: UnsafeRawBufferPointer(rebasing: packet[0 ..< fixed]))
        var at = fixed + 4 // elements start after the 0xBEDE header
        let capacity = min(out.count, packet.count + 24) // what sendRtp reserved, before the SRTP trailer
        let limit = capacity - (packet.count - header.payloadRange.lowerBound) - 3 // 3: padding to a word
        if midID != 0 {
            out[at] = midID << 4 | UInt8(midValue.count - 1)
            for (i, byte) in midValue.enumerated() { out[at + 1 + i] = byte }
            at += 1 + midValue.count
        }
        if let ext = header.extensionRange, header.extensionProfile == RTPHeaderExtension.oneByteProfile {
            var i = ext.lowerBound
            while i < ext.upperBound {
                let first = packet[i]
                if first == 0 { i += 1; continue }
                let id = first >> 4, length = Int(first & 0x0F) + 1
                if id == 15 || i + 1 + length > ext.upperBound { break }
                let mapped = extensionMap[Int(id)]
                if mapped != 0, at + 1 + length <= limit {
                    out[at] = mapped << 4 | (first & 0x0F)
                    UnsafeMutableRawBufferPointer(rebasing: out[(at + 1) ..< (at + 1 + length)])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: packet[(i + 1) ..< (i + 1 + length)]))
                    at += 1 + length
                }
                i += 1 + length
            }
        }
        // Two-byte-form elements (extmap-allow-mixed) are not negotiated by us: nothing to carry over from them.
        var elementsLength = at - (fixed + 4)
        if elementsLength == 0 {
            at = fixed
            out[0] &= ~0x10 // no extension
        } else {
            while elementsLength % 4 != 0 { out[at] = 0; at += 1; elementsLength += 1 }
            out[0] |= 0x10
            out[fixed] = 0xBE
            out[fixed + 1] = 0xDE
            out[fixed + 2] = UInt8(truncatingIfNeeded: (elementsLength / 4) >> 8)
            out[fixed + 3] = UInt8(truncatingIfNeeded: elementsLength / 4)
        }
        let rest = packet.count - header.payloadRange.lowerBound // payload and padding, as they came
        guard at + rest <= capacity else { return 0 }
        UnsafeMutableRawBufferPointer(rebasing: out[at ..< (at + rest)])
            .copyMemory(from: UnsafeRawBufferPointer(rebasing: packet[header.payloadRange.lowerBound ..< packet.count]))
        return at + rest
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
