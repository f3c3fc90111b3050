// The room's app-data relay (docs/sfu-signaling.md, "Data channels"): a message a participant sends on a data
// channel goes to every other participant that has a channel with the same label open on one of its connections.
// Text messages are wrapped with the sender's id, binary ones go as sent. Each receiver's SCTP send buffer is the
// only queue: when it is full (that peer reads too slowly) the message is dropped for that peer alone and counted.

extension Router {
    /// Label of the channel on which the server also sends room events (active speaker).
    static let eventsLabel = "rooms"

    func transport(_ transport: MediaTransport, didReceiveData data: [UInt8], isText: Bool, on channel: DataChannel) {
        guard let source = transport as? WebRtcTransport else { return }
        let payload: [UInt8]
        if isText {
            guard let text = String(validating: data, as: UTF8.self) else { return } // not UTF-8: not a text message
            payload = DataRelayEnvelope.wrap(text: text, from: source.participant)
        } else {
            payload = data
        }
        send(payload, isText: isText, label: channel.label, except: source.participant)
    }

    /// Sends to one connection per participant (its newest with a channel labelled `label`), except `excluded`.
    func send(_ payload: [UInt8], isText: Bool, label: String, except excluded: String?) {
        var reached: Set<String> = excluded.map { [$0] } ?? []
        let candidates = contexts.values.compactMap { $0.transport as? WebRtcTransport }
            .filter { $0.dataChannels?.isConnected == true }
            .sorted { $0.createdAt > $1.createdAt }
        for transport in candidates where !reached.contains(transport.participant) {
            guard let sessions = transport.dataChannels, let channel = sessions.channels(labelled: label).first else { continue }
            reached.insert(transport.participant)
            sessions.send(payload, isText: isText, on: channel.stream)
        }
    }

    /// Room events for clients on their "rooms" channel: each change of active speaker.
    func sendActiveSpeakerEvent(participant: String, loudness: Int) {
        send(Self.speakerEvent(participant: participant, loudness: loudness), isText: true, label: Self.eventsLabel, except: nil)
    }

    /// A "rooms" channel that opens gets the current speaker at once (changes follow as they happen).
    func transport(_ transport: MediaTransport, didOpen channel: DataChannel) {
        guard channel.label == Self.eventsLabel, let current = activeSpeakerEvent,
              let sessions = (transport as? WebRtcTransport)?.dataChannels else { return }
        sessions.send(Self.speakerEvent(participant: current.participant, loudness: current.loudness), isText: true,
                      on: channel.stream)
    }

    static func speakerEvent(participant: String, loudness: Int) -> [UInt8] {
        Array("{\"Type\":\"Speaker\",\"Session\":\(DataRelayEnvelope.jsonString(participant)),\"Level\":\(loudness)}".utf8)
    }
}

/// The JSON text receivers get for a relayed text message: `{"From":"<participant>","Data":"<text>"}`.
enum DataRelayEnvelope {
    static func wrap(text: String, from participant: String) -> [UInt8] {
        Array("{\"From\":\(jsonString(participant)),\"Data\":\(jsonString(text))}".utf8)
    }

    /// A JSON string literal (RFC 8259 §7). Hand-written: the SFU does not link Foundation's encoders for one string.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
