// RFC 4733 DTMF events in RTP. A key press is one event: every packet of it (the first with the marker bit, the
// updates, the three end-flagged duplicates) carries the same RTP timestamp, so a digit is reported once per
// (SSRC, timestamp) and never again for its repeats. Some senders (sipp) use an SSRC of their own for events.

struct TelephoneEvent: Equatable {
    var event: UInt8
    var end: Bool
    var volume: UInt8
    var duration: UInt16

    enum ParseError: Error, Equatable { case tooShort }

    init(event: UInt8, end: Bool, volume: UInt8, duration: UInt16) {
        self.event = event
        self.end = end
        self.volume = volume
        self.duration = duration
    }

    init(payload: UnsafeRawBufferPointer) throws {
        guard payload.count >= 4 else { throw ParseError.tooShort }
        event = payload[0]
        end = payload[1] & 0x80 != 0
        volume = payload[1] & 0x3F
        duration = UInt16(payload[2]) << 8 | UInt16(payload[3])
    }

    /// The key: 0–9, *, #, A–D; nil for events that are not DTMF (flash, tones).
    var digit: Character? {
        switch event {
        case 0 ... 9: return Character(String(event))
        case 10: return "*"
        case 11: return "#"
        case 12 ... 15: return Character(UnicodeScalar(UInt8(ascii: "A") + event - 12))
        default: return nil
        }
    }
}

/// Turns a stream of telephone-event packets into digits, once per key press.
struct DTMFDetector {
    private var last: (ssrc: UInt32, timestamp: UInt32)?

    /// The digit this packet starts, or nil for a repeat, an end duplicate or a non-DTMF event.
    mutating func digit(ssrc: UInt32, timestamp: UInt32, payload: UnsafeRawBufferPointer) -> Character? {
        guard let event = try? TelephoneEvent(payload: payload), let digit = event.digit else { return nil }
        if let last, last.ssrc == ssrc, last.timestamp == timestamp { return nil }
        last = (ssrc, timestamp)
        return digit
    }
}
