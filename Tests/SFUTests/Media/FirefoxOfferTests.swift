import XCTest
@testable import SFU

/// Negotiation against offers as Firefox 153 ESR writes them (trimmed): every m-line after the first comes with port 0
/// and `a=bundle-only` (RFC 8843 §6), which must not read as a rejected m-line.
final class FirefoxOfferTests: XCTestCase {
    static func firefoxOffer(direction: String, videoPort: Int = 0, bundleOnly: Bool = true) -> String {
        """
        v=0
        o=mozilla...THIS_IS_SDPARTA-99.0 2059970565795621130 0 IN IP4 0.0.0.0
        s=-
        t=0 0
        a=fingerprint:sha-256 33:91:A5:0C:82:C0:A1:8D:AA:C4:8D:06:26:E8:D2:FF:FA:DE:61:64:40:9F:91:D8:EE:2A:92:36:58:DA:36:0F
        a=group:BUNDLE 0 1
        a=ice-options:trickle
        a=msid-semantic:WMS *
        m=audio 9 UDP/TLS/RTP/SAVPF 109 9 0 8 101
        c=IN IP4 0.0.0.0
        a=candidate:0 1 UDP 2122252543 4e625a96-ba48-468e-b3af-d0e06cb9eed9.local 53018 typ host
        a=\(direction)
        a=end-of-candidates
        a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
        a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid
        a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1
        a=ice-pwd:e551d19ada49547b6fd93977a7e1007f
        a=ice-ufrag:e31abaa3
        a=mid:0
        a=msid:{d491bee4} {517dcc18}
        a=rtcp-mux
        a=rtpmap:109 opus/48000/2
        a=rtpmap:9 G722/8000/1
        a=rtpmap:0 PCMU/8000
        a=rtpmap:101 telephone-event/8000
        a=setup:actpass
        a=ssrc:3460397111 cname:{5757e004}
        m=video \(videoPort) UDP/TLS/RTP/SAVPF 120 124 121 125
        c=IN IP4 0.0.0.0
        \(bundleOnly ? "a=bundle-only\n" : "")a=\(direction)
        a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid
        a=extmap:7 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
        a=extmap:9/sendonly urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
        a=extmap:10/sendonly urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
        a=fmtp:120 max-fs=12288;max-fr=60
        a=fmtp:124 apt=120
        a=fmtp:121 max-fs=12288;max-fr=60
        a=fmtp:125 apt=121
        a=ice-pwd:e551d19ada49547b6fd93977a7e1007f
        a=ice-ufrag:e31abaa3
        a=mid:1
        a=msid:{d491bee4} {63813bce}
        \(direction == "sendonly" ? "a=rid:q send\na=rid:h send\na=rid:f send\n" : "")a=rtcp-fb:120 nack
        a=rtcp-fb:120 nack pli
        a=rtcp-fb:120 ccm fir
        a=rtcp-fb:120 transport-cc
        a=rtcp-mux
        a=rtpmap:120 VP8/90000
        a=rtpmap:124 rtx/90000
        a=rtpmap:121 VP9/90000
        a=rtpmap:125 rtx/90000
        a=setup:actpass
        \(direction == "sendonly" ? "a=simulcast:send q;h;f\n" : "")a=ssrc:4133903380 cname:{5757e004}

        """
    }

    let local = LocalTransportDescription(iceUfrag: "abcdEFGH", icePassword: "0123456789abcdefghijklmn",
                                          fingerprint: "AA:BB", candidates: [("192.0.2.1", 40000)])

    func testBundleOnlyVideoIsPublishedWithItsSimulcastLayers() throws {
        let offer = try OfferAnswer.parse(Self.firefoxOffer(direction: "sendonly"))
        let (answer, tracks) = try OfferAnswer.answerPublish(offer, local: local)
        XCTAssertEqual(tracks.map(\.codec.name), ["opus", "VP8"])
        XCTAssertEqual(tracks[1].layers.map(\.rid), ["q", "h", "f"])
        let text = answer.serialize()
        XCTAssertTrue(text.contains("m=video 40000 UDP/TLS/RTP/SAVPF 120"), text)
        XCTAssertTrue(text.contains("a=group:BUNDLE 0 1\r\n"), text)
        XCTAssertFalse(text.contains("bundle-only"), "an answer never carries bundle-only:\n\(text)")
    }

    func testBundleOnlyVideoIsSubscribable() throws {
        let offer = try OfferAnswer.parse(Self.firefoxOffer(direction: "recvonly"))
        let producers = [
            ProducerDescription(id: "v", kind: .video, codec: RtpCodec(payloadType: 96, name: "VP8", clockRate: 90_000),
                                streamID: "s", trackID: "tv", headerExtensions: [RtpHeaderExtensionURI.mid: 1]),
        ]
        var next: UInt32 = 100
        let (answer, tracks) = try OfferAnswer.answerSubscribe(offer, local: local, producers: producers,
                                                               newSSRC: { next += 1; return next })
        XCTAssertEqual(tracks.map(\.mid), ["1"])
        XCTAssertEqual(tracks.first?.payloadType, 120)
        XCTAssertTrue(answer.serialize().contains("m=video 40000 UDP/TLS/RTP/SAVPF 120"), answer.serialize())
    }

    func testPortZeroWithoutBundleOnlyStaysRejected() throws {
        let offer = try OfferAnswer.parse(Self.firefoxOffer(direction: "sendonly", bundleOnly: false))
        let (answer, tracks) = try OfferAnswer.answerPublish(offer, local: local)
        XCTAssertEqual(tracks.map(\.codec.name), ["opus"])
        XCTAssertTrue(answer.serialize().contains("m=video 0 "), answer.serialize())
        XCTAssertTrue(answer.serialize().contains("a=group:BUNDLE 0\r\n"), answer.serialize())
    }
}
