// Simulcast forwarding with synthetic streams: layer choice (preference, bandwidth, hysteresis), switching only at a
// keyframe of the target layer, and one continuous sequence/timestamp/picture-id line across switches, plus the
// VP8 descriptor reader/rewriter and RTX unwrapping.

import XCTest
@testable import SFU

final class LayerSelectorTests: XCTestCase {
    /// 320x180, 640x360, 1280x720 at typical Chrome bitrates.
    let layers = [LayerSelector.Layer(active: true, bitrate: 150_000, width: 320, height: 180),
                  LayerSelector.Layer(active: true, bitrate: 500_000, width: 640, height: 360),
                  LayerSelector.Layer(active: true, bitrate: 1_800_000, width: 1280, height: 720)]

    func testPreferenceByTileSizeAndExplicitLayer() {
        XCTAssertEqual(LayerSelector.preferredLayer(layers, preference: LayerPreference()), 2)
        XCTAssertEqual(LayerSelector.preferredLayer(layers, preference: LayerPreference(maxWidth: 320, maxHeight: 180)), 0)
        XCTAssertEqual(LayerSelector.preferredLayer(layers, preference: LayerPreference(maxWidth: 336, maxHeight: 192)), 0) // within 10 %
        XCTAssertEqual(LayerSelector.preferredLayer(layers, preference: LayerPreference(maxWidth: 400, maxHeight: 225)), 1)
        XCTAssertEqual(LayerSelector.preferredLayer(layers, preference: LayerPreference(maxWidth: 640, maxHeight: 640)), 2) // cover: height too
        XCTAssertEqual(LayerSelector.preferredLayer(layers, preference: LayerPreference(maxWidth: 4000, maxHeight: 4000)), 2)
        XCTAssertEqual(LayerSelector.preferredLayer(layers, preference: LayerPreference(maxWidth: 320, maxHeight: 180, layer: 1)), 1)
        XCTAssertEqual(LayerSelector.preferredLayer(layers, preference: LayerPreference(layer: 9)), 2)
    }

    func testUnknownSizesAreEstimatedFromOneKnownLayer() {
        var partly = layers
        partly[0].width = 0; partly[0].height = 0; partly[1].width = 0; partly[1].height = 0
        XCTAssertEqual(LayerSelector.estimatedSizes(partly).map(\.width), [320, 640, 1280])
        XCTAssertEqual(LayerSelector.preferredLayer(partly, preference: LayerPreference(maxWidth: 300, maxHeight: 170)), 0)
        let none = layers.map { LayerSelector.Layer(active: $0.active, bitrate: $0.bitrate) }
        XCTAssertEqual(LayerSelector.preferredLayer(none, preference: LayerPreference(maxWidth: 300, maxHeight: 170)), 2)
    }

    func testBandwidthThresholdsAndHysteresis() {
        func target(_ budget: Int?, current: Int? = nil, preference: LayerPreference = LayerPreference()) -> Int? {
            LayerSelector.target(layers, preference: preference, current: current, budget: budget)
        }
        XCTAssertEqual(target(nil), 2)
        XCTAssertEqual(target(5_000_000), 2)
        XCTAssertEqual(target(1_000_000), 1)
        XCTAssertEqual(target(400_000), 0)
        XCTAssertEqual(target(50_000), 0) // the lowest layer even when nothing fits
        XCTAssertEqual(target(1_700_000, current: 2), 2) // 1.8 M within 15 % of 1.7 M: keep
        XCTAssertEqual(target(1_500_000, current: 2), 1) // clearly short: step down
        XCTAssertEqual(target(1_000_000, current: 0), 1) // room for more: step up
        XCTAssertEqual(target(5_000_000, preference: LayerPreference(maxWidth: 320, maxHeight: 180)), 0)
    }

    func testInactiveLayersAreSkipped() {
        var paused = layers
        paused[2].active = false
        XCTAssertEqual(LayerSelector.target(paused, preference: LayerPreference(), current: 2, budget: nil), 1)
        paused[0].active = false
        XCTAssertEqual(LayerSelector.target(paused, preference: LayerPreference(maxWidth: 100, maxHeight: 100), current: nil, budget: nil), 1)
        XCTAssertNil(LayerSelector.target(paused.map { var l = $0; l.active = false; return l }, preference: LayerPreference(),
                                          current: nil, budget: nil))
    }
}

final class LayerSwitchTests: XCTestCase {
    /// A synthetic VP8 packet of one layer: payload descriptor with 15-bit picture id and TL0PICIDX, a keyframe
    /// header with the layer's size when `keyframe`.
    struct Layer {
        var sequenceNumber: UInt16
        var timestamp: UInt32
        var pictureID: UInt16
        var tl0: UInt8
        var width: Int
        var height: Int

