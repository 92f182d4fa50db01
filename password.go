package nest

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/argon2"
)

// MaxPasswordLen is the longest password, in bytes, that [Password.Set]
// accepts: far above any passphrase (NIST asks for at least 64
// characters), low enough that input size is never a cost.
const MaxPasswordLen = 1024

// PasswordParams sets the cost of the argon2id hashes of [Password] keys.
// Zero fields take their defaults, OWASP's minimum recommendation for
// argon2id. Raising them later is safe: [Password.Verify] upgrades old
// hashes as their users log in. Parameters below the defaults are for
// tests only.
type PasswordParams struct {
	// Memory is the memory cost, in KiB; at most 1 GiB.
	// default: 19456 (19 MiB)
	Memory uint32
	// Iterations is the number of passes over the memory; at most 64.
	// default: 2
	Iterations uint32
	// Parallelism is the number of lanes (p).
	// default: 1
	Parallelism uint8
	// Concurrency bounds how many hashes the schema computes at once, so
	// that a burst of logins cannot take Memory × burst of RAM; the others
	// wait, or give up when their context ends. It is not stored in hashes.
	// default: GOMAXPROCS
	Concurrency int
}

const (
	defaultMemory      = 19 * 1024
	defaultIterations  = 2
	defaultParallelism = 1
	saltLen            = 16 // bytes of random salt in new hashes
	hashLen            = 32 // bytes of argon2id output in new hashes
	maxMemory          = 1 << 20
	maxIterations      = 64
	// storedCostFactor bounds a stored hash's memory and iterations to
	// this multiple of the schema's own, so that Verify's cost stays
	// predictable whatever was written into Redis.
	storedCostFactor = 4
)

func (p PasswordParams) resolve() (PasswordParams, error) {
	if p.Memory == 0 {
		p.Memory = defaultMemory
	}
	if p.Iterations == 0 {
		p.Iterations = defaultIterations
	}
	if p.Parallelism == 0 {
		p.Parallelism = defaultParallelism
	}
	if p.Concurrency <= 0 {
		p.Concurrency = runtime.GOMAXPROCS(0)
	}
	return p, checkArgon2(p.Memory, p.Iterations, p.Parallelism)
}

// checkArgon2 bounds parameters, ours and those read from stored hashes, so
// that a hash written into Redis by someone else cannot make Verify
// allocate gigabytes or spin for minutes.
func checkArgon2(m, t uint32, p uint8) error {
	switch {
	case p == 0:
		return errors.New("parallelism must be at least 1")
	case m < 8*uint32(p):
		return fmt.Errorf("memory %d KiB is below argon2's minimum of 8 KiB per lane", m)
	case m > maxMemory:
		return fmt.Errorf("memory %d KiB exceeds the maximum of 1 GiB", m)
	case t == 0 || t > maxIterations:
		return fmt.Errorf("iterations %d not in 1..%d", t, maxIterations)
	}
	return nil
}

// Password is a key that stores a password as an argon2id hash in PHC
// string format ($argon2id$v=19$m=19456,t=2,p=1$salt$hash), with a fresh
// 16-byte random salt per Set and the schema's [PasswordParams]:
//
//	Password nest.Password `nest:"password"`
//
// It cannot be read back by accident: there is no Get, only [Password.Verify]
// and the explicit [Password.Hash]. Passwords are hashed exactly as given,
// byte for byte: normalise Unicode (for example to NFC) before Set and
// Verify if your inputs may arrive in different forms. TTLs and the key
// commands behave as for [Key]. A Password is an immutable handle, safe to
// copy and share; printing it shows its key name.
type Password struct {
	_ [0]passwordMark
	h keyHandle
}

func (Password) compileKey(kp *keyPlan, explicit Codec) error {
	switch {
	case explicit != nil:
		return errors.New("a Password key takes no codec tag: it stores an argon2id PHC string")
	case kp.hasDef:
		return errors.New("a Password key cannot have a default")
	}
	if err := compileKeyCodec[string](kp, nil); err != nil {
		return err
	}
	kp.kind, kp.codecOf = kindPassword, "argon2id"
	return nil
}

func (Password) isParamKey() bool { return false }

func (Password) secureKind() keyKind { return kindPassword }

// key is the same handle seen as a plain string key, whose TTL and
// commands a Password shares.
func (p Password) key() Key[string] { return Key[string]{h: p.h} }

