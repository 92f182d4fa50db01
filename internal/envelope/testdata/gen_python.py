"""Generates python.json: the text Python 3 gives floats (repr, as
json.dumps writes them), strings (json.dumps with ensure_ascii=True) and
datetimes (isoformat). envelope_test.go checks the Go encoders against it.

Run from this directory: python3 gen_python.py > python.json
"""
import datetime
import json
import math
import random
import struct

random.seed(20261201)

floats = [0.0, -0.0, 1.0, -1.0, 1.5, 0.1, 0.2 + 0.1, 1e16, 1e15, 9999999999999998.0,
          1e-4, 1e-5, 1.5e-7, 123456789012345678.0, 1e100, 1e-100, 5e-324,
          1.7976931348623157e308, 2.0**53, 2.0**53 + 2, 100.0, 12345.678, 0.5, 3.0e22,
          float("nan"), float("inf"), float("-inf")]
for _ in range(1500):
    f = struct.unpack("<d", struct.pack("<Q", random.getrandbits(64)))[0]
    floats.append(f)
for _ in range(400):
    floats.append(random.uniform(-1e6, 1e6))
    floats.append(float(random.randint(-10**18, 10**18)))
    floats.append(random.random() * 10 ** random.randint(-30, 30))

out_floats = []
for f in floats:
    bits = struct.unpack("<Q", struct.pack("<d", f))[0]
    out_floats.append({"bits": "%016x" % bits, "text": json.dumps(f)})

strings = ["", "hello world", 'quote " and \\ backslash', "/slash", "\b\f\n\r\t",
           "".join(chr(c) for c in range(0, 0x20)), "\x7f", "é", "ñandú", "日本語",
           "😀", "a\U0010ffffb", "\u2028\u2029", "\ufeff", "\ufffd"]
for _ in range(500):
    n = random.randint(0, 12)
    cps = []
    for _ in range(n):
        r = random.random()
        if r < 0.5:
            cps.append(random.randint(0, 0x7f))
        elif r < 0.8:
            cps.append(random.randint(0x80, 0xffff))
        else:
            cps.append(random.randint(0x10000, 0x10ffff))
    s = "".join(chr(c) for c in cps if not 0xd800 <= c <= 0xdfff)
    strings.append(s)
out_strings = [{"utf8": s.encode("utf-8").hex(), "text": json.dumps(s)} for s in strings]

dts = []
for _ in range(300):
    dt = datetime.datetime(random.randint(1, 9999), random.randint(1, 12), random.randint(1, 28),
                           random.randint(0, 23), random.randint(0, 59), random.randint(0, 59),
                           random.choice([0, 0, random.randint(0, 999999)]))
    off = random.choice([None, 0, random.randint(-14 * 60, 14 * 60) * 60, random.randint(-50000, 50000)])
    if off is not None:
        dt = dt.replace(tzinfo=datetime.timezone(datetime.timedelta(seconds=off)))
    dts.append({
        "fields": [dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.microsecond],
        "offset": off,
        "text": dt.isoformat(),
    })

print(json.dumps({"floats": out_floats, "strings": out_strings, "datetimes": dts}, separators=(",", ":")))
