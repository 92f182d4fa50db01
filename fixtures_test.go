package nest_test

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/redisimnest/nest"
)

// Schema fixtures used by tests of several files. Fixtures used by one file
// only are declared in that file.

// ---- The example schema ----

// The original redisimnest example schema, extended with the Message
// namespace it nests under both User and Admin. Tests of every file use it.
type (
	App struct {
		nest.Namespace `nest:"app" ttl:"80s"`
		Tokens         nest.Key[[]string] `nest:"tokens" default:"[]"`
		PendingUsers   nest.Key[[]string] `nest:"pending_users"`
	}

	Message struct {
		nest.Namespace `nest:"message:{message_id}"`
		Text           nest.Key[string] `nest:"text"`
		Seen           nest.Key[bool]   `nest:"seen" default:"false" ttl:"30s"`
	}

	User struct {
		nest.Namespace `nest:"user:{user_id}" ttl:"120s"`
		Age            nest.Key[int]    `nest:"age" default:"0"`
		Name           nest.Key[string] `nest:"name" default:"Unknown"`
		Messages       nest.Sub[Message]
	}

	Admin struct {
		nest.Namespace `nest:"admin:{admin_id}:{region}"`
		Level          nest.Key[int] `nest:"level"`
		Messages       nest.Sub[Message]
	}

	Root struct {
		nest.Namespace `nest:"root"`
		App            App
		User           nest.Sub[User]
		Admin          nest.Sub[Admin]
		ProjectName    nest.Key[string] `nest:"project_name"`
	}
)

// ---- Parameter validation ----

// paramsRoot holds a validated namespace and a parameterised key.
type paramsRoot struct {
	nest.Namespace `nest:"proot"`
	Tenant         nest.Sub[tenantNS]
	Item           nest.ParamKey[string] `nest:"item:{item_id}"`
	Pair           nest.ParamKey[int]    `nest:"pair:{left}:{right}"`
}

// tenantNS validates its own parameter: tenants are lowercase ASCII.
type tenantNS struct {
	nest.Namespace `nest:"tenant:{tenant_id}"`
	Plan           nest.Key[string] `nest:"plan"`
}

var lowercaseRE = regexp.MustCompile(`^[a-z]+$`)

func (tenantNS) ValidateParams(p map[string]string) error {
	if !lowercaseRE.MatchString(p["tenant_id"]) {
		return fmt.Errorf("tenant %q is not lowercase ASCII", p["tenant_id"])
	}
	return nil
}

// ---- TTL inheritance ----

// A schema exercising every TTL drilling rule:
//
//	t (100s)
//	├── plain, own (5s), never (none)
//	├── short (50s)
//	│   ├── k, never (none), own (7s), item:{id}
//	│   ├── deeper (no tag → 50s) → k
//	│   └── grp:{g} (Sub, no tag → 50s) → k, own (3s)
//	├── sibling (no tag → 100s) → k
//	├── frozen (none) → k, own (9s), inner (no tag → none) → k
//	├── slide (1500ms,sliding) → k, fixed (1500ms, not sliding)
//	└── forms → secs ("80"), dur ("80s"), hm ("1h30m"), ms ("2500ms")
type (
	ttlDeeper struct {
		nest.Namespace `nest:"deeper"`
		K              nest.Key[string] `nest:"k"`
	}
	ttlGroup struct {
		nest.Namespace `nest:"grp:{g}"`
		K              nest.Key[string] `nest:"k"`
		Own            nest.Key[string] `nest:"own" ttl:"3s"`
	}
	ttlShort struct {
		nest.Namespace `nest:"short" ttl:"50s"`
		K              nest.Key[string]      `nest:"k"`
		Never          nest.Key[string]      `nest:"never" ttl:"none"`
		Own            nest.Key[string]      `nest:"own" ttl:"7s"`
		Item           nest.ParamKey[string] `nest:"item:{id}"`
		Deeper         ttlDeeper
		Group          nest.Sub[ttlGroup]
	}
	ttlSibling struct {
		nest.Namespace `nest:"sibling"`
		K              nest.Key[string] `nest:"k"`
	}
	ttlInner struct {
		nest.Namespace `nest:"inner"`
		K              nest.Key[string] `nest:"k"`
	}
	ttlFrozen struct {
		nest.Namespace `nest:"frozen" ttl:"none"`
		K              nest.Key[string] `nest:"k"`
		Own            nest.Key[string] `nest:"own" ttl:"9s"`
		Inner          ttlInner
	}
	ttlSlide struct {
		nest.Namespace `nest:"slide" ttl:"1500ms,sliding"`
		K              nest.Key[int] `nest:"k"`
		Fixed          nest.Key[int] `nest:"fixed" ttl:"1500ms"`
	}
	ttlForms struct {
		nest.Namespace `nest:"forms"`
		Secs           nest.Key[string] `nest:"secs" ttl:"80"`
		Dur            nest.Key[string] `nest:"dur" ttl:"80s"`
		HM             nest.Key[string] `nest:"hm" ttl:"1h30m"`
		MS             nest.Key[string] `nest:"ms" ttl:"2500ms"`
		SlidingSecs    nest.Key[string] `nest:"ss" ttl:"90,sliding"`
	}
	ttlRoot struct {
		nest.Namespace `nest:"t" ttl:"100s"`
		Plain          nest.Key[string] `nest:"plain"`
		Own            nest.Key[string] `nest:"own" ttl:"5s"`
		Never          nest.Key[string] `nest:"never" ttl:"none"`
		Short          ttlShort
		Sibling        ttlSibling
		Frozen         ttlFrozen
		Slide          ttlSlide
		Forms          ttlForms
	}
)

