"""Fuzzing every decoder: arbitrary bytes never raise, and never make a reading out of a bad frame."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from sensors.thermometer import gy_mcu90614, idc50, lu90614
from sensors.thermometer.ascii import ADAFRUIT_PATTERN, SPARKFUN_PATTERN, AsciiDecoder
from sensors.thermometer.optris_ct import OptrisCtDecoder

T0 = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
FUZZ = settings(max_examples=400, deadline=None)
chunks = st.lists(st.binary(max_size=64), max_size=20)


def feed_all(decoder, parts):
    readings = []
    for index, part in enumerate(parts):
        readings += decoder.feed(part, T0 + timedelta(milliseconds=10 * index))
    return readings


def frame_of(reading):
    """The only frames that could have made this reading, per protocol."""
    if reading.ambient_c is not None:
        return [gy_mcu90614.encode(reading.object_c, reading.ambient_c)]
    if reading.body_c is not None:
        return [lu90614.encode(reading.body_c, body=True), idc50.encode(reading.body_c)]
    return [lu90614.encode(reading.object_c, body=False)]


@FUZZ
@given(parts=chunks)
def test_binary_decoders_only_report_checksummed_frames(parts):
    stream = b"".join(parts)
    for decoder in (gy_mcu90614.GyMcu90614Decoder(), lu90614.Lu90614Decoder(), idc50.Idc50Decoder()):
        for reading in feed_all(decoder, parts):
            assert any(frame in stream for frame in frame_of(reading)), reading


@FUZZ
@given(parts=chunks)
def test_text_and_polled_decoders_never_raise(parts):
    for decoder in (AsciiDecoder(ADAFRUIT_PATTERN), AsciiDecoder(SPARKFUN_PATTERN), OptrisCtDecoder()):
        for reading in feed_all(decoder, parts):
            assert reading.object_c is not None or reading.body_c is not None


temperatures = st.integers(min_value=-4000, max_value=12000).map(lambda x: x / 100)
# garbage that cannot start a frame: no header byte of any binary protocol
garbage = st.binary(max_size=12).map(lambda b: bytes(x for x in b if x not in (0x5A, 0xFE, 0xAA)))


@FUZZ
@given(
    items=st.lists(st.tuples(temperatures, temperatures, garbage, st.booleans()), min_size=1, max_size=12),
    cut=st.integers(min_value=1, max_value=8),
)
def test_gy_frames_amid_garbage_and_corruption_decode_exactly(items, cut):
    stream = b""
    expected = []
    for object_c, ambient_c, noise, corrupt in items:
        frame = gy_mcu90614.encode(object_c, ambient_c)
        if corrupt:
            frame = frame[:-1] + bytes([(frame[-1] + 1) & 0xFF])
        else:
            expected.append((object_c, ambient_c))
        stream += noise + frame
    # delivered in two reads split at an arbitrary place, as a serial port does
    split = len(stream) * cut // 9
    decoder = gy_mcu90614.GyMcu90614Decoder()
    readings = decoder.feed(stream[:split], T0) + decoder.feed(stream[split:], T0)
    assert [(r.object_c, r.ambient_c) for r in readings] == expected


@FUZZ
@given(
    items=st.lists(
        st.tuples(st.integers(0, 999).map(lambda x: x / 10 + 20), garbage), min_size=1, max_size=12
    )
)
def test_idc50_frames_amid_garbage_decode_exactly(items):
    stream = b"".join(noise + idc50.encode(body_c) for body_c, noise in items)
    readings = idc50.Idc50Decoder().feed(stream, T0)
    assert [r.body_c for r in readings] == [round(body_c, 1) for body_c, _ in items]
