package nest

import (
	"context"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"runtime"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest/internal/envelope"
	"github.com/redisimnest/nest/internal/original"
	"github.com/redisimnest/nest/internal/phc"
)

// MaxPasswordLen is the longest password, in bytes, that [Password.Set]
// accepts: far above any passphrase (NIST asks for at least 64
// characters), low enough that input size is never a cost.
const MaxPasswordLen = 1024

// storedCostFactor bounds a stored hash's memory and iterations to this
// multiple of the schema's own, so that Verify's cost stays predictable
// whatever was written into Redis.
const storedCostFactor = 4

// resolve fills in the defaults and checks the parameters.
func (p PasswordParams) resolve() (PasswordParams, error) {
	if p.Memory == 0 {
		p.Memory = 19 * 1024
	}
	if p.Iterations == 0 {
		p.Iterations = 2
	}
	if p.Parallelism == 0 {
		p.Parallelism = 1
	}
	if p.Concurrency <= 0 {
		p.Concurrency = runtime.GOMAXPROCS(0)
	}
	return p, phc.Params{Memory: p.Memory, Iterations: p.Iterations, Parallelism: p.Parallelism}.Check()
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
// commands behave as for [Key] (there is no Dump: it would be a second way
// to read the hash). A Password is an immutable handle, safe to copy and
// share; printing it shows its key name.
//
// Verify also accepts the bcrypt hashes of the original Python package
// (in its str envelope) and replaces them with argon2id after a match, so
// that users move to argon2id as they log in. With `codec:"redisimnest"`
// (or [OriginalOptions].Passwords) the original must still verify the
// password: Set writes a bcrypt hash in its envelope, and Verify keeps
// bcrypt (rewriting an argon2id hash, or a bcrypt hash cheaper than
// [OriginalOptions].BcryptCost, as bcrypt after a match).
type Password struct {
	_ [0]passwordMark
	keyHandle
}

func (Password) compileKey(kp *keyPlan, explicit Codec) error {
	orig := kp.c.orig.wants(explicit, kp.c.orig.opts.Passwords)
	switch {
	case explicit != nil && !orig:
		return fmt.Errorf("a Password key takes no codec tag but %q (the original's bcrypt hashes): it stores an argon2id PHC string", originalCodecName)
	case kp.hasDef:
		return fmt.Errorf("a Password key cannot have a default")
	}
	if err := compileKeyCodec[string](kp, nil); err != nil {
		return err
	}
	kp.kind, kp.codecOf = kindPassword, "argon2id"
	if orig {
		kp.original, kp.codecOf = true, "bcrypt"
	}
	return nil
}

func (Password) isParamKey() bool { return false }

func (Password) fieldKind() keyKind { return kindPassword }

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
	if err := p.Err(); err != nil {
		return err
	}
	if err := checkPassword(plain); err != nil {
		return opError("SET", p.name, err)
	}
	h, err := p.newHash(ctx, plain)
	if err != nil {
		return opError("SET", p.name, err)
	}
	exp := p.p.ttl.expiration(opts)
	var s argSpace
	s.forSet()
	cmd := s.setCmd(ctx, p.name, h, exp)
	p.sendSet(ctx, cmd, exp)
	return p.fail("SET", cmd.Err())
}

// newHash hashes plain as Set stores it: an argon2id PHC string or, for a
// key in the original's format, a bcrypt hash in the original's envelope.
func (p Password) newHash(ctx context.Context, plain string) (string, error) {
	c := p.p.c
	if p.p.original {
		return c.orig.bcryptHash(ctx, c.hasher, plain)
	}
	h, err := c.hasher.New(ctx, plain)
	if err != nil {
		return "", err
	}
	return h.String(), nil
}

