import XCTest
@testable import SFU

/// Keyframe detection and sizes per codec (Sources/SFU/Wire/Codecs). Bitstreams come from real encoders on this
/// machine (libx264, libvpx-vp9 and SVT-AV1 through PyAV), wrapped in the RTP payload formats by hand.
final class VideoPayloadTests: XCTestCase {
    func hex(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        var chars = Array(s.filter { !$0.isWhitespace })
        while chars.count >= 2 { out.append(UInt8(String(chars[0 ..< 2]), radix: 16)!); chars.removeFirst(2) }
        return out
    }

    func parse(_ bytes: [UInt8], _ codec: VideoCodec) -> FrameDescriptor? {
        bytes.withUnsafeBytes { FrameDescriptor($0, codec: codec) }
    }

    // MARK: H.264

    let sps640x360Baseline = "6742c01ed900a02ff9610000030001000003003c8f162e48"
    let sps1280x720High = "6764001facb200a00b7420000003002000000791e30649"
    let sps1920x1080Main = "674d4028d900780227e584000003000400000300f23c60c920"
    let pps = "68cb83cb20"

    func testH264SPSSizesWithCroppingAndEmulationPrevention() {
        for (sps, w, h) in [(sps640x360Baseline, 640, 360), (sps1280x720High, 1280, 720), (sps1920x1080Main, 1920, 1080)] {
            let d = parse(hex(sps), .h264)
            XCTAssertEqual(d?.isKeyframeStart, true, sps)
            XCTAssertEqual(d.map { [$0.width, $0.height] }, [w, h], sps)
        }
    }

    func testH264SingleNALUnits() {
        XCTAssertEqual(parse([0x65, 0x88, 0x84], .h264)?.isKeyframeStart, true) // IDR slice
        XCTAssertEqual(parse([0x41, 0x9a, 0x02], .h264)?.isKeyframeStart, false) // non-IDR slice
        XCTAssertEqual(parse(hex(pps), .h264)?.isKeyframeStart, false)
        XCTAssertEqual(parse([0x06, 0x05], .h264)?.isKeyframeStart, false) // SEI
    }

    func testH264STAPAWithParameterSetsAndIDR() {
        let sps = hex(sps640x360Baseline), ppsBytes = hex(pps)
        var stap: [UInt8] = [0x78] // F=0 NRI=3 type 24
        for nal in [sps, ppsBytes, [0x65, 0x88, 0x80]] { stap += [UInt8(nal.count >> 8), UInt8(nal.count & 0xFF)] + nal }
        let d = parse(stap, .h264)
        XCTAssertEqual(d?.isKeyframeStart, true)
        XCTAssertEqual(d.map { [$0.width, $0.height] }, [640, 360])
        // Only parameter sets of a non-IDR (allowed) and only slices: SPS decides.
        var noSPS: [UInt8] = [0x78]
        for nal in [ppsBytes, [0x41, 0x9a]] { noSPS += [UInt8(nal.count >> 8), UInt8(nal.count & 0xFF)] + nal }
        XCTAssertEqual(parse(noSPS, .h264)?.isKeyframeStart, false)
    }

    func testH264FUA() {
        XCTAssertEqual(parse([0x7c, 0x85, 0x88, 0x84], .h264)?.isKeyframeStart, true) // S=1, IDR
        XCTAssertEqual(parse([0x7c, 0x05, 0x88], .h264)?.isKeyframeStart, false) // continuation of an IDR
        XCTAssertEqual(parse([0x7c, 0x45, 0x88], .h264)?.isKeyframeStart, false) // end of an IDR
        XCTAssertEqual(parse([0x5c, 0x81, 0x9a], .h264)?.isKeyframeStart, false) // start of a non-IDR slice
    }

    func testH264MalformedPayloads() {
        XCTAssertNil(parse([], .h264))
        XCTAssertNil(parse([0x7c], .h264)) // FU-A without its header
        XCTAssertNil(parse([0x78, 0x00], .h264)) // STAP-A with half a size
        XCTAssertNil(parse([0x78, 0x00, 0x10, 0x67, 0x42], .h264)) // STAP-A size beyond the packet
        XCTAssertNil(parse([0x78, 0x00, 0x00], .h264)) // zero-length NAL unit
        XCTAssertNil(parse([0x00, 0x01], .h264)) // reserved type 0
        XCTAssertNil(parse([0x1e], .h264)) // reserved type 30
        XCTAssertNil(parse([0x19, 0x00], .h264)) // STAP-B: interleaved mode, not negotiated
        // A truncated SPS is still a keyframe start; its size is unknown.
        let cut = Array(hex(sps640x360Baseline).prefix(6))
        XCTAssertEqual(parse(cut, .h264)?.isKeyframeStart, true)
        XCTAssertEqual(parse(cut, .h264)?.width, 0)
        // Every prefix of every sample: no trap.
        for sps in [sps640x360Baseline, sps1280x720High, sps1920x1080Main] {
            let bytes = hex(sps)
            for n in 0 ... bytes.count { _ = parse(Array(bytes.prefix(n)), .h264) }
        }
    }

