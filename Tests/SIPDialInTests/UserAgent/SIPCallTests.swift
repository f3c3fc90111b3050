// Call behaviour driven by hand over UDP: 2xx retransmission and the ACK timeout, late offer (answer in the ACK),
// re-INVITE and UPDATE offers, RFC 4028 session timers (422, expiry when the phone does not refresh, our UPDATE
// refresh), local hangup, 491 for overlapping re-INVITEs.

import Foundation
import XCTest
@testable import SIPDialIn

final class SIPCallTests: UserAgentTestCase {
    let offer = "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5004 RTP/AVP 0\r\n"

    func ack(_ ok: SIPResponse, port: Int, cseq: Int = 1, body: String = "") -> [UInt8] {
        rawRequest("ACK", port: port, callID: ok.callID!, cseq: cseq, toTag: ok.to?.tag, body: body)
    }

    func testMissingAckRetransmits200ThenEndsWithBye() async throws {
        let ua = try await startAgent()
        let peer = try await udpPeer(ua)
        peer.send(rawRequest("INVITE", port: peer.localPort, body: offer))
        let ok = await expectResponse(peer, 200)
        XCTAssertEqual(ok?.body, RecordingDelegate.answerSDP)
        XCTAssertEqual(ok?.headers["Content-Type"], "application/sdp")
        XCTAssertNotNil(ok?.contacts.first)
        await expectResponse(peer, 200, count: 4, "2xx retransmitted at T1, 2·T1, 4·T1")
        await expectEventually("ended after 64·T1 without ACK", timeout: 6) { delegate.ends == [.ackTimeout] }
        XCTAssertTrue(peer.requests.contains { $0.method == .bye }, "the dialog is torn down with a BYE")
    }

    func testLateOfferAnswerArrivesInAck() async throws {
        let ua = try await startAgent()
        let peer = try await udpPeer(ua)
        peer.send(rawRequest("INVITE", port: peer.localPort))
        let okResponse = await peer.waitForResponse(status: 200)
        let ok = try XCTUnwrap(okResponse)
        XCTAssertNil(delegate.calls.first?.offer, "no SDP in the INVITE")
        peer.send(ack(ok, port: peer.localPort, body: offer))
        await expectEventually("answer delivered from the ACK") { delegate.ackAnswers == [Array(offer.utf8)] }
        let retransmissions = peer.responses.count
        try await Task.sleep(nanoseconds: 300_000_000)
        XCTAssertEqual(peer.responses.count, retransmissions, "no retransmission after the ACK")
        // Local hangup of a confirmed call: BYE to the phone.
        delegate.calls.first?.hangup()
        await expectEventually("BYE sent") { peer.requests.contains { $0.method == .bye } }
        let bye = peer.requests.first { $0.method == .bye }!
        XCTAssertEqual(bye.to?.tag, "rawtag")
        XCTAssertEqual(bye.from?.tag, ok.to?.tag)
        XCTAssertEqual(bye.uri.port, peer.localPort)
        peer.reply(to: bye, status: 200)
        XCTAssertEqual(delegate.ends, [.localHangup])
    }

