package nest

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// NoExpiry is what the TTL method of a key returns for a key that exists
// but does not expire.
const NoExpiry time.Duration = -1

// ttlSpec is a declared TTL: a positive duration, or "none" (no expiry even
// when the enclosing namespace has a TTL), or nothing at all.
type ttlSpec struct {
	d       time.Duration
	none    bool
	sliding bool   // renew on read (GETEX)
	fixed   bool   // set when the key is created, never extended by writes
	from    string // Go path of the declaration, for Describe
}

func (t ttlSpec) declared() bool { return t.d > 0 || t.none }

// renewal returns the TTL a read renews (GETEX): the duration of a
// sliding TTL, else 0.
func (t *ttlSpec) renewal() time.Duration {
	if t.sliding && t.d > 0 {
		return t.d
	}
	return 0
}

// parseTTL parses a `ttl:"..."` tag: a Go duration ("80s", "1h30m") or a
// bare number of seconds ("80"), or "none", optionally followed by
// ",sliding".
func parseTTL(tag, from string) (ttlSpec, error) {
	spec := ttlSpec{from: from}
	if tag == "" {
		return spec, nil
	}
	val, opt, _ := strings.Cut(tag, ",")
	switch opt {
	case "":
	case "sliding":
		spec.sliding = true
	case "fixed":
		spec.fixed = true
	default:
		return spec, fmt.Errorf("ttl %q: unknown option %q (want \"sliding\" or \"fixed\")", tag, opt)
	}
	if val == "none" {
		if opt != "" {
			return spec, fmt.Errorf("ttl %q: a key without expiry cannot be %s", tag, opt)
		}
		spec.none = true
		return spec, nil
	}
	d, err := time.ParseDuration(val)
	if err != nil {
		n, nerr := strconv.ParseInt(val, 10, 64)
		if nerr != nil {
			return spec, fmt.Errorf("ttl %q: want a duration such as \"80s\", a number of seconds, or \"none\", optionally followed by \",sliding\" or \",fixed\" (\"1h,sliding\")", tag)
		}
		if n > math.MaxInt64/int64(time.Second) {
			return spec, fmt.Errorf("ttl %q: too long (at most %d seconds)", tag, math.MaxInt64/int64(time.Second))
		}
		d = time.Duration(n) * time.Second
	}
	if d <= 0 {
		return spec, fmt.Errorf("ttl %q must be positive (use \"none\" for no expiry)", tag)
	}
	if d%time.Millisecond != 0 {
		return spec, fmt.Errorf("ttl %q is finer than Redis's millisecond resolution", tag)
	}
	spec.d = d
	return spec, nil
}

// drill returns own if it is declared, else the inherited spec.
func drill(own, inherited ttlSpec) ttlSpec {
	if own.declared() {
		return own
	}
	return inherited
}

// SetOption adjusts one write. Without options, a write applies the key's
// effective TTL atomically (SET ... EX/PX), or none when none is declared.
type SetOption func(*setOptions)

type setOptions struct {
	mode setMode
	ttl  time.Duration
}

type setMode uint8

const (
	setDeclared setMode = iota
	setKeep
	setExplicit
)

// KeepTTL keeps the key's current TTL instead of applying the declared one
// (SET ... KEEPTTL). A key that did not exist gets no TTL.
func KeepTTL() SetOption { return func(o *setOptions) { o.mode = setKeep } }

// WithTTL applies d instead of the declared TTL for this write; d <= 0
// writes the key without expiry.
func WithTTL(d time.Duration) SetOption {
	return func(o *setOptions) { o.mode, o.ttl = setExplicit, max(d, 0) }
}

// expiration returns the go-redis expiration argument for a write: a
// positive TTL, redis.KeepTTL, or 0 for none.
func (t *ttlSpec) expiration(opts []SetOption) time.Duration {
	if len(opts) == 0 {
		return t.d
	}
	var o setOptions
	for _, opt := range opts {
		opt(&o)
	}
	switch o.mode {
	case setKeep:
		return redis.KeepTTL
	case setExplicit:
		return o.ttl
	}
	return t.d
}
