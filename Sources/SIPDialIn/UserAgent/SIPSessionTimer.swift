// Session timers (RFC 4028) as the UAS of an INVITE: negotiate the interval and who refreshes, and write the
// headers of the 2xx. The timers themselves run in SIPCall.

public enum SIPSessionTimer {
    public enum Refresher: String, Sendable, Equatable {
        case uac, uas
    }

    /// The agreed session timer of a call: nil interval when none is in force.
    public struct Negotiation: Equatable, Sendable {
        public var interval: Int?
        public var refresher: Refresher
        /// The UAC listed `timer` in Supported: the 2xx must then carry `Require: timer`.
        public var peerSupportsTimer: Bool

        public static let none = Negotiation(interval: nil, refresher: .uas, peerSupportsTimer: false)

        /// Are we (the UAS) the refresher?
        public var weRefresh: Bool { interval != nil && refresher == .uas }

        /// Headers for a 2xx to the INVITE (§9).
        func apply(to response: inout SIPResponse) {
            guard let interval else { return }
            response.headers.add(SIPHeaderName.sessionExpires, "\(interval);refresher=\(refresher.rawValue)")
            if peerSupportsTimer { response.headers.add(SIPHeaderName.require, "timer") }
        }
    }

    public enum Outcome: Equatable, Sendable {
        case accepted(Negotiation)
        /// Answer 422 with this Min-SE.
        case tooSmall(minimum: Int)
    }

    /// `Session-Expires: 1800;refresher=uac` → (1800, .uac).
    static func parseSessionExpires(_ value: String) -> (Int, Refresher?)? {
        let parts = SIPSyntax.split(value[...], at: ";")
        guard let first = parts.first, first.utf8.count <= 9, first.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              let seconds = Int(first), seconds > 0 else { return nil }
        let params = (try? SIPSyntax.parseParameters(value[first.endIndex...])) ?? []
        let refresher = params.lookup("refresher").flatMap { $0 }.flatMap { Refresher(rawValue: $0.lowercased()) }
        return (seconds, refresher)
    }

    /// The UAS rules of RFC 4028 §9 with our `preferred` interval (0: none of our own) and `minimum` (Min-SE).
    public static func negotiate(_ invite: SIPRequest, preferred: Int, minimum: Int) -> Outcome {
        let supports = invite.optionTags(SIPHeaderName.supported).contains("timer")
        if let header = invite.headers[SIPHeaderName.sessionExpires], let (requested, refresher) = parseSessionExpires(header) {
            if requested < minimum { return .tooSmall(minimum: minimum) }
            // A UAC without timer support cannot refresh: we do (§9, table 2).
            let chosen: Refresher = supports ? (refresher ?? .uac) : .uas
            return .accepted(Negotiation(interval: requested, refresher: chosen, peerSupportsTimer: supports))
        }
        guard preferred > 0, supports else { return .accepted(.none) }
        // Min-SE from the request raises our interval (§9).
        let peerMin = invite.headers[SIPHeaderName.minSE].flatMap { Int(SIPSyntax.trim($0[...]).split(separator: ";").first ?? "") } ?? 0
        return .accepted(Negotiation(interval: max(preferred, minimum, peerMin), refresher: .uac, peerSupportsTimer: true))
    }
}
