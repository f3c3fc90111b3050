// Simulcast and transport-cc in offer/answer: rid layers answered with recv, ordered lowest first, SIM groups,
// RTX and transport-cc accepted from publishers only, and malformed simulcast falling back to one layer.

import XCTest
@testable import SFU

final class SimulcastNegotiationTests: XCTestCase {
    let local = LocalTransportDescription(iceUfrag: "srv1", icePassword: "serverpassword0123456789",
                                          fingerprint: "AA:BB", candidates: [("127.0.0.1", 40000)])

    func publish(_ sdp: String) throws -> (text: String, tracks: [PublishedTrack]) {
        let (answer, tracks) = try OfferAnswer.answerPublish(OfferAnswer.parse(sdp), local: local)
        let text = answer.serialize()
        XCTAssertNoThrow(try SessionDescription.parse(text), "we must parse what we write")
        return (text, tracks)
    }

    func testChromeRidSimulcastIsAnsweredWithRecvLayersRtxAndTransportCC() throws {
        let (text, tracks) = try publish(SDPTests.chromeOffer)
        let video = try XCTUnwrap(tracks.first { $0.kind == .video })
        XCTAssertEqual(video.layers.map(\.rid), ["q", "h", "f"])
        XCTAssertEqual(video.layers.map(\.ssrc), [nil, nil, nil]) // learned from the rid extension
        XCTAssertNil(video.ssrc)
        XCTAssertEqual(video.rtxPayloadType, 97)
        XCTAssertEqual(video.extensionIDs[RtpHeaderExtensionURI.rtpStreamID], 10)
        XCTAssertEqual(video.extensionIDs[RtpHeaderExtensionURI.repairedRtpStreamID], 11)
        XCTAssertEqual(video.extensionIDs[RtpHeaderExtensionURI.transportCC], 3)
        let audio = try XCTUnwrap(tracks.first { $0.kind == .audio })
        XCTAssertEqual(audio.extensionIDs[RtpHeaderExtensionURI.transportCC], 3)
        XCTAssertEqual(audio.layers.count, 1)
        for line in ["a=rid:q recv", "a=rid:h recv", "a=rid:f recv", "a=simulcast:recv q;h;f",
                     "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
                     "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
                     "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
                     "a=rtcp-fb:96 transport-cc", "a=rtcp-fb:111 transport-cc", "a=rtpmap:97 rtx/90000", "a=fmtp:97 apt=96",
                     "m=video 40000 UDP/TLS/RTP/SAVPF 96 97"] {
            XCTAssertTrue(text.contains(line + "\r\n"), "missing \(line) in\n\(text)")
        }
    }

    func testFirefoxPausedLayerIsKeptAndOfferOrderUsedForUnknownNames() throws {
        let (text, tracks) = try publish(SDPTests.firefoxOffer)
        let video = try XCTUnwrap(tracks.first { $0.kind == .video })
        XCTAssertEqual(video.layers.map(\.rid), ["a", "b", "c"])
        XCTAssertTrue(text.contains("a=simulcast:recv a;b;~c\r\n"), text)
    }

    func testSubscriberAnswersCarryNeitherTransportCCNorRids() throws {
        let offer = SDPTests.chromeOffer.replacingOccurrences(of: "a=sendrecv", with: "a=recvonly")
            .replacingOccurrences(of: "a=rid:q send\r\na=rid:h send\r\na=rid:f send\r\na=simulcast:send q;h;f\r\n", with: "")
        let producer = ProducerDescription(id: "p", kind: .video, codec: RtpCodec(payloadType: 96, name: "VP8", clockRate: 90000),
                                           streamID: "s", trackID: "t",
                                           headerExtensions: [RtpHeaderExtensionURI.transportCC: 3, RtpHeaderExtensionURI.rtpStreamID: 10,
                                                              RtpHeaderExtensionURI.absSendTime: 2])
        var next: UInt32 = 100
        let (answer, tracks) = try OfferAnswer.answerSubscribe(OfferAnswer.parse(offer), local: local, producers: [producer],
                                                               newSSRC: { next += 1; return next })
        let text = answer.serialize()
        XCTAssertEqual(tracks.count, 1)
        XCTAssertFalse(text.contains("transport-cc"), text)
        XCTAssertFalse(text.contains("rtp-stream-id"), text)
        XCTAssertFalse(text.contains("simulcast"), text)
        XCTAssertTrue(text.contains("a=rtcp-fb:96 goog-remb\r\n"), "subscribers must send REMB: \(text)")
    }

