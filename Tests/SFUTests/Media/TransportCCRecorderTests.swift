// Transport-cc feedback built from arrival records, checked by round trip through the RTCP parser: every sequence
// number reported once, lost ones as not received, arrival times reproduced within a 250 µs tick.

import XCTest
@testable import SFU

final class TransportCCRecorderTests: XCTestCase {
    /// Arrival times the feedback reports, by sequence number (nil: reported lost), after a serialize/parse round trip.
    func reported(_ feedback: [RTCPTransportCC]) throws -> [(UInt16, Int64?)] {
        var out: [(UInt16, Int64?)] = []
        for packet in feedback {
            let bytes = try RTCP.serialize([.transportCC(packet)])
            XCTAssertLessThan(bytes.count, 1200, "feedback must fit a datagram")
            guard case .transportCC(let parsed) = try XCTUnwrap(RTCP.parseCompound(bytes).first) else { XCTFail(); return [] }
            XCTAssertEqual(parsed, packet)
            var time = Int64(parsed.referenceTime) * 64_000
            for p in parsed.packets {
                if let delta = p.delta { time += Int64(delta) * 250; out.append((p.sequenceNumber, time)) } else { out.append((p.sequenceNumber, nil)) }
            }
        }
        return out
    }

    func testFeedbackReportsEveryArrivalAndLossAcrossWrap() throws {
        var recorder = TransportCCRecorder(capacity: 1024)
        var arrivals: [UInt16: Int64] = [:]
        var time: Int64 = 5_000_000_123 // µs since some boot
        // 65530 ... 65535, 0 ... 20 with 3 and 7 lost, 10 arriving after 11 (reordered).
        var order: [UInt16] = Array(65530 ... 65535) + Array(0 ... 20).filter { $0 != 3 && $0 != 7 && $0 != 10 }
        order.insert(10, at: order.firstIndex(of: 11)! + 1)
        for s in order {
            time += Int64.random(in: 200 ... 9000)
            arrivals[s] = time
            recorder.record(s, arrivalMicros: time)
        }
        let feedback = recorder.takeFeedback(senderSSRC: 1, mediaSSRC: 2)
        XCTAssertEqual(feedback.count, 1)
        XCTAssertEqual(feedback.first?.baseSequenceNumber, 65530)
        XCTAssertEqual(feedback.first?.feedbackPacketCount, 0)
        let report = try reported(feedback)
        XCTAssertEqual(report.map(\.0), Array(65530 ... 65535) + Array(0 ... 20))
        for (s, t) in report {
            guard let expected = arrivals[s] else { XCTAssertNil(t, "\(s) was lost"); continue }
            // Times are relative to the reference; compare modulo the 24-bit reference wrap.
            let reportedTime = try XCTUnwrap(t, "\(s) arrived")
            XCTAssertLessThanOrEqual(abs((expected % (64_000 << 24)) - reportedTime), 250, "seq \(s)")
        }
        // Nothing new: no feedback; the next one continues after 20 with the next feedback count.
        XCTAssertTrue(recorder.takeFeedback(senderSSRC: 1, mediaSSRC: 2).isEmpty)
        recorder.record(22, arrivalMicros: time + 1000)
        let next = recorder.takeFeedback(senderSSRC: 1, mediaSSRC: 2)
        XCTAssertEqual(next.first?.baseSequenceNumber, 21)
        XCTAssertEqual(next.first?.feedbackPacketCount, 1)
        XCTAssertEqual(try reported(next).map { $0.1 == nil }, [true, false])
        // A packet older than what was reported is not reported again.
        recorder.record(3, arrivalMicros: time + 2000)
        XCTAssertTrue(recorder.takeFeedback(senderSSRC: 1, mediaSSRC: 2).isEmpty)
    }

    func testLongBurstsAndLongGapsSplitIntoSeveralFeedbackPackets() throws {
        var recorder = TransportCCRecorder()
        var time: Int64 = 1_000_000
        for s in UInt16(0) ..< 1000 { time += 100; recorder.record(s, arrivalMicros: time) }
        time += 10_000_000 // 10 s of silence: more than a 16-bit delta can say
        recorder.record(1000, arrivalMicros: time)
        let feedback = recorder.takeFeedback(senderSSRC: 1, mediaSSRC: 2)
        XCTAssertEqual(feedback.map(\.baseSequenceNumber), [0, 400, 800, 1000])
        XCTAssertEqual(feedback.map(\.feedbackPacketCount), [0, 1, 2, 3])
        let report = try reported(feedback)
        XCTAssertEqual(report.count, 1001)
        XCTAssertTrue(report.allSatisfy { $0.1 != nil })
        XCTAssertLessThanOrEqual(abs(report.last!.1! - time), 250)
    }
}
