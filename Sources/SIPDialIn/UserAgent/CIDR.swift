// IPv4/IPv6 networks for the source allow list (a PBX or SIP trunk usually calls from known addresses).

import NIOCore

public struct CIDR: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// Network address bytes (4 or 16), host bits cleared.
    public let network: [UInt8]
    public let prefixLength: Int

    public enum ParseError: Error, Equatable { case malformed(String) }

    /// `192.0.2.0/24`, `2001:db8::/32`, or a single address (`/32` or `/128` implied).
    public init(_ text: String) throws {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let bytes = CIDR.addressBytes(String(parts[0])) else { throw ParseError.malformed(text) }
        let maxBits = bytes.count * 8
        var prefix = maxBits
        if parts.count == 2 {
            guard parts[1].utf8.count <= 3, let p = Int(parts[1]), p >= 0, p <= maxBits else { throw ParseError.malformed(text) }
            prefix = p
        }
        self.prefixLength = prefix
        self.network = CIDR.mask(bytes, prefix)
    }

    public var description: String {
        let addr = (try? SocketAddress(packedIPAddress: ByteBuffer(bytes: network), port: 0))?.ipAddress ?? "?"
        return "\(addr)/\(prefixLength)"
    }

    public func contains(_ address: SocketAddress) -> Bool {
        guard var bytes = address.ipAddress.flatMap(CIDR.addressBytes) else { return false }
        // An IPv4-mapped IPv6 source (dual-stack socket) matches IPv4 networks.
        if bytes.count == 16, network.count == 4, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            bytes = Array(bytes[12...])
        }
        guard bytes.count == network.count else { return false }
        return CIDR.mask(bytes, prefixLength) == network
    }

    static func addressBytes(_ text: String) -> [UInt8]? {
        guard let address = try? SocketAddress(ipAddress: text, port: 0) else { return nil }
        switch address {
        case .v4(let a):
            return withUnsafeBytes(of: a.address.sin_addr) { Array($0) }
        case .v6(let a):
            return withUnsafeBytes(of: a.address.sin6_addr) { Array($0) }
        default:
            return nil
        }
    }

    static func mask(_ bytes: [UInt8], _ prefix: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let bits = max(0, min(8, prefix - index * 8))
            return bits == 8 ? byte : byte & ~(0xFF >> bits)
        }
    }
}
