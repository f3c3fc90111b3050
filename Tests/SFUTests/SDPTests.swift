import XCTest
@testable import SFU

final class SDPTests: XCTestCase {
    /// Shaped like what Chrome 120+ sends for getUserMedia audio + video with three rid simulcast layers and a
    /// data channel (unified plan, BUNDLE, trickle ICE with a candidate already gathered).
    static let chromeOffer = """
        v=0
        o=- 4611731400430051336 2 IN IP4 127.0.0.1
        s=-
        t=0 0
        a=group:BUNDLE 0 1 2
        a=extmap-allow-mixed
        a=msid-semantic: WMS 5c1b8f4e-3f1e-4a43-9a6e-3f0c1a2b3c4d
        m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
        c=IN IP4 0.0.0.0
        a=rtcp:9 IN IP4 0.0.0.0
        a=candidate:2999745851 1 udp 2122260223 192.168.1.23 54400 typ host generation 0 network-id 1 network-cost 10
        a=candidate:1606961068 1 tcp 1518280447 192.168.1.23 9 typ host tcptype active generation 0 network-id 1
        a=candidate:842163049 1 udp 1686052607 203.0.113.7 54400 typ srflx raddr 192.168.1.23 rport 54400 generation 0 network-id 1
        a=ice-ufrag:Xh8q
        a=ice-pwd:2Qbn6yJwq0GJ8oF1tS7uXd+Z
        a=ice-options:trickle
        a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08
        a=setup:actpass
        a=mid:0
        a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
        a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
        a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
        a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
        a=sendrecv
        a=msid:5c1b8f4e-3f1e-4a43-9a6e-3f0c1a2b3c4d 0b6c2a4e-7d5f-4f1e-9a3b-1c2d3e4f5a6b
        a=rtcp-mux
        a=rtcp-rsize
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
        a=ssrc:1843926372 cname:Jk3wHq8vRz2sXy1T
        a=ssrc:1843926372 msid:5c1b8f4e-3f1e-4a43-9a6e-3f0c1a2b3c4d 0b6c2a4e-7d5f-4f1e-9a3b-1c2d3e4f5a6b
        m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 45 46 39 40 98 99
        c=IN IP4 0.0.0.0
        a=rtcp:9 IN IP4 0.0.0.0
        a=ice-ufrag:Xh8q
        a=ice-pwd:2Qbn6yJwq0GJ8oF1tS7uXd+Z
        a=ice-options:trickle
        a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08
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
        a=sendrecv
        a=msid:5c1b8f4e-3f1e-4a43-9a6e-3f0c1a2b3c4d 9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a
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
        a=rtcp-fb:102 goog-remb
        a=rtcp-fb:102 transport-cc
        a=rtcp-fb:102 ccm fir
        a=rtcp-fb:102 nack
        a=rtcp-fb:102 nack pli
        a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
        a=rtpmap:103 rtx/90000
        a=fmtp:103 apt=102
        a=rtpmap:45 AV1/90000
        a=rtcp-fb:45 goog-remb
        a=rtcp-fb:45 transport-cc
        a=rtcp-fb:45 ccm fir
        a=rtcp-fb:45 nack
        a=rtcp-fb:45 nack pli
        a=fmtp:45 level-idx=5;profile=0;tier=0
        a=rtpmap:46 rtx/90000
        a=fmtp:46 apt=45
        a=rtpmap:39 VP9/90000
        a=rtcp-fb:39 goog-remb
        a=rtcp-fb:39 transport-cc
        a=rtcp-fb:39 ccm fir
        a=rtcp-fb:39 nack
        a=rtcp-fb:39 nack pli
        a=fmtp:39 profile-id=0
        a=rtpmap:40 rtx/90000
        a=fmtp:40 apt=39
        a=rtpmap:98 red/90000
        a=rtpmap:99 rtx/90000
        a=fmtp:99 apt=98
        a=rid:q send
        a=rid:h send
        a=rid:f send
        a=simulcast:send q;h;f
        m=application 9 UDP/DTLS/SCTP webrtc-datachannel
        c=IN IP4 0.0.0.0
        a=ice-ufrag:Xh8q
        a=ice-pwd:2Qbn6yJwq0GJ8oF1tS7uXd+Z
        a=ice-options:trickle
        a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08
        a=setup:actpass
        a=mid:2
        a=sctp-port:5000
        a=max-message-size:262144

        """.replacingOccurrences(of: "\n", with: "\r\n")