// Verify reports whether candidate is the stored password, comparing the
// hashes in constant time: true on a match, false on a mismatch, and
// [ErrNotFound] when no password is stored. A candidate that Set would
// refuse is a mismatch, found without hashing. A stored value that is not
// an argon2id PHC string or the original's bcrypt hash, or one whose memory
// or iterations exceed four times the schema's (for bcrypt: a cost above
// max(BcryptCost, 12)+2), is an error matching [ErrDecode]: a planted hash
// must not tie up the hashing slots. bcrypt compares the first 72 bytes of
// a candidate, all that its hashes hold (as Python's bcrypt before 5.0).
//
// After a match, a stored hash weaker than the schema's parameters (below
// them in memory or iterations and above them in neither, or with a salt
// or hash shorter than 16 and 32 bytes), or a bcrypt hash of the original,
// is replaced by a new hash (bcrypt, for a key in the original's format),
// keeping the key's TTL, unless the key changed meanwhile. Hashes are never
// downgraded, so instances running different parameters during a rollout
// do not undo each other. A failed upgrade does not fail Verify; it is
// logged as a warning through [Options.Logger] (or [slog.Default]) and
// retried at the next match.
//
// Verify returns ErrNotFound quickly, so its timing tells whether a
// password is stored; callers that must hide which accounts exist should
// hash a dummy password in that case.
func (p Password) Verify(ctx context.Context, candidate string) (bool, error) {
	if err := p.Err(); err != nil {
		return false, err
	}
	c := p.p.c
	start := c.clock()
	cmd := p.getCmd(ctx) // GETEX for a sliding TTL
	p.logGet(ctx, start, cmd.Err())
	stored, err := cmd.Result()
	if err != nil {
		return false, p.fail("GET", err)
	}
	hash := stored
	if isEnvelope([]byte(stored)) {
		// The original's format: the hash in a str envelope.
		if hash, err = envelope.UnwrapStr([]byte(stored)); err != nil {
			return false, opError("GET", p.name, fmt.Errorf("%w: the stored value is not a password hash in the original's str envelope", ErrDecode))
		}
	}
	if original.IsBcrypt(hash) {
		return p.verifyBcrypt(ctx, stored, hash, candidate)
	}
	h, err := phc.Parse(hash)
	if cur := c.hasher.Params; err == nil && (h.Memory > storedCostFactor*cur.Memory || h.Iterations > storedCostFactor*cur.Iterations) {
		// A hash planted in Redis must not tie up the hashing slots.
		err = fmt.Errorf("its cost (m=%d, t=%d) exceeds %d times the schema's (m=%d, t=%d)",
			h.Memory, h.Iterations, storedCostFactor, cur.Memory, cur.Iterations)
	}
	if err != nil {
		return false, opError("GET", p.name, fmt.Errorf("%w: the stored value is not a usable argon2id or bcrypt hash: %v", ErrDecode, err))
	}
	if checkPassword(candidate) != nil {
		return false, nil
	}
	sum, err := c.hasher.Sum(ctx, candidate, h)
	if err != nil {
		return false, opError("VERIFY", p.name, err)
	}
	if subtle.ConstantTimeCompare(sum, h.Sum) != 1 {
		return false, nil
	}
	if p.p.original || h.WeakerThan(c.hasher.Params) {
		p.rehash(ctx, stored, candidate) // for the original's format: to bcrypt
	}
	return true, nil
}

// rehash replaces the stored hash old by a hash of plain as Set makes it
// (the current parameters; bcrypt for the original's format), if the key
// still holds old, keeping its TTL.
func (p Password) rehash(ctx context.Context, old, plain string) {
	c := p.p.c
	h, err := p.newHash(ctx, plain)
	if err == nil {
		err = do(ctx, &p.keyHandle, "REHASH", 0, func(r redis.Cmdable) *redis.Cmd {
			return casScript.Run(ctx, r, []string{p.name}, old, h)
		}).Err()
	}
	if err != nil {
		log := c.log
		if log == nil {
			log = slog.Default()
		}
		log.LogAttrs(ctx, slog.LevelWarn, "nest: password rehash failed; the old hash stays",
			slog.String("key", p.name), slog.String("error", err.Error()))
	}
}

// Hash returns the stored string (a PHC string, or the original's bcrypt
// hash in its envelope), or [ErrNotFound]. It is the only way to read a
// Password key's value, for migrations and audits.
func (p Password) Hash(ctx context.Context) (string, error) {
	if err := p.Err(); err != nil {
		return "", err
	}
	s, err := do(ctx, &p.keyHandle, "GET", 0, func(r redis.Cmdable) *redis.StringCmd { return r.Get(ctx, p.name) }).Result()
	return s, p.fail("GET", err)
}

// Rename moves the hash to dst, giving it dst's effective TTL; see
// [Key.Rename].
func (p Password) Rename(ctx context.Context, dst Password) error {
	_, err := p.rename(ctx, "RENAME", dst.keyHandle, false)
	return err
}

// RenameNX is [Password.Rename] that only renames when dst does not exist;
// it reports whether it renamed.
func (p Password) RenameNX(ctx context.Context, dst Password) (bool, error) {
	return p.rename(ctx, "RENAMENX", dst.keyHandle, true)
}
