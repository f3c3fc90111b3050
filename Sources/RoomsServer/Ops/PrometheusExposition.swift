import Prometheus

/// The Prometheus registry behind swift-metrics; `/metrics` renders it in the text exposition format.
struct PrometheusExposition: Sendable {
    let registry: PrometheusCollectorRegistry

    func emit() -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(4096)
        registry.emit(into: &buffer)
        return buffer
    }
}
