@testable import SIPDialIn
import SFU
import XCTest

final class PhoneSDPTests: XCTestCase {
    private func sdp(_ media: String, connection: String = "c=IN IP4 192.0.2.10", extra: [String] = []) -> String {
        (["v=0", "o=- 1 1 IN IP4 192.0.2.10", "s=-", connection, "t=0 0", media] + extra).joined(separator: "\r\n") + "\r\n"
    }

    func testPicksThePhonesFirstSupportedCodecAndItsTelephoneEvent() throws {
        let offer = try PhoneSDP.parse(sdp("m=audio 4000 RTP/AVP 9 8 0 101", extra: [
            "a=rtpmap:9 G722/8000", "a=rtpmap:8 PCMA/8000", "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000", "a=sendrecv",
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
        XCTAssertThrowsError(try PhoneSDP.parse(sdp("m=audio 4000 RTP/AVP 9 18", extra: ["a=rtpmap:9 G722/8000"]))) {
            XCTAssertEqual($0 as? PhoneSDPError, .noCommonCodec)
        }
        XCTAssertThrowsError(try PhoneSDP.parse(sdp("m=audio 4000 RTP/AVP 0", connection: "c=IN"))) {
            XCTAssertEqual($0 as? PhoneSDPError, .badConnection)
        }
        XCTAssertThrowsError(try PhoneSDP.parse(sdp("m=audio 70000 RTP/AVP 0")))
    }
}
