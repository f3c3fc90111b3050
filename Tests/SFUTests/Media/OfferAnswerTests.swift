import XCTest
@testable import SFU

/// Negotiation against offers as aiortc 1.16 writes them (trimmed: G.711 and H.264 alternatives cut).
final class OfferAnswerTests: XCTestCase {
    static func aiortcOffer(direction: String) -> String {
        """
        v=0
        o=- 4004420551 4004420551 IN IP4 0.0.0.0
        s=-
        t=0 0
        a=group:BUNDLE 0 1
        a=msid-semantic:WMS *
        m=audio 35693 UDP/TLS/RTP/SAVPF 96 0
        c=IN IP4 127.0.0.1
        a=\(direction)
        a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
        a=mid:0
        a=msid:5d99e753 3336e75c
        a=rtcp:9 IN IP4 0.0.0.0
        a=rtcp-mux
        a=ssrc:447337792 cname:33aea13b
        a=rtpmap:96 opus/48000/2
        a=rtpmap:0 PCMU/8000
        a=candidate:1657 1 udp 2130706431 127.0.0.1 35693 typ host
        a=end-of-candidates
        a=ice-ufrag:y6fP
        a=ice-pwd:Gwk8U8ImBKSLXlswkaEMkY
        a=fingerprint:sha-384 7F:9E:59:3D:C0:1F:07:AB:F4:07:92:D9:20:6A:BA:70:8B:70:6C:36:33:86:39:18:18:E5:8B:BE:09:2A:00:F2:4D:1F:78:E1:B6:7C:FE:E5:CF:AD:9D:99:1E:DB:AE:9B
        a=fingerprint:sha-256 93:D5:1D:59:16:4D:02:5E:5D:06:90:6A:86:F9:FE:25:9F:62:8D:9A:63:FC:A1:EA:33:AC:08:00:21:26:A3:6F
        a=setup:actpass
        m=video 41403 UDP/TLS/RTP/SAVPF 97 98
        c=IN IP4 127.0.0.1
        a=\(direction)
        a=mid:1
        a=msid:5d99e753 15ab6f39
        a=rtcp-mux
        a=ssrc-group:FID 3634816220 1437999140
        a=ssrc:3634816220 cname:33aea13b
        a=ssrc:1437999140 cname:33aea13b
        a=rtpmap:97 VP8/90000
        a=rtcp-fb:97 nack
        a=rtcp-fb:97 nack pli
        a=rtcp-fb:97 goog-remb
        a=rtcp-fb:97 transport-cc
        a=rtpmap:98 rtx/90000
        a=fmtp:98 apt=97
        a=ice-ufrag:y6fP
        a=ice-pwd:Gwk8U8ImBKSLXlswkaEMkY
        a=fingerprint:sha-256 93:D5:1D:59:16:4D:02:5E:5D:06:90:6A:86:F9:FE:25:9F:62:8D:9A:63:FC:A1:EA:33:AC:08:00:21:26:A3:6F
        a=setup:actpass

        """
    }

    let local = LocalTransportDescription(iceUfrag: "abcdEFGH", icePassword: "0123456789abcdefghijklmn",
                                          fingerprint: "AA:BB", candidates: [("192.0.2.1", 40000)])

    func testRemoteTransportPicksSHA256AmongSeveralFingerprints() throws {
        let remote = try OfferAnswer.remoteTransport(of: OfferAnswer.parse(Self.aiortcOffer(direction: "sendrecv")))
        XCTAssertEqual(remote.iceUfrag, "y6fP")
        XCTAssertTrue(remote.fingerprint.hasPrefix("93:D5"))
    }

    func testPublishAnswerIsIceLitePassiveRecvonlyWithIntersectedCodecs() throws {
        let offer = try OfferAnswer.parse(Self.aiortcOffer(direction: "sendrecv"))
        let (answer, tracks) = try OfferAnswer.answerPublish(offer, local: local)
        XCTAssertEqual(tracks.map(\.kind), [.audio, .video])
        XCTAssertEqual(tracks.map(\.codec.payloadType), [96, 97])
        XCTAssertEqual(tracks.map(\.ssrc), [447_337_792, 3_634_816_220]) // not the RTX SSRC
        XCTAssertEqual(tracks[1].trackID, "15ab6f39")
        XCTAssertEqual(tracks[1].codec.feedback.map { $0.type + ($0.subtype.map { " " + $0 } ?? "") },
                       ["nack", "nack pli", "goog-remb", "transport-cc"]) // we send transport-cc feedback to publishers
        let text = answer.serialize()
        for line in ["a=ice-lite", "a=group:BUNDLE 0 1", "a=setup:passive", "a=recvonly", "a=rtcp-mux",
                     "m=audio 40000 UDP/TLS/RTP/SAVPF 96", "m=video 40000 UDP/TLS/RTP/SAVPF 97 98",
                     "a=candidate:1 1 udp 2130706431 192.0.2.1 40000 typ host", "a=end-of-candidates",
                     "a=ice-ufrag:abcdEFGH", "a=fingerprint:sha-256 AA:BB", "a=rtpmap:96 opus/48000/2"] {
            XCTAssertTrue(text.contains(line + "\r\n"), "missing \(line) in\n\(text)")
        }
        XCTAssertTrue(text.contains("a=fmtp:98 apt=97\r\n"), text) // RTX accepted: repairs come on their own SSRC
        XCTAssertEqual(tracks[1].layers, [PublishedLayer(ssrc: 3_634_816_220, rtxSSRC: 1_437_999_140)])
        XCTAssertNoThrow(try SessionDescription.parse(text)) // our own parser accepts what we write
    }