    /// Shaped like Firefox 12x: session-level fingerprint, uppercase UDP candidates, extmap directions,
    /// RTX in ssrc-group FID, rid simulcast with a paused layer, end-of-candidates, and bare LF line ends.
    static let firefoxOffer = """
        v=0
        o=mozilla...THIS_IS_SDPARTA-99.0 2290390437187553792 0 IN IP4 0.0.0.0
        s=-
        t=0 0
        a=fingerprint:sha-256 4C:2B:6A:7F:12:0E:99:D1:A0:3C:5B:77:E8:21:F4:0A:9B:3D:6E:11:C8:52:AF:04:7D:E9:36:B1:28:5C:90:FE
        a=group:BUNDLE 0 1
        a=ice-options:trickle
        a=msid-semantic:WMS *
        m=audio 54609 UDP/TLS/RTP/SAVPF 109 9 0 8 101
        c=IN IP4 198.51.100.20
        a=candidate:0 1 UDP 2122252543 198.51.100.20 54609 typ host
        a=candidate:1 1 TCP 2105524479 198.51.100.20 9 typ host tcptype active
        a=candidate:0 2 UDP 2122252542 198.51.100.20 54610 typ host
        a=sendrecv
        a=end-of-candidates
        a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
        a=extmap:2/recvonly urn:ietf:params:rtp-hdrext:csrc-audio-level
        a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid
        a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1
        a=fmtp:101 0-15
        a=ice-pwd:b7c15e2e8e3d6d1f0a9c4b7e2f6d8a13
        a=ice-ufrag:9f3a2c1b
        a=mid:0
        a=msid:{7e1c0f3a-2b4d-4c6e-8f9a-0b1c2d3e4f5a} {1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d}
        a=rtcp:54610 IN IP4 198.51.100.20
        a=rtcp-mux
        a=rtpmap:109 opus/48000/2
        a=rtpmap:9 G722/8000/1
        a=rtpmap:0 PCMU/8000
        a=rtpmap:8 PCMA/8000
        a=rtpmap:101 telephone-event/8000/1
        a=setup:actpass
        a=ssrc:3320867201 cname:{5d8c2b1a-9e7f-4a6b-8c3d-2e1f0a9b8c7d}
        m=video 54609 UDP/TLS/RTP/SAVPF 120 124 121 125 126 127 97 98
        c=IN IP4 198.51.100.20
        a=candidate:0 1 UDP 2122252543 198.51.100.20 54609 typ host
        a=sendrecv
        a=end-of-candidates
        a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid
        a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
        a=extmap:5 urn:ietf:params:rtp-hdrext:toffset
        a=extmap:6/recvonly http://www.webrtc.org/experiments/rtp-hdrext/playout-delay
        a=extmap:7 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
        a=extmap:8 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
        a=extmap:9 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
        a=fmtp:126 profile-level-id=42e01f;level-asymmetry-allowed=1;packetization-mode=1
        a=fmtp:97 profile-level-id=42e01f;level-asymmetry-allowed=1
        a=fmtp:120 max-fs=12288;max-fr=60
        a=fmtp:124 apt=120
        a=fmtp:121 max-fs=12288;max-fr=60
        a=fmtp:125 apt=121
        a=fmtp:127 apt=126
        a=fmtp:98 apt=97
        a=ice-pwd:b7c15e2e8e3d6d1f0a9c4b7e2f6d8a13
        a=ice-ufrag:9f3a2c1b
        a=mid:1
        a=msid:{7e1c0f3a-2b4d-4c6e-8f9a-0b1c2d3e4f5a} {6c5d4e3f-2a1b-4c0d-9e8f-7a6b5c4d3e2f}
        a=rid:a send
        a=rid:b send
        a=rid:c send
        a=rtcp-fb:120 nack
        a=rtcp-fb:120 nack pli
        a=rtcp-fb:120 ccm fir
        a=rtcp-fb:120 goog-remb
        a=rtcp-fb:120 transport-cc
        a=rtcp-fb:121 nack
        a=rtcp-fb:121 nack pli
        a=rtcp-fb:121 ccm fir
        a=rtcp-fb:121 goog-remb
        a=rtcp-fb:121 transport-cc
        a=rtcp-fb:126 nack
        a=rtcp-fb:126 nack pli
        a=rtcp-fb:126 ccm fir
        a=rtcp-fb:126 goog-remb
        a=rtcp-fb:126 transport-cc
        a=rtcp-fb:97 nack
        a=rtcp-fb:97 nack pli
        a=rtcp-fb:97 ccm fir
        a=rtcp-fb:97 goog-remb
        a=rtcp-fb:97 transport-cc
        a=rtcp-mux
        a=rtcp-rsize
        a=rtpmap:120 VP8/90000
        a=rtpmap:124 rtx/90000
        a=rtpmap:121 VP9/90000
        a=rtpmap:125 rtx/90000
        a=rtpmap:126 H264/90000
        a=rtpmap:127 rtx/90000
        a=rtpmap:97 H264/90000
        a=rtpmap:98 rtx/90000
        a=setup:actpass
        a=simulcast:send a;b;~c
        a=ssrc:1021433611 cname:{5d8c2b1a-9e7f-4a6b-8c3d-2e1f0a9b8c7d}
        a=ssrc:2803311544 cname:{5d8c2b1a-9e7f-4a6b-8c3d-2e1f0a9b8c7d}
        a=ssrc-group:FID 1021433611 2803311544

        """

