import Foundation
import Logging
import Users
import XCTest
@testable import Channeling

/// A connection that records what the hub sends.
final class FakeConnection: ChannelingConnection, @unchecked Sendable {
    private let lock = NSLock()
    private var _frames: [String] = []
    private(set) var closed: UInt16? = nil

    func send(_ frame: String) { lock.lock(); _frames.append(frame); lock.unlock() }
    func close(code: UInt16, reason: String) { lock.lock(); closed = code; lock.unlock() }

    var frames: [[String: Any]] {
        lock.lock(); defer { lock.unlock() }
        return _frames.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }
    var documents: [[String: Any]] { frames.compactMap { $0["Data"] as? [String: Any] } }
    func clear() { lock.lock(); _frames.removeAll(); lock.unlock() }
    func last(_ type: String) -> [String: Any]? { documents.last { $0["Type"] as? String == type } }
}

final class HubTests: XCTestCase {
    func makeHub(_ configure: (inout HubSettings) -> Void = { _ in }) -> Hub {
        var s = HubSettings(version: "1.0", realm: "local.t", stunURIs: [], turnURIs: [], turnSecret: [],
                            encryptionSecret: [UInt8](repeating: 3, count: 32), usersEnabled: true)
        s.roomType = { $0.hasPrefix("conf/") ? "Conference" : "Room" }
        configure(&s)
        let codec = SessionCodec(sessionSecret: [UInt8](repeating: 1, count: 32), encryptionSecret: [UInt8](repeating: 3, count: 32), realm: "local.t")
        return Hub(settings: s, codec: codec, nonces: NonceIssuer(realm: "local.t"), logger: Logger(label: "test"))
    }

    func connect(_ hub: Hub) async -> (SessionHandle, FakeConnection) {
        let c = FakeConnection()
        let h = await hub.connect(c, token: nil, headerUserid: nil)
        return (h, c)
    }

    func testSelfIsFirstFrame() async {
        let hub = makeHub()
        let (h, c) = await connect(hub)
        let first = c.frames.first
        XCTAssertEqual((first?["Data"] as? [String: Any])?["Type"] as? String, "Self")
        XCTAssertEqual(first?["From"] as? String, h.id)
        XCTAssertNil(first?["Iid"])
    }

