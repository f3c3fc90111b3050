import Logging
import NIOCore
import NIOPosix
import XCTest
@testable import SFU

/// Loss repair through a real Router: a publisher and a subscriber connection that record what the router sends them,
/// VP8 packets in, NACKs both ways. Everything runs on the router's loop (one `onLoop` call per step, so a flush the
/// router queued after a burst has run before the next step looks).
final class LossRecoveryTests: XCTestCase {
    final class RecordingTransport: MediaTransport {
        let id: String
        let rtcpSSRC: UInt32
        var isConnected = true
        weak var delegate: MediaTransportDelegate?
        var rtp: [[UInt8]] = []
        var rtcp: [RTCPPacket] = []

        init(id: String, rtcpSSRC: UInt32) { self.id = id; self.rtcpSSRC = rtcpSSRC }

        func sendRtp(maxLength: Int, _ write: (UnsafeMutableRawBufferPointer) -> Int) {
            var buffer = [UInt8](repeating: 0, count: maxLength)
            let length = buffer.withUnsafeMutableBytes { write($0) }
            if length > 0 { rtp.append(Array(buffer[0 ..< length])) }
        }

        func sendRtcp(_ packets: [RTCPPacket]) { rtcp += packets }
        func consentExpired(now: NIODeadline, timeout: TimeAmount) -> Bool { false }
        func close() { isConnected = false }

        /// The sequence numbers of each NACK sent here. (The router's retry timer runs on real time: a slow test may see
        /// retries, so tests look at the first NACK, or at which numbers were asked for at all.)
        var nackPackets: [[UInt16]] {
            var out: [[UInt16]] = []
            for case .nack(let nack) in rtcp { out.append(nack.sequenceNumbers) }
            return out
        }

        var nacked: Set<UInt16> { Set(nackPackets.joined()) }

        var plis: Int {
            var count = 0
            for case .pictureLossIndication in rtcp { count += 1 }
            return count
        }
    }

    static let mediaSSRC: UInt32 = 0x1111, rtxSSRC: UInt32 = 0x2222
    static let subscriberSSRC: UInt32 = 0x5555, subscriberRtxSSRC: UInt32 = 0x6666

    var group: MultiThreadedEventLoopGroup!
    var loop: EventLoop!
    var router: Router!
    var publisher: RecordingTransport!
    var subscriber: RecordingTransport!
    var consumer: Consumer!

