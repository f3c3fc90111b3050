// Which simulcast layer a subscriber should get: the smallest one that fills the subscriber's tile (its preference),
// lowered while the subscriber's estimated bandwidth (REMB) cannot carry it. Pure: the router feeds it the layers'
// measured state and applies the result (the consumer then switches at the target layer's next keyframe).

/// A subscriber's wish for one track (SfuLayer): a tile size in device pixels, or an explicit layer.
public struct LayerPreference: Sendable, Equatable {
    public var maxWidth: Int?
    public var maxHeight: Int?
    /// An explicit spatial layer (0 = lowest), e.g. from "Layer":"q"; overrides the size.
    public var layer: Int?

    public init(maxWidth: Int? = nil, maxHeight: Int? = nil, layer: Int? = nil) {
        self.maxWidth = maxWidth
        self.maxHeight = maxHeight
        self.layer = layer
    }
}

enum LayerSelector {
    struct Layer: Equatable {
        /// Packets arrived recently: the publisher is sending this layer (browsers pause layers when short of bandwidth).
        var active: Bool
        /// Measured over the last second, bits per second.
        var bitrate: Int
        /// From the layer's last keyframe; 0 when not seen yet.
        var width = 0
        var height = 0
    }

    /// A layer within this fraction of the tile's size is good enough: a 640-wide layer for a 656-wide tile.
    static let sizeTolerance = 0.9
    /// A forwarded layer is kept while it needs at most this much more than the estimate (bitrates jump at keyframes).
    static let downgradeHysteresis = 1.15

    /// The highest layer the preference asks for: an explicit layer, else the lowest active layer whose resolution
    /// covers the tile in both dimensions (tiles crop with object-fit: cover), else the highest layer.
    static func preferredLayer(_ layers: [Layer], preference: LayerPreference) -> Int {
        guard !layers.isEmpty else { return 0 }
        if let layer = preference.layer { return min(max(0, layer), layers.count - 1) }
        guard preference.maxWidth != nil || preference.maxHeight != nil else { return layers.count - 1 }
        let sizes = estimatedSizes(layers)
        for (index, size) in sizes.enumerated() where layers[index].active && size.width > 0 {
            let wide = Double(size.width) >= Double(preference.maxWidth ?? 0) * sizeTolerance
            let tall = Double(size.height) >= Double(preference.maxHeight ?? 0) * sizeTolerance
            if wide && tall { return index }
        }
        return layers.count - 1
    }

    /// Layer sizes, filling unknown ones from a known layer by a factor of two per step (browsers scale simulcast
    /// layers by 4/2/1); all zero when no keyframe has been seen on any layer.
    static func estimatedSizes(_ layers: [Layer]) -> [(width: Int, height: Int)] {
        guard let known = layers.lastIndex(where: { $0.width > 0 && $0.height > 0 }) else {
            return layers.map { _ in (0, 0) }
        }
        return layers.indices.map { index in
            if layers[index].width > 0 { return (layers[index].width, layers[index].height) }
            let steps = index - known
            let scale = steps >= 0 ? Double(1 << steps) : 1 / Double(1 << -steps)
            return (Int(Double(layers[known].width) * scale), Int(Double(layers[known].height) * scale))
        }
    }

    /// The layer to forward next. `budget` is what the subscriber's connection can take for this track (nil: no
    /// estimate yet). Returns nil when no layer is active (keep waiting, nothing to switch to).
    static func target(_ layers: [Layer], preference: LayerPreference, current: Int?, budget: Int?) -> Int? {
        guard let lowestActive = layers.firstIndex(where: \.active) else { return nil }
        let cap = preferredLayer(layers, preference: preference)
        // The best active layer within the preference (the lowest active one when none below the cap is sending).
        let wanted = (0 ... min(cap, layers.count - 1)).last { layers[$0].active } ?? lowestActive
        guard let budget else { return wanted }
        let fit = (lowestActive ... wanted).last { layers[$0].active && layers[$0].bitrate <= budget } ?? lowestActive
        if let current, current < layers.count, layers[current].active, fit < current, current <= wanted,
           Double(layers[current].bitrate) <= Double(budget) * downgradeHysteresis {
            return current // within the noise of the estimate: no need to drop a layer
        }
        return fit
    }
}
