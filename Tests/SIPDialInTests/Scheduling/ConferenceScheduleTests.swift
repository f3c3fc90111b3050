import Foundation
import SIPDialIn
import XCTest

final class ConferenceScheduleTests: XCTestCase {
    let schedule = ConferenceSchedule(earlyJoin: 300)
    /// 2018-01-15 13:00:00 UTC, the seed's example start.
    let start: Int64 = 1_516_021_200

    func conference(_ type: ConferenceType, start: Int64? = nil, minutes: Int = 30) -> Conference {
        Conference(id: "abc123", ownerId: 1, name: "Standup", accessId: 47_281_964, type: type,
                   startDate: start ?? self.start, duration: minutes)
    }

    func at(_ offset: TimeInterval, from base: Int64? = nil) -> Date {
        Date(timeIntervalSince1970: TimeInterval(base ?? start) + offset)
    }

    func assertOpen(_ c: Conference, _ date: Date, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(schedule.lookup(c, at: date), .open(room: "conf-abc123", conference: c), file: file, line: line)
    }

    // MARK: Once

    func testOnceOpensFiveMinutesEarlyAndClosesAtTheEnd() {
        let c = conference(.once)
        XCTAssertEqual(schedule.lookup(c, at: at(-301)), .notYetOpen(opensAt: at(-300)))
        assertOpen(c, at(-300))
        assertOpen(c, at(0))
        assertOpen(c, at(30 * 60 - 1))
        XCTAssertEqual(schedule.lookup(c, at: at(30 * 60)), .ended)
        XCTAssertEqual(schedule.lookup(c, at: at(86_400)), .ended)
    }

    func testNoEarlyJoinMeansTheWindowStartsAtStartDate() {
        let strict = ConferenceSchedule(earlyJoin: 0)
        let c = conference(.once)
        XCTAssertEqual(strict.lookup(c, at: at(-1)), .notYetOpen(opensAt: at(0)))
        XCTAssertEqual(strict.lookup(c, at: at(0)), .open(room: c.roomName, conference: c))
    }

    func testOpensAtIsTheFirstOpenMoment() {
        for type in [ConferenceType.once, .daily, .weekly, .permanent] {
            let c = conference(type)
            guard case .notYetOpen(let opensAt) = schedule.lookup(c, at: at(-3600)) else { return XCTFail("\(type)") }
            assertOpen(c, opensAt)
            XCTAssertNotEqual(schedule.lookup(c, at: opensAt.addingTimeInterval(-1)), .open(room: c.roomName, conference: c))
        }
    }

    // MARK: Daily and Weekly

    func testDailyRepeatsEveryDayWithoutEnd() {
        let c = conference(.daily)
        let day: TimeInterval = 86_400
        XCTAssertEqual(schedule.lookup(c, at: at(-day)), .notYetOpen(opensAt: at(-300)), "nothing before the first occurrence")
        assertOpen(c, at(10 * 60))
        // Between two occurrences: the next day's early-join moment.
        XCTAssertEqual(schedule.lookup(c, at: at(30 * 60)), .notYetOpen(opensAt: at(day - 300)))
        XCTAssertEqual(schedule.lookup(c, at: at(day - 301)), .notYetOpen(opensAt: at(day - 300)))
        assertOpen(c, at(day - 300))
        assertOpen(c, at(day + 30 * 60 - 1))
        XCTAssertEqual(schedule.lookup(c, at: at(day + 30 * 60)), .notYetOpen(opensAt: at(2 * day - 300)))
        assertOpen(c, at(1000 * day + 60))
    }

    func testWeeklyRepeatsEverySevenDays() {
        let c = conference(.weekly, minutes: 60)
        let week: TimeInterval = 7 * 86_400
        XCTAssertEqual(schedule.lookup(c, at: at(86_400)), .notYetOpen(opensAt: at(week - 300)), "not on the next day")
        assertOpen(c, at(week - 300))
        assertOpen(c, at(3 * week + 3599))
        XCTAssertEqual(schedule.lookup(c, at: at(3 * week + 3600)), .notYetOpen(opensAt: at(4 * week - 300)))
    }

    func testAFullDayDailyWindowIsAlwaysOpenAfterItsStart() {
        let c = conference(.daily, minutes: 24 * 60)
        for offset in stride(from: -300.0, to: 3 * 86_400, by: 3_637) { assertOpen(c, at(offset)) }
    }

    func testOccurrenceNamesTheScheduledWindowWithoutEarlyJoin() {
        let c = conference(.daily)
        let window = schedule.occurrence(of: c, at: at(86_400 - 60))
        XCTAssertEqual(window, DateInterval(start: at(86_400), end: at(86_400 + 30 * 60)))
    }

    // MARK: Permanent

    func testPermanentIsOpenFromStartDateOnAndIgnoresDuration() {
        let c = conference(.permanent, minutes: 0)
        XCTAssertEqual(schedule.lookup(c, at: at(-400)), .notYetOpen(opensAt: at(-300)))
        assertOpen(c, at(0))
        assertOpen(c, at(50 * 365 * 86_400))
        let always = conference(.permanent, start: 0, minutes: 0)
        assertOpen(always, Date(timeIntervalSince1970: 0))
        assertOpen(always, Date())
    }

    func testRoomNameComesFromTheIdNotTheName() {
        var c = conference(.once)
        c.name = "Renamed"
        XCTAssertEqual(c.roomName, "conf-abc123")
        let id = Conference.newId()
        XCTAssertEqual(id.count, 12)
        XCTAssertTrue(id.allSatisfy { $0.isLowercase || $0.isNumber }, id)
        XCTAssertNotEqual(id, Conference.newId())
    }

    func testTypedDigitsBecomeAccessIds() {
        XCTAssertEqual(Conference.accessId(fromDigits: "47281964"), 47_281_964)
        XCTAssertEqual(Conference.accessId(fromDigits: "1000"), 1000)
        XCTAssertEqual(Conference.accessId(fromDigits: "999999999999"), 999_999_999_999)
        for bad in ["", "999", "0123", "1234567890123", "12a4", " 1234", "+1234", "١٢٣٤"] {
            XCTAssertNil(Conference.accessId(fromDigits: bad), bad)
        }
    }
}
