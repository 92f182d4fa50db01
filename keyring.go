package nest

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unsafe"

	"github.com/redis/go-redis/v9"
)

// SecretKeyLen is the length of a [SecretKey]: AES-256 takes 32 bytes.
const SecretKeyLen = 32

// SecretKey is one key of the keyring that seals [Secret] values. ID names
// it inside every value it seals, so that values sealed before a rotation
// still open: 1 to 32 characters from A-Z, a-z, 0-9, '.', '_' and '-'. Key
// is 32 bytes from a cryptographically secure source, for example
//
//	head -c 32 /dev/urandom | base64
//
// A SecretKey never prints its key: String, GoString, Format, LogValue and
// MarshalJSON show the ID and "[redacted]".
type SecretKey struct {
	ID  string
	Key []byte
}

// String returns the ID and a redaction marker, never the key.
func (k SecretKey) String() string { return "nest.SecretKey{ID:" + k.ID + ", Key:[redacted]}" }

// GoString is [SecretKey.String], for %#v.
func (k SecretKey) GoString() string { return k.String() }

// Format writes [SecretKey.String] for every verb, so that no verb (%x,
// %+v, ...) prints the key.
func (k SecretKey) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// MarshalJSON writes the ID and a redaction marker, so that a JSON log
// handler or an encoded config never carries the key.
func (k SecretKey) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct{ ID, Key string }{k.ID, "[redacted]"})
}

// LogValue implements [slog.LogValuer]: the ID and a redaction marker.
func (k SecretKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", k.ID), slog.String("key", "[redacted]"))
}

// ParseSecretKeys parses a keyring in the format of $NEST_SECRET_KEYS and
// of the file named by $NEST_SECRET_KEYS_FILE: entries "id:base64key"
// separated by commas or newlines, the current (sealing) key first. Blank
// lines and lines starting with '#' are ignored; the key may be standard or
// URL-safe base64, padded or not, and must decode to 32 bytes:
//
//	k2:3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
//
// Errors match [ErrConfig] and name the entry by position (and its ID
// once that is known to be well-formed), never its key.
func ParseSecretKeys(s string) ([]SecretKey, error) {
	keys, err := parseSecretKeys(s)
	if err != nil {
		return nil, fmt.Errorf("%w: secret keys: %v", ErrConfig, err)
	}
	return keys, nil
}

func parseSecretKeys(s string) ([]SecretKey, error) {
	var keys []SecretKey
	n := 0
	for line := range strings.Lines(s) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		for entry := range strings.SplitSeq(line, ",") {
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			n++
			id, b64, ok := strings.Cut(entry, ":")
			if !ok {
				return nil, fmt.Errorf("entry %d: want \"id:base64key\"", n)
			}
			if err := checkKeyID(id); err != nil {
				return nil, fmt.Errorf("entry %d: %v", n, err)
			}
			key, err := decodeKey(strings.TrimSpace(b64))
			if err != nil {
				return nil, fmt.Errorf("entry %d (id %q): %v", n, id, err)
			}
			keys = append(keys, SecretKey{ID: id, Key: key})
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("no entries")
	}
	return keys, nil
}

func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != SecretKeyLen {
				return nil, fmt.Errorf("key is %d bytes, want %d (generate one with: head -c 32 /dev/urandom | base64)", len(b), SecretKeyLen)
			}
			return b, nil
		}
	}
	return nil, errors.New("key is not valid base64")
}

// checkKeyID reports what is wrong with a key ID. The ID itself is not
// quoted: a malformed entry might hold a key where the ID belongs.
func checkKeyID(id string) error {
	if id == "" || len(id) > 32 {
		return fmt.Errorf("key ID must be 1 to 32 characters, got %d", len(id))
	}
	for i := range len(id) {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("key ID may hold only A-Z, a-z, 0-9, '.', '_' and '-' (character %d is not one)", i+1)
		}
	}
	return nil
}

// keyring holds the AEADs of a schema's secret keys. It is immutable and
// safe for concurrent use.
type keyring struct {
	cur  *ringKey
	byID map[string]*ringKey
}

type ringKey struct {
	id   string
	hdr  []byte // the stored header: version, len(id), id
	aead cipher.AEAD
}

