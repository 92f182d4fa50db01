package nest

import (
	"slices"

	"github.com/cespare/xxhash/v2"
)

// fingerprints is a compact set of key names for an exact Count: each
// name is kept as its 64-bit xxhash, in one of 256 buckets by the hash's
// top byte, which the bucket implies: the other 7 bytes are stored.
// Buckets grow by fixed blocks of 4 KiB, so adding never copies and never
// leaves garbage behind; the count sorts each bucket once, at the end, and
// counts its distinct values. 1 000 000 names take about 7 MiB. Two
// distinct names share a fingerprint with probability about n²/2⁶⁵ over n
// names (3·10⁻⁸ for a million, 3·10⁻⁶ for ten million), and the count is
// then one short.
type fingerprints struct {
	buckets [256][][]byte
	n       int
}

const (
	fingerprintSize  = 7                      // stored bytes per name
	fingerprintBlock = 4096 / fingerprintSize // names per block, in a 4 KiB size class
)

func (f *fingerprints) add(name string) {
	h := xxhash.Sum64String(name)
	b := &f.buckets[h>>56]
	if len(*b) == 0 || len((*b)[len(*b)-1]) == fingerprintBlock*fingerprintSize {
		*b = append(*b, make([]byte, 0, fingerprintBlock*fingerprintSize))
	}
	last := &(*b)[len(*b)-1]
	*last = append(*last, byte(h), byte(h>>8), byte(h>>16), byte(h>>24), byte(h>>32), byte(h>>40), byte(h>>48))
	f.n++
}

// count returns the number of distinct fingerprints, releasing the set.
func (f *fingerprints) count() int64 {
	var total int64
	var scratch []uint64
	for i := range f.buckets {
		scratch = scratch[:0]
		for _, block := range f.buckets[i] {
			for j := 0; j < len(block); j += fingerprintSize {
				v := uint64(0)
				for k := fingerprintSize - 1; k >= 0; k-- {
					v = v<<8 | uint64(block[j+k])
				}
				scratch = append(scratch, v)
			}
		}
		f.buckets[i] = nil
		slices.Sort(scratch)
		total += int64(len(slices.Compact(scratch)))
	}
	f.n = 0
	return total
}