// Name returns the full Redis key name, or "" when the handle is unusable.
func (p Password) Name() string { return p.key().Name() }

// String returns the full key name; a Password handle never holds a hash.
func (p Password) String() string { return p.key().Name() }

// Err reports why the handle cannot be used; see [Key.Err].
func (p Password) Err() error { return p.h.ready() }

// EffectiveTTL returns the TTL that writes apply; see [Key.EffectiveTTL].
func (p Password) EffectiveTTL() (ttl time.Duration, ok bool) { return p.key().EffectiveTTL() }

// Describe describes the key; its Kind is "password".
func (p Password) Describe() KeyDescription { return describeKey(&p.h) }

// checkPassword says why Set refuses a password; it never quotes it.
func checkPassword(pw string) error {
	switch {
	case pw == "":
		return fmt.Errorf("%w: empty", ErrInvalidPassword)
	case len(pw) > MaxPasswordLen:
		return fmt.Errorf("%w: %d bytes, more than the maximum of %d", ErrInvalidPassword, len(pw), MaxPasswordLen)
	case !utf8.ValidString(pw):
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalidPassword)
	}
	return nil
}

// Set hashes plain and stores the hash, applying the effective TTL in the
// same command (SET ... EX/PX). Options: [KeepTTL], [WithTTL]. A password
// that is empty, longer than [MaxPasswordLen] bytes or not valid UTF-8
// (a sign of a mis-decoded form, which would not match the same password
// typed later) is refused with [ErrInvalidPassword]. Setting the same
// password twice stores two different hashes.
func (p Password) Set(ctx context.Context, plain string, opts ...SetOption) error {
	if err := p.h.ready(); err != nil {
		return err
	}
	if err := checkPassword(plain); err != nil {
		return opError("SET", p.h.name, err)
	}
	phc, err := p.h.p.c.hashPassword(ctx, plain)
	if err != nil {
		return opError("SET", p.h.name, err)
	}
	return p.h.fail("SET", p.key().setCmd(ctx, p.h.p.c.rdb, phc, opts).Err())
}

// Verify reports whether candidate is the stored password, comparing the
// hashes in constant time: true on a match, false on a mismatch, and
// [ErrNotFound] when no password is stored. A candidate that Set would
// refuse is a mismatch, found without hashing. A stored value that is not
// an argon2id PHC string, or one whose memory or iterations exceed four
// times the schema's (a planted hash must not tie up the hashing slots),
// is an error matching [ErrDecode].
//
// After a match, a stored hash weaker than the schema's parameters (below
// them in memory or iterations and above them in neither, or with a salt
// or hash shorter than 16 and 32 bytes) is replaced by a new hash, keeping
// the key's TTL, unless the key changed meanwhile. Hashes are never downgraded, so instances running
// different parameters during a rollout do not undo each other. A failed
// upgrade does not fail Verify; it is logged as a warning through
// [Options.Logger] (or [slog.Default]) and retried at the next match.
//
// Verify returns ErrNotFound quickly, so its timing tells whether a
// password is stored; callers that must hide which accounts exist should
// hash a dummy password in that case.
func (p Password) Verify(ctx context.Context, candidate string) (bool, error) {
	if err := p.h.ready(); err != nil {
		return false, err
	}
	c := p.h.p.c
	stored, err := p.key().getCmd(ctx, c.rdb).Result()
	if err != nil {
		return false, p.h.fail("GET", err)
	}
	ph, err := parsePHC(stored)
	if err == nil && (ph.m > storedCostFactor*c.pw.Memory || ph.t > storedCostFactor*c.pw.Iterations) {
		// A hash planted in Redis must not tie up the hashing slots.
		err = fmt.Errorf("its cost (m=%d, t=%d) exceeds %d times the schema's (m=%d, t=%d)",
			ph.m, ph.t, storedCostFactor, c.pw.Memory, c.pw.Iterations)
	}
	if err != nil {
		return false, opError("GET", p.h.name, fmt.Errorf("%w: the stored value is not a usable argon2id hash: %v", ErrDecode, err))
	}
	if checkPassword(candidate) != nil {
		return false, nil
	}
	sum, err := c.argon2(ctx, candidate, ph.salt, ph.t, ph.m, ph.p, uint32(len(ph.hash)))
	if err != nil {
		return false, opError("VERIFY", p.h.name, err)
	}
	if subtle.ConstantTimeCompare(sum, ph.hash) != 1 {
		return false, nil
	}
	if ph.weakerThan(c.pw) {
		p.rehash(ctx, stored, candidate)
	}
	return true, nil
}