    func testChromeOfferRoundTripsAndReads() throws {
        let sdp = try SessionDescription.parse(Self.chromeOffer)
        XCTAssertEqual(sdp.serialize(), Self.chromeOffer)
        XCTAssertEqual(sdp.bundleMids, ["0", "1", "2"])
        XCTAssertFalse(sdp.isIceLite)
        XCTAssertTrue(sdp.sessionAttributes.contains(.extmapAllowMixed))
        XCTAssertEqual(sdp.media.map(\.kind), ["audio", "video", "application"])

        let audio = sdp.media[0]
        XCTAssertEqual(audio.mid, "0")
        XCTAssertEqual(audio.direction, .sendrecv)
        XCTAssertTrue(audio.has(.rtcpMux))
        XCTAssertTrue(audio.has(.rtcpRsize))
        XCTAssertEqual(audio.setup, .actpass)
        XCTAssertEqual(audio.fingerprint?.hashFunction, "sha-256")
        XCTAssertEqual(sdp.iceCredentials(of: audio)?.ufrag, "Xh8q")
        XCTAssertEqual(sdp.iceCredentials(of: audio)?.pwd, "2Qbn6yJwq0GJ8oF1tS7uXd+Z")
        XCTAssertEqual(audio.extensionID("urn:ietf:params:rtp-hdrext:ssrc-audio-level"), 1)
        XCTAssertEqual(audio.msid, SDPMsid(streamID: "5c1b8f4e-3f1e-4a43-9a6e-3f0c1a2b3c4d",
                                           trackID: "0b6c2a4e-7d5f-4f1e-9a3b-1c2d3e4f5a6b"))
        XCTAssertEqual(audio.ssrcs, [1_843_926_372])
        XCTAssertEqual(audio.ssrcAttributes.first, SDPSsrcAttribute(ssrc: 1_843_926_372, attribute: "cname", value: "Jk3wHq8vRz2sXy1T"))
        let opus = try XCTUnwrap(audio.codecs.first)
        XCTAssertEqual(opus.name, "opus")
        XCTAssertEqual(opus.clockRate, 48000)
        XCTAssertEqual(opus.channels, 2)
        XCTAssertEqual(opus.parameter("useinbandfec"), "1")
        XCTAssertEqual(opus.feedback, [SDPRtcpFeedback(payloadType: "111", type: "transport-cc")])
        XCTAssertEqual(audio.codecs.map(\.payloadType), [111, 63, 9, 0, 8, 13, 110, 126])

        let cands = audio.candidates
        XCTAssertEqual(cands.count, 3)
        XCTAssertEqual(cands[0].foundation, "2999745851")
        XCTAssertEqual(cands[0].priority, 2_122_260_223)
        XCTAssertEqual(cands[0].address, "192.168.1.23")
        XCTAssertEqual(cands[0].port, 54400)
        XCTAssertEqual(cands[0].type, "host")
        XCTAssertEqual(cands[0].extensions.first, .init(key: "generation", value: "0"))
        XCTAssertEqual(cands[1].transport, "tcp")
        XCTAssertEqual(cands[1].tcpType, "active")
        XCTAssertEqual(cands[2].relatedAddress, "192.168.1.23")
        XCTAssertEqual(cands[2].relatedPort, 54400)

        let video = sdp.media[1]
        XCTAssertEqual(video.rids.map(\.id), ["q", "h", "f"])
        XCTAssertEqual(video.simulcastSendRids, ["q", "h", "f"])
        XCTAssertEqual(video.rtxAssociations, [97: 96, 103: 102, 46: 45, 40: 39, 99: 98])
        let vp8 = try XCTUnwrap(video.codecs.first { $0.name == "VP8" })
        XCTAssertEqual(vp8.feedback.map { $0.type + ($0.subtype.map { " " + $0 } ?? "") },
                       ["goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"])
        let h264 = try XCTUnwrap(video.codecs.first { $0.name == "H264" })
        XCTAssertEqual(h264.parameter("profile-level-id"), "42e01f")
        XCTAssertEqual(video.extensionID("urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"), 10)

        let data = sdp.media[2]
        XCTAssertEqual(data.proto, "UDP/DTLS/SCTP")
        XCTAssertEqual(data.formats, ["webrtc-datachannel"])
        XCTAssertTrue(data.attributes.contains(.sctpPort(5000)))
        XCTAssertTrue(data.attributes.contains(.maxMessageSize(262_144)))
        XCTAssertTrue(data.codecs.isEmpty)
    }

