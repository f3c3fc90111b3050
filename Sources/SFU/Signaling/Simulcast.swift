// Simulcast as a publisher offers it: RFC 8853 rid layers (a=rid:<id> send + a=simulcast:send <ids>), answered with
// recv so that the browser sends them, or legacy a=ssrc-group:SIM with one SSRC per layer. The SFU needs the layers
// lowest resolution first; the offer's order is the sender's priority, not the size, so well-known rid names decide.

struct Simulcast: Equatable {
    /// The layers to receive, in the offer's order (first alternative of each stream; paused ones kept: they resume).
    var streams: [SDPSimulcast.Stream]

    static let maxLayers = 4

    /// The rid layers of a sendonly m-line; nil without a=rid send lines or when the simulcast line names none.
    static func offered(in section: SDPMediaSection) -> Simulcast? {
        let declared = section.rids.filter { $0.direction == "send" }.map(\.id)
        guard !declared.isEmpty else { return nil }
        let listed = section.simulcast.map { $0.send.compactMap(\.first) } ?? declared.map { SDPSimulcast.Stream(rid: $0) }
        var streams: [SDPSimulcast.Stream] = []
        // RFC 8853 §5.1: every rid in a=simulcast must have its a=rid line; duplicates are ignored.
        for stream in listed where declared.contains(stream.rid) && !streams.contains(where: { $0.rid == stream.rid }) {
            streams.append(stream)
        }
        guard !streams.isEmpty else { return nil }
        return Simulcast(streams: Array(streams.prefix(maxLayers)))
    }

    /// Lines for our answer: a=rid:<id> recv for each layer and a=simulcast:recv in the offer's order.
    var answerLines: [SDPLine] {
        streams.map { .attribute(.rid(SDPRid(id: $0.rid, direction: "recv"))) }
            + [.attribute(.simulcast(SDPSimulcast(recv: streams.map { [$0] })))]
    }

    /// Rids lowest resolution first.
    var orderedRids: [String] { Self.spatialOrder(streams.map(\.rid)) }

    /// Orders rids by their conventional names: q/h/f (quarter, half, full; as our client and Chrome's samples use),
    /// l/m/h and low/mid/high, or by trailing numbers (r0, r1, r2); otherwise the offer's order is kept.
    static func spatialOrder(_ rids: [String]) -> [String] {
        let lower = rids.map { $0.lowercased() }
        let halfMeansMiddle = lower.contains("q") || lower.contains("f")
        func rank(_ rid: String) -> Int? {
            switch rid {
            case "q", "l", "lo", "low", "quarter": return 0
            case "m", "mid", "medium", "half": return 1
            case "h": return halfMeansMiddle ? 1 : 2
            case "f", "hi", "high", "full": return 2
            default: return nil
            }
        }
        let ranks = lower.map(rank)
        if ranks.allSatisfy({ $0 != nil }), Set(ranks.compactMap { $0 }).count == rids.count {
            return zip(rids, ranks).sorted { $0.1! < $1.1! }.map(\.0)
        }
        let numbers = rids.map { rid in Int(String(rid.reversed().prefix { $0.isASCII && $0.isNumber }.reversed())) }
        if numbers.allSatisfy({ $0 != nil }), Set(numbers.compactMap { $0 }).count == rids.count {
            return zip(rids, numbers).sorted { $0.1! < $1.1! }.map(\.0)
        }
        return rids
    }

    /// Legacy SSRC simulcast (a=ssrc-group:SIM, lowest first as libwebrtc writes it) with each layer's FID repair
    /// SSRC; nil without a SIM group of at least two SSRCs.
    static func ssrcLayers(of section: SDPMediaSection) -> [PublishedLayer]? {
        guard let group = section.ssrcGroups.first(where: { $0.semantics == "SIM" }), group.ssrcs.count >= 2 else { return nil }
        return group.ssrcs.prefix(maxLayers).map { PublishedLayer(ssrc: $0, rtxSSRC: OfferAnswer.repairSSRC(of: $0, in: section)) }
    }
}
