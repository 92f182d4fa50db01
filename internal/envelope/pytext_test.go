package envelope

import (
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"strconv"
	"testing"
	"time"
)

// pythonText is testdata/python.json, what Python 3.11 writes for random
// floats, strings and datetimes (made by testdata/gen_python.py).
type pythonText struct {
	Floats []struct {
		Bits string `json:"bits"`
		Text string `json:"text"`
	} `json:"floats"`
	Strings []struct {
		UTF8 string `json:"utf8"`
		Text string `json:"text"`
	} `json:"strings"`
	Datetimes []struct {
		Fields []int `json:"fields"`
		Offset *int  `json:"offset"`
		Text   string
	} `json:"datetimes"`
}

func loadPython(t *testing.T) *pythonText {
	t.Helper()
	b, err := os.ReadFile("testdata/python.json")
	if err != nil {
		t.Fatal(err)
	}
	var p pythonText
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	return &p
}

// Floats are written as Python's repr writes them, and read back exactly.
func TestFloatsAsPython(t *testing.T) {
	p := loadPython(t)
	if len(p.Floats) < 1000 {
		t.Fatalf("only %d floats in testdata", len(p.Floats))
	}
	for _, c := range p.Floats {
		bits, err := strconv.ParseUint(c.Bits, 16, 64)
		if err != nil {
			t.Fatal(err)
		}
		f := math.Float64frombits(bits)
		if got := string(appendFloat(nil, f, 64)); got != c.Text {
			t.Errorf("float %v (%s): wrote %s, Python writes %s", f, c.Bits, got, c.Text)
		}
		back, err := parseFloat(c.Text, 64)
		if err != nil || math.Float64bits(back) != bits && !(math.IsNaN(back) && math.IsNaN(f)) {
			t.Errorf("float %s read back as %v, %v", c.Text, back, err)
		}
	}
}

// A float32 is written with its own shortest digits.
func TestFloat32(t *testing.T) {
	for _, tc := range []struct {
		f    float32
		want string
	}{{0.1, "0.1"}, {1, "1.0"}, {3.4028235e38, "3.4028235e+38"}, {1e-7, "1e-07"}} {
		if got := string(appendFloat(nil, float64(tc.f), 32)); got != tc.want {
			t.Errorf("float32 %v: %s, want %s", tc.f, got, tc.want)
		}
	}
	if _, err := parseFloat("1e39", 32); err == nil {
		t.Error("1e39 read into a float32")
	}
	if f, err := parseFloat("1e999", 64); err != nil || !math.IsInf(f, 1) {
		t.Errorf("1e999: %v, %v; Python reads inf", f, err)
	}
}

// Strings are escaped as json.dumps escapes them with ensure_ascii=True.
func TestStringsAsPython(t *testing.T) {
	p := loadPython(t)
	for _, c := range p.Strings {
		raw, err := hex.DecodeString(c.UTF8)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendString(nil, string(raw))
		if err != nil || string(got) != c.Text {
			t.Errorf("string %q: wrote %s (%v), Python writes %s", raw, got, err, c.Text)
		}
		ps := parser{data: []byte(c.Text)}
		back, err := ps.str()
		if err != nil || back != string(raw) {
			t.Errorf("string %s read back as %q, %v", c.Text, back, err)
		}
	}
	if _, err := appendString(nil, "bad \xff"); err == nil {
		t.Error("invalid UTF-8 was written")
	}
}

// Datetimes are written as isoformat() writes them, and read back.
func TestDatetimesAsPython(t *testing.T) {
	p := loadPython(t)
	for _, c := range p.Datetimes {
		f := c.Fields
		loc, aware := time.UTC, c.Offset != nil
		if aware && *c.Offset != 0 {
			loc = time.FixedZone("", *c.Offset)
		}
		tm := time.Date(f[0], time.Month(f[1]), f[2], f[3], f[4], f[5], f[6]*1000, loc)
		got, err := appendISO(nil, tm, aware)
		if err != nil || string(got) != c.Text {
			t.Errorf("datetime %v: wrote %s (%v), Python writes %s", tm, got, err, c.Text)
		}
		back, err := parseISO(c.Text, time.UTC)
		if err != nil || !back.Equal(tm) {
			t.Errorf("%s read back as %v, %v", c.Text, back, err)
		}
		if _, off := back.Zone(); aware && off != *c.Offset {
			t.Errorf("%s read back with offset %d", c.Text, off)
		}
	}
}

func TestParseISOForms(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		berlin = time.FixedZone("CEST", 2*3600)
	}
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"2025-05-07T10:21:44.798000", time.Date(2025, 5, 7, 10, 21, 44, 798000000, berlin)},
		{"2025-05-07T10:21:44", time.Date(2025, 5, 7, 10, 21, 44, 0, berlin)},
		{"2025-05-07 10:21", time.Date(2025, 5, 7, 10, 21, 0, 0, berlin)},
		{"2025-05-07", time.Date(2025, 5, 7, 0, 0, 0, 0, berlin)},
		{"2025-05-07T10:21:44Z", time.Date(2025, 5, 7, 10, 21, 44, 0, time.UTC)},
		{"2025-05-07T10:21:44+00:00", time.Date(2025, 5, 7, 10, 21, 44, 0, time.UTC)},
		{"2025-05-07T10:21:44.5-0530", time.Date(2025, 5, 7, 10, 21, 44, 5e8, time.FixedZone("", -(5*3600+30*60)))},
		{"2025-05-07T10:21:44.123456789+01:00:30", time.Date(2025, 5, 7, 10, 21, 44, 123456000, time.FixedZone("", 3630))},
		{"2025-05-07T10:21:44,5", time.Date(2025, 5, 7, 10, 21, 44, 5e8, berlin)},
		{"2025-05-07T10:21:44.1234567891", time.Date(2025, 5, 7, 10, 21, 44, 123456000, berlin)},
	} {
		got, err := parseISO(tc.in, berlin)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "2025", "2025-5-7", "2025-05-07T", "2025-02-30T00:00:00", "2025-05-07T24:00:00",
		"2025-05-07T10:21:44.", "2025-05-07T10:21:44+01:00:00.5", "2025-05-07T10:21:44+25:00", "2025-05-07T10:21:44 ",
		"0000-01-01T00:00:00", "2025-05-07x10:21:44", "2025-05-07T10:21:44+01"} {
		if got, err := parseISO(bad, time.UTC); err == nil {
			t.Errorf("%q read as %v", bad, got)
		}
	}
	if _, err := appendISO(nil, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), false); err == nil {
		t.Error("the year 10000 was written")
	}
}

func TestUUIDText(t *testing.T) {
	u := [16]byte{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}
	s := string(appendUUID(nil, u))
	if s != "12345678-9abc-def0-0123-456789abcdef" {
		t.Fatalf("UUID written as %s", s)
	}
	for _, in := range []string{s, "12345678-9ABC-DEF0-0123-456789ABCDEF"} {
		if back, err := parseUUID(in); err != nil || back != u {
			t.Errorf("%s read as %x, %v", in, back, err)
		}
	}
	for _, bad := range []string{"", "12345678-9abc-def0-0123-456789abcde", "12345678-9abc-def0-0123-456789abcdeg", "123456789abc-def0-0123-456789abcdef-", "{12345678-9abc-def0-0123-456789abcdef}"} {
		if _, err := parseUUID(bad); err == nil {
			t.Errorf("%q read as a UUID", bad)
		}
	}
}