    func testFirefoxOfferRoundTripsAndReads() throws {
        let sdp = try SessionDescription.parse(Self.firefoxOffer)
        XCTAssertEqual(sdp.serialize(), Self.firefoxOffer.replacingOccurrences(of: "\n", with: "\r\n"))
        let audio = sdp.media[0]
        XCTAssertEqual(audio.port, 54609)
        XCTAssertEqual(audio.connection, "IN IP4 198.51.100.20")
        XCTAssertEqual(sdp.fingerprint(of: audio)?.value.prefix(5), "4C:2B")
        XCTAssertEqual(sdp.iceCredentials(of: audio)?.ufrag, "9f3a2c1b")
        XCTAssertTrue(audio.has(.endOfCandidates))
        XCTAssertEqual(audio.candidates.map(\.transport), ["UDP", "TCP", "UDP"])
        XCTAssertEqual(audio.candidates.map(\.component), [1, 1, 2])
        XCTAssertEqual(audio.extmaps[1], SDPExtmap(id: 2, uri: "urn:ietf:params:rtp-hdrext:csrc-audio-level", direction: .recvonly))
        let g722 = try XCTUnwrap(audio.codecs.first { $0.payloadType == 9 })
        XCTAssertEqual(g722.channels, 1)
        XCTAssertEqual(audio.codecs.first?.parameter("maxplaybackrate"), "48000")

        let video = sdp.media[1]
        XCTAssertEqual(video.simulcast?.send.map { $0.map(\.rid) }, [["a"], ["b"], ["c"]])
        XCTAssertEqual(video.simulcast?.send.last?.first?.paused, true)
        XCTAssertEqual(video.ssrcGroups, [SDPSsrcGroup(semantics: "FID", ssrcs: [1_021_433_611, 2_803_311_544])])
        XCTAssertEqual(video.rtxAssociations, [124: 120, 125: 121, 127: 126, 98: 97])
        XCTAssertEqual(video.msid?.streamID, "{7e1c0f3a-2b4d-4c6e-8f9a-0b1c2d3e4f5a}")
        XCTAssertEqual(video.codecs.count, 8)
    }

