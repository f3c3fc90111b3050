@testable import SIPDialIn
import SFU
import XCTest

final class PhoneSDPTests: XCTestCase {
    private func sdp(_ media: String, connection: String = "c=IN IP4 192.0.2.10", extra: [String] = []) -> String {
        (["v=0", "o=- 1 1 IN IP4 192.0.2.10", "s=-", connection, "t=0 0", media] + extra).joined(separator: "\r\n") + "\r\n"
    }

    func testPicksThePhonesFirstSupportedCodecAndItsTelephoneEvent() throws {
        let offer = try PhoneSDP.parse(sdp("m=audio 4000 RTP/AVP 18 8 0 101", extra: [
            "a=rtpmap:18 G729/8000", "a=rtpmap:8 PCMA/8000", "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000", "a=sendrecv",
        ]))
        XCTAssertEqual(offer.format, PhoneMediaFormat(codec: .pcma, payloadType: 8, telephoneEventPayloadType: 101))
        XCTAssertEqual(offer.host, "192.0.2.10")
        XCTAssertEqual(offer.port, 4000)
        XCTAssertEqual(offer.direction, .sendrecv)
    }

    func testStaticPayloadTypesWithoutRtpmapAndOpus() throws {
        XCTAssertEqual(try PhoneSDP.parse(sdp("m=audio 4000 RTP/AVP 0")).format.codec, .pcmu)
        let opus = try PhoneSDP.parse(sdp("m=audio 4000 RTP/AVP 96 0", extra: ["a=rtpmap:96 opus/48000/2"]))
        XCTAssertEqual(opus.format, PhoneMediaFormat(codec: .opus, payloadType: 96, telephoneEventPayloadType: nil))
    }

    func testHoldForms() throws {
        XCTAssertEqual(try PhoneSDP.parse(sdp("m=audio 4000 RTP/AVP 0", extra: ["a=sendonly"])).direction, .sendonly)
        let old = try PhoneSDP.parse(sdp("m=audio 4000 RTP/AVP 0", connection: "c=IN IP4 0.0.0.0"))
        XCTAssertNil(old.host)
        XCTAssertEqual(old.direction, .inactive)
    }

    func testAnswerMirrorsAndParsesBack() throws {
        let offer = try PhoneSDP.parse(sdp("m=audio 4000 RTP/AVP 0 101", extra: ["a=rtpmap:101 telephone-event/8000", "a=sendonly"]))
        let answer = PhoneSDP.answer(to: offer, host: "127.0.0.1", port: 30000, sessionID: 7, version: 2)
        let parsed = try SessionDescription.parse(answer)
        XCTAssertEqual(parsed.media.first?.formats, ["0", "101"])
        XCTAssertEqual(parsed.media.first?.direction, .recvonly)
        let back = try PhoneSDP.parse(answer)
        XCTAssertEqual(back.port, 30000)
        XCTAssertEqual(back.format.telephoneEventPayloadType, 101)
    }

    func testMalformedOffers() {
        XCTAssertThrowsError(try PhoneSDP.parse("")) // not SDP at all
        XCTAssertThrowsError(try PhoneSDP.parse("v=0\r\nm=audio\r\n"))
        XCTAssertThrowsError(try PhoneSDP.parse(sdp("m=video 4000 RTP/AVP 96"))) { XCTAssertEqual($0 as? PhoneSDPError, .noAudio) }
        XCTAssertThrowsError(try PhoneSDP.parse(sdp("m=audio 0 RTP/AVP 0"))) { XCTAssertEqual($0 as? PhoneSDPError, .noAudio) }
        XCTAssertThrowsError(try PhoneSDP.parse(sdp("m=audio 4000 RTP/AVP 18 3", extra: ["a=rtpmap:18 G729/8000"]))) {
            XCTAssertEqual($0 as? PhoneSDPError, .noCommonCodec)
        }
        XCTAssertThrowsError(try PhoneSDP.parse(sdp("m=audio 4000 RTP/AVP 0", connection: "c=IN"))) {
            XCTAssertEqual($0 as? PhoneSDPError, .badConnection)
        }
        XCTAssertThrowsError(try PhoneSDP.parse(sdp("m=audio 70000 RTP/AVP 0")))
    }
}