    func testReinviteAndUpdateOffersAndOverlap() async throws {
        let ua = try await startAgent()
        let peer = try await udpPeer(ua)
        peer.send(rawRequest("INVITE", port: peer.localPort, callID: "re", body: offer))
        let okResponse = await peer.waitForResponse(status: 200)
        let ok = try XCTUnwrap(okResponse)
        peer.send(ack(ok, port: peer.localPort))
        let tag = ok.to!.tag!
        peer.send(rawRequest("INVITE", port: peer.localPort, callID: "re", cseq: 2, toTag: tag, body: offer + "a=sendonly\r\n"))
        await expectEventually("re-INVITE answered") { peer.responses.contains { $0.status == 200 && $0.cseq?.number == 2 } }
        let reOK = peer.responses.first { $0.status == 200 && $0.cseq?.number == 2 }
        XCTAssertEqual(reOK?.body, RecordingDelegate.answerSDP)
        XCTAssertEqual(delegate.reoffers.count, 1)
        // A second re-INVITE before the ACK of the first gets 491.
        peer.send(rawRequest("INVITE", port: peer.localPort, callID: "re", cseq: 3, toTag: tag, body: offer))
        await expectResponse(peer, 491)
        peer.send(rawRequest("ACK", port: peer.localPort, callID: "re", cseq: 2, toTag: tag))
        peer.send(rawRequest("UPDATE", port: peer.localPort, callID: "re", cseq: 4, toTag: tag, body: offer))
        await expectEventually("UPDATE answered") { peer.responses.contains { $0.cseq?.method == .update && $0.status == 200 } }
        XCTAssertEqual(delegate.reoffers.count, 2)
        // Out-of-order CSeq is refused.
        peer.send(rawRequest("INFO", port: peer.localPort, callID: "re", cseq: 1, toTag: tag))
        await expectResponse(peer, 500)
        // Unknown INFO payloads get 415 with Accept.
        peer.send(rawRequest("INFO", port: peer.localPort, callID: "re", cseq: 5, toTag: tag, extra: ["Content-Type: text/plain"], body: "x")
            .replacing("Content-Type: application/sdp\r\n", with: ""))
        let unsupported = await expectResponse(peer, 415)
        XCTAssertEqual(unsupported?.headers["Accept"], "application/dtmf-relay, application/dtmf")
        XCTAssertEqual(delegate.digits, [])
    }

    func testSessionIntervalTooSmallGets422() async throws {
        let ua = try await startAgent()
        let peer = try await udpPeer(ua)
        peer.send(rawRequest("INVITE", port: peer.localPort, extra: ["Supported: timer", "Session-Expires: 30"], body: offer))
        let tooSmall = await expectResponse(peer, 422)
        XCTAssertEqual(tooSmall?.headers["Min-SE"], "90")
        XCTAssertTrue(delegate.calls.isEmpty)
    }

    func testPhoneRefresherThatNeverRefreshesGetsBye() async throws {
        let ua = try await startAgent { $0.minSessionExpires = 1 }
        let peer = try await udpPeer(ua)
        peer.send(rawRequest("INVITE", port: peer.localPort, extra: ["Supported: timer", "Session-Expires: 2"], body: offer))
        let okResponse = await peer.waitForResponse(status: 200)
        let ok = try XCTUnwrap(okResponse)
        XCTAssertEqual(ok.headers["Session-Expires"], "2;refresher=uac")
        XCTAssertEqual(ok.headers["Require"], "timer")
        peer.send(ack(ok, port: peer.localPort))
        // Expiry at 2 s − 2/3 s without a refresh from the phone.
        await expectEventually("session expired", timeout: 4) { delegate.ends == [.sessionExpired] }
        XCTAssertTrue(peer.requests.contains { $0.method == .bye })
    }

    func testWeRefreshWithUpdateWhenThePhoneAllowsIt() async throws {
        let ua = try await startAgent { $0.minSessionExpires = 1 }
        let peer = try await udpPeer(ua)
        peer.send(rawRequest("INVITE", port: peer.localPort, extra: ["Allow: INVITE, ACK, BYE, UPDATE", "Session-Expires: 2"], body: offer))
        let okResponse = await peer.waitForResponse(status: 200)
        let ok = try XCTUnwrap(okResponse)
        XCTAssertEqual(ok.headers["Session-Expires"], "2;refresher=uas", "a UAC without timer support cannot refresh")
        XCTAssertNil(ok.headers["Require"])
        peer.send(ack(ok, port: peer.localPort))
        await expectEventually("UPDATE refresh at half the interval", timeout: 3) { peer.requests.contains { $0.method == .update } }
        let update = peer.requests.first { $0.method == .update }!
        XCTAssertTrue(update.body.isEmpty, "refresh without SDP")
        XCTAssertEqual(update.headers["Session-Expires"], "2;refresher=uas")
        peer.reply(to: update, status: 200)
        await expectEventually("refreshed again", timeout: 3) { peer.requests.filter { $0.method == .update }.count >= 2 }
        for u in peer.requests.filter({ $0.method == .update }) { peer.reply(to: u, status: 200) }
        XCTAssertEqual(delegate.ends, [], "a refreshed session stays up")
    }
}