func newKeyring(keys []SecretKey) (*keyring, error) {
	r := &keyring{byID: make(map[string]*ringKey, len(keys))}
	for i, k := range keys {
		if err := checkKeyID(k.ID); err != nil {
			return nil, fmt.Errorf("key %d: %v", i, err)
		}
		if len(k.Key) != SecretKeyLen {
			return nil, fmt.Errorf("key %d (id %q) is %d bytes, want %d", i, k.ID, len(k.Key), SecretKeyLen)
		}
		if _, dup := r.byID[k.ID]; dup {
			return nil, fmt.Errorf("key ID %q appears twice", k.ID)
		}
		block, err := aes.NewCipher(k.Key) // expands the key; k.Key is not retained
		if err != nil {
			return nil, fmt.Errorf("key %d (id %q): %v", i, k.ID, err)
		}
		aead, err := cipher.NewGCMWithRandomNonce(block)
		if err != nil {
			return nil, fmt.Errorf("key %d (id %q): %v", i, k.ID, err)
		}
		rk := &ringKey{id: k.ID, aead: aead, hdr: append([]byte{secretVersion, byte(len(k.ID))}, k.ID...)}
		r.byID[k.ID] = rk
		if i == 0 {
			r.cur = rk
		}
	}
	if r.cur == nil {
		return nil, errors.New("the keyring is empty")
	}
	return r, nil
}

// The stored form of a secret, raw bytes (Redis strings are binary-safe):
//
//	version (1 byte, 1) | n = len(key ID) (1 byte) | key ID (n bytes) |
//	nonce (12 bytes, random) | AES-256-GCM ciphertext | tag (16 bytes)
//
// The associated data is the header (version, n, key ID) followed by the
// full Redis key name, so that a changed version or key ID, or a value
// copied to another key, fails authentication.
const secretVersion = 1

// seal encrypts plaintext for the key name with the current key.
func (r *keyring) seal(name string, plaintext []byte) []byte {
	k := r.cur
	out := make([]byte, len(k.hdr), len(k.hdr)+len(plaintext)+k.aead.Overhead())
	copy(out, k.hdr)
	return k.aead.Seal(out, nil, plaintext, additionalData(k.hdr, name))
}

func additionalData(hdr []byte, name string) []byte {
	return append(append(make([]byte, 0, len(hdr)+len(name)), hdr...), name...)
}

// header splits a stored value into its key ID and the rest (nonce,
// ciphertext, tag). The error matches ErrDecrypt and quotes nothing of the
// value but a key ID.
func (r *keyring) header(stored string) (k *ringKey, id, body string, err error) {
	if len(stored) < 2 {
		return nil, "", "", fmt.Errorf("%w: %d bytes is too short to be a sealed value", ErrDecrypt, len(stored))
	}
	if stored[0] != secretVersion {
		return nil, "", "", fmt.Errorf("%w: unknown format version %d", ErrDecrypt, stored[0])
	}
	n := int(stored[1])
	if n == 0 || len(stored) < 2+n {
		return nil, "", "", fmt.Errorf("%w: truncated header", ErrDecrypt)
	}
	id, body = stored[2:2+n], stored[2+n:]
	if k = r.byID[id]; k == nil {
		return nil, id, "", fmt.Errorf("%w: sealed with key ID %q, which is not in the keyring", ErrDecrypt, id)
	}
	return k, id, body, nil
}

// open authenticates and decrypts a stored value for the key name.
func (r *keyring) open(name, stored string) ([]byte, error) {
	k, _, body, err := r.header(stored)
	if err != nil {
		return nil, err
	}
	if len(body) < k.aead.Overhead() {
		return nil, fmt.Errorf("%w: truncated ciphertext", ErrDecrypt)
	}
	// Open only reads its input, so the string's bytes are used in place.
	pt, err := k.aead.Open(nil, nil, unsafe.Slice(unsafe.StringData(body), len(body)), additionalData(k.hdr, name))
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed (tampered with, or copied from another key)", ErrDecrypt)
	}
	return pt, nil
}

