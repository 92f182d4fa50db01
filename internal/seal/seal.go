// Package seal is the envelope of nest's Secret keys: a keyring of
// AES-256-GCM keys with IDs, and the stored format of a sealed value. It
// needs no Redis.
//
// The stored form of a secret, raw bytes (Redis strings are binary-safe):
//
//	version (1 byte, 1) | n = len(key ID) (1 byte) | key ID (n bytes) |
//	nonce (12 bytes, random) | AES-256-GCM ciphertext | tag (16 bytes)
//
// The associated data is the header (version, n, key ID) followed by the
// full Redis key name, so that a changed version or key ID, or a value
// copied to another key, fails authentication.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// KeyLen is the length of a key: AES-256 takes 32 bytes.
const KeyLen = 32

// version is the first byte of every sealed value.
const version = 1

// Key is one key of a keyring: an ID stored in every value it seals, and
// 32 bytes of key material.
type Key struct {
	ID  string
	Key []byte
}

// Ring holds the AEADs of a keyring. The first key seals; every key opens
// the values that carry its ID. It is immutable and safe for concurrent
// use.
type Ring struct {
	cur  *ringKey
	byID map[string]*ringKey
}

type ringKey struct {
	hdr  []byte // the stored header: version, len(id), id
	aead cipher.AEAD
}

// NewRing builds a keyring; keys[0] seals. Errors name a key by position
// (and by ID once the ID is known to be well-formed), never its material.
func NewRing(keys []Key) (*Ring, error) {
	r := &Ring{byID: make(map[string]*ringKey, len(keys))}
	for i, k := range keys {
		if err := CheckID(k.ID); err != nil {
			return nil, fmt.Errorf("key %d: %v", i, err)
		}
		if len(k.Key) != KeyLen {
			return nil, fmt.Errorf("key %d (id %q) is %d bytes, want %d", i, k.ID, len(k.Key), KeyLen)
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
		rk := &ringKey{aead: aead, hdr: append([]byte{version, byte(len(k.ID))}, k.ID...)}
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

// Seal encrypts plaintext for the key name with the current key and a
// fresh random nonce.
func (r *Ring) Seal(name string, plaintext []byte) []byte {
	k := r.cur
	out := make([]byte, len(k.hdr), len(k.hdr)+len(plaintext)+k.aead.Overhead())
	copy(out, k.hdr)
	return k.aead.Seal(out, nil, plaintext, additionalData(k.hdr, name))
}

func additionalData(hdr []byte, name string) []byte {
	return append(append(make([]byte, 0, len(hdr)+len(name)), hdr...), name...)
}

// header splits a stored value into its key and the rest (nonce,
// ciphertext, tag). Its errors quote nothing of the value but a
// well-formed key ID.
func (r *Ring) header(stored []byte) (*ringKey, []byte, error) {
	if len(stored) < 2 {
		return nil, nil, fmt.Errorf("%d bytes is too short to be a sealed value", len(stored))
	}
	if stored[0] != version {
		return nil, nil, fmt.Errorf("unknown format version %d", stored[0])
	}
	n := int(stored[1])
	if n == 0 || len(stored) < 2+n {
		return nil, nil, errors.New("truncated header")
	}
	id := stored[2 : 2+n]
	k := r.byID[string(id)]
	if k == nil {
		if CheckID(string(id)) != nil {
			// Not an ID a keyring can hold: likely not a sealed value at
			// all, so its bytes are not quoted.
			return nil, nil, errors.New("not a sealed value (malformed key ID)")
		}
		return nil, nil, fmt.Errorf("sealed with key ID %q, which is not in the keyring", id)
	}
	return k, stored[2+n:], nil
}

// Current reports whether stored was sealed with the current key. It does
// not authenticate the value.
func (r *Ring) Current(stored []byte) bool {
	k, _, err := r.header(stored)
	return err == nil && k == r.cur
}

// Open authenticates and decrypts a stored value for the key name. Its
// errors say what is wrong without quoting the value (a key ID at most).
func (r *Ring) Open(name string, stored []byte) ([]byte, error) {
	k, body, err := r.header(stored)
	if err != nil {
		return nil, err
	}
	if len(body) < k.aead.Overhead() {
		return nil, errors.New("truncated ciphertext")
	}
	pt, err := k.aead.Open(nil, nil, body, additionalData(k.hdr, name))
	if err != nil {
		return nil, errors.New("authentication failed (tampered with, or copied from another key)")
	}
	return pt, nil
}

// ParseKeys parses a keyring written as entries "id:base64key" separated
// by commas or newlines, the sealing key first. Blank lines and lines
// starting with '#' are ignored; surrounding spaces are trimmed from IDs
// and keys; a key may be standard or URL-safe base64, padded or not, and
// must decode to 32 bytes. Errors name the entry by position (and its ID
// once that is known to be well-formed), never its key.
func ParseKeys(s string) ([]Key, error) {
	var keys []Key
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
			id = strings.TrimSpace(id)
			if err := CheckID(id); err != nil {
				return nil, fmt.Errorf("entry %d: %v", n, err)
			}
			key, err := decodeKey(strings.TrimSpace(b64))
			if err != nil {
				return nil, fmt.Errorf("entry %d (id %q): %v", n, id, err)
			}
			for _, k := range keys {
				if k.ID == id {
					return nil, fmt.Errorf("entry %d: key ID %q appears twice", n, id)
				}
			}
			keys = append(keys, Key{ID: id, Key: key})
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
			if len(b) != KeyLen {
				return nil, fmt.Errorf("key is %d bytes, want %d (generate one with: head -c 32 /dev/urandom | base64)", len(b), KeyLen)
			}
			return b, nil
		}
	}
	return nil, errors.New("key is not valid base64")
}

// CheckID reports what is wrong with a key ID: it must be 1 to 32
// characters from A-Z, a-z, 0-9, '.', '_' and '-'. The ID itself is not
// quoted: a malformed entry might hold a key where the ID belongs.
func CheckID(id string) error {
	if id == "" || len(id) > 32 {
		return fmt.Errorf("key ID must be 1 to 32 characters, got %d", len(id))
	}
	for i := range len(id) {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			what := fmt.Sprintf("character %d is not one", i+1)
			if c == ' ' || c == '\t' {
				what = fmt.Sprintf("character %d is a space", i+1)
			}
			return fmt.Errorf("key ID may hold only A-Z, a-z, 0-9, '.', '_' and '-' (%s)", what)
		}
	}
	return nil
}