    func testAttributesTypedAndRaw() throws {
        XCTAssertEqual(try SessionDescription.parseAttribute("ice-lite"), .iceLite)
        XCTAssertEqual(try SessionDescription.parseAttribute("recvonly"), .direction(.recvonly))
        XCTAssertEqual(try SessionDescription.parseAttribute("ssrc-group:SIM 1 2 3"),
                       .ssrcGroup(SDPSsrcGroup(semantics: "SIM", ssrcs: [1, 2, 3])))
        XCTAssertEqual(try SessionDescription.parseAttribute("simulcast:send 1,2;3 recv 4"),
                       .simulcast(SDPSimulcast(send: [[.init(rid: "1"), .init(rid: "2")], [.init(rid: "3")]],
                                               recv: [[.init(rid: "4")]])))
        XCTAssertEqual(try SessionDescription.parseAttribute("rid:h send max-width=1280;max-height=720"),
                       .rid(SDPRid(id: "h", direction: "send", restrictions: "max-width=1280;max-height=720")))
        XCTAssertEqual(try SessionDescription.parseAttribute("ice-options:trickle renomination"),
                       .iceOptions(["trickle", "renomination"]))
        XCTAssertEqual(try SessionDescription.parseAttribute("x-google-flag:conference"),
                       .other(name: "x-google-flag", value: "conference"))
        // Known attribute whose typed form would change the text (double space) is kept as written.
        XCTAssertEqual(try SessionDescription.parseAttribute("group:BUNDLE  0 1"), .other(name: "group", value: "BUNDLE  0 1"))
        // Trickled candidate strings.
        let c = try SDPCandidate(parsing: "candidate:1 1 udp 2130706431 10.0.0.1 3478 typ host ufrag abcd")
        XCTAssertEqual(c.extensions, [.init(key: "ufrag", value: "abcd")])
        XCTAssertEqual("candidate:" + c.sdpValue, "candidate:1 1 udp 2130706431 10.0.0.1 3478 typ host ufrag abcd")
    }

    /// An answer as this server would build it: ice-lite, passive candidates, end-of-candidates.
    func testBuildAnswer() throws {
        let candidate = SDPCandidate(foundation: "1", transport: "udp", priority: 2_130_706_431,
                                     address: "203.0.113.10", port: 40000, type: "host")
        var tcp = SDPCandidate(foundation: "2", transport: "tcp", priority: 1_500_000_000, address: "203.0.113.10",
                               port: 443, type: "host")
        tcp.tcpType = "passive"
        let answer = SessionDescription(sessionLines: [
            .field(type: "o", value: "- 1 1 IN IP4 0.0.0.0"), .field(type: "s", value: "-"), .field(type: "t", value: "0 0"),
            .attribute(.iceLite), .attribute(.group(SDPGroup(semantics: "BUNDLE", mids: ["0"]))),
        ], media: [SDPMediaSection(kind: "audio", proto: "UDP/TLS/RTP/SAVPF", formats: ["111"], lines: [
            .field(type: "c", value: "IN IP4 0.0.0.0"),
            .attribute(.mid("0")), .attribute(.direction(.recvonly)), .attribute(.rtcpMux),
            .attribute(.iceUfrag("srv1")), .attribute(.icePwd("abcdefghijklmnopqrstuvwx")),
            .attribute(.setup(.active)), .attribute(.rtpmap(SDPRtpMap(payloadType: 111, name: "opus", clockRate: 48000, channels: 2))),
            .attribute(.fmtp(SDPFmtp(payloadType: 111, format: "minptime=10;useinbandfec=1"))),
            .attribute(.candidate(candidate)), .attribute(.candidate(tcp)), .attribute(.endOfCandidates),
        ])])
        let text = answer.serialize()
        XCTAssertTrue(text.contains("a=candidate:2 1 tcp 1500000000 203.0.113.10 443 typ host tcptype passive\r\n"))
        XCTAssertTrue(text.hasSuffix("a=end-of-candidates\r\n"))
        XCTAssertEqual(try SessionDescription.parse(text), answer)
        XCTAssertTrue(try SessionDescription.parse(text).isIceLite)
    }

