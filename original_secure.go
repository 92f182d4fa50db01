package nest

import (
	"context"
	"fmt"
	"reflect"
	"unicode/utf8"

	"github.com/redisimnest/nest/internal/envelope"
	"github.com/redisimnest/nest/internal/original"
	"github.com/redisimnest/nest/internal/phc"
)

// The original Python package's secrets (Fernet tokens) and passwords
// (bcrypt hashes), both stored in its str envelope; see [OriginalOptions].

// compileOriginalSecret compiles a Secret in the original's format. The
// original encrypts str values, so T must be text: a string or byte slice
// type (stored as its bytes, which must be UTF-8).
func compileOriginalSecret[T any](kp *keyPlan) error {
	rt := reflect.TypeFor[T]()
	if k := rt.Kind(); k != reflect.String && (k != reflect.Slice || rt.Elem().Kind() != reflect.Uint8) {
		return fmt.Errorf("a Secret in the original's format (codec %q) holds text, as the original encrypts str values: "+
			"declare Secret[string] or Secret[[]byte] (nest's own format, without the tag, holds any type)", originalCodecName)
	}
	if err := compileKeyCodec[T](kp, nil); err != nil {
		return err
	}
	kp.kind, kp.original, kp.codecOf = kindSecret, true, "fernet"
	return kp.c.orig.fernetMissing()
}

// seal encrypts the text of a Secret in the original's format: a Fernet
// token in a str envelope. Python decodes the plaintext as UTF-8.
func (oc *origConfig) seal(pt []byte) ([]byte, error) {
	if !utf8.Valid(pt) {
		return nil, fmt.Errorf("%w: the value is not UTF-8 text, which the original decrypts secrets into", ErrEncode)
	}
	tok, err := oc.fernet.Seal(pt)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrEncode, err)
	}
	return envelope.Str(string(tok))
}

// open decrypts a value of a Secret in the original's format. Its errors
// never quote the value.
func (oc *origConfig) open(stored []byte) ([]byte, error) {
	if oc.fernet == nil {
		return nil, fmt.Errorf("a value in the original's format, which needs Options.Original.EncryptionKey (its MY_ENCRYPTION_KEY)")
	}
	tok, err := envelope.UnwrapStr(stored)
	if err != nil {
		return nil, fmt.Errorf("not the original's secret (a Fernet token in a str envelope)")
	}
	pt, err := oc.fernet.Open([]byte(tok))
	if err == nil && !utf8.Valid(pt) {
		// The original decrypts into str: it cannot read this either.
		clear(pt)
		return nil, fmt.Errorf("the Fernet token holds no UTF-8 text, which the original's secrets are")
	}
	return pt, err
}

// isEnvelope reports whether a stored value may be the original's: JSON
// text of an object. nest's sealed values start with their version byte, 1.
func isEnvelope(stored []byte) bool { return len(stored) > 0 && stored[0] == '{' }

// openOurs opens a value of a Secret in nest's format. While
// Options.Original.EncryptionKey is set, a value the original sealed (not
// yet rewritten by Reencrypt) opens too.
func (c *client) openOurs(name string, stored []byte) ([]byte, error) {
	if isEnvelope(stored) {
		if c.orig.fernet == nil {
			return nil, fmt.Errorf("a value in the original Python package's format: set Options.Original.EncryptionKey to read it, or declare the key `codec:%q`", originalCodecName)
		}
		return c.orig.open(stored)
	}
	return c.keys.Open(name, stored)
}

// bcryptHash hashes a password of a Password in the original's format: a
// bcrypt hash in a str envelope, computed in one of the schema's hashing
// slots.
func (oc *origConfig) bcryptHash(ctx context.Context, hs *phc.Hasher, plain string) (string, error) {
	if len(plain) > original.BcryptMaxLen {
		return "", fmt.Errorf("%w: %d bytes, more than the %d bcrypt hashes (the original's passwords are bcrypt)", ErrInvalidPassword, len(plain), original.BcryptMaxLen)
	}
	var h string
	var err error
	if derr := hs.Do(ctx, func() { h, err = original.BcryptNew(plain, oc.bcryptCost) }); derr != nil {
		return "", derr
	}
	if err != nil {
		return "", err
	}
	b, err := envelope.Str(h)
	return string(b), err
}

// verifyBcrypt verifies candidate against a bcrypt hash the original
// wrote; stored is the key's value as Redis holds it (the hash in its
// envelope). After a match, the hash is replaced by argon2id or, for a key
// in the original's format, by bcrypt at BcryptCost when it costs less.
func (p Password) verifyBcrypt(ctx context.Context, stored, hash, candidate string) (bool, error) {
	c := p.p.c
	cost, err := original.BcryptCost(hash)
	if limit := max(c.orig.bcryptCost, defaultBcryptCost) + 2; err == nil && cost > limit {
		// A hash planted in Redis must not tie up the hashing slots.
		err = fmt.Errorf("its cost %d exceeds %d (4 times the work of cost %d)", cost, limit, limit-2)
	}
	if err != nil {
		return false, opError("GET", p.name, fmt.Errorf("%w: the stored value is not a usable bcrypt hash: %v", ErrDecode, err))
	}
	if checkPassword(candidate) != nil {
		return false, nil
	}
	var (
		ok     bool
		cmpErr error
	)
	if err := c.hasher.Do(ctx, func() { ok, cmpErr = original.BcryptVerify(hash, candidate) }); err != nil {
		return false, opError("VERIFY", p.name, err)
	}
	switch {
	case cmpErr != nil:
		return false, opError("GET", p.name, fmt.Errorf("%w: the stored value is not a usable bcrypt hash: %v", ErrDecode, cmpErr))
	case !ok:
		return false, nil
	}
	if !p.p.original || cost < c.orig.bcryptCost {
		p.rehash(ctx, stored, candidate)
	}
	return true, nil
}
