// One room's audio bridge, on the room's event loop. Every 20 ms it takes a frame from each browser audio track
// (decoded once per room, however many phones listen) and from each phone, adds them up, and sends every phone the
// sum minus its own voice (mix-minus). Each phone's voice also goes into the room as an Opus track of its own, so
// browsers receive phones like any other participant, through the SFU.

import Logging
import NIOCore
import SFU

final class RoomBridge {
    let room: String
    let eventLoop: EventLoop
    private let tap: DirectTransport
    private let logger: Logger
    private var streams: [UInt32: TapStream] = [:]
    private var members: [Member] = []
    private var tick: FrameTicker?
    private var total = [Float](repeating: 0, count: mixFrameSamples)
    private var scratch = [Float](repeating: 0, count: mixFrameSamples)
    private(set) var ticks = 0
    /// Time spent mixing and encoding, for the benchmark (nanoseconds, summed over ticks).
    private(set) var busyNanoseconds: UInt64 = 0

    /// A phone in the room: its leg, and its track in the SFU.
    private final class Member {
        let leg: PhoneLeg
        let publisher: PhonePublisher
        var frame = [Float](repeating: 0, count: mixFrameSamples)
        var speaking = false
        init(leg: PhoneLeg, publisher: PhonePublisher) { self.leg = leg; self.publisher = publisher }
    }

    init(room: String, tap: DirectTransport, logger: Logger) {
        self.room = room
        self.eventLoop = tap.eventLoop
        self.tap = tap
        self.logger = logger
        tap.onRtp = { [unowned self] packet in self.receiveFromRoom(packet) }
    }

    var isEmpty: Bool { members.isEmpty }
    var phoneCount: Int { members.count }
    var browserStreamCount: Int { streams.count }

    func add(_ leg: PhoneLeg, publisher: PhonePublisher) {
        eventLoop.preconditionInEventLoop()
        members.append(Member(leg: leg, publisher: publisher))
        if tick == nil {
            tick = FrameTicker(eventLoop: eventLoop) { [weak self] in self?.mix() }
        }
    }

    func remove(_ leg: PhoneLeg) {
        eventLoop.preconditionInEventLoop()
        members.removeAll { $0.leg === leg }
    }

    func close() {
        tick?.cancel()
        tick = nil
        tap.close()
        members.removeAll()
        streams.removeAll()
    }

    /// A browser's Opus packet from the tap (each browser track on its own SSRC).
    private func receiveFromRoom(_ packet: UnsafeRawBufferPointer) {
        guard let header = try? RTPHeaderView(packet) else { return }
        let stream: TapStream
        if let known = streams[header.ssrc] {
            stream = known
        } else {
            guard let fresh = try? TapStream() else { return }
            streams[header.ssrc] = fresh
            stream = fresh
        }
        stream.lastPacketAt = ticks
        stream.jitter.insert(sequence: header.sequenceNumber, payload: UnsafeRawBufferPointer(rebasing: packet[header.payloadRange]))
    }

    private func mix() {
        let started = NIODeadline.now()
        defer { busyNanoseconds += UInt64((NIODeadline.now() - started).nanoseconds) }
        ticks += 1
        for i in 0 ..< mixFrameSamples { total[i] = 0 }
        // Browsers: a track silent for 10 s has gone (its decoder state goes with it).
        for (ssrc, stream) in streams {
            if ticks - stream.lastPacketAt > 500 { streams[ssrc] = nil; continue }
            if stream.pullFrame(into: &scratch) { for i in 0 ..< mixFrameSamples { total[i] += scratch[i] } }
        }
        for member in members {
            member.speaking = member.leg.pullFrame(into: &member.frame)
            if member.speaking { for i in 0 ..< mixFrameSamples { total[i] += member.frame[i] } }
            member.publisher.publish(member.frame[...])
        }
        for member in members where !member.leg.onHold {
            if member.speaking {
                for i in 0 ..< mixFrameSamples { scratch[i] = total[i] - member.frame[i] }
                member.leg.send(scratch[...])
            } else {
                member.leg.send(total[...])
            }
        }
    }
}

/// One browser audio track as the mixer hears it.
private final class TapStream {
    var jitter = JitterBuffer()
    let decoder: AudioDecoder
    var pcm: [Float] = []
    var lastPacketAt = 0

    init() throws { decoder = try AudioDecoder(codec: .opus) }

    func pullFrame(into frame: inout [Float]) -> Bool {
        var playing = true
        while pcm.count < mixFrameSamples && playing {
            jitter.playOut { playout in
                switch playout {
                case .packet(let payload): decoder.decode(payload, appendingTo: &pcm)
                case .lost: decoder.decode(nil, appendingTo: &pcm)
                case .silent: playing = false
                }
            }
        }
        guard pcm.count >= mixFrameSamples else { return false }
        for i in 0 ..< mixFrameSamples { frame[i] = pcm[i] }
        pcm.removeFirst(mixFrameSamples)
        return true
    }
}

extension RoomBridge: @unchecked Sendable {}