    func testH264SPSWithHugeExpGolombIsRejected() {
        // profile 66, then a ue(v) with 40 leading zeros: malformed, no size, no trap.
        let bytes: [UInt8] = [0x67, 0x42, 0xc0, 0x1e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80]
        XCTAssertEqual(parse(bytes, .h264)?.width, 0)
    }

    func testH264SPSScalingListDeltasCannotOverflow() {
        // Found by the payload fuzzer: high-profile SPS whose scaling list deltas summed past Int32.
        let bytes = hex("8780fee7fff5ffc7f7ffffffff6262000000 00ffffffda84")
        XCTAssertEqual(parse(bytes, .h264)?.isKeyframeStart, true)
    }

    // MARK: VP9

    /// libvpx-vp9, 320x180: the uncompressed header of a keyframe and of an inter frame.
    let vp9KeyHeader = "824983420013f00b360038241c184a000fe07cb17e8f9bfd"
    let vp9InterHeader = "86004092f0014000"

    func testVP9KeyframeWithScalabilityStructure() {
        // I (15-bit picture id 0x1234), L (TID 0, SID 0, TL0PICIDX 9), B, E, V: SS with one 640x360 layer.
        let descriptor: [UInt8] = [0xAE, 0x92, 0x34, 0x00, 0x09, 0x10, 0x02, 0x80, 0x01, 0x68]
        let d = parse(descriptor + hex(vp9KeyHeader), .vp9)
        XCTAssertEqual(d?.isKeyframeStart, true)
        XCTAssertEqual(d.map { [$0.width, $0.height] }, [640, 360]) // the SS wins over the header
        XCTAssertEqual(d?.pictureID, 0x1234)
        XCTAssertEqual(d?.pictureIDIsLong, true)
        XCTAssertEqual(d?.pictureIDOffset, 1)
        XCTAssertEqual(d?.tl0PictureIndex, 9)
        XCTAssertEqual(d?.tl0PictureIndexOffset, 4)
    }

    func testVP9KeyframeSizeFromUncompressedHeader() {
        let d = parse([0x08] + hex(vp9KeyHeader), .vp9) // B only
        XCTAssertEqual(d?.isKeyframeStart, true)
        XCTAssertEqual(d.map { [$0.width, $0.height] }, [320, 180])
    }

    func testVP9NonKeyframes() {
        XCTAssertEqual(parse([0xC8, 0x05] + hex(vp9InterHeader), .vp9)?.isKeyframeStart, false) // P=1
        XCTAssertEqual(parse([0x84, 0x05, 0x00], .vp9)?.isKeyframeStart, false) // not B: a middle packet
        XCTAssertEqual(parse([0xA8, 0x05, 0x02, 0x00] + hex(vp9KeyHeader), .vp9)?.isKeyframeStart, false) // SID 1
        // The descriptor says P=0 but the header is an inter frame: trust the header.
        XCTAssertEqual(parse([0x08] + hex(vp9InterHeader), .vp9)?.isKeyframeStart, false)
    }

    func testVP9FlexibleModeReferences() {
        // I (7-bit id 5), P, L, F, B: TID/SID byte, no TL0PICIDX in flexible mode, two P_DIFFs (N set on the first).
        let d = parse([0xF8, 0x05, 0x00, 0x03, 0x04, 0x00], .vp9)
        XCTAssertEqual(d?.pictureID, 5)
        XCTAssertNil(d?.tl0PictureIndex)
        XCTAssertEqual(d?.isKeyframeStart, false)
        XCTAssertNil(parse([0xF8, 0x05, 0x00, 0x03, 0x03, 0x03, 0x00], .vp9)) // a fourth reference
    }

