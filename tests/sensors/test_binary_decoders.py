"""Binary protocols: the reference's test vectors, replayed byte for byte."""

from datetime import UTC, datetime, timedelta

import pytest

from sensors.thermometer.gy_mcu90614 import GyMcu90614Decoder
from sensors.thermometer.gy_mcu90614 import encode as encode_gy
from sensors.thermometer.idc50 import Idc50Decoder
from sensors.thermometer.idc50 import encode as encode_idc50
from sensors.thermometer.lu90614 import Lu90614Decoder
from sensors.thermometer.lu90614 import encode as encode_lu
from sensors.thermometer.optris_ct import OptrisCtDecoder
from sensors.thermometer.optris_ct import encode as encode_optris

T0 = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
H = bytes.fromhex


def values(readings):
    return [(r.object_c, r.ambient_c, r.body_c) for r in readings]


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        # the vendor's own example frame
        (H("5A5A45040C780D19A7"), [(31.92, 33.53, None)]),
        # a healthy forehead, and a warm one
        (H("5A5A45040E5609C42E") + H("5A5A45040EDD0A5A4C"), [(36.70, 25.00, None), (38.05, 26.50, None)]),
        # signed values: -5.00 C is reported (plausibility is the screening's job)
        (H("5A5A4504FE0C096070"), [(-5.00, 24.00, None)]),
        # a bad checksum is no reading
        (H("5A5A45040E5709C42E"), []),
        # garbage and a 0xFF burst before the frame are skipped
        (b"\xff\xff\xff\x00garbage" + H("5A5A45040E5609C42E"), [(36.70, 25.00, None)]),
        # an ESP32 boot log (which holds no header) before the frame
        (
            b"rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n" + H("5A5A45040E5609C42E"),
            [(36.70, 25.00, None)],
        ),
        # a frame cut short, then a whole one: the cut frame is dropped, the next one decodes
        (H("5A5A45040E56") + H("5A5A45040EDD0A5A4C"), [(38.05, 26.50, None)]),
        # a lone 5A before a header (a doubled header byte)
        (H("5A") + H("5A5A45040E5609C42E"), [(36.70, 25.00, None)]),
        # an emissivity frame (type 0x25) shares the header: skipped, the next frame decodes
        (
            H("5A5A2502 6400") + bytes([sum(H("5A5A25026400")) & 0xFF]) + H("5A5A45040E5609C42E"),
            [(36.70, 25.00, None)],
        ),
        # the RS485 variant's trailing id byte is skipped
        (H("5A5A45040E5609C42E14") + H("5A5A45040EDD0A5A4C"), [(36.70, 25.00, None), (38.05, 26.50, None)]),
        # a corrupt length byte does not swallow the next frame
        (H("5A5AFF") + H("5A5A45040E5609C42E"), [(36.70, 25.00, None)]),
    ],
)
def test_gy_mcu90614(stream, expected):
    assert values(GyMcu90614Decoder().feed(stream, T0)) == expected


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        # body mode 36.70 and 37.50
        (H("FEAC244600000000 14") + H("FEAC253200000000 01"), [(None, None, 36.70), (None, None, 37.50)]),
        # object mode 40.30
        (H("FEAA281E00000000EE"), [(40.30, None, None)]),
        # a bad checksum is no reading; the frame after it is
        (H("FEAC244600000000 15") + H("FEAA281E00000000EE"), [(40.30, None, None)]),
        # garbage, including stray FE bytes, before a frame
        (H("FEFE00FE12") + H("FEAC244600000000 14"), [(None, None, 36.70)]),
    ],
)
def test_lu90614(stream, expected):
    assert values(Lu90614Decoder().feed(stream, T0)) == expected


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        # 36.7, 37.2 and 38.0 in a row
        (
            H("AA550624 0730") + H("AA550625022C") + H("AA550626002B"),
            [(None, None, 36.7), (None, None, 37.2), (None, None, 38.0)],
        ),
        # a bad checksum
        (H("AA5506240731"), []),
        # 0xFF burst, a half frame, a whole frame
        (H("FFFFFFFF") + H("AA5506") + H("AA5506240730"), [(None, None, 36.7)]),
        # another frame type is skipped
        (H("AA5507240730") + H("AA550625022C"), [(None, None, 37.2)]),
    ],
)
def test_idc50(stream, expected):
    assert values(Idc50Decoder().feed(stream, T0)) == expected


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        # 23.5, 36.7, 37.5: one answer per poll
        ([H("04D3"), H("0557"), H("055F")], [23.5, 36.7, 37.5]),
        # a short answer (one byte) is no reading, and is not glued to the next answer
        ([H("05"), H("0557")], [36.7]),
        # noise around an answer makes the whole reply no reading
        ([H("0557FFFF"), H("055F")], [37.5]),
        # boot text arriving after a poll is no reading either
        ([b"ets Jun  8 2016\r\n", H("04D3")], [23.5]),
        # an answer split over two reads is one answer
        ([H("05"), H("57")], None),
    ],
)
def test_optris_ct_one_answer_per_poll(answers, expected):
    decoder = OptrisCtDecoder()
    readings = []
    if expected is None:  # one answer in two reads, 5 ms apart
        decoder.feed(answers[0], T0)
        readings = decoder.feed(answers[1], T0 + timedelta(milliseconds=5))
        readings += decoder.feed(b"", T0 + timedelta(milliseconds=50))
        assert [r.object_c for r in readings] == [36.7]
        return
    for index, answer in enumerate(answers):
        at = T0 + timedelta(seconds=index)
        decoder.reset()  # the reader resets before every poll
        readings += decoder.feed(answer, at)
        # nothing more within the quiet time: the answer is complete
        readings += decoder.feed(b"", at + timedelta(milliseconds=50))
    assert [r.object_c for r in readings] == expected


def test_split_frame_joins_across_reads():
    decoder = GyMcu90614Decoder()
    frame = H("5A5A45040E5609C42E")
    assert decoder.feed(frame[:3], T0) == []
    assert values(decoder.feed(frame[3:], T0 + timedelta(milliseconds=20))) == [(36.70, 25.00, None)]


def test_partial_frame_is_dropped_after_200_ms():
    decoder = GyMcu90614Decoder()
    frame = H("5A5A45040E5609C42E")
    decoder.feed(frame[:5], T0)
    # the rest never came; 300 ms later a new frame starts: the stale half must not be glued to it
    assert values(decoder.feed(frame, T0 + timedelta(milliseconds=300))) == [(36.70, 25.00, None)]


@pytest.mark.parametrize(
    ("encode", "decoder", "args", "expected"),
    [
        # the emulators' encoders produce the reference's own bytes
        (encode_gy, GyMcu90614Decoder, (36.70, 25.00), H("5A5A45040E5609C42E")),
        (encode_gy, GyMcu90614Decoder, (-5.00, 24.00), H("5A5A4504FE0C096070")),
        (encode_idc50, Idc50Decoder, (36.7,), H("AA5506240730")),
        (encode_optris, OptrisCtDecoder, (23.5,), H("04D3")),
    ],
)
def test_encoders_match_reference(encode, decoder, args, expected):
    assert encode(*args) == expected
    made = decoder()
    assert made.feed(expected, T0) + made.feed(b"", T0 + timedelta(milliseconds=50))


def test_lu90614_encoder_matches_reference():
    assert encode_lu(36.70, body=True) == H("FEAC244600000000 14")
    assert encode_lu(40.30, body=False) == H("FEAA281E00000000EE")
