// Simulcast layer choice per subscriber connection: every 500 ms (and when a preference or consumer changes) each
// simulcast consumer gets a target layer from its preference, the layers the publisher is sending and, after the
// subscriber signalled congestion, its REMB estimate less what the connection's other streams take. A new target
// gets a PLI so that its keyframe, where the consumer switches, comes soon.
//
// Why REMB counts only after a drop: Chrome's receive-side estimate trails what it is sent. It starts from the
// throughput it sees and grows ~8 %/s, so a subscriber fed the low layer reports a budget that would keep it there
// for half a minute. A decrease, though, means overuse (queues building up, estimate set to 0.85 × throughput): then
// the estimate is the budget, for `congestionHold`, after which the layers the preference asks for are tried again.

import NIOCore

extension Router {
    /// How long a drop in a subscriber's estimate keeps capping its layers.
    static let congestionHold = TimeAmount.seconds(10)

    func selectLayers(in context: TransportContext, now: NIODeadline) {
        let nowNanos = now.uptimeNanoseconds
        var budget: Int?
        if let estimate = context.estimatedBitrate, let at = context.congestedAt, now - at < Self.congestionHold {
            budget = estimate
        }
        var forwarded = 0
        for consumer in context.consumers { forwarded += consumer.forwardedBitrate }
        for consumer in context.consumers where consumer.producer.isSimulcast {
            let producer = consumer.producer
            let others = forwarded - consumer.forwardedBitrate
            guard let target = LayerSelector.target(producer.layerStates(nowNanos: nowNanos), preference: consumer.preference,
                                                    current: consumer.currentLayer, budget: budget.map { max(0, $0 - others) }),
                  target != consumer.targetLayer else { continue }
            consumer.targetLayer = target
            if target != consumer.currentLayer { requestKeyframe(producer, layer: target, now: now) }
        }
    }

    /// A subscriber's wish for one track (SfuLayer) on its connection `transportID`. `layerName` is a rid of the
    /// producer or q/h/f (quarter, half, full: lowest, middle, highest). Returns whether a consumer matched.
    @discardableResult
    func setLayerPreference(transportID: String, trackID: String, maxWidth: Int?, maxHeight: Int?,
                            layerName: String?) -> Bool {
        guard let context = contexts.values.first(where: { $0.transport.id == transportID }) else { return false }
        var matched = false
        for consumer in context.consumers where consumer.producer.trackID == trackID {
            let layers = consumer.producer.layers
            var index: Int?
            if let name = layerName {
                index = layers.firstIndex { $0.rid == name }
                    ?? ["q": 0, "h": min(1, layers.count - 1), "f": layers.count - 1][name.lowercased()]
            }
            consumer.preference = LayerPreference(maxWidth: maxWidth, maxHeight: maxHeight, layer: index)
            matched = true
        }
        if matched { selectLayers(in: context, now: .now()) }
        return matched
    }
}

extension Consumer {
    /// What this consumer sends now, by the measured bitrate of the layer it forwards.
    var forwardedBitrate: Int {
        guard let layer = currentLayer, layer < producer.layers.count else { return 0 }
        return producer.layers[layer].bitrate.bitsPerSecond
    }
}

extension Router.TransportContext {
    /// A layer change sends a keyframe burst and changes the throughput the estimator sees; a drop right after one
    /// is the estimator settling (seen with Chrome on loopback), not a congested path.
    static let settleAfterLayerChange: UInt64 = 3_000_000_000

    /// A REMB from the subscriber. A drop of more than 5 % (REMB is rounded, and steady otherwise) is congestion,
    /// unless a layer change on this connection explains it.
    func recordEstimate(_ bitrate: Int, at now: NIODeadline) {
        let nowNanos = now.uptimeNanoseconds
        let settling = consumers.contains { $0.lastLayerChangeNanos != 0 && nowNanos &- $0.lastLayerChangeNanos < Self.settleAfterLayerChange }
        if let previous = estimatedBitrate, Double(bitrate) < Double(previous) * 0.95, !settling { congestedAt = now }
        estimatedBitrate = bitrate
    }

    /// Receiver reports: more than 10 % of a video stream lost since the last report is congestion too.
    func recordLoss(fraction: UInt8, at now: NIODeadline) {
        if fraction > 25 { congestedAt = now }
    }
}