// ---- Redis Cluster ----

type (
	pinnedUser struct {
		nest.Namespace `nest:"user:{user_id}" slot:"pin" ttl:"120s"`
		Age            nest.Key[int]         `nest:"age" default:"0"`
		Name           nest.Key[string]      `nest:"name" default:"Unknown"`
		Items          nest.ParamKey[string] `nest:"item:{item_id}"`
		Messages       nest.Sub[Message]
	}
	clusterUser struct {
		nest.Namespace `nest:"user:{user_id}"`
		Age            nest.Key[int]         `nest:"age" default:"0"`
		Items          nest.ParamKey[string] `nest:"item:{item_id}"`
	}
	clusterRoot struct {
		nest.Namespace `nest:"cl"`
		User           nest.Sub[clusterUser]
		Pinned         nest.Sub[pinnedUser] `nest:"puser:{user_id}"`
		Motd           nest.Key[string]     `nest:"motd"`
	}
)

// ---- Passwords and secrets ----

// fastPasswords keeps argon2id cheap in tests that are not about its cost.
var fastPasswords = nest.PasswordParams{Memory: 64, Iterations: 1}

type passwordRoot struct {
	nest.Namespace `nest:"site"`
	User           nest.Sub[passwordUser]
}

type passwordUser struct {
	nest.Namespace `nest:"user:{user_id}" ttl:"120s"`
	Password       nest.Password `nest:"password"`
	Recovery       nest.Password `nest:"recovery" ttl:"30s,sliding"`
}

// The secure tests use their own schema, so that the shared fixture needs
// no keyring.
type (
	Card struct {
		Number string `json:"number"`
		Expiry string `json:"expiry"`
	}

	Account struct {
		nest.Namespace `nest:"account:{account_id}" ttl:"120s"`
		Password       nest.Password         `nest:"password"`
		Token          nest.Secret[string]   `nest:"token"`
		Blob           nest.Secret[[]byte]   `nest:"blob"`
		Card           nest.Secret[Card]     `nest:"card"`
		PIN            nest.Secret[int]      `nest:"pin" default:"0" ttl:"none"`
		Name           nest.Key[string]      `nest:"name"`
		Notes          nest.Secret[[]string] `nest:"notes" codec:"msgpack"`
	}

	Vault struct {
		nest.Namespace `nest:"vault"`
		Account        nest.Sub[Account]
		Master         nest.Secret[string] `nest:"master"`
	}
)

var hostileKey = nest.SecretKey{ID: "h1", Key: bytes.Repeat([]byte{7}, nest.SecretKeyLen)}

// ---- Values with their own encodings ----

// textVal is stored through MarshalText: "name|level".
type textVal struct {
	Name  string
	Level int
}

func (v textVal) MarshalText() ([]byte, error) {
	return fmt.Appendf(nil, "%s|%d", v.Name, v.Level), nil
}

func (v *textVal) UnmarshalText(b []byte) error {
	name, level, ok := strings.Cut(string(b), "|")
	if !ok {
		return fmt.Errorf("textVal: no '|' in %q", b)
	}
	v.Name = name
	_, err := fmt.Sscan(level, &v.Level)
	return err
}

// pointVal is a plain struct value.
type pointVal struct {
	X int `json:"x"`
	Y int `json:"y"`
}
