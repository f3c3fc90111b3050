import XCTest
@testable import SFU

/// RFC 8832 messages: round trips, the bytes of the RFC's layout, and malformed input.
final class DCEPTests: XCTestCase {
    func testOpenSerializesToTheRFCLayout() {
        let open = DataChannelOpen(channelType: .reliableOrdered, priority: 256, label: "chat", protocol: "x")
        XCTAssertEqual(open.serialize(), [0x03, 0x00, 0x01, 0x00, 0, 0, 0, 0, 0, 4, 0, 1] + Array("chatx".utf8))
    }

    func testOpenRoundTripsEveryChannelType() throws {
        let types: [DataChannelType] = [
            .reliableOrdered, DataChannelType(reliability: .reliable, ordered: false),
            DataChannelType(reliability: .maxRetransmits(3), ordered: true),
            DataChannelType(reliability: .maxRetransmits(0), ordered: false),
            DataChannelType(reliability: .maxLifetimeMillis(1500), ordered: true),
            DataChannelType(reliability: .maxLifetimeMillis(7), ordered: false),
        ]
        for type in types {
            let open = DataChannelOpen(channelType: type, priority: 512, label: "räum 🎉", protocol: "json")
            XCTAssertEqual(try DataChannelOpen.parse(open.serialize()), open)
            XCTAssertEqual(try DCEPMessage.parse(open.serialize()), .open(open))
        }
    }

    func testEmptyLabelAndProtocol() throws {
        let open = DataChannelOpen(label: "")
        XCTAssertEqual(open.serialize().count, 12)
        XCTAssertEqual(try DataChannelOpen.parse(open.serialize()), open)
    }

    func testAck() throws {
        XCTAssertEqual(try DCEPMessage.parse([0x02]), .ack)
        XCTAssertEqual(DCEPMessage.ack.serialize(), [0x02])
        XCTAssertTrue(DataChannelAck.isAck([0x02]))
        XCTAssertFalse(DataChannelAck.isAck([0x02, 0x00]))
    }

    func testMalformedMessagesThrow() {
        let valid = DataChannelOpen(label: "chat", protocol: "p").serialize()
        var badType = valid; badType[1] = 0x03
        var badUTF8 = valid; badUTF8[12] = 0xFF
        var longLabel = valid; longLabel[9] = 200
        let cases: [(String, [UInt8])] = [
            ("empty", []),
            ("unknown message type", [0x04]),
            ("ack with extra bytes", [0x02, 0x00]),
            ("open header cut", Array(valid.prefix(7))),
            ("open label cut", Array(valid.prefix(14))),
            ("label length beyond the end", longLabel),
            ("trailing bytes", valid + [0]),
            ("unknown channel type", badType),
            ("label not UTF-8", badUTF8),
        ]
        for (name, bytes) in cases {
            XCTAssertThrowsError(try DCEPMessage.parse(bytes), name)
        }
        XCTAssertThrowsError(try DataChannelOpen.parse([0x02]), "an ACK is not an OPEN")
    }

    func testPPIDs() {
        XCTAssertEqual(DataChannelPPID(rawValue: 51), .string)
        XCTAssertTrue(DataChannelPPID.stringEmpty.isText && DataChannelPPID.stringEmpty.isEmpty)
        XCTAssertFalse(DataChannelPPID.binary.isText)
        XCTAssertNil(DataChannelPPID(rawValue: 55))
    }

    func testRelayEnvelopeEscapesJSON() {
        let wrapped = String(decoding: DataRelayEnvelope.wrap(text: "a\"b\\c\nd\u{1}é", from: "id-1"), as: UTF8.self)
        XCTAssertEqual(wrapped, #"{"From":"id-1","Data":"a\"b\\c\nd\u0001é"}"#)
    }
}
