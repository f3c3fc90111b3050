import Foundation
import SIPDialIn
import XCTest

final class ConferenceDraftTests: XCTestCase {
    /// The seed's POST /conferences example.
    let seedBody = """
        {"Id": "", "ownerId": 43892779647572507, "name": "Test Conf", "accessId": 47281964, "type": "Once",
         "startDate": 1516021200, "duration": 30, "waitForOwner": false, "delOnOwnerLeave": false,
         "ws": "None", "wsType": "Undefined"}
        """

    func json(_ text: String) -> JSONInput {
        guard let v = JSONInput.parse(Array(text.utf8)) else { XCTFail("not JSON: \(text)"); return .null }
        return v
    }

    func body(_ changes: [String: String]) -> JSONInput {
        guard case .object(var fields) = json(seedBody) else { XCTFail(); return .null }
        for (k, v) in changes { fields[k] = v == "<absent>" ? nil : json(v) }
        return .object(fields)
    }

    func assertRejects(_ changes: [String: String], field: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ConferenceDraft.validate(body(changes)), file: file, line: line) { error in
            XCTAssertEqual((error as? ConferenceValidationError)?.field, field, "\(error)", file: file, line: line)
        }
    }

    func testTheSeedExampleIsValid() throws {
        let d = try ConferenceDraft.validate(json(seedBody))
        XCTAssertEqual(d.ownerId, 43_892_779_647_572_507)
        XCTAssertEqual(d.name, "Test Conf")
        XCTAssertEqual(d.accessId, 47_281_964)
        XCTAssertEqual(d.type, .once)
        XCTAssertEqual(d.startDate, 1_516_021_200)
        XCTAssertEqual(d.duration, 30)
        XCTAssertEqual(d.ws, "None")
        XCTAssertEqual(d.wsType, "Undefined")
        XCTAssertEqual(d.conference(id: "x1", ownerId: 7).roomName, "conf-x1")
    }

    func testDefaultsAndLooseSpellings() throws {
        let d = try ConferenceDraft.validate(body([
            "ownerId": "0", "type": "\"daily\"", "accessId": "\"123456\"", "ws": "<absent>", "waitForOwner": "<absent>",
            "meeting": "\"http://ignored\"", "participants": "[]",
        ]))
        XCTAssertNil(d.ownerId, "0 means the caller")
        XCTAssertEqual(d.type, .daily)
        XCTAssertEqual(d.accessId, 123_456)
        XCTAssertEqual(d.ws, "")
        XCTAssertFalse(d.waitForOwner)
        XCTAssertEqual(try ConferenceDraft.validate(body(["ownerId": "\"43884851428118509\""])).ownerId, 43_884_851_428_118_509)
    }

    func testAccessIdMustBeAPositiveIntegerOfFourToTwelveDigits() throws {
        for bad in ["999", "0", "-1234", "1000000000000", "12345.5", "\"12a45\"", "\"0123\"", "true", "null", "<absent>", "[1234]"] {
            assertRejects(["accessId": bad], field: "accessId")
        }
        XCTAssertEqual(try ConferenceDraft.validate(body(["accessId": "1000"])).accessId, 1000)
        XCTAssertEqual(try ConferenceDraft.validate(body(["accessId": "999999999999"])).accessId, 999_999_999_999)
    }

    func testTypeStartAndDurationRules() throws {
        assertRejects(["type": "\"Monthly\""], field: "type")
        assertRejects(["type": "1"], field: "type")
        assertRejects(["type": "<absent>"], field: "type")
        assertRejects(["startDate": "0"], field: "startDate")
        assertRejects(["startDate": "<absent>"], field: "startDate")
        assertRejects(["startDate": "\"1516021200\""], field: "startDate")
        assertRejects(["startDate": "-5"], field: "startDate")
        assertRejects(["startDate": "99999999999999"], field: "startDate")
        assertRejects(["duration": "0"], field: "duration")
        assertRejects(["duration": "30.5"], field: "duration")
        assertRejects(["type": "\"Daily\"", "duration": "1441"], field: "duration")
        XCTAssertEqual(try ConferenceDraft.validate(body(["type": "\"Daily\"", "duration": "1440"])).duration, 1440)
        assertRejects(["type": "\"Weekly\"", "duration": "10081"], field: "duration")
        // Permanent needs neither a start nor a duration.
        let p = try ConferenceDraft.validate(body(["type": "\"Permanent\"", "startDate": "<absent>", "duration": "<absent>"]))
        XCTAssertEqual(p.type, .permanent)
        XCTAssertEqual(p.startDate, 0)
    }

    func testNameFlagsAndTexts() {
        assertRejects(["name": "\"   \""], field: "name")
        assertRejects(["name": "42"], field: "name")
        assertRejects(["name": "<absent>"], field: "name")
        assertRejects(["name": "\"a\\u0000b\""], field: "name")
        assertRejects(["name": "\"\(String(repeating: "x", count: 201))\""], field: "name")
        assertRejects(["waitForOwner": "1"], field: "waitForOwner")
        assertRejects(["delOnOwnerLeave": "\"true\""], field: "delOnOwnerLeave")
        assertRejects(["ws": "5"], field: "ws")
        assertRejects(["wsType": "{}"], field: "wsType")
        assertRejects(["ownerId": "-3"], field: "ownerId")
        assertRejects(["ownerId": "true"], field: "ownerId")
        assertRejects(["Id": "7"], field: "Id")
    }

    func testTheBodyMustBeAnObject() {
        for text in ["[]", "42", "\"x\"", "null"] {
            XCTAssertThrowsError(try ConferenceDraft.validate(json(text))) { error in
                XCTAssertEqual((error as? ConferenceValidationError)?.field, "body")
            }
        }
        XCTAssertNil(JSONInput.parse(Array("{\"name\": ".utf8)))
        XCTAssertNil(JSONInput.parse(Array("{\"accessId\": 47281964 /* pin */}".utf8)))
        XCTAssertEqual(JSONInput.parse(Array("{\"accessId\": 47281964,}".utf8)),
                       .object(["accessId": .integer(47_281_964)]), "the seed's join example has a trailing comma")
    }

    func testOwnerAccessId() throws {
        XCTAssertNil(try ConferenceDraft.validate(body([:])).ownerAccessId)
        XCTAssertNil(try ConferenceDraft.validate(body(["ownerAccessId": "0"])).ownerAccessId)
        XCTAssertEqual(try ConferenceDraft.validate(body(["ownerAccessId": "55501234"])).ownerAccessId, 55_501_234)
        XCTAssertEqual(try ConferenceDraft.validate(body(["ownerAccessId": "\"55501234\""])).ownerAccessId, 55_501_234)
        XCTAssertEqual(try ConferenceDraft.validate(body(["ownerAccessId": "55501234"])).conference(id: "x", ownerId: 1).ownerAccessId, 55_501_234)
        assertRejects(["ownerAccessId": "47281964"], field: "ownerAccessId") // the conference's own access id
        assertRejects(["ownerAccessId": "123"], field: "ownerAccessId")
        assertRejects(["ownerAccessId": "\"0123\""], field: "ownerAccessId")
        assertRejects(["ownerAccessId": "true"], field: "ownerAccessId")
        assertRejects(["ownerAccessId": "-5"], field: "ownerAccessId")
    }
}