    func testMalformed() {
        func rejects(_ s: String, _ why: String, line: UInt = #line) {
            XCTAssertThrowsError(try SessionDescription.parse(s), why, line: line)
        }
        rejects("", "empty")
        rejects("\r\n\r\n", "only blank lines")
        rejects("v=1\r\n", "version 1")
        rejects("o=- 1 1 IN IP4 0.0.0.0\r\n", "no v= first")
        rejects("v=0\r\nthis is not sdp\r\n", "no type=")
        rejects("v=0\r\n=x\r\n", "empty type")
        rejects("v=0\r\nA=x\r\n", "uppercase type")
        rejects("v=0\r\nm=audio\r\n", "m= too short")
        rejects("v=0\r\nm=audio x RTP/AVP 0\r\n", "m= port not a number")
        rejects("v=0\r\nm=audio 99999 RTP/AVP 0\r\n", "m= port too big")
        rejects("v=0\r\nm=audio 9/x RTP/AVP 0\r\n", "m= port count")
        rejects("v=0\r\na=rtpmap:abc opus/48000\r\n", "rtpmap pt")
        rejects("v=0\r\na=rtpmap:111 opus\r\n", "rtpmap without clock")
        rejects("v=0\r\na=rtpmap:300 opus/48000\r\n", "rtpmap pt > 255")
        rejects("v=0\r\na=extmap:x urn:a\r\n", "extmap id")
        rejects("v=0\r\na=extmap:1/sideways urn:a\r\n", "extmap direction")
        rejects("v=0\r\na=ssrc:1\r\n", "ssrc without attribute")
        rejects("v=0\r\na=ssrc:99999999999 cname:x\r\n", "ssrc too big")
        rejects("v=0\r\na=ssrc-group:FID 1 x\r\n", "ssrc-group member")
        rejects("v=0\r\na=candidate:1 1 udp 1 1.2.3.4 5 host\r\n", "candidate without typ")
        rejects("v=0\r\na=candidate:1 1 udp 1 1.2.3.4 70000 typ host\r\n", "candidate port")
        rejects("v=0\r\na=candidate:1 1 udp 1 1.2.3.4 5 typ host raddr\r\n", "candidate odd extension")
        rejects("v=0\r\na=setup:sideways\r\n", "setup value")
        rejects("v=0\r\na=sctp-port:abc\r\n", "sctp-port")
        rejects("v=0\r\na=simulcast:send\r\n", "simulcast without streams")
        rejects("v=0\r\na=simulcast:send a;;b\r\n", "simulcast empty rid")
        rejects("v=0\r\na=simulcast:send a send b\r\n", "simulcast send twice")
        rejects("v=0\r\na=fingerprint:sha-256\r\n", "fingerprint without value")
        rejects("v=0\r\na=fmtp:111\r\n", "fmtp without parameters")
        rejects("v=0\r\na=rid:a\r\n", "rid without direction")
        rejects("v=0\r\na=msid:a b c\r\n", "msid with three tokens")
    }

    func testRandomTextNeverTraps() {
        var rng = SeededRandom(seed: 8866)
        let alphabet = Array("v=0amcs:/ 123\r\n;,~-typhostudp".unicodeScalars)
        let lines = Self.chromeOffer.components(separatedBy: "\r\n")
        for i in 0..<3000 {
            let text: String
            if i % 2 == 0 {
                text = String(String.UnicodeScalarView((0..<Int.random(in: 0...200, using: &rng)).map { _ in
                    alphabet[Int.random(in: 0..<alphabet.count, using: &rng)]
                }))
            } else {
                // Real lines, shuffled and cut at random places.
                var picked = ["v=0"]
                for _ in 0..<Int.random(in: 1...20, using: &rng) {
                    let l = lines[Int.random(in: 0..<lines.count, using: &rng)]
                    picked.append(String(l.prefix(Int.random(in: 0...l.count, using: &rng))))
                }
                text = picked.joined(separator: "\r\n")
            }
            if let sdp = try? SessionDescription.parse(text) {
                let again = sdp.serialize()
                XCTAssertEqual(try? SessionDescription.parse(again), sdp)
                for m in sdp.media { _ = (m.codecs, m.rtxAssociations, m.candidates, m.simulcastSendRids) }
            }
            let bytes = rng.bytes(maxCount: 60)
            _ = try? SessionDescription.parse(String(decoding: bytes, as: UTF8.self))
        }
    }

    /// Found by the fuzzer: a CR or NUL inside a line made serialize → parse give a different description.
    func testControlCharactersInsideLinesAreRejected() {
        XCTAssertThrowsError(try SessionDescription.parse("v=0\r\nc=IN IP4 0.0.0.0\rUNDLE 0 1\r\n"))
        XCTAssertThrowsError(try SessionDescription.parse("v=0\r\na=mid:0\u{0}x\r\n"))
        XCTAssertNoThrow(try SessionDescription.parse("v=0\r\nc=IN IP4 0.0.0.0\r\n"))
    }
}