    override func setUpWithError() throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        loop = group.next()
        try onLoop { [self] in
            router = Router(roomID: "loss", eventLoop: loop, logger: Logger(label: "test"))
            publisher = RecordingTransport(id: "pub", rtcpSSRC: 0xA)
            subscriber = RecordingTransport(id: "sub", rtcpSSRC: 0xB)
            router.keyframeRequestInterval = .zero  // every request counts; tests compare before and after
            router.add(publisher)
            router.add(subscriber)
            let producer = Producer(id: "v", kind: .video, codec: RtpCodec(payloadType: 96, name: "VP8", clockRate: 90000),
                                    layers: [PublishedLayer(ssrc: Self.mediaSSRC, rtxSSRC: Self.rtxSSRC)], rtxPayloadType: 97,
                                    streamID: "s", trackID: "t", transport: publisher)
            router.addProducer(producer)
            consumer = Consumer(id: "c", producer: producer, transport: subscriber, payloadType: 100, ssrc: Self.subscriberSSRC,
                                rtx: (payloadType: 101, ssrc: Self.subscriberRtxSSRC))
            router.addConsumer(consumer)
        }
    }

    override func tearDownWithError() throws {
        try onLoop { [self] in router.close(); router = nil; consumer = nil }
        try group.syncShutdownGracefully()
    }

    func onLoop<T>(_ body: @escaping () throws -> T) throws -> T {
        try loop.submit(body).wait()
    }

    /// A VP8 packet: a keyframe start (with its 9d 01 2a header) or a middle packet, a byte of the sequence number in
    /// the payload so that tests can tell packets apart.
    static func media(_ seq: UInt16, keyframe: Bool = false) -> [UInt8] {
        let payload: [UInt8] = keyframe ? [0x10, 0x00, 0x00, 0x00, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0xE0, 0x01, UInt8(seq & 0xFF)]
            : [0x00, 0xAA, UInt8(seq & 0xFF)]
        return try! RTPHeader(payloadType: 96, sequenceNumber: seq, timestamp: 3000 * UInt32(seq / 4), ssrc: mediaSSRC)
            .packet(payload: payload)
    }

    /// The RFC 4588 copy of `media(seq)` on the publisher's repair stream.
    static func rtx(_ seq: UInt16, rtxSequence: UInt16, keyframe: Bool = false) -> [UInt8] {
        let original = media(seq, keyframe: keyframe)
        let header = try! RTPHeader.parse(original)
        return try! RTPHeader(payloadType: 97, sequenceNumber: rtxSequence, timestamp: header.0.timestamp, ssrc: rtxSSRC)
            .packet(payload: [UInt8(seq >> 8), UInt8(seq & 0xFF)] + Array(original[header.1]))
    }

    func publish(_ packets: [UInt8]...) throws {
        try onLoop { [self] in
            for var packet in packets {
                packet.withUnsafeMutableBytes { router.transport(publisher, didReceiveRtp: $0) }
            }
        }
        try onLoop {}  // the NACK flush queued after the burst
    }

    func subscriberNacks(_ sequenceNumbers: [UInt16], ssrc: UInt32 = subscriberSSRC) throws {
        try onLoop { [self] in
            router.transport(subscriber, didReceiveRtcp: [.nack(RTCPNack(senderSSRC: 9, mediaSSRC: ssrc, sequenceNumbers: sequenceNumbers))])
        }
    }

    /// What the subscriber got: (ssrc, payload type, sequence number, the original sequence number for RTX, last byte).
    func received() throws -> [(ssrc: UInt32, pt: UInt8, seq: UInt16, osn: UInt16?, tag: UInt8)] {
        try onLoop { [self] in
            subscriber.rtp.map { bytes in
                let (h, payload) = try! RTPHeader.parse(bytes)
                let p = Array(bytes[payload])
                let osn = h.ssrc == Self.subscriberRtxSSRC ? UInt16(p[0]) << 8 | UInt16(p[1]) : nil
                return (h.ssrc, h.payloadType, h.sequenceNumber, osn, p.last ?? 0)
            }
        }
    }

    func testAGapIsNackedAfterTheBurstAndTheRepairIsForwardedInItsPlace() throws {
        try publish(Self.media(100, keyframe: true), Self.media(101), Self.media(103), Self.media(106))
        XCTAssertEqual(try onLoop { self.publisher.nackPackets.first }, [102, 104, 105], "one NACK for the whole burst, no timer tick")
        try publish(Self.rtx(104, rtxSequence: 1))
        let got = try received()
        XCTAssertEqual(got.map(\.tag), [100, 101, 103, 106, 104])
        let first = got[0].seq
        XCTAssertEqual(got.map { $0.seq &- first }, [0, 1, 3, 6, 4], "the repair keeps its place in the numbering")
        XCTAssertTrue(got.allSatisfy { $0.ssrc == Self.subscriberSSRC && $0.pt == 100 })
        XCTAssertEqual(try onLoop { self.router.producers[0].packetsRecovered }, 1)
        try publish(Self.rtx(104, rtxSequence: 2))
        XCTAssertEqual(try received().count, 5, "a second answer to the same NACK is a duplicate")
    }

    func testAnRtxCopyAheadOfTheMediaStreamIsForwarded() throws {
        // Chrome probes bandwidth with RTX copies of its latest packets; when the original was lost, the copy is the
        // only one that arrives, and before this fix the SFU counted it as received and dropped it (a 3 s freeze).
        try publish(Self.media(10, keyframe: true), Self.media(11), Self.rtx(12, rtxSequence: 7), Self.media(13))
        XCTAssertEqual(try received().map(\.tag), [10, 11, 12, 13])
        XCTAssertEqual(try onLoop { self.publisher.nacked }, [], "nothing is missing")
        try publish(Self.rtx(11, rtxSequence: 8))
        XCTAssertEqual(try received().count, 4, "a probe repeating a packet the SFU has is dropped")
        try publish(Self.media(12))
        XCTAssertEqual(try received().count, 4, "the original, late, is a duplicate now: sent once is enough")
    }

    func testASubscriberNackForAPacketStillOnItsWayIsAnsweredWhenItArrives() throws {
        try publish(Self.media(10, keyframe: true), Self.media(11), Self.media(13))
        XCTAssertEqual(try onLoop { self.publisher.nackPackets.first }, [12])
        let first = try received()[0].seq
        try subscriberNacks([first &+ 2])
        XCTAssertEqual(try onLoop { self.router.statistics.repairsAwaited }, 1)
        XCTAssertEqual(try received().count, 3, "nothing to send yet")
        XCTAssertEqual(try onLoop { self.publisher.nacked }, [12], "the subscriber's NACK adds nothing upstream")
        try publish(Self.rtx(12, rtxSequence: 1))
        let got = try received()
        XCTAssertEqual(got.count, 4)
        let repair = try XCTUnwrap(got.last)
        XCTAssertEqual(repair.ssrc, Self.subscriberRtxSSRC, "sent as the NACK's answer: RTX")
        XCTAssertEqual(repair.pt, 101)
        XCTAssertEqual(repair.osn, first &+ 2)
        XCTAssertEqual(repair.tag, 12)
        XCTAssertEqual(try onLoop { self.consumer.repairsSentOnArrival }, 1)
        // Asked again later: now answered from the cache, like any other packet.
        try subscriberNacks([first &+ 2])
        XCTAssertEqual(try received().last?.osn, first &+ 2)
        XCTAssertEqual(try onLoop { self.router.statistics.packetsRetransmitted }, 1)
    }

    func testWithoutRtxTheAwaitedRepairIsTheMediaPacketItself() throws {
        let plain = RecordingTransport(id: "plain", rtcpSSRC: 0xC)
        let plainConsumer = try onLoop { [self] in
            router.add(plain)
            let c = Consumer(id: "c2", producer: router.producers[0], transport: plain, payloadType: 100, ssrc: 0x7777)
            router.addConsumer(c)
            return c
        }
        try publish(Self.media(10, keyframe: true), Self.media(11), Self.media(13))
        let first = try onLoop { try RTPHeader.parse(plain.rtp[0]).0.sequenceNumber }
        try onLoop { [self] in
            router.transport(plain, didReceiveRtcp: [.nack(RTCPNack(senderSSRC: 9, mediaSSRC: 0x7777, sequenceNumbers: [first &+ 2]))])
        }
        try publish(Self.rtx(12, rtxSequence: 1))
        let last = try onLoop { try RTPHeader.parse(plain.rtp.last!).0 }
        XCTAssertEqual(try onLoop { plain.rtp.count }, 4)
        XCTAssertEqual(last.ssrc, 0x7777)
        XCTAssertEqual(last.sequenceNumber, first &+ 2)
        XCTAssertEqual(try onLoop { plainConsumer.repairsSentOnArrival }, 1)
    }

    func testSubscriberPliAndFirReachThePublisherAsAPliForItsLayer() throws {
        try publish(Self.media(10, keyframe: true))
        let before = try onLoop { self.publisher.rtcp.count }  // the loop's own reports may come and go, PLIs may not
        try onLoop { [self] in
            router.transport(subscriber, didReceiveRtcp: [.pictureLossIndication(RTCPPictureLossIndication(senderSSRC: 9, mediaSSRC: Self.subscriberSSRC))])
            router.transport(subscriber, didReceiveRtcp: [.fullIntraRequest(RTCPFullIntraRequest(senderSSRC: 9, entries: [.init(ssrc: Self.subscriberSSRC, sequenceNumber: 1)]))])
            router.transport(subscriber, didReceiveRtcp: [.pictureLossIndication(RTCPPictureLossIndication(senderSSRC: 9, mediaSSRC: 0xBAD))])
        }
        let sent = try onLoop { () -> [RTCPPictureLossIndication] in
            var plis: [RTCPPictureLossIndication] = []
            for case .pictureLossIndication(let pli) in self.publisher.rtcp.dropFirst(before) { plis.append(pli) }
            return plis
        }
        XCTAssertEqual(sent, Array(repeating: RTCPPictureLossIndication(senderSSRC: 0xA, mediaSSRC: Self.mediaSSRC), count: 2),
                       "one PLI per request for the publisher's SSRC (rate limit off here); unknown SSRCs ignored")
    }

    func testGarbageNacksAreHarmless() throws {
        try publish(Self.media(10, keyframe: true), Self.media(11), Self.media(13))
        let first = try received()[0].seq
        // Unknown SSRC, numbers never sent, every bit set, a list far beyond what a NACK holds, the RTX SSRC itself.
        try subscriberNacks([first &+ 1], ssrc: 0xDEAD)
        try subscriberNacks([first &+ 5000, first &- 3000, 0, 0xFFFF])
        try subscriberNacks((0 ... 0xFFFF).map { UInt16($0) })
        try subscriberNacks([first &+ 1], ssrc: Self.subscriberRtxSSRC)
        let got = try received()
        let resent = got.dropFirst(3)
        XCTAssertTrue(resent.allSatisfy { $0.ssrc == Self.subscriberRtxSSRC }, "only repairs were sent")
        XCTAssertEqual(Set(resent.compactMap(\.osn)), [first, first &+ 1, first &+ 3], "only packets the subscriber had")
        let awaited = try onLoop { self.router.statistics.repairsAwaited }
        XCTAssertLessThanOrEqual(awaited, 1, "of all the numbers, only the one missing upstream can be awaited")
        XCTAssertEqual(try onLoop { self.publisher.nacked }, [12], "garbage is not passed upstream")
    }

    func testAPacketGivenUpOnAsksThePublisherForAKeyframe() throws {
        try publish(Self.media(10, keyframe: true), Self.media(11), Self.media(13))
        let before = try onLoop { self.publisher.plis }
        let later = NIODeadline.now().uptimeNanoseconds + 2 * LossTracker.maxAgeNanos
        try onLoop { self.router.flushPublisherNacks(nowNanos: later) }
        XCTAssertEqual(try onLoop { self.publisher.plis }, before + 1)
        XCTAssertEqual(try onLoop { self.router.statistics.packetsGivenUp }, 1)
        try publish(Self.rtx(12, rtxSequence: 1))
        XCTAssertEqual(try received().count, 3, "too late: the decoders wait for the keyframe now")
    }

    func testAJumpTooLongToNackAsksForAKeyframeAndAKeyframeEndsOlderNacks() throws {
        try publish(Self.media(10, keyframe: true))
        let before = try onLoop { self.publisher.plis }
        try publish(Self.media(500))
        XCTAssertEqual(try onLoop { self.publisher.nacked }, [])
        XCTAssertEqual(try onLoop { self.publisher.plis }, before + 1)
        try publish(Self.media(501), Self.media(503))
        XCTAssertEqual(try onLoop { self.publisher.nackPackets.first }, [502])
        try publish(Self.media(505, keyframe: true))
        XCTAssertEqual(try onLoop { self.publisher.nacked }, [502], "504 belongs to the frame before the keyframe")
        try onLoop { [self] in
            XCTAssertTrue(router.producers[0].layers[0].loss.missing.isEmpty, "nobody needs packets before a keyframe")
        }
    }
}
