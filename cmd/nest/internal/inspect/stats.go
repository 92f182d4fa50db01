package inspect

import (
	"math/rand/v2"
	"slices"
	"time"
)

// TTLStats summarises the time to live of a group's keys, in
// milliseconds.
type TTLStats struct {
	None     int64 `json:"none"`                // keys without a TTL
	Expiring int64 `json:"expiring"`            // keys with one
	MinMS    int64 `json:"min_ms,omitempty"`    // shortest time left
	MedianMS int64 `json:"median_ms,omitempty"` // median of at most 1024 sampled keys
	MaxMS    int64 `json:"max_ms,omitempty"`    // longest time left
	// Missing counts keys without a TTL although the schema declares
	// one (immortal keys).
	Missing int64 `json:"missing_declared"`
	// Histogram counts the expiring keys by time left; bucket i holds
	// TTLs below HistogramBounds[i] (the last: the rest).
	Histogram []int64 `json:"histogram"`
	// Estimated says the figures above were read from Probed keys of the
	// group and scaled to its count (min and max are those of the probed
	// keys); see TreeOptions.Probes.
	Estimated bool  `json:"estimated,omitempty"`
	Probed    int64 `json:"probed,omitempty"`

	sample []int64
	seen   int64
}

// HistogramBounds are the upper bounds of the TTL histogram's buckets:
// under a minute, ten minutes, an hour, six hours, a day, a week, thirty
// days; the last bucket holds longer TTLs.
var HistogramBounds = []time.Duration{
	time.Minute, 10 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour,
}

// HistogramLabels name the buckets, for tables and the web view.
var HistogramLabels = []string{"<1m", "<10m", "<1h", "<6h", "<1d", "<7d", "<30d", "≥30d"}

const ttlSampleSize = 1024

func (t *TTLStats) add(pttl int64, rng *rand.Rand) {
	if t.Histogram == nil {
		t.Histogram = make([]int64, len(HistogramBounds)+1)
	}
	if pttl < 0 {
		t.None++
		return
	}
	if t.Expiring == 0 || pttl < t.MinMS {
		t.MinMS = pttl
	}
	if pttl > t.MaxMS {
		t.MaxMS = pttl
	}
	t.Expiring++
	i := 0
	for i < len(HistogramBounds) && time.Duration(pttl)*time.Millisecond >= HistogramBounds[i] {
		i++
	}
	t.Histogram[i]++
	// Reservoir sampling: every expiring key has the same chance.
	t.seen++
	if len(t.sample) < ttlSampleSize {
		t.sample = append(t.sample, pttl)
	} else if j := rng.Int64N(t.seen); j < ttlSampleSize {
		t.sample[j] = pttl
	}
}

func (t *TTLStats) finish() {
	if t.Histogram == nil {
		t.Histogram = make([]int64, len(HistogramBounds)+1)
	}
	if len(t.sample) > 0 {
		s := slices.Clone(t.sample)
		slices.Sort(s)
		t.MedianMS = s[len(s)/2]
	}
}

// MemoryStats is MEMORY USAGE of a sample of a group's keys.
type MemoryStats struct {
	Sampled     int   `json:"sampled"`      // keys measured
	SampleBytes int64 `json:"sample_bytes"` // their total
	// EstimatedBytes is the mean of the sample times the group's count.
	EstimatedBytes int64 `json:"estimated_bytes"`
}

func (m *MemoryStats) finish(count int64) {
	if m.Sampled > 0 {
		m.EstimatedBytes = m.SampleBytes * count / int64(m.Sampled)
	}
}
