import XCTest
@testable import SFU

/// Negotiation against offers as Chromium 156 writes them (trimmed: most H.264/VP9/AV1 alternatives cut), and the
/// per-subscriber header extension rewrite that forwarding does.
final class ChromeOfferTests: XCTestCase {
    static func chromeOffer(direction: String, withSSRCs: Bool) -> String {
        let audioSSRC = withSSRCs ? """
            a=ssrc:3103793438 cname:jY4OOVf8W0yx8V7f
            a=ssrc:3103793438 msid:31f8fe2e 6b17527b

            """ : ""
        let videoSSRC = withSSRCs ? """
            a=ssrc-group:FID 2061981047 1070375741
            a=ssrc:2061981047 cname:jY4OOVf8W0yx8V7f
            a=ssrc:2061981047 msid:31f8fe2e 713d1c33
            a=ssrc:1070375741 cname:jY4OOVf8W0yx8V7f
            a=ssrc:1070375741 msid:31f8fe2e 713d1c33

            """ : ""
        return """
        v=0
        o=- 5782510245119747393 2 IN IP4 127.0.0.1
        s=-
        t=0 0
        a=group:BUNDLE 0 1
        a=extmap-allow-mixed
        a=msid-semantic: WMS 31f8fe2e
        m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
        c=IN IP4 0.0.0.0
        a=rtcp:9 IN IP4 0.0.0.0
        a=ice-ufrag:boCd
        a=ice-pwd:hT47/c0wpFmxXMiAUYxC0udW
        a=ice-options:trickle
        a=fingerprint:sha-256 AD:41:8D:EC:81:4A:F8:03:A2:2F:9B:63:17:34:05:11:C8:E0:15:CF:46:6B:F2:AA:7A:4F:EC:FE:29:2D:F9:EE
        a=setup:actpass
        a=mid:0
        a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
        a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
        a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
        a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
        a=\(direction)
        a=msid:31f8fe2e 6b17527b
        a=rtcp-mux
        a=rtcp-rsize
        a=rtcp-xr:rcvr-rtt=all
        a=rtpmap:111 opus/48000/2
        a=rtcp-fb:111 transport-cc
        a=fmtp:111 minptime=10;useinbandfec=1
        a=rtpmap:63 red/48000/2
        a=fmtp:63 111/111
        a=rtpmap:9 G722/8000
        a=rtpmap:0 PCMU/8000
        a=rtpmap:8 PCMA/8000
        a=rtpmap:13 CN/8000
        a=rtpmap:110 telephone-event/48000
        a=rtpmap:126 telephone-event/8000
        \(audioSSRC)m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 98 99
        c=IN IP4 0.0.0.0
        a=rtcp:9 IN IP4 0.0.0.0
        a=ice-ufrag:boCd
        a=ice-pwd:hT47/c0wpFmxXMiAUYxC0udW
        a=ice-options:trickle
        a=fingerprint:sha-256 AD:41:8D:EC:81:4A:F8:03:A2:2F:9B:63:17:34:05:11:C8:E0:15:CF:46:6B:F2:AA:7A:4F:EC:FE:29:2D:F9:EE
        a=setup:actpass
        a=mid:1
        a=extmap:14 urn:ietf:params:rtp-hdrext:toffset
        a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
        a=extmap:13 urn:3gpp:video-orientation
        a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
        a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay
        a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
        a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
        a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
        a=\(direction)
        a=msid:31f8fe2e 713d1c33
        a=rtcp-mux
        a=rtcp-rsize
        a=rtpmap:96 VP8/90000
        a=rtcp-fb:96 goog-remb
        a=rtcp-fb:96 transport-cc
        a=rtcp-fb:96 ccm fir
        a=rtcp-fb:96 nack
        a=rtcp-fb:96 nack pli
        a=rtpmap:97 rtx/90000
        a=fmtp:97 apt=96
        a=rtpmap:102 H264/90000
        a=rtcp-fb:102 nack
        a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f
        a=rtpmap:103 rtx/90000
        a=fmtp:103 apt=102
        a=rtpmap:98 VP9/90000
        a=fmtp:98 profile-id=0
        a=rtpmap:99 rtx/90000
        a=fmtp:99 apt=98
        \(videoSSRC)
        """
    }

    let local = LocalTransportDescription(iceUfrag: "abcdEFGH", icePassword: "0123456789abcdefghijklmn",
                                          fingerprint: "AA:BB", candidates: [("192.0.2.1", 40000)])

    func testPublishAnswerNegotiatesVP8OpusMidAudioLevelTransportCCAndRtx() throws {
        let offer = try OfferAnswer.parse(Self.chromeOffer(direction: "sendonly", withSSRCs: true))
        let (answer, tracks) = try OfferAnswer.answerPublish(offer, local: local)
        XCTAssertEqual(tracks.map(\.codec.name), ["opus", "VP8"])
        XCTAssertEqual(tracks.map(\.ssrc), [3_103_793_438, 2_061_981_047]) // the media SSRC, not the FID repair one
        XCTAssertEqual(tracks[1].layers, [PublishedLayer(ssrc: 2_061_981_047, rtxSSRC: 1_070_375_741)])
        XCTAssertEqual(tracks[0].extensionIDs, [RtpHeaderExtensionURI.mid: 4, RtpHeaderExtensionURI.audioLevel: 1,
                                                RtpHeaderExtensionURI.transportCC: 3])
        XCTAssertEqual(tracks[1].extensionIDs, [RtpHeaderExtensionURI.mid: 4, RtpHeaderExtensionURI.absSendTime: 2,
                                                RtpHeaderExtensionURI.transportCC: 3, RtpHeaderExtensionURI.rtpStreamID: 10,
                                                RtpHeaderExtensionURI.repairedRtpStreamID: 11])
        XCTAssertEqual(tracks[1].trackID, "713d1c33")
        let text = answer.serialize()
        for line in ["m=audio 40000 UDP/TLS/RTP/SAVPF 111", "m=video 40000 UDP/TLS/RTP/SAVPF 96 97",
                     "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid", "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
                     "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
                     "a=rtcp-fb:96 transport-cc", "a=rtpmap:97 rtx/90000", "a=fmtp:97 apt=96",
                     "a=fmtp:111 minptime=10;useinbandfec=1", "a=setup:passive", "a=recvonly"] {
            XCTAssertTrue(text.contains(line + "\r\n"), "missing \(line) in\n\(text)")
        }
        for absent in ["extmap-allow-mixed", "H264", "VP9", "toffset", "a=simulcast"] {
            XCTAssertFalse(text.contains(absent), "\(absent) in\n\(text)")
        }
    }

