package inspect

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/redisimnest/nest/internal/msgpackguard"
	"github.com/redisimnest/nest/internal/original"
	"github.com/redisimnest/nest/internal/phc"
)

// checkable reports whether audit can tell a bad stored value of k from a
// good one without the program's Go types: the built-in codecs of plain
// keys. Secrets (sealed), custom codecs, TextMarshaler/BinaryMarshaler
// types and the elements of collections are not checked.
func checkable(k *Key) bool {
	if k.RedisType != "string" || k.Kind == "secret" {
		return false
	}
	switch k.Codec {
	case "string", "bytes", "token", "int", "uint", "float", "bool", "time", "json", "msgpack", "argon2id", "bcrypt":
		return true
	}
	return false
}

// checkValue reports why v, the stored value of an instance of k, does
// not decode with k's codec ("" when it does).
func checkValue(k *Key, v []byte) string {
	s := string(v)
	var err error
	switch k.Codec {
	case "int":
		_, err = strconv.ParseInt(s, 10, 64)
	case "uint":
		_, err = strconv.ParseUint(s, 10, 64)
	case "float":
		_, err = strconv.ParseFloat(s, 64)
	case "bool":
		_, err = strconv.ParseBool(s)
	case "time":
		_, err = time.Parse(time.RFC3339Nano, s)
	case "json":
		if !json.Valid(v) {
			return "is not valid JSON"
		}
		return jsonShape(k.GoType, v)
	case "msgpack":
		_, err = msgpackguard.Check(v, 10000)
	case "argon2id":
		if _, err := phc.Parse(s); err != nil && !original.IsBcrypt(s) {
			return "is not an argon2id PHC string"
		}
	case "bcrypt":
		if !original.IsBcrypt(s) {
			return "is not a bcrypt hash"
		}
	}
	if err != nil {
		return "does not decode as " + k.Codec + ": " + shortErr(err)
	}
	return ""
}

// jsonShape checks the top-level JSON value against the Go type's kind:
// a slice wants an array, a map or struct an object (null always fits).
func jsonShape(goType string, v []byte) string {
	v = bytes.TrimSpace(v)
	if string(v) == "null" {
		return ""
	}
	want := byte(0)
	switch {
	case strings.HasPrefix(goType, "[]") && goType != "[]byte" && goType != "[]uint8":
		want = '['
	case strings.HasPrefix(goType, "map["):
		want = '{'
	}
	if want != 0 && (len(v) == 0 || v[0] != want) {
		return "is JSON but not " + map[byte]string{'[': "an array", '{': "an object"}[want] + " (declared " + goType + ")"
	}
	return ""
}

func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}
