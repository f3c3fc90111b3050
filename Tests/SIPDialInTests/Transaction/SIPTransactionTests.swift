// Transaction state machines on a virtual clock (EmbeddedEventLoop): retransmission schedules, timeouts,
// the ACK a non-2xx generates, absorption of retransmissions, and no retransmission on TCP.

import NIOCore
import NIOEmbedded
import XCTest
@testable import SIPDialIn

final class SIPTransactionTests: XCTestCase {
    let timers = SIPTimerSettings.scaled(t1: .milliseconds(50))  // T2 = 400 ms, T4 = 500 ms, 64·T1 = 3.2 s
    var loop: EmbeddedEventLoop!
    var sent: [SIPMessage] = []

    override func setUp() {
        loop = EmbeddedEventLoop()
        sent = []
    }

    func request(_ method: SIPMethod) throws -> SIPRequest {
        var bytes = invite()
        if method != .invite { bytes = bytes.replacing("INVITE", with: method.rawValue) }
        guard case .request(let r) = try SIPParser.parse(bytes) else { throw SIPParseError.empty }
        return r
    }

    func response(_ status: Int, to request: SIPRequest, tag: String? = "totag") -> SIPResponse {
        SIPResponse(replyingTo: request, status: status, toTag: tag)
    }

    func client(_ method: SIPMethod, kind: SIPTransportKind = .udp) throws -> SIPClientTransaction {
        let tx = SIPClientTransaction(request: try request(method), kind: kind, timers: timers, eventLoop: loop) { [unowned self] m in
            self.sent.append(m)
            return self.loop.makeSucceededVoidFuture()
        }
        return tx
    }

    func advance(ms: Int64) { loop.advanceTime(by: .milliseconds(ms)) }

    func testInviteClientRetransmitsWithTimerAUntilTimerB() throws {
        let tx = try client(.invite)
        var failures: [SIPClientTransactionFailure] = []
        var terminated = false
        tx.onFailure = { failures.append($0) }
        tx.onTerminated = { terminated = true }
        tx.start()
        XCTAssertEqual(sent.count, 1)
        advance(ms: 49)
        XCTAssertEqual(sent.count, 1)
        advance(ms: 1)
        XCTAssertEqual(sent.count, 2, "Timer A fires at T1")
        advance(ms: 100)
        XCTAssertEqual(sent.count, 3, "then 2·T1 later")
        advance(ms: 200)
        XCTAssertEqual(sent.count, 4, "then 4·T1 later (no T2 cap for INVITE)")
        advance(ms: 3200 - 350 - 1)
        // Sends at 0, 1, 3, 7, 15, 31, 63 T1: seven transmissions before Timer B at 64·T1.
        XCTAssertEqual(sent.count, 7)
        XCTAssertEqual(failures, [])
        advance(ms: 1)
        XCTAssertEqual(failures, [.timeout])
        XCTAssertTrue(terminated)
        advance(ms: 10_000)
        XCTAssertEqual(sent.count, 7, "nothing after termination")
    }

    func testNonInviteClientCapsAtT2AndTimesOutWithTimerF() throws {
        let tx = try client(.options)
        var failures: [SIPClientTransactionFailure] = []
        tx.onFailure = { failures.append($0) }
        tx.start()
        advance(ms: 3199)
        // 0, 1, 3, 7, 15 T1, then every T2 = 8 T1: 23, 31, 39, 47, 55, 63.
        XCTAssertEqual(sent.count, 11)
        advance(ms: 1)
        XCTAssertEqual(failures, [.timeout])
    }

    func testNonInviteProvisionalSwitchesToT2AndFinalCompletes() throws {
        let tx = try client(.bye)
        var responses: [Int] = []
        tx.onResponse = { responses.append($0.status) }
        tx.start()
        tx.receive(response(100, to: tx.request))
        advance(ms: 50)
        XCTAssertEqual(sent.count, 2, "the pending Timer E still fires in Proceeding (§17.1.2.2)")
        advance(ms: 399)
        XCTAssertEqual(sent.count, 2, "then it is reset to T2, not 2·T1")
        advance(ms: 1)
        XCTAssertEqual(sent.count, 3)
        tx.receive(response(200, to: tx.request))
        tx.receive(response(200, to: tx.request))
        XCTAssertEqual(responses, [100, 200], "a retransmitted final is absorbed")
        XCTAssertEqual(tx.state, .completed)
        advance(ms: 499)
        XCTAssertEqual(tx.state, .completed)
        advance(ms: 1)
        XCTAssertEqual(tx.state, .terminated, "Timer K = T4")
    }