    func testHelloWelcomeJoinedAndLeft() async {
        let hub = makeHub()
        let (a, ca) = await connect(hub)
        let (b, cb) = await connect(hub)
        await hub.receive(a, text: #"{"Type":"Hello","Hello":{"Name":"r1","Ua":"ua-a"},"Iid":"1"}"#)
        let welcome = ca.frames.last!
        XCTAssertEqual(welcome["Iid"] as? String, "1")
        XCTAssertEqual(((welcome["Data"] as? [String: Any])?["Room"] as? [String: Any])?["Name"] as? String, "r1")
        await hub.receive(b, text: #"{"Type":"Hello","Hello":{"Name":"r1","Ua":"ua-b"},"Iid":"2"}"#)
        let joined = ca.last("Joined")
        XCTAssertEqual(joined?["Id"] as? String, b.id)
        XCTAssertEqual(joined?["Ua"] as? String, "ua-b")
        XCTAssertEqual((cb.last("Welcome")?["Users"] as? [Any])?.count, 2)
        await hub.disconnect(b)
        XCTAssertEqual(ca.last("Left")?["Status"] as? String, "hard")
    }

    func testPinRoom() async {
        let hub = makeHub()
        let (a, _) = await connect(hub)
        let (b, cb) = await connect(hub)
        await hub.receive(a, text: #"{"Type":"Hello","Hello":{"Name":"p","Credentials":{"PIN":"1234"}}}"#)
        await hub.receive(b, text: #"{"Type":"Hello","Hello":{"Name":"p"},"Iid":"x"}"#)
        XCTAssertEqual(cb.last("Error")?["Code"] as? String, "authorization_required")
        await hub.receive(b, text: #"{"Type":"Hello","Hello":{"Name":"p","Credentials":{"PIN":"9999"}}}"#)
        XCTAssertEqual(cb.last("Error")?["Code"] as? String, "invalid_credentials")
        await hub.receive(b, text: #"{"Type":"Hello","Hello":{"Name":"p","Credentials":{"PIN":"1234"}}}"#)
        XCTAssertNotNil(cb.last("Welcome"))
    }

    func testDefaultRoomDisabledAndAuthorizeJoin() async {
        let hub = makeHub { $0.defaultRoomEnabled = false; $0.authorizeRoomJoin = true }
        let (a, ca) = await connect(hub)
        await hub.receive(a, text: #"{"Type":"Hello","Hello":{"Name":""}}"#)
        XCTAssertEqual(ca.last("Error")?["Code"] as? String, "default_room_disabled")
        await hub.receive(a, text: #"{"Type":"Hello","Hello":{"Name":"x"}}"#)
        XCTAssertEqual(ca.last("Error")?["Code"] as? String, "room_join_requires_account")
    }

    func testChatEchoSentStateAndRoomBroadcast() async {
        let hub = makeHub()
        let (a, ca) = await connect(hub)
        let (b, cb) = await connect(hub)
        for h in [a, b] { await hub.receive(h, text: #"{"Type":"Hello","Hello":{"Name":"c"}}"#) }
        ca.clear(); cb.clear()
        await hub.receive(a, text: #"{"Type":"Chat","Chat":{"To":"\#(b.id)","Type":"Chat","Chat":{"Message":"hi","Mid":"m1","NoEcho":true,"Extra":1}}}"#)
        let got = cb.frames.last!
        XCTAssertEqual(got["From"] as? String, a.id)
        let chat = (got["Data"] as? [String: Any])?["Chat"] as? [String: Any]
        XCTAssertEqual(chat?["Message"] as? String, "hi")
        XCTAssertNotNil(chat?["Time"])
        XCTAssertNil(chat?["Extra"])
        let sent = (ca.last("Chat")?["Chat"] as? [String: Any])?["Status"] as? [String: Any]
        XCTAssertEqual(sent?["State"] as? String, "sent")
        cb.clear()
        await hub.receive(a, text: #"{"Type":"Chat","Chat":{"To":"","Type":"Chat","Chat":{"Message":"all","NoEcho":true}}}"#)
        XCTAssertEqual(cb.last("Chat")?["To"] as? String, "")
        XCTAssertEqual(hub.counters().broadcastChatMessages, 1)
    }

    func testBadInputIsDroppedSilently() async {
        let hub = makeHub()
        let (a, ca) = await connect(hub)
        ca.clear()
        for text in ["{", "[]", "null", #"{"Type":7}"#, #"{"Type":"Alive","Alive":{"Alive":"x"}}"#, #"{"Type":"Nope","Iid":"1"}"#,
                     #"{"Type":"Hello","Hello":{"Name":5}}"#, #"{"Type":"Offer","Offer":{"To":3}}"#, String(repeating: "[", count: 10000)] {
            await hub.receive(a, text: text)
        }
        XCTAssertTrue(ca.frames.isEmpty)
        await hub.receive(a, text: #"{"Type":"Alive","Alive":{"Type":"Alive","Alive":123},"Iid":"x"}"#)
        XCTAssertEqual(ca.last("Alive")?["Alive"] as? Int, 123)
    }

    func testBuddyPictureOfWrongTypeIsAnError() async {
        let hub = makeHub()
        let (a, ca) = await connect(hub)
        await hub.receive(a, text: #"{"Type":"Status","Status":{"Type":"Status","Status":{"buddyPicture":42}},"Iid":"s"}"#)
        XCTAssertEqual(ca.last("Error")?["Code"] as? String, "bad_request")
    }

    func testConferenceRoomDocument() async {
        let hub = makeHub()
        let (a, ca) = await connect(hub)
        let (b, _) = await connect(hub)
        await hub.receive(a, text: #"{"Type":"Hello","Hello":{"Name":"conf/x"}}"#)
        await hub.receive(b, text: #"{"Type":"Hello","Hello":{"Name":"conf/x"}}"#)
        let conf = ca.frames.last { ($0["Data"] as? [String: Any])?["Type"] as? String == "Conference" }
        XCTAssertEqual(conf?["To"] as? String, "Conference:conf/x")
        XCTAssertNil(conf?["From"])
        XCTAssertEqual(((conf?["Data"] as? [String: Any])?["Conference"] as? [String])?.count, 2)
    }

    func testResumeReplacesOldConnectionWithoutGhost() async throws {
        let hub = makeHub { $0.resumeGrace = 0.2 }
        let (a, ca) = await connect(hub)
        let (b, cb) = await connect(hub)
        for h in [a, b] { await hub.receive(h, text: #"{"Type":"Hello","Hello":{"Name":"g"}}"#) }
        let token = ca.documents.first?["Token"] as! String
        cb.clear()
        let c2 = FakeConnection()
        let a2 = await hub.connect(c2, token: token, headerUserid: nil)
        XCTAssertEqual(a2.id, a.id)
        XCTAssertEqual(ca.closed, 1000)
        XCTAssertNil(cb.last("Left"), "no Left at the moment of the resume")
        try await Task.sleep(nanoseconds: 500_000_000)
        XCTAssertEqual(cb.last("Left")?["Status"] as? String, "soft", "the old entry leaves when the new one does not rejoin")
        await hub.receive(b, text: #"{"Type":"Users","Iid":"u"}"#)
        XCTAssertEqual((cb.last("Users")?["Users"] as? [Any])?.count, 1, "no ghost")
    }
}