    func testVP9MalformedPayloads() {
        XCTAssertNil(parse([], .vp9))
        XCTAssertNil(parse([0x80], .vp9)) // I without the picture id
        XCTAssertNil(parse([0x80, 0x80], .vp9)) // 15-bit id cut
        XCTAssertNil(parse([0x20], .vp9)) // L without the layer byte
        XCTAssertNil(parse([0x20, 0x00], .vp9)) // non-flexible L without TL0PICIDX
        XCTAssertNil(parse([0x0A, 0x10, 0x02], .vp9)) // SS announcing a size it does not carry
        XCTAssertNil(parse([0x0A, 0x08], .vp9)) // SS with G but no N_G
        XCTAssertNil(parse([0x0A, 0x08, 0x02, 0x0C], .vp9)) // picture group with references cut off
        // A keyframe start with a garbage header: still a start (the descriptor says so), size unknown.
        XCTAssertEqual(parse([0x08, 0x00, 0x00], .vp9)?.isKeyframeStart, true)
        let whole: [UInt8] = [0xAE, 0x92, 0x34, 0x00, 0x09, 0x10, 0x02, 0x80, 0x01, 0x68] + hex(vp9KeyHeader)
        for n in 0 ... whole.count { _ = parse(Array(whole.prefix(n)), .vp9) }
    }

    func testVP9PictureIDRewriteKeepsWidth() {
        var packet: [UInt8] = [0xAE, 0x92, 0x34, 0x00, 0x09, 0x00]
        let d = try! XCTUnwrap(parse(packet, .vp9))
        packet.withUnsafeMutableBytes { d.rewrite($0, pictureID: 0x0102, tl0PictureIndex: 0x33) }
        XCTAssertEqual(packet, [0xAE, 0x81, 0x02, 0x00, 0x33, 0x00])
    }

    // MARK: AV1

    /// SVT-AV1's sequence header OBU for 320x240 (header byte without the size field, then its 11 bytes).
    let av1SequenceHeader = "08" + "000000043cffbc6af98040"

    func testAV1NewCodedVideoSequenceWithSequenceHeader() {
        let d = parse([0x18] + hex(av1SequenceHeader), .av1) // W=1, N=1
        XCTAssertEqual(d?.isKeyframeStart, true)
        XCTAssertEqual(d.map { [$0.width, $0.height] }, [320, 240])
        XCTAssertNil(d?.pictureID)
    }

    func testAV1SequenceHeaderWithoutNBitAndLengthPrefixedElements() {
        let obu = hex(av1SequenceHeader)
        // W=0: every element has a LEB128 length. A temporal delimiter would not come in RTP; a frame OBU follows.
        let packet: [UInt8] = [0x00, UInt8(obu.count)] + obu + [0x03, 0x30, 0x00, 0x00]
        let d = parse(packet, .av1)
        XCTAssertEqual(d?.isKeyframeStart, true)
        XCTAssertEqual(d?.width, 320)
    }

    func testAV1OtherPackets() {
        XCTAssertEqual(parse([0x10, 0x30, 0x10, 0x00], .av1)?.isKeyframeStart, false) // W=1, a frame OBU
        XCTAssertEqual(parse([0x90, 0x44, 0x55], .av1)?.isKeyframeStart, false) // Z: continues a fragment
        // A continuation whose bytes happen to look like a sequence header does not start anything.
        XCTAssertEqual(parse([0x90] + hex(av1SequenceHeader), .av1)?.isKeyframeStart, false)
    }

    func testAV1MalformedPayloads() {
        XCTAssertNil(parse([], .av1))
        XCTAssertNil(parse([0x20, 0x05, 0x08], .av1)) // W=2, first length beyond the packet
        XCTAssertNil(parse([0x00, 0x80], .av1)) // LEB128 cut
        XCTAssertNil(parse([0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], .av1)) // LEB128 too long
        XCTAssertNil(parse([0x00, 0x00], .av1)) // empty element
        XCTAssertNil(parse([0x30, 0x01, 0x08], .av1)) // W=3 but only one element
        XCTAssertNil(parse([0x10], .av1)) // W=1 without the element
        // A sequence header cut short: a keyframe start (N), no size.
        let cut = [0x18] + Array(hex(av1SequenceHeader).prefix(4))
        XCTAssertEqual(parse(cut, .av1)?.isKeyframeStart, true)
        XCTAssertEqual(parse(cut, .av1)?.width, 0)
        let whole = [0x18] + hex(av1SequenceHeader)
        for n in 0 ... whole.count { _ = parse(Array(whole.prefix(n)), .av1) }
    }

    // MARK: Codec names

    func testCodecNames() {
        XCTAssertEqual(VideoCodec(name: "h264"), .h264)
        XCTAssertEqual(VideoCodec(name: "AV1X"), .av1)
        XCTAssertNil(VideoCodec(name: "rtx"))
        XCTAssertEqual(try VideoCodecPreference(names: ["vp9", " H264", "VP9"]).order, [.vp9, .h264])
        XCTAssertThrowsError(try VideoCodecPreference(names: ["HEVC"]))
        XCTAssertThrowsError(try VideoCodecPreference(names: []))
    }
}