    func testSubscribeAnswerAssignsProducersAndAnnouncesSSRCs() throws {
        let offer = try OfferAnswer.parse(Self.aiortcOffer(direction: "recvonly"))
        let producers = [
            ProducerDescription(id: "v", kind: .video, codec: RtpCodec(payloadType: 120, name: "VP8", clockRate: 90_000),
                                streamID: "s", trackID: "tv"),
            ProducerDescription(id: "a", kind: .audio, codec: RtpCodec(payloadType: 111, name: "opus", clockRate: 48_000, channels: 2),
                                streamID: "s", trackID: "ta"),
        ]
        var next: UInt32 = 1000
        let (answer, tracks) = try OfferAnswer.answerSubscribe(offer, local: local, producers: producers,
                                                               newSSRC: { next += 1; return next })
        XCTAssertEqual(tracks, [SubscribedTrack(mid: "0", producerID: "a", payloadType: 96, ssrc: 1001,
                                                extensionIDs: [RtpHeaderExtensionURI.mid: 1]),
                                SubscribedTrack(mid: "1", producerID: "v", payloadType: 97, ssrc: 1002,
                                                rtx: (payloadType: 98, ssrc: 1003))])
        let text = answer.serialize()
        XCTAssertTrue(text.contains("a=ssrc-group:FID 1002 1003\r\n"))
        XCTAssertTrue(text.contains("m=video 40000 UDP/TLS/RTP/SAVPF 97 98\r\n"))
        XCTAssertTrue(text.contains("a=fmtp:98 apt=97\r\n"))
        XCTAssertTrue(text.contains("a=sendonly\r\n"))
        XCTAssertTrue(text.contains("a=ssrc:1002 cname:rooms-sfu\r\n"))
        XCTAssertTrue(text.contains("a=msid:s tv\r\n"))
    }

    func testSubscribeWithoutProducersAnswersInactive() throws {
        let offer = try OfferAnswer.parse(Self.aiortcOffer(direction: "recvonly"))
        let (answer, tracks) = try OfferAnswer.answerSubscribe(offer, local: local, producers: [], newSSRC: { 1 })
        XCTAssertTrue(tracks.isEmpty)
        XCTAssertEqual(answer.media.map(\.direction), [.inactive, .inactive])
    }

    /// The offer with the direction line of its `index`-th m-line replaced.
    static func withDirection(_ sdp: String, mLine index: Int, _ direction: String) -> String {
        var lines = sdp.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let starts = lines.indices.filter { lines[$0].hasPrefix("m=") }
        let end = index + 1 < starts.count ? starts[index + 1] : lines.count
        if let line = lines[starts[index] ..< end].firstIndex(where: {
            ["a=sendrecv", "a=sendonly", "a=recvonly", "a=inactive"].contains($0)
        }) { lines[line] = "a=" + direction }
        return lines.joined(separator: "\n")
    }

    func testPausedMLinesStayInTheBundleInactive() throws {
        // Publisher: an inactive video m-line (a paused transceiver) is answered inactive with a port, not rejected.
        let paused = Self.withDirection(Self.aiortcOffer(direction: "sendrecv"), mLine: 1, "inactive")
        let (answer, tracks) = try OfferAnswer.answerPublish(OfferAnswer.parse(paused), local: local)
        XCTAssertEqual(tracks.map(\.kind), [.audio])
        XCTAssertEqual(answer.media.map(\.direction), [.recvonly, .inactive])
        XCTAssertEqual(answer.media.map(\.port), [40000, 40000])
        XCTAssertEqual(answer.bundleMids, ["0", "1"])
        // Subscriber: likewise; a sendonly m-line has no place there and is rejected.
        let sub = Self.withDirection(Self.withDirection(Self.aiortcOffer(direction: "recvonly"), mLine: 0, "sendonly"),
                                     mLine: 1, "inactive")
        let (subAnswer, subTracks) = try OfferAnswer.answerSubscribe(OfferAnswer.parse(sub), local: local, producers: [],
                                                                     newSSRC: { 1 })
        XCTAssertTrue(subTracks.isEmpty)
        XCTAssertEqual(subAnswer.media.map(\.port), [0, 40000])
        XCTAssertEqual(subAnswer.media[1].direction, .inactive)
        XCTAssertEqual(subAnswer.bundleMids, ["1"])
    }

    func testOfferWithoutFingerprintIsRefused() throws {
        let text = Self.aiortcOffer(direction: "sendrecv").split(separator: "\n")
            .filter { !$0.hasPrefix("a=fingerprint") }.joined(separator: "\n")
        XCTAssertThrowsError(try OfferAnswer.remoteTransport(of: OfferAnswer.parse(text))) {
            XCTAssertEqual($0 as? NegotiationError, .missingSHA256Fingerprint)
        }
    }
}