    /// a=simulcast naming rids without a=rid lines, duplicates, recv-only rids, no rid extension: each degrades.
    func testMalformedSimulcastDegradesToWhatIsDeclared() throws {
        func video(_ lines: String, ridExtension: Bool = true) throws -> (String, PublishedTrack) {
            var offer = SDPTests.chromeOffer.replacingOccurrences(
                of: "a=rid:q send\r\na=rid:h send\r\na=rid:f send\r\na=simulcast:send q;h;f\r\n", with: lines)
            if !ridExtension {
                offer = offer.replacingOccurrences(of: "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n", with: "")
            }
            let (text, tracks) = try publish(offer)
            return (text, try XCTUnwrap(tracks.first { $0.kind == .video }))
        }
        // "x" has no a=rid line; "q" is listed twice.
        var (text, track) = try video("a=rid:q send\r\na=rid:f send\r\na=simulcast:send q;x;q;f\r\n")
        XCTAssertEqual(track.layers.map(\.rid), ["q", "f"])
        XCTAssertTrue(text.contains("a=simulcast:recv q;f\r\n"), text)
        // rid lines without a=simulcast: the declared send rids.
        (text, track) = try video("a=rid:f send\r\na=rid:q send\r\n")
        XCTAssertEqual(track.layers.map(\.rid), ["q", "f"])
        // Only recv rids: nothing for us to receive as simulcast.
        (text, track) = try video("a=rid:q recv\r\na=simulcast:recv q\r\n")
        XCTAssertEqual(track.layers.map(\.rid), [nil])
        XCTAssertFalse(text.contains("a=simulcast"), text)
        // Without the rid extension the layers could not be told apart: one layer, no simulcast answered.
        (text, track) = try video("a=rid:q send\r\na=rid:h send\r\na=simulcast:send q;h\r\n", ridExtension: false)
        XCTAssertEqual(track.layers.count, 1)
        XCTAssertFalse(text.contains("a=rid"), text)
        // A malformed simulcast line makes the whole offer unparsable (SDP parser), not half-applied.
        XCTAssertThrowsError(try OfferAnswer.parse(SDPTests.chromeOffer.replacingOccurrences(
            of: "a=simulcast:send q;h;f", with: "a=simulcast:send q;;f")))
    }

    func testLegacySimGroupGivesSSRCLayersWithTheirRtx() throws {
        let lines = "a=ssrc-group:SIM 11 22 33\r\na=ssrc-group:FID 11 111\r\na=ssrc-group:FID 22 222\r\n"
            + "a=ssrc-group:FID 33 333\r\n" + [11, 111, 22, 222, 33, 333].map { "a=ssrc:\($0) cname:x\r\n" }.joined()
        let offer = SDPTests.chromeOffer.replacingOccurrences(
            of: "a=rid:q send\r\na=rid:h send\r\na=rid:f send\r\na=simulcast:send q;h;f\r\n", with: lines)
        let (text, tracks) = try publish(offer)
        let video = try XCTUnwrap(tracks.first { $0.kind == .video })
        XCTAssertEqual(video.layers, [PublishedLayer(ssrc: 11, rtxSSRC: 111), PublishedLayer(ssrc: 22, rtxSSRC: 222),
                                      PublishedLayer(ssrc: 33, rtxSSRC: 333)])
        XCTAssertFalse(text.contains("a=simulcast"))
    }

    func testSpatialOrderFollowsConventionalNames() {
        XCTAssertEqual(Simulcast.spatialOrder(["f", "h", "q"]), ["q", "h", "f"])
        XCTAssertEqual(Simulcast.spatialOrder(["h", "m", "l"]), ["l", "m", "h"]) // here h is "high"
        XCTAssertEqual(Simulcast.spatialOrder(["r2", "r0", "r1"]), ["r0", "r1", "r2"])
        XCTAssertEqual(Simulcast.spatialOrder(["hi", "lo"]), ["lo", "hi"])
        XCTAssertEqual(Simulcast.spatialOrder(["x", "y", "a"]), ["x", "y", "a"])
        XCTAssertEqual(Simulcast.spatialOrder(["1", "1a"]), ["1", "1a"]) // numbers not distinct: offer order
    }
}