// rehash replaces the stored hash old by a hash of plain with the current
// parameters, if the key still holds old, keeping its TTL.
func (p Password) rehash(ctx context.Context, old, plain string) {
	c := p.h.p.c
	phc, err := c.hashPassword(ctx, plain)
	if err == nil {
		p.h.log(ctx, "REHASH", 0)
		err = casScript.Run(ctx, c.rdb, []string{p.h.name}, old, phc).Err()
	}
	if err != nil {
		log := c.log
		if log == nil {
			log = slog.Default()
		}
		log.LogAttrs(ctx, slog.LevelWarn, "nest: password rehash failed; the old hash stays",
			slog.String("key", p.h.name), slog.String("error", err.Error()))
	}
}

// casScript sets KEYS[1] to ARGV[2], keeping its TTL, only if it still
// holds ARGV[1]; it returns 1 if it did. Password upgrades and
// Namespace.Reencrypt use it so that they never clobber a concurrent write.
var casScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
  return 1
end
return 0
`)

// Hash returns the stored PHC string, or [ErrNotFound]. It is the only way
// to read a Password key's value, for migrations and audits.
func (p Password) Hash(ctx context.Context) (string, error) {
	if err := p.h.ready(); err != nil {
		return "", err
	}
	p.h.log(ctx, "GET", 0)
	s, err := p.h.p.c.rdb.Get(ctx, p.h.name).Result()
	return s, p.h.fail("GET", err)
}

// hashPassword returns the PHC string of a new hash of pw.
func (c *client) hashPassword(ctx context.Context, pw string) (string, error) {
	salt := make([]byte, saltLen)
	_, _ = rand.Read(salt) // never fails (crypto/rand panics rather)
	sum, err := c.argon2(ctx, pw, salt, c.pw.Iterations, c.pw.Memory, c.pw.Parallelism, hashLen)
	if err != nil {
		return "", err
	}
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		c.pw.Memory, c.pw.Iterations, c.pw.Parallelism, b64.EncodeToString(salt), b64.EncodeToString(sum)), nil
}

// argon2 computes argon2id once a slot of the schema's hashing semaphore
// is free, or returns the context's error.
func (c *client) argon2(ctx context.Context, pw string, salt []byte, t, m uint32, p uint8, n uint32) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case c.hashSem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-c.hashSem }()
	b := []byte(pw)
	defer clear(b)
	return argon2.IDKey(b, salt, t, m, p, n), nil
}

// phc is a parsed argon2id PHC string.
type phc struct {
	m, t       uint32
	p          uint8
	salt, hash []byte
}

// parsePHC parses $argon2id$v=19$m=M,t=T,p=P$salt$hash (unpadded standard
// base64) strictly, and bounds its parameters. Errors never quote it.
func parsePHC(s string) (phc, error) {
	var h phc
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
	h.m, h.t, h.p = uint32(vals[0]), uint32(vals[1]), uint8(vals[2])
	if err := checkArgon2(h.m, h.t, h.p); err != nil {
		return h, err
	}
	var err error
	b64 := base64.RawStdEncoding.Strict()
	if h.salt, err = b64.DecodeString(f[4]); err != nil || len(h.salt) < 8 || len(h.salt) > 64 {
		return h, errors.New("malformed salt (want 8 to 64 bytes of unpadded base64)")
	}
	if h.hash, err = b64.DecodeString(f[5]); err != nil || len(h.hash) < 16 || len(h.hash) > 64 {
		return h, errors.New("malformed hash (want 16 to 64 bytes of unpadded base64)")
	}
	return h, nil
}

// weakerThan reports whether h falls below the current parameters: below
// them in some dimension and above them in none. A hash that trades memory
// for iterations (m=47104,t=1 against m=19456,t=2, both OWASP settings) is
// not weaker, so instances with different settings never rewrite each
// other's hashes back and forth.
func (h phc) weakerThan(cur PasswordParams) bool {
	if len(h.salt) < saltLen || len(h.hash) < hashLen {
		return true
	}
	if h.m > cur.Memory || h.t > cur.Iterations {
		return false
	}
	return h.m < cur.Memory || h.t < cur.Iterations
}