final class PhoneSDPG722Tests: XCTestCase {
    private func sdp(_ media: String, _ extra: String...) -> String {
        (["v=0", "o=- 1 1 IN IP4 192.0.2.10", "s=-", "c=IN IP4 192.0.2.10", "t=0 0", media] + extra).joined(separator: "\r\n") + "\r\n"
    }

    func testG722Only() throws {
        let offer = try PhoneSDP.parse(sdp("m=audio 4000 RTP/AVP 9 101", "a=rtpmap:9 G722/8000", "a=rtpmap:101 telephone-event/8000"))
        XCTAssertEqual(offer.format, PhoneMediaFormat(codec: .g722, payloadType: 9, telephoneEventPayloadType: 101))
        // Static payload type 9 needs no rtpmap either.
        XCTAssertEqual(try PhoneSDP.parse(sdp("m=audio 4000 RTP/AVP 9")).format.codec, .g722)
    }

    func testWidebandBeatsG711WhereverThePhoneListsIt() throws {
        let pcmuFirst = try PhoneSDP.parse(sdp("m=audio 4000 RTP/AVP 0 8 9", "a=rtpmap:0 PCMU/8000", "a=rtpmap:9 G722/8000"))
        XCTAssertEqual(pcmuFirst.format.codec, .g722)
        // Among wideband codecs (and among G.711s) the phone's order wins.
        XCTAssertEqual(try PhoneSDP.parse(sdp("m=audio 4000 RTP/AVP 9 96", "a=rtpmap:96 opus/48000/2")).format.codec, .g722)
        XCTAssertEqual(try PhoneSDP.parse(sdp("m=audio 4000 RTP/AVP 96 9", "a=rtpmap:96 opus/48000/2")).format.codec, .opus)
        XCTAssertEqual(try PhoneSDP.parse(sdp("m=audio 4000 RTP/AVP 8 0")).format.codec, .pcma)
        // A dynamic payload type for G.722 is kept as the phone numbered it.
        let dynamic = try PhoneSDP.parse(sdp("m=audio 4000 RTP/AVP 0 102", "a=rtpmap:102 G722/8000"))
        XCTAssertEqual(dynamic.format, PhoneMediaFormat(codec: .g722, payloadType: 102))
    }

    func testAnswerSaysG722At8000() throws {
        let offer = try PhoneSDP.parse(sdp("m=audio 4000 RTP/AVP 9 0 101", "a=rtpmap:101 telephone-event/8000"))
        let answer = PhoneSDP.answer(to: offer, host: "127.0.0.1", port: 30000, sessionID: 1, version: 1)
        XCTAssertTrue(answer.contains("m=audio 30000 RTP/AVP 9 101\r\n"), answer)
        XCTAssertTrue(answer.contains("a=rtpmap:9 G722/8000\r\n"), answer)
        XCTAssertEqual(try PhoneSDP.parse(answer).format.codec, .g722)
        // Our late offer lists it too.
        let late = PhoneSDP.offer(host: "127.0.0.1", port: 30000, sessionID: 1, version: 1)
        XCTAssertTrue(late.contains("a=rtpmap:9 G722/8000"))
    }

    func testMalformedG722Lines() {
        // G722 at a clock rate that is neither the RFC's 8000 nor the common mistake 16000 is not G.722 we know.
        XCTAssertThrowsError(try PhoneSDP.parse(sdp("m=audio 4000 RTP/AVP 97", "a=rtpmap:97 G722/44100"))) {
            XCTAssertEqual($0 as? PhoneSDPError, .noCommonCodec)
        }
        XCTAssertThrowsError(try PhoneSDP.parse(sdp("m=audio 4000 RTP/AVP 9", "a=rtpmap:9 G722/")))
        XCTAssertThrowsError(try PhoneSDP.parse(sdp("m=audio 4000 RTP/AVP 9", "a=rtpmap:9 G722/abc")))
    }
}
