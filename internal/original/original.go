// Package original holds the cryptography of the original Python package
// (redisimnest 0.10.0): the Fernet tokens of its secret keys and the bcrypt
// hashes of its password keys. It needs no Redis; nest wraps both in the
// original's str envelope (internal/envelope).
//
// Fernet comes from github.com/fernet/fernet-go, which implements the
// spec (https://github.com/fernet/spec) and passes its test vectors; this
// package checks a token's structure before handing it over and its
// padding after, so that malformed tokens are refused as Python's
// cryptography refuses them. Errors never quote a key, a token or a
// plaintext.
package original

import (
	"crypto/aes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fernet/fernet-go"
	"golang.org/x/crypto/bcrypt"
)

// Fernet seals and opens the original's secrets with one key, as Python's
// cryptography.fernet.Fernet(MY_ENCRYPTION_KEY) does. It is immutable and
// safe for concurrent use.
type Fernet struct {
	keys []*fernet.Key
}

// FernetKeyLen is the length of a Fernet key: 16 bytes sign (HMAC-SHA256),
// 16 bytes encrypt (AES-128-CBC).
const FernetKeyLen = 32

// ParseFernetKey reads a key as the original reads MY_ENCRYPTION_KEY: 32
// bytes in URL-safe base64 (Fernet.generate_key()); standard base64 and
// missing padding are accepted too, surrounding spaces ignored.
func ParseFernetKey(s string) (*Fernet, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("empty")
	}
	var b []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.URLEncoding, base64.RawURLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
		if b, err = enc.DecodeString(s); err == nil {
			break
		}
	}
	switch {
	case err != nil:
		return nil, errors.New("not base64 (want the 44 characters of Fernet.generate_key())")
	case len(b) != FernetKeyLen:
		return nil, fmt.Errorf("%d bytes, want %d (Fernet.generate_key())", len(b), FernetKeyLen)
	}
	k := new(fernet.Key)
	copy(k[:], b)
	clear(b)
	return &Fernet{keys: []*fernet.Key{k}}, nil
}

// Seal returns a new token for plaintext: URL-safe base64 of version 0x80,
// the current time, a random IV, the AES-128-CBC ciphertext and an
// HMAC-SHA256 over all of them.
func (f *Fernet) Seal(plaintext []byte) ([]byte, error) {
	return fernet.EncryptAndSignAtTime(plaintext, f.keys[0], time.Now())
}

const (
	headerLen = 1 + 8 + aes.BlockSize // version, timestamp, IV
	minToken  = headerLen + aes.BlockSize + sha256.Size
)

// Open authenticates and decrypts a token. Like Python's Fernet.decrypt
// without a ttl, it ignores the token's timestamp.
func (f *Fernet) Open(token []byte) ([]byte, error) {
	raw := make([]byte, base64.URLEncoding.DecodedLen(len(token)))
	n, err := base64.URLEncoding.Decode(raw, token)
	switch {
	case err != nil:
		return nil, errors.New("not a Fernet token (not URL-safe base64)")
	case n < minToken || (n-headerLen-sha256.Size)%aes.BlockSize != 0:
		return nil, fmt.Errorf("not a Fernet token (%d bytes)", n)
	case raw[0] != 0x80:
		return nil, fmt.Errorf("not a Fernet token (version 0x%02x)", raw[0])
	}
	body := n - headerLen - sha256.Size
	pt := fernet.VerifyAndDecrypt(token, 0, f.keys)
	if pt == nil {
		return nil, errors.New("the Fernet token does not open (another MY_ENCRYPTION_KEY, or tampered with)")
	}
	if pad := body - len(pt); pad < 1 || pad > aes.BlockSize {
		return nil, errors.New("the Fernet token has malformed padding")
	}
	return pt, nil
}

// Bcrypt: the original's password hashes.

// BcryptMaxLen is the longest password bcrypt hashes: it ignores bytes
// past the 72nd.
const BcryptMaxLen = 72

// IsBcrypt reports whether s looks like a bcrypt hash ($2a$, $2b$ or $2y$).
func IsBcrypt(s string) bool {
	return len(s) > 4 && s[0] == '$' && s[1] == '2' && (s[2] == 'a' || s[2] == 'b' || s[2] == 'y') && s[3] == '$'
}

const (
	bcryptHashLen  = 60
	bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// BcryptCost returns the cost of a bcrypt hash, checking its format.
func BcryptCost(hash string) (int, error) {
	if !IsBcrypt(hash) {
		return 0, errors.New("not a bcrypt hash")
	}
	// Exactly $2b$NN$ and 53 characters of bcrypt's base64: x/crypto/bcrypt
	// would ignore bytes after the 60th, which Python's bcrypt refuses.
	if len(hash) != bcryptHashLen || hash[6] != '$' || strings.Trim(hash[7:], bcryptAlphabet) != "" {
		return 0, errors.New("a malformed bcrypt hash")
	}
	c, err := bcrypt.Cost([]byte(hash))
	if err != nil {
		return 0, errors.New("a malformed bcrypt hash")
	}
	return c, nil
}

// BcryptVerify reports whether pw matches hash, comparing in constant
// time. Like Python's bcrypt before 5.0, which the original's hashes may
// come from, it compares the first 72 bytes of pw: that is all a bcrypt
// hash holds.
func BcryptVerify(hash, pw string) (bool, error) {
	b := []byte(pw[:min(len(pw), BcryptMaxLen)])
	defer clear(b)
	switch err := bcrypt.CompareHashAndPassword([]byte(hash), b); {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	default:
		return false, errors.New("a malformed bcrypt hash")
	}
}

// BcryptNew hashes pw with a fresh salt at cost, in the $2b$ form Python's
// bcrypt writes (the same algorithm as Go's $2a$ for passwords of at most
// 72 bytes; longer ones are refused, as Python's bcrypt 5 refuses them).
func BcryptNew(pw string, cost int) (string, error) {
	if len(pw) > BcryptMaxLen {
		return "", fmt.Errorf("%d bytes, more than bcrypt's %d", len(pw), BcryptMaxLen)
	}
	b := []byte(pw)
	defer clear(b)
	h, err := bcrypt.GenerateFromPassword(b, cost)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(string(h), "$2a$") {
		h[2] = 'b'
	}
	return string(h), nil
}
