// Package phc hashes and verifies passwords with argon2id and reads and
// writes the hashes in PHC string format:
//
//	$argon2id$v=19$m=19456,t=2,p=1$salt$hash
//
// It needs no Redis. Parsing is strict and bounded, so that a hash planted
// where nest stores passwords cannot make verification allocate gigabytes
// or spin for minutes; no error quotes the hash.
package phc

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

const (
	// SaltLen and HashLen are the byte lengths of the salt and output of
	// new hashes.
	SaltLen = 16
	HashLen = 32

	maxMemory     = 1 << 20 // KiB: 1 GiB
	maxIterations = 64
)

// Params are argon2id's cost parameters.
type Params struct {
	Memory      uint32 // KiB
	Iterations  uint32
	Parallelism uint8
}

// Check bounds parameters, ours and those read from stored hashes.
func (p Params) Check() error {
	switch {
	case p.Parallelism == 0:
		return errors.New("parallelism must be at least 1")
	case p.Memory < 8*uint32(p.Parallelism):
		return fmt.Errorf("memory %d KiB is below argon2's minimum of 8 KiB per lane", p.Memory)
	case p.Memory > maxMemory:
		return fmt.Errorf("memory %d KiB exceeds the maximum of 1 GiB", p.Memory)
	case p.Iterations == 0 || p.Iterations > maxIterations:
		return fmt.Errorf("iterations %d not in 1..%d", p.Iterations, maxIterations)
	}
	return nil
}

// Hash is a parsed PHC string.
type Hash struct {
	Params
	Salt, Sum []byte
}

// String returns the PHC string.
func (h Hash) String() string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		h.Memory, h.Iterations, h.Parallelism, b64.EncodeToString(h.Salt), b64.EncodeToString(h.Sum))
}

// Parse parses $argon2id$v=19$m=M,t=T,p=P$salt$hash (unpadded standard
// base64) strictly, and bounds its parameters. Errors never quote it.
func Parse(s string) (Hash, error) {
	var h Hash
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" {
		return h, errors.New("want $argon2id$v=19$m=...,t=...,p=...$salt$hash")
	}
	if f[2] != "v="+strconv.Itoa(argon2.Version) {
		return h, errors.New("unsupported argon2 version")
	}
	params := strings.Split(f[3], ",")
	if len(params) != 3 {
		return h, errors.New("want exactly the parameters m, t and p")
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(params[i], name)
		bits := 32
		if i == 2 {
			bits = 8
		}
		n, err := strconv.ParseUint(v, 10, bits)
		if !ok || err != nil {
			return h, fmt.Errorf("malformed parameter %d", i+1)
		}
		vals[i] = n
	}
	h.Params = Params{Memory: uint32(vals[0]), Iterations: uint32(vals[1]), Parallelism: uint8(vals[2])}
	if err := h.Check(); err != nil {
		return h, err
	}
	var err error
	b64 := base64.RawStdEncoding.Strict()
	if h.Salt, err = b64.DecodeString(f[4]); err != nil || len(h.Salt) < 8 || len(h.Salt) > 64 {
		return h, errors.New("malformed salt (want 8 to 64 bytes of unpadded base64)")
	}
	if h.Sum, err = b64.DecodeString(f[5]); err != nil || len(h.Sum) < 16 || len(h.Sum) > 64 {
		return h, errors.New("malformed hash (want 16 to 64 bytes of unpadded base64)")
	}
	return h, nil
}

// WeakerThan reports whether h falls below cur: below it in some
// dimension and above it in none, or with a salt or hash shorter than new
// hashes get. A hash that trades memory for iterations (m=47104,t=1
// against m=19456,t=2, both OWASP settings) is not weaker, so instances
// with different settings never rewrite each other's hashes back and forth.
func (h Hash) WeakerThan(cur Params) bool {
	if len(h.Salt) < SaltLen || len(h.Sum) < HashLen {
		return true
	}
	if h.Memory > cur.Memory || h.Iterations > cur.Iterations {
		return false
	}
	return h.Memory < cur.Memory || h.Iterations < cur.Iterations
}

// Hasher computes argon2id hashes with fixed parameters, at most a bounded
// number at once, so that a burst of logins cannot take Memory × burst of
// RAM. It is safe for concurrent use.
type Hasher struct {
	Params
	sem chan struct{}
}

// NewHasher returns a Hasher computing at most concurrency hashes at once.
func NewHasher(p Params, concurrency int) *Hasher {
	return &Hasher{Params: p, sem: make(chan struct{}, max(concurrency, 1))}
}

// New returns a new hash of pw with a fresh random salt.
func (hs *Hasher) New(ctx context.Context, pw string) (Hash, error) {
	salt := make([]byte, SaltLen)
	_, _ = rand.Read(salt) // never fails (crypto/rand panics rather)
	sum, err := hs.sum(ctx, pw, hs.Params, salt, HashLen)
	return Hash{Params: hs.Params, Salt: salt, Sum: sum}, err
}

// Sum hashes pw with h's parameters and salt, for comparison with h.Sum.
func (hs *Hasher) Sum(ctx context.Context, pw string, h Hash) ([]byte, error) {
	return hs.sum(ctx, pw, h.Params, h.Salt, uint32(len(h.Sum)))
}

// Do runs fn (another costly hash, such as bcrypt) in one of the hashing
// slots, once one is free, or returns ctx's error without running it.
func (hs *Hasher) Do(ctx context.Context, fn func()) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case hs.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-hs.sem }()
	fn()
	return nil
}

// sum computes argon2id once a slot is free, or returns ctx's error.
func (hs *Hasher) sum(ctx context.Context, pw string, p Params, salt []byte, n uint32) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case hs.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-hs.sem }()
	b := []byte(pw)
	defer clear(b)
	return argon2.IDKey(b, salt, p.Iterations, p.Memory, p.Parallelism, n), nil
}