        mutating func frame(keyframe: Bool, packets: Int = 2) -> [(header: (UInt16, UInt32), payload: [UInt8])] {
            var out: [(header: (UInt16, UInt32), payload: [UInt8])] = []
            for i in 0 ..< packets {
                let start = i == 0
                // X and S bits; I (15-bit picture id) and L (TL0PICIDX).
                var payload: [UInt8] = [0x80 | (start ? 0x10 : 0), 0xC0, 0x80 | UInt8(pictureID >> 8), UInt8(pictureID & 0xFF), tl0]
                if start {
                    payload += [keyframe ? 0x00 : 0x01, 0, 0]
                    if keyframe { payload += [0x9D, 0x01, 0x2A, UInt8(width & 0xFF), UInt8(width >> 8), UInt8(height & 0xFF), UInt8(height >> 8)] }
                } else {
                    payload += [0xAA, 0xBB]
                }
                out.append(((sequenceNumber, timestamp), payload))
                sequenceNumber &+= 1
            }
            timestamp &+= 3000
            pictureID = (pictureID + 1) & 0x7FFF
            tl0 &+= 1
            return out
        }
    }

    func descriptor(_ payload: [UInt8]) -> FrameDescriptor? {
        payload.withUnsafeBytes { FrameDescriptor(vp8: $0) }
    }

    func testDescriptorReadsPictureIDTl0AndKeyframeSizeAndRewritesInPlace() throws {
        var layer = Layer(sequenceNumber: 1, timestamp: 0, pictureID: 0x1234, tl0: 7, width: 1280, height: 720)
        let key = layer.frame(keyframe: true)
        let d = try XCTUnwrap(descriptor(key[0].payload))
        XCTAssertEqual(d.pictureID, 0x1234)
        XCTAssertTrue(d.pictureIDIsLong)
        XCTAssertEqual(d.tl0PictureIndex, 7)
        XCTAssertTrue(d.isKeyframeStart)
        XCTAssertEqual([d.width, d.height], [1280, 720])
        XCTAssertFalse(try XCTUnwrap(descriptor(key[1].payload)).isKeyframeStart) // not the first packet
        XCTAssertFalse(try XCTUnwrap(descriptor(layer.frame(keyframe: false)[0].payload)).isKeyframeStart)
        var bytes = key[0].payload
        bytes.withUnsafeMutableBytes { d.rewrite($0, pictureID: 0x7FFE, tl0PictureIndex: 200) }
        let rewritten = try XCTUnwrap(descriptor(bytes))
        XCTAssertEqual(rewritten.pictureID, 0x7FFE)
        XCTAssertEqual(rewritten.tl0PictureIndex, 200)
        XCTAssertEqual([rewritten.width, rewritten.height], [1280, 720])
        // 7-bit picture ids stay 7 bits.
        var short: [UInt8] = [0x90, 0x80, 0x05, 0x00, 0, 0]
        let shortD = try XCTUnwrap(descriptor(short))
        XCTAssertEqual(shortD.pictureID, 5)
        short.withUnsafeMutableBytes { shortD.rewrite($0, pictureID: 0x1FF, tl0PictureIndex: 0) }
        XCTAssertEqual(short[2], 0x7F)
        XCTAssertNil(descriptor([0x80])) // X set, extension byte missing
    }