    func testInviteClientAcksNonSuccessFinalAndAbsorbsRetransmissions() throws {
        let tx = try client(.invite)
        var responses: [Int] = []
        tx.onResponse = { responses.append($0.status) }
        tx.start()
        tx.receive(response(180, to: tx.request))
        advance(ms: 1000)
        XCTAssertEqual(sent.count, 1, "no retransmission once Proceeding")
        tx.receive(response(486, to: tx.request))
        XCTAssertEqual(sent.count, 2)
        guard case .request(let ack) = sent[1] else { return XCTFail("expected ACK") }
        XCTAssertEqual(ack.method, .ack)
        XCTAssertEqual(ack.uri, tx.request.uri)
        XCTAssertEqual(ack.topVia?.branch, tx.request.topVia?.branch, "non-2xx ACK is in the INVITE transaction")
        XCTAssertEqual(ack.cseq, SIPCSeq(314159, .ack))
        XCTAssertEqual(ack.to?.tag, "totag")
        XCTAssertEqual(ack.from, tx.request.from)
        XCTAssertEqual(ack.callID, tx.request.callID)
        XCTAssertNoThrow(try SIPParser.parse(ack.serialize()))
        tx.receive(response(486, to: tx.request))
        XCTAssertEqual(sent.count, 3, "retransmitted final → ACK again")
        XCTAssertEqual(sent[2], sent[1])
        XCTAssertEqual(responses, [180, 486])
        advance(ms: 3200)
        XCTAssertEqual(tx.state, .terminated, "Timer D")
    }

    func testInvite2xxTerminatesAtOnceWithoutAck() throws {
        let tx = try client(.invite)
        var responses: [Int] = []
        tx.onResponse = { responses.append($0.status) }
        tx.start()
        tx.receive(response(200, to: tx.request))
        XCTAssertEqual(tx.state, .terminated)
        XCTAssertEqual(sent.count, 1, "the 2xx ACK is the dialog's job")
        XCTAssertEqual(responses, [200])
    }

    func testReliableTransportDoesNotRetransmit() throws {
        let tx = try client(.invite, kind: .tcp)
        var failures: [SIPClientTransactionFailure] = []
        tx.onFailure = { failures.append($0) }
        tx.start()
        advance(ms: 3199)
        XCTAssertEqual(sent.count, 1)
        advance(ms: 1)
        XCTAssertEqual(failures, [.timeout], "Timer B still applies")
    }

    func testTransportErrorFailsTransaction() throws {
        let tx = SIPClientTransaction(request: try request(.options), kind: .tcp, timers: timers, eventLoop: loop) { [unowned self] _ in
            self.loop.makeFailedFuture(SIPTransportError.unresolvable("x"))
        }
        var failures: [SIPClientTransactionFailure] = []
        tx.onFailure = { failures.append($0) }
        tx.start()
        XCTAssertEqual(failures, [.transport("cannot resolve 'x'")])
        XCTAssertEqual(tx.state, .terminated)
    }

    // MARK: - Server

    func server(_ method: SIPMethod, kind: SIPTransportKind = .udp) throws -> (SIPServerTransaction, () -> [Int]) {
        var statuses: [Int] = []
        let tx = SIPServerTransaction(request: try request(method), kind: kind, timers: timers, eventLoop: loop) { statuses.append($0.status) }
        return (tx, { statuses })
    }

