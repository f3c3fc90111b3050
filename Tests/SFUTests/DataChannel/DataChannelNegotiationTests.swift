import XCTest
@testable import SFU

/// m=application (RFC 8841) in the SFU's answers: modern and legacy syntax, limits, rejection.
final class DataChannelNegotiationTests: XCTestCase {
    let local = LocalTransportDescription(iceUfrag: "abcdEFGH", icePassword: "0123456789abcdefghijklmn",
                                          fingerprint: "AA:BB", candidates: [("192.0.2.1", 40000)])

    /// As aiortc 1.16 offers a data channel (candidates and extra fingerprints cut), with `application` as given.
    static func offer(audio: Bool = false, application: [String]) -> String {
        var lines = ["v=0", "o=- 4004441747 4004441747 IN IP4 0.0.0.0", "s=-", "t=0 0",
                     "a=group:BUNDLE \(audio ? "0 1" : "1")", "a=msid-semantic:WMS *"]
        let transport = ["a=ice-ufrag:WpXE", "a=ice-pwd:NbU1ffBrtXrpZLGfDPGWjK",
                         "a=fingerprint:sha-256 6A:5C:97:80:71:84:B5:30:8F:84:0C:6F:37:80:9A:33:5E:6E:A4:58:90:FB:40:CA:1A:38:28:81:FF:53:0A:67",
                         "a=setup:actpass"]
        if audio {
            lines += ["m=audio 54782 UDP/TLS/RTP/SAVPF 96", "c=IN IP4 192.0.2.2", "a=sendonly", "a=mid:0",
                      "a=msid:s t", "a=rtcp-mux", "a=ssrc:2451694515 cname:x", "a=rtpmap:96 opus/48000/2"] + transport
        }
        lines += application + transport
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    static let modern = ["m=application 37124 UDP/DTLS/SCTP webrtc-datachannel", "c=IN IP4 192.0.2.2", "a=mid:1",
                  "a=sctp-port:5000", "a=max-message-size:65536"]

    func testDataOnlyPublishIsAnsweredWithSctpPortAndOurMaxMessageSize() throws {
        let sdp = try OfferAnswer.parse(Self.offer(application: Self.modern))
        let (answer, tracks) = try OfferAnswer.answerPublish(sdp, local: local)
        XCTAssertTrue(tracks.isEmpty)
        let text = answer.serialize()
        XCTAssertTrue(text.contains("m=application 40000 UDP/DTLS/SCTP webrtc-datachannel\r\n"), text)
        XCTAssertTrue(text.contains("a=sctp-port:5000\r\n"), text)
        XCTAssertTrue(text.contains("a=max-message-size:262144\r\n"), text)
        XCTAssertTrue(text.contains("a=setup:passive\r\n") && text.contains("a=group:BUNDLE 1\r\n"), text)
        XCTAssertEqual(OfferAnswer.dataChannelParameters(in: sdp), DataChannelParameters(remotePort: 5000, remoteMaxMessageSize: 65_536))
        // The answer parses back (it is what the client's setRemoteDescription gets).
        XCTAssertEqual(try SessionDescription.parse(text).media.first?.kind, "application")
    }

    func testSubscribeKeepsTheDataSectionInTheBundle() throws {
        let sdp = try OfferAnswer.parse(Self.offer(audio: true, application: Self.modern).replacingOccurrences(of: "a=sendonly", with: "a=recvonly"))
        let (answer, _) = try OfferAnswer.answerSubscribe(sdp, local: local, producers: [], newSSRC: { 1 })
        XCTAssertEqual(answer.bundleMids, ["0", "1"])
        XCTAssertEqual(answer.media.map(\.kind), ["audio", "application"])
        XCTAssertEqual(answer.media[1].port, 40000)
    }

    func testLegacySctpmapIsAnsweredInKind() throws {
        let legacy = ["m=application 9 DTLS/SCTP 5000", "c=IN IP4 0.0.0.0", "a=mid:1",
                      "a=sctpmap:5000 webrtc-datachannel 1024"]
        let sdp = try OfferAnswer.parse(Self.offer(application: legacy))
        let text = try OfferAnswer.answerPublish(sdp, local: local).answer.serialize()
        XCTAssertTrue(text.contains("m=application 40000 DTLS/SCTP 5000\r\n"), text)
        XCTAssertTrue(text.contains("a=sctpmap:5000 webrtc-datachannel 1024\r\n"), text)
        XCTAssertEqual(OfferAnswer.dataChannelParameters(in: sdp)?.remoteMaxMessageSize, 65_536, "absent: 64 KiB")
    }

    func testMaxMessageSizeAndPort() throws {
        func parameters(_ extra: [String]) throws -> DataChannelParameters? {
            OfferAnswer.dataChannelParameters(in: try OfferAnswer.parse(Self.offer(application: Array(Self.modern.prefix(3)) + extra)))
        }
        XCTAssertEqual(try parameters(["a=sctp-port:5001", "a=max-message-size:0"]),
                       DataChannelParameters(remotePort: 5001, remoteMaxMessageSize: DataChannelSession.maxMessageSize))
        XCTAssertEqual(try parameters(["a=max-message-size:100000000"])?.remoteMaxMessageSize, DataChannelSession.maxMessageSize)
        XCTAssertEqual(try parameters(["a=max-message-size:1200"])?.remoteMaxMessageSize, 1200)
        XCTAssertEqual(try parameters([])?.remotePort, 5000, "no a=sctp-port: the default")
        XCTAssertNil(try parameters(["a=sctp-port:0"]))
        XCTAssertNil(try parameters(["a=sctp-port:70000"]))
    }

    func testUnusableApplicationSectionsAreRejected() throws {
        let cases: [[String]] = [
            ["m=application 0 UDP/DTLS/SCTP webrtc-datachannel", "a=mid:1", "a=sctp-port:5000"],   // port 0
            ["m=application 9 UDP/DTLS/SCTP t140", "a=mid:1", "a=sctp-port:5000"],                  // other format
            ["m=application 9 TCP/MSRP *", "a=mid:1"],                                               // other protocol
            ["m=application 9 DTLS/SCTP 5000", "a=mid:1"],                                           // legacy, no sctpmap
        ]
        for application in cases {
            let sdp = try OfferAnswer.parse(Self.offer(application: application))
            XCTAssertNil(OfferAnswer.dataChannelParameters(in: sdp), "\(application)")
            XCTAssertThrowsError(try OfferAnswer.answerPublish(sdp, local: local), "\(application)") {
                XCTAssertEqual($0 as? NegotiationError, .noAcceptableMedia)
            }
        }
        // With audio beside it, an unusable application section is rejected alone (port 0, out of the bundle).
        let sdp = try OfferAnswer.parse(Self.offer(audio: true, application: cases[1]))
        let answer = try OfferAnswer.answerPublish(sdp, local: local).answer
        XCTAssertEqual(answer.media.map(\.port), [40000, 0])
        XCTAssertEqual(answer.bundleMids, ["0"])
    }

    func testBundleOnlyDataSectionIsAccepted() throws {
        // Firefox offers later sections of a max-bundle group with port 0 and a=bundle-only (RFC 8843 §7.5).
        let bundleOnly = ["m=application 0 UDP/DTLS/SCTP webrtc-datachannel", "c=IN IP4 0.0.0.0", "a=bundle-only", "a=mid:1",
                          "a=sctp-port:5000", "a=max-message-size:1073741823"]
        let sdp = try OfferAnswer.parse(Self.offer(audio: true, application: bundleOnly))
        XCTAssertEqual(OfferAnswer.dataChannelParameters(in: sdp)?.remoteMaxMessageSize, DataChannelSession.maxMessageSize)
        let answer = try OfferAnswer.answerPublish(sdp, local: local).answer
        XCTAssertEqual(answer.media.map(\.port), [40000, 40000])
        XCTAssertEqual(answer.bundleMids, ["0", "1"])
    }

    func testOnlyTheFirstDataSectionIsAccepted() throws {
        let second = ["m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "a=mid:2", "a=sctp-port:5000"]
        let sdp = try OfferAnswer.parse(Self.offer(application: Self.modern + ["a=ice-ufrag:WpXE", "a=ice-pwd:NbU1ffBrtXrpZLGfDPGWjK"] + second))
        let answer = try OfferAnswer.answerPublish(sdp, local: local).answer
        XCTAssertEqual(answer.media.map(\.port), [40000, 0])
    }
}
