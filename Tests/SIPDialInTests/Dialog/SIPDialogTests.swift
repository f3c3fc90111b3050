// Dialog state from an INVITE (UAS) and from a 2xx (UAC), and in-dialog requests with loose and strict routes.

import XCTest
@testable import SIPDialIn

final class SIPDialogTests: XCTestCase {
    func inviteRequest(_ extra: [String]) throws -> SIPRequest {
        guard case .request(let r) = try SIPParser.parse(invite(extra: extra)) else { throw SIPParseError.empty }
        return r
    }

    let contact = SIPURI(user: "rooms", host: "192.0.2.10", port: 5060)

    func testUASDialogWithLooseRoutes() throws {
        let r = try inviteRequest(["Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>"])
        var dialog = try SIPDialog(uas: r, localTag: "mytag", localContact: contact, localSeq: 100)
        XCTAssertEqual(dialog.callID, "a84b4c76e66710@pc33.atlanta.example.com")
        XCTAssertEqual(dialog.remoteTag, "1928301774")
        XCTAssertEqual(dialog.remoteSeq, 314159)
        XCTAssertEqual(dialog.remoteTarget.host, "pc33.atlanta.example.com")
        XCTAssertEqual(dialog.routeSet.map(\.uri.host), ["p1.example.com", "p2.example.com"], "UAS keeps Record-Route order")
        XCTAssertEqual(dialog.nextHop.host, "p1.example.com")
        let bye = dialog.makeRequest(.bye)
        XCTAssertEqual(bye.uri, dialog.remoteTarget, "loose routing: Request-URI is the remote target")
        XCTAssertEqual(bye.routes.map(\.uri.host), ["p1.example.com", "p2.example.com"])
        XCTAssertEqual(bye.cseq, SIPCSeq(101, .bye))
        XCTAssertEqual(bye.from?.tag, "mytag")
        XCTAssertEqual(bye.from?.uri.user, "bob", "our side is the INVITE's To")
        XCTAssertEqual(bye.to?.tag, "1928301774")
        XCTAssertEqual(dialog.makeRequest(.info).cseq?.number, 102)
        XCTAssertEqual(dialog.makeRequest(.ack, cseq: 7).cseq, SIPCSeq(7, .ack), "ACK does not advance CSeq")
        XCTAssertEqual(dialog.localSeq, 102)
    }

    func testStrictRouterGetsRequestURI() throws {
        let r = try inviteRequest(["Record-Route: <sip:strict.example.com;maddr=1.2.3.4>, <sip:p2.example.com;lr>"])
        var dialog = try SIPDialog(uas: r, localTag: "t", localContact: contact)
        let bye = dialog.makeRequest(.bye)
        XCTAssertEqual(bye.uri.description, "sip:strict.example.com")
        XCTAssertEqual(bye.routes.map(\.uri.host), ["p2.example.com", "pc33.atlanta.example.com"], "remote target appended")
    }

    func testRemoteCSeqOrderingAndTargetRefresh() throws {
        var dialog = try SIPDialog(uas: try inviteRequest([]), localTag: "t", localContact: contact)
        XCTAssertFalse(dialog.acceptRemoteCSeq(314159, method: .bye), "not above the INVITE's")
        XCTAssertTrue(dialog.acceptRemoteCSeq(314159, method: .ack))
        XCTAssertTrue(dialog.acceptRemoteCSeq(314160, method: .info))
        var reinvite = try inviteRequest([])
        reinvite.headers.set("Contact", "<sip:alice@198.51.100.7:5070>")
        dialog.refreshTarget(from: reinvite)
        XCTAssertEqual(dialog.remoteTarget.port, 5070)
    }

    func testUACDialogReversesRecordRoute() throws {
        let r = try inviteRequest([])
        var ok = SIPResponse(replyingTo: r, status: 200, toTag: "callee")
        ok.headers.add("Record-Route", "<sip:p1;lr>")
        ok.headers.add("Record-Route", "<sip:p2;lr>")
        ok.headers.add("Contact", "<sip:bob@192.0.2.4>")
        let dialog = try SIPDialog(uac: r, response: ok)
        XCTAssertEqual(dialog.routeSet.map(\.uri.host), ["p2", "p1"])
        XCTAssertEqual(dialog.remoteTag, "callee")
        XCTAssertEqual(dialog.remoteTarget.host, "192.0.2.4")
    }

    func testMissingContactCannotFormDialog() throws {
        var r = try inviteRequest([])
        r.headers.remove("Contact")
        XCTAssertThrowsError(try SIPDialog(uas: r, localTag: "t", localContact: contact)) {
            XCTAssertEqual($0 as? SIPDialog.DialogError, .missing("Contact"))
        }
    }
}