// Reencrypt rewrites, under the keyring's current key, every [Secret]
// value in the namespace's subtree that was sealed with another key, and
// returns how many it rewrote. It completes a key rotation:
//
//  1. put a new key first in the keyring (keep the old ones) and deploy it
//     to every instance, so that all new values are sealed with it;
//  2. call Reencrypt on the root namespace (or on any subtree);
//  3. remove the old keys from the keyring.
//
// It walks the subtree with SCAN, as [Namespace.Keys] does, and considers
// only keys matching the declared Secret keys' patterns; values already
// sealed with the current key are not even opened. Each rewrite is a
// compare-and-set script that keeps the key's TTL and leaves a value that
// changed since it was read alone (a concurrent Set seals with the current
// key anyway). GETs and rewrites are pipelined per SCAN batch.
//
// A value that does not open (tampered, or sealed with a key no longer in
// the keyring) is left as it is; Reencrypt goes on with the others and
// then returns the count and an error matching [ErrDecrypt] that says how
// many values failed and names the first.
func (n Namespace) Reencrypt(ctx context.Context) (int64, error) {
	if err := n.Err(); err != nil {
		return 0, err
	}
	in := n.ns
	var pats []string
	secretPatterns(in.plan, &pats)
	if len(pats) == 0 {
		return 0, nil
	}
	var (
		done    int64
		failed  []error
		sendErr error
	)
	err := in.scan(ctx, func(names []string) bool {
		var secrets []string
		for _, name := range names {
			for _, p := range pats {
				if matchKeyPattern(p, name) {
					secrets = append(secrets, name)
					break
				}
			}
		}
		if len(secrets) > 0 {
			var m int64
			m, failed, sendErr = reencrypt(ctx, in.plan.c, secrets, failed)
			done += m
		}
		return sendErr == nil
	})
	switch {
	case err != nil:
		return done, err
	case sendErr != nil:
		return done, sendErr
	case len(failed) > 0:
		return done, fmt.Errorf("REENCRYPT %s: %d secret values did not open and were left as they are; the first: %w",
			in.prefix, len(failed), failed[0])
	}
	return done, nil
}

// reencrypt re-seals the values of names (all Secret keys) that are not
// sealed with the current key: one pipeline of GETs, then one of
// compare-and-set scripts. Values that do not open are appended to failed.
func reencrypt(ctx context.Context, c *client, names []string, failed []error) (int64, []error, error) {
	r := c.keys
	pipe := c.rdb.Pipeline()
	gets := make([]*redis.StringCmd, len(names))
	for i, name := range names {
		c.dispatch(ctx, "GET", name, 0)
		gets[i] = pipe.Get(ctx, name)
	}
	_, _ = pipe.Exec(ctx) // errors are read per command
	var sets []*redis.Cmd
	for i, g := range gets {
		stored, err := g.Result()
		switch {
		case err == redis.Nil:
			continue // deleted meanwhile
		case err != nil:
			return 0, failed, opError("GET", names[i], err)
		}
		if k, _, _, err := r.header(stored); err == nil && k == r.cur {
			continue
		}
		pt, err := r.open(names[i], stored)
		if err != nil {
			failed = append(failed, opError("REENCRYPT", names[i], err))
			continue
		}
		sealed := r.seal(names[i], pt)
		clear(pt)
		c.dispatch(ctx, "REENCRYPT", names[i], 0)
		sets = append(sets, casScript.Eval(ctx, pipe, []string{names[i]}, stored, sealed))
	}
	if len(sets) == 0 {
		return 0, failed, nil
	}
	_, err := pipe.Exec(ctx)
	var done int64
	for _, cmd := range sets {
		if n, _ := cmd.Int(); n == 1 {
			done++
		}
	}
	if err != nil {
		return done, failed, fmt.Errorf("REENCRYPT %s (and %d more): %w", names[0], len(names)-1, err)
	}
	return done, failed, nil
}

// secretPatterns appends the SCAN patterns of the Secret keys declared in
// p and below.
func secretPatterns(p *nsPlan, pats *[]string) {
	for _, k := range p.keys {
		if k.kind == kindSecret {
			*pats = append(*pats, k.pattern)
		}
	}
	for _, c := range p.children {
		secretPatterns(c, pats)
	}
}

// matchKeyPattern reports whether name matches pattern, a key's pattern
// from the schema: literal segments, or segments with one '*' standing for
// a parameter value. Parameter values are never empty and never contain
// ':', and template literals hold no glob characters, so matching segment
// by segment is exact.
func matchKeyPattern(pattern, name string) bool {
	for {
		pseg, prest, pmore := strings.Cut(pattern, ":")
		nseg, nrest, nmore := strings.Cut(name, ":")
		if pmore != nmore || !matchSegment(pseg, nseg) {
			return false
		}
		if !pmore {
			return true
		}
		pattern, name = prest, nrest
	}
}

func matchSegment(p, s string) bool {
	pre, suf, star := strings.Cut(p, "*")
	if !star {
		return p == s
	}
	return len(s) > len(pre)+len(suf) && strings.HasPrefix(s, pre) && strings.HasSuffix(s, suf)
}
