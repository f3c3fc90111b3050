// Changing what an existing connection carries (renegotiation): a publisher adds or removes a track on its
// connection, a subscriber's connection gains m-lines for new producers and loses those whose producer left. Same
// transport, same ICE and DTLS; only producers and consumers come and go. On the router's loop.

extension Router {
    /// The producers a publisher connection sends, in the order they were added.
    func producers(of transport: MediaTransport) -> [Producer] {
        contexts[ObjectIdentifier(transport)]?.producers ?? []
    }

    /// The consumers of a subscriber connection.
    func consumers(of transport: MediaTransport) -> [Consumer] {
        contexts[ObjectIdentifier(transport)]?.consumers ?? []
    }

    /// A publisher stopped sending a track (its m-line went inactive or away): its consumers stop with it; the
    /// subscribers' m-lines stay until their next negotiation.
    func removeProducer(_ producer: Producer) {
        guard let context = contexts[ObjectIdentifier(producer.transport)] else { return }
        context.producers.removeAll { $0 === producer }
        context.streamsBySSRC = context.streamsBySSRC.filter { $0.value.producer !== producer }
        context.producersByPayloadType = context.producersByPayloadType.filter { $0.value !== producer }
        removeFromRoom(producer)
        for consumer in producer.consumers { removeConsumer(consumer) }
        producer.consumers.removeAll()
        logger.info("producer \(producer.id) removed")
    }

    /// One subscriber m-line no longer carries this consumer.
    func removeConsumer(_ consumer: Consumer) {
        consumer.producer.consumers.removeAll { $0 === consumer }
        guard let context = contexts[ObjectIdentifier(consumer.transport)] else { return }
        context.consumers.removeAll { $0 === consumer }
        if context.consumersBySSRC[consumer.ssrc] === consumer { context.consumersBySSRC[consumer.ssrc] = nil }
    }
}