    func testSubscribeAnswerCarriesRtxFidGroupAndMidExtension() throws {
        let offer = try OfferAnswer.parse(Self.chromeOffer(direction: "recvonly", withSSRCs: false))
        let producers = [
            ProducerDescription(id: "a", kind: .audio, codec: RtpCodec(payloadType: 96, name: "opus", clockRate: 48_000, channels: 2),
                                streamID: "s", trackID: "ta",
                                headerExtensions: [RtpHeaderExtensionURI.mid: 1, RtpHeaderExtensionURI.audioLevel: 7]),
            ProducerDescription(id: "v", kind: .video, codec: RtpCodec(payloadType: 120, name: "VP8", clockRate: 90_000),
                                streamID: "s", trackID: "tv", headerExtensions: [RtpHeaderExtensionURI.mid: 1]),
        ]
        var next: UInt32 = 1000
        let (answer, tracks) = try OfferAnswer.answerSubscribe(offer, local: local, producers: producers,
                                                               newSSRC: { next += 1; return next })
        XCTAssertEqual(tracks, [
            SubscribedTrack(mid: "0", producerID: "a", payloadType: 111, ssrc: 1001,
                            extensionIDs: [RtpHeaderExtensionURI.mid: 4, RtpHeaderExtensionURI.audioLevel: 1]),
            // abs-send-time is not answered: the producer's packets do not carry it.
            SubscribedTrack(mid: "1", producerID: "v", payloadType: 96, ssrc: 1002,
                            extensionIDs: [RtpHeaderExtensionURI.mid: 4], rtx: (payloadType: 97, ssrc: 1003)),
        ])
        let text = answer.serialize()
        for line in ["m=video 40000 UDP/TLS/RTP/SAVPF 96 97", "a=rtpmap:97 rtx/90000", "a=fmtp:97 apt=96",
                     "a=ssrc-group:FID 1002 1003", "a=ssrc:1003 cname:rooms-sfu", "a=ssrc:1002 msid:s tv",
                     "a=msid:s tv", "a=sendonly", "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid"] {
            XCTAssertTrue(text.contains(line + "\r\n"), "missing \(line) in\n\(text)")
        }
        XCTAssertFalse(text.contains("abs-send-time"))
        XCTAssertNoThrow(try SessionDescription.parse(text))
    }

    /// Forwarding re-keys extensions: the publisher's MID (id 1, "0") becomes the subscriber's (id 4, "video"),
    /// audio level moves from id 7 to id 1, and transport-cc (id 3, not negotiated by the subscriber) is dropped.
    func testRekeyReplacesMidRemapsAudioLevelAndDropsTheRest() throws {
        var header = RTPHeader(payloadType: 111, sequenceNumber: 7, timestamp: 960, ssrc: 42)
        header.headerExtension = RTPHeaderExtension.fitting([
            RTPExtensionElement(id: 1, data: Array("0".utf8)),
            RTPExtensionElement(id: 3, data: [0x12, 0x34]),
            RTPExtensionElement(id: 7, data: [0x85]),
        ])
        let payload: [UInt8] = [1, 2, 3, 4, 5]
        let packet = try header.packet(payload: payload)
        var map = [UInt8](repeating: 0, count: 16)
        map[7] = 1
        var out = [UInt8](repeating: 0xEE, count: packet.count + 24)
        let length = packet.withUnsafeBytes { p in
            out.withUnsafeMutableBytes { o in
                Consumer.rekey(p, into: o, midID: 4, midValue: Array("video".utf8), extensionMap: map)
            }
        }
        XCTAssertGreaterThan(length, 0)
        let (parsed, range) = try RTPHeader.parse(Array(out[0 ..< length]))
        XCTAssertEqual(Array(out[range]), payload)
        XCTAssertEqual(parsed.sequenceNumber, 7)
        XCTAssertEqual(parsed.headerExtension?.profile, RTPHeaderExtension.oneByteProfile)
        XCTAssertEqual(parsed.headerExtension?.element(id: 4), Array("video".utf8))
        XCTAssertEqual(parsed.headerExtension?.element(id: 1), [0x85])
        XCTAssertNil(parsed.headerExtension?.element(id: 3))
        XCTAssertNil(parsed.headerExtension?.element(id: 7))

        // Nothing negotiated: the extension block disappears entirely.
        let bare = packet.withUnsafeBytes { p in
            out.withUnsafeMutableBytes { o in
                Consumer.rekey(p, into: o, midID: 0, midValue: [], extensionMap: [UInt8](repeating: 0, count: 16))
            }
        }
        let (plain, plainRange) = try RTPHeader.parse(Array(out[0 ..< bare]))
        XCTAssertNil(plain.headerExtension)
        XCTAssertEqual(Array(out[plainRange]), payload)
        XCTAssertEqual(bare, RTP.fixedHeaderLength + payload.count)
    }
}