    func testInviteServerRetransmitsNonSuccessWithTimerGUntilAck() throws {
        let (tx, statuses) = try server(.invite)
        tx.respond(response(100, to: tx.request, tag: nil))
        tx.receiveRetransmission()
        XCTAssertEqual(statuses(), [100, 100], "a retransmitted INVITE gets the provisional again")
        tx.respond(response(486, to: tx.request))
        advance(ms: 50)
        advance(ms: 100)
        XCTAssertEqual(statuses(), [100, 100, 486, 486, 486], "Timer G at T1, 2·T1")
        tx.receiveRetransmission()
        XCTAssertEqual(statuses().count, 6)
        XCTAssertTrue(tx.receiveAck())
        XCTAssertEqual(tx.state, .confirmed)
        advance(ms: 2000)
        XCTAssertEqual(statuses().count, 6, "no more retransmissions after the ACK")
        XCTAssertEqual(tx.state, .terminated, "Timer I")
        XCTAssertFalse(tx.respond(response(200, to: tx.request)), "no second final")
    }

    func testInviteServerTimerHReportsMissingAck() throws {
        let (tx, statuses) = try server(.invite)
        var timedOut = false
        tx.onAckTimeout = { timedOut = true }
        tx.respond(response(603, to: tx.request))
        advance(ms: 3199)
        XCTAssertFalse(timedOut)
        // G: 50, 150, 350, 750 (then capped at T2 = 400) 1150, 1550, 1950, 2350, 2750, 3150 → 10 retransmissions.
        XCTAssertEqual(statuses().count, 11)
        advance(ms: 1)
        XCTAssertTrue(timedOut)
        XCTAssertEqual(tx.state, .terminated)
    }

    func testInviteServerAcceptedStateAbsorbsRetransmissions() throws {
        let (tx, statuses) = try server(.invite)
        tx.respond(response(200, to: tx.request))
        XCTAssertEqual(tx.state, .accepted)
        tx.receiveRetransmission()
        XCTAssertEqual(statuses(), [200], "the call layer retransmits the 2xx, not the transaction")
        XCTAssertFalse(tx.receiveAck(), "a 2xx ACK goes to the dialog")
        advance(ms: 3200)
        XCTAssertEqual(tx.state, .terminated, "Timer L")
    }

    func testNonInviteServerAnswersRetransmissionsUntilTimerJ() throws {
        let (tx, statuses) = try server(.bye)
        tx.receiveRetransmission()
        XCTAssertEqual(statuses(), [], "Trying: nothing to resend yet")
        tx.respond(response(200, to: tx.request))
        tx.receiveRetransmission()
        XCTAssertEqual(statuses(), [200, 200])
        advance(ms: 3200)
        XCTAssertEqual(tx.state, .terminated)
        let (tcp, _) = try server(.bye, kind: .tcp)
        tcp.respond(response(200, to: tcp.request))
        advance(ms: 0)
        XCTAssertEqual(tcp.state, .terminated, "Timer J is zero on TCP")
    }

    func testMatchingKeys() throws {
        let inv = try request(.invite)
        var ack = inv
        ack.method = .ack
        var cancel = inv
        cancel.method = .cancel
        XCTAssertEqual(SIPServerTransaction.key(for: inv), SIPServerTransaction.key(for: ack), "ACK matches its INVITE")
        XCTAssertNotEqual(SIPServerTransaction.key(for: inv), SIPServerTransaction.key(for: cancel), "CANCEL is its own transaction")
        var otherHost = inv
        otherHost.replaceTopVia(SIPVia(transport: "UDP", host: "elsewhere", port: nil, parameters: [SIPParameter("branch", "z9hG4bK776asdhds")]))
        XCTAssertNotEqual(SIPServerTransaction.key(for: inv), SIPServerTransaction.key(for: otherHost), "sent-by is part of the key")
        var legacy = inv
        legacy.replaceTopVia(SIPVia(transport: "UDP", host: "old", port: nil, parameters: [SIPParameter("branch", "1")]))
        XCTAssertTrue(SIPServerTransaction.key(for: legacy).hasPrefix("2543|"))
        XCTAssertEqual(SIPClientTransaction.key(branch: "z9hG4bKa", method: .invite), "z9hG4bKa|INVITE")
    }
}