    /// Layers 0 and 1 interleaved; the target moves 1 -> 0 -> 1. Checks: no switch before the target's keyframe,
    /// outgoing sequence numbers without gaps, timestamps and picture ids increasing, TL0PICIDX continuing.
    func testSwitchesOnlyAtTargetKeyframeAndKeepsOneContinuousStream() throws {
        var low = Layer(sequenceNumber: 60000, timestamp: 4_000_000_000, pictureID: 32760, tl0: 250, width: 320, height: 180)
        var high = Layer(sequenceNumber: 100, timestamp: 12345, pictureID: 500, tl0: 9, width: 1280, height: 720)
        var switcher = LayerSwitcher(needsKeyframe: true, targetLayer: 1,
                                     continuity: StreamContinuity(firstSequenceNumber: 65530, firstTimestamp: 0xFFFF_F000))
        var sent: [(layer: Int, seq: UInt16, ts: UInt32, pid: UInt16, tl0: UInt8, key: Bool)] = []
        var now: UInt64 = 1_000_000_000
        func feed(_ layer: Int, _ frame: [(header: (UInt16, UInt32), payload: [UInt8])]) {
            for packet in frame {
                let d = descriptor(packet.payload)
                if let o = switcher.admit(layer: layer, sequenceNumber: packet.header.0, timestamp: packet.header.1, frame: d,
                                          clockRate: 90000, nowNanos: now) {
                    sent.append((layer, o.sequenceNumber(packet.header.0), o.timestamp(packet.header.1),
                                 o.pictureID(d!.pictureID!), o.tl0PictureIndex(d!.tl0PictureIndex!), d!.isKeyframeStart))
                }
            }
            now += 33_000_000
        }
        // Before any keyframe of the target nothing goes out; then high starts at its keyframe.
        feed(1, high.frame(keyframe: false))
        feed(0, low.frame(keyframe: true))
        XCTAssertTrue(sent.isEmpty)
        XCTAssertTrue(switcher.waitingForKeyframe)
        for i in 0 ..< 5 { feed(1, high.frame(keyframe: i == 0)); feed(0, low.frame(keyframe: false)) }
        XCTAssertEqual(switcher.currentLayer, 1)
        XCTAssertFalse(switcher.waitingForKeyframe)
        // Target low: high keeps flowing until low's keyframe.
        switcher.targetLayer = 0
        for _ in 0 ..< 3 { feed(1, high.frame(keyframe: false)); feed(0, low.frame(keyframe: false)) }
        XCTAssertEqual(switcher.currentLayer, 1)
        XCTAssertTrue(switcher.waitingForKeyframe)
        feed(0, low.frame(keyframe: true))
        XCTAssertEqual(switcher.currentLayer, 0)
        for _ in 0 ..< 4 { feed(1, high.frame(keyframe: false)); feed(0, low.frame(keyframe: false)) }
        // A reordered low packet from before the switch point is dropped.
        XCTAssertNil(switcher.admit(layer: 0, sequenceNumber: low.sequenceNumber &- 40, timestamp: 0, frame: nil, clockRate: 90000, nowNanos: now))
        // And back up.
        switcher.targetLayer = 1
        feed(0, low.frame(keyframe: false))
        feed(1, high.frame(keyframe: true))
        for _ in 0 ..< 3 { feed(1, high.frame(keyframe: false)); feed(0, low.frame(keyframe: false)) }
        XCTAssertEqual(switcher.switches, 2)
        XCTAssertEqual(switcher.currentLayer, 1)

        // Which layers were forwarded, in order: high, then low from its keyframe, then high from its keyframe.
        var runs: [Int] = []
        for p in sent where runs.last != p.layer { runs.append(p.layer) }
        XCTAssertEqual(runs, [1, 0, 1])
        for (i, p) in sent.enumerated() where i > 0 && sent[i - 1].layer != p.layer { XCTAssertTrue(p.key, "switch at \(i) not at a keyframe") }
        XCTAssertEqual(sent.first?.seq, 65530)
        for i in 1 ..< sent.count {
            let (a, b) = (sent[i - 1], sent[i])
            XCTAssertEqual(b.seq, a.seq &+ 1, "sequence gap at \(i)")
            XCTAssertGreaterThanOrEqual(Int32(bitPattern: b.ts &- a.ts), 0, "timestamp went back at \(i)")
            let pidStep = (b.pid &- a.pid) & 0x7FFF
            XCTAssertTrue(pidStep == 0 || pidStep == 1, "picture id jumped by \(pidStep) at \(i)")
            XCTAssertTrue(b.tl0 &- a.tl0 <= 1, "TL0PICIDX jumped at \(i)")
            if a.layer != b.layer {
                XCTAssertGreaterThan(Int32(bitPattern: b.ts &- a.ts), 0, "switch keyframe must be a new frame")
                XCTAssertEqual(pidStep, 1)
            }
        }
    }

    func testSentHistoryMapsNacksBackToLayerAndOffsets() {
        var history = SentPacketHistory(capacity: 8)
        let before = StreamOffsets(sequenceNumber: 10, timestamp: 5, pictureID: 0, tl0PictureIndex: 0)
        let after = StreamOffsets(sequenceNumber: 900, timestamp: 77, pictureID: 3, tl0PictureIndex: 1)
        history.record(outgoing: 20, incoming: 10, layer: 2, offsets: before)
        history.record(outgoing: 21, incoming: 65015, layer: 0, offsets: after)
        XCTAssertEqual(history.lookup(20)?.layer, 2)
        XCTAssertEqual(history.lookup(20)?.offsets, before)
        XCTAssertEqual(history.lookup(21)?.incoming, 65015)
        XCTAssertNil(history.lookup(22))
        history.record(outgoing: 28, incoming: 1, layer: 0, offsets: after) // same slot as 20: overwritten
        XCTAssertNil(history.lookup(20))
    }

    func testRtxIsUnwrappedInPlaceAndPaddingProbesAreRefused() throws {
        let header = RTPHeader(payloadType: 97, sequenceNumber: 500, timestamp: 9000, ssrc: 0xABCD)
        var rtx = try header.packet(payload: [0x12, 0x34, 1, 2, 3, 4])
        let length = rtx.withUnsafeMutableBytes { p in
            Router.unwrapRtx(p, header: try! RTPHeaderView(UnsafeRawBufferPointer(p)), ssrc: 0x1111, payloadType: 96)
        }
        XCTAssertEqual(length, rtx.count - 2)
        let (restored, payload) = try RTPHeader.parse(Array(rtx[0 ..< length!]))
        XCTAssertEqual([restored.sequenceNumber], [0x1234])
        XCTAssertEqual(restored.ssrc, 0x1111)
        XCTAssertEqual(restored.payloadType, 96)
        XCTAssertEqual(restored.timestamp, 9000)
        XCTAssertEqual(Array(rtx[payload]), [1, 2, 3, 4])
        var probe = try header.packet(payload: [], paddingLength: 200)
        XCTAssertNil(probe.withUnsafeMutableBytes { p in
            Router.unwrapRtx(p, header: try! RTPHeaderView(UnsafeRawBufferPointer(p)), ssrc: 1, payloadType: 96)
        })
    }
}
