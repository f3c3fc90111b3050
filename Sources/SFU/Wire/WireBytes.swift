// Shared error type and bounds-checked byte access for the wire formats.
// Every parser reads input through `ByteReader`, so a short or lying buffer becomes a thrown `WireError`
// instead of a trap: no parser indexes input bytes with an offset it has not checked.

/// Why a wire-format parser rejected its input.
public enum WireError: Error, Equatable, Sendable {
    /// The input ended before `what` could be read.
    case truncated(_ what: String)
    /// A length field points past the end of the input or is inconsistent with it.
    case badLength(_ what: String)
    /// A version field has an unsupported value (RTP/RTCP must be 2).
    case badVersion(UInt8)
    /// The bytes are not a STUN message (first two bits, cookie or length alignment).
    case notSTUN
    /// A field holds a value the format forbids.
    case badValue(_ what: String)
    /// An SDP line could not be parsed; carries the line.
    case badLine(_ line: String)
}

/// A cursor over input bytes; every read checks the remaining length first.
struct ByteReader {
    let bytes: ArraySlice<UInt8>
    private(set) var index: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.index = bytes.startIndex
    }

    init(_ bytes: [UInt8]) { self.init(bytes[...]) }

    var remaining: Int { bytes.endIndex - index }
    var isAtEnd: Bool { index >= bytes.endIndex }
    /// Offset from the start of the input (not the slice index).
    var offset: Int { index - bytes.startIndex }

    mutating func u8(_ what: String) throws -> UInt8 {
        guard remaining >= 1 else { throw WireError.truncated(what) }
        defer { index += 1 }
        return bytes[index]
    }

    mutating func u16(_ what: String) throws -> UInt16 {
        guard remaining >= 2 else { throw WireError.truncated(what) }
        defer { index += 2 }
        return UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1])
    }

    mutating func u24(_ what: String) throws -> UInt32 {
        guard remaining >= 3 else { throw WireError.truncated(what) }
        defer { index += 3 }
        return UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
    }

    mutating func u32(_ what: String) throws -> UInt32 {
        guard remaining >= 4 else { throw WireError.truncated(what) }
        defer { index += 4 }
        return UInt32(bytes[index]) << 24 | UInt32(bytes[index + 1]) << 16
            | UInt32(bytes[index + 2]) << 8 | UInt32(bytes[index + 3])
    }

    mutating func u64(_ what: String) throws -> UInt64 {
        let hi = try u32(what)
        let lo = try u32(what)
        return UInt64(hi) << 32 | UInt64(lo)
    }

    mutating func bytes(_ count: Int, _ what: String) throws -> [UInt8] {
        try slice(count, what).map { $0 }
    }

    mutating func slice(_ count: Int, _ what: String) throws -> ArraySlice<UInt8> {
        guard count >= 0, remaining >= count else { throw WireError.badLength(what) }
        defer { index += count }
        return bytes[index..<(index + count)]
    }

    mutating func skip(_ count: Int, _ what: String) throws {
        guard count >= 0, remaining >= count else { throw WireError.badLength(what) }
        index += count
    }

    /// Remaining bytes, consuming them.
    mutating func rest() -> [UInt8] {
        defer { index = bytes.endIndex }
        return Array(bytes[index...])
    }
}

extension Array where Element == UInt8 {
    mutating func appendU16(_ v: UInt16) {
        append(UInt8(truncatingIfNeeded: v >> 8))
        append(UInt8(truncatingIfNeeded: v))
    }

    mutating func appendU24(_ v: UInt32) {
        append(UInt8(truncatingIfNeeded: v >> 16))
        append(UInt8(truncatingIfNeeded: v >> 8))
        append(UInt8(truncatingIfNeeded: v))
    }

    mutating func appendU32(_ v: UInt32) {
        appendU16(UInt16(truncatingIfNeeded: v >> 16))
        appendU16(UInt16(truncatingIfNeeded: v))
    }

    mutating func appendU64(_ v: UInt64) {
        appendU32(UInt32(truncatingIfNeeded: v >> 32))
        appendU32(UInt32(truncatingIfNeeded: v))
    }

    /// Overwrites a big-endian UInt16 at `offset`; callers own the offset (it was produced by their own writing).
    mutating func setU16(_ v: UInt16, at offset: Int) {
        self[offset] = UInt8(truncatingIfNeeded: v >> 8)
        self[offset + 1] = UInt8(truncatingIfNeeded: v)
    }

    mutating func setU32(_ v: UInt32, at offset: Int) {
        setU16(UInt16(truncatingIfNeeded: v >> 16), at: offset)
        setU16(UInt16(truncatingIfNeeded: v), at: offset + 2)
    }

    /// Zero bytes up to the next multiple of four (STUN attributes and RTCP packets are 32-bit aligned).
    mutating func padTo4() {
        while count % 4 != 0 { append(0) }
    }
}

@inline(__always) func paddedTo4(_ n: Int) -> Int { (n + 3) & ~3 }
