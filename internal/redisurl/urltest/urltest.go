// Package urltest holds malformed Redis URLs whose user name and password
// are canaries, for the tests of every path that parses a Redis URL: no
// error may show a piece of them.
package urltest

import (
	"fmt"
	"strings"
)

// Canaries are the pieces of user information in [MalformedURLs]: no
// error may contain any of them.
var Canaries = []string{"Us3rN4me", "S3cr3t", "P4rt"}

// MalformedURLs are URLs with a user name and password that must be
// refused without showing either. Passwords holding '#', '/' or '?' make
// url.Parse (or go-redis) quote a piece of them unless the error is
// rebuilt.
var MalformedURLs = []string{
	"redis://Us3rN4me:S3cr3tP4rt#tail@localhost:6379/0", // issue 7: invalid port ":S3cr3tP4rt"
	"redis://Us3rN4me:S3cr3t#P4rt@localhost:6379/0",
	"redis://Us3rN4me:S3cr3t/P4rt@localhost:6379/0",
	"redis://Us3rN4me:S3cr3t/P4rt@localhost:6379",
	"redis://Us3rN4me:S3cr3t?P4rt@localhost:6379/0",
	"redis://Us3rN4me:S3cr3t?P4rt=1@localhost:6379/0",
	"redis://Us3rN4me:S3cr3t%zzP4rt@localhost:6379/0",
	"redis://Us3rN4me:S3cr3t%P4rt@localhost:6379/0",
	"redis://Us3rN4me:S3cr3t P4rt@localhost:6379/0",
	"redis://Us3rN4me:S3cr3t\x00P4rt@localhost:6379/0",
	"redis://Us3rN4me:S3cr3t]P4rt@localhost:6379/0",
	"redis://Us3rN4me:S3cr3t/P4rt#x@localhost?y",
	"redis://Us3rN4me:S3cr3tP4rt@localhost:port/0",
	"redis://Us3rN4me:S3cr3tP4rt@localhost:99999999999999999999/0",
	"redis://Us3rN4me:S3cr3tP4rt@[::1/0",
	"redis://Us3rN4me:S3cr3tP4rt@local host:6379/0",
	"redis://Us3rN4me:S3cr3tP4rt@localhost:6379/x",
	"redis://Us3rN4me:S3cr3tP4rt@localhost:6379/0/1",
	"redis://Us3rN4me:S3cr3tP4rt@localhost:6379/0?dial_timeout=soon",
	"redis://Us3rN4me:S3cr3tP4rt@localhost:6379/0?bogus=1",
	"redis://Us3rN4me:S3cr3tP4rt@localhost:6379/0?addr=nohostport",
	"redis://Us3rN4me:S3cr3tP4rt@localhost:7000/3?addr=localhost:7001",
	"redis://Us3rN4me:S3cr3t/P4rt@localhost:7000?addr=localhost:7001",
	"redis://Us3rN4me:S3cr3t#P4rt@localhost:7000?addr=localhost:7001",
	"http://Us3rN4me:S3cr3tP4rt@localhost:6379/0",
	"Us3rN4me:S3cr3tP4rt@localhost:6379",
	"//Us3rN4me:S3cr3tP4rt@localhost:6379",
	"redis:Us3rN4me:S3cr3tP4rt@localhost",
	"redis://S3cr3t#P4rt@localhost",
	"unix://Us3rN4me:S3cr3tP4rt@",
	"\x7fredis://Us3rN4me:S3cr3tP4rt@localhost",
}

// Leak returns the first canary found in err printed with %v, %+v, %#v
// and %q, or "".
func Leak(err error) string {
	s := fmt.Sprintf("%v %+v %#v %q", err, err, err, err)
	for _, c := range Canaries {
		if strings.Contains(s, c) {
			return c
		}
	}
	return ""
}
