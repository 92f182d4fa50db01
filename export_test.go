package nest_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/redisimnest/nest"
)

type exportPinned struct {
	nest.Namespace `nest:"team:{team_id}" slot:"pin"`
	Name           nest.Key[string] `nest:"name"`
	Member         nest.Sub[exportMember]
}

type exportMember struct {
	nest.Namespace `nest:"member:{member_id}"`
	Role           nest.Key[string] `nest:"role"`
}

type exportRoot struct {
	nest.Namespace `nest:"ex"`
	Root           Root
	Team           nest.Sub[exportPinned]
	Tenant         nest.Sub[tenantNS]
}

func TestExport(t *testing.T) {
	t.Parallel()
	root := nest.MustNew[Root](offlineClient(t), &nest.Options{MaxParamLen: 64})
	s := nest.Export(root.Namespace)
	if s.Version != nest.SchemaVersion || s.MaxParamLen != 64 {
		t.Errorf("Export: version %d, max_param_len %d", s.Version, s.MaxParamLen)
	}
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Version     int              `json:"version"`
		MaxParamLen int              `json:"max_param_len"`
		Root        nest.Description `json:"root"`
	}
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.Version != 1 || back.MaxParamLen != 64 || back.Root.Template != "root" || len(back.Root.Children) != 3 {
		t.Errorf("round trip: %+v", back)
	}
	if d := nest.Export(nest.Namespace{}); d.Root.Error == "" || d.MaxParamLen != nest.DefaultMaxParamLen {
		t.Errorf("Export of an unbound namespace = %+v", d)
	}
	p := nest.MustNew[paramsRoot](offlineClient(t), nil)
	if d := nest.Export(p.Namespace).Root; len(d.Children) != 1 || !d.Children[0].Validated || d.Validated {
		t.Errorf("Validated: root %v, tenant %+v", d.Validated, d.Children)
	}
}

func TestCheckParam(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"42", "acme", "é", "a-b_c.d"} {
		if err := nest.CheckParam(v, 0); err != nil {
			t.Errorf("CheckParam(%q) = %v", v, err)
		}
	}
	root := nest.MustNew[Root](offlineClient(t), nil)
	for _, v := range []string{"", "4:2", "4*", "a b", "{x}", "a\uFF1Ab", "\u3164", string(make([]byte, 300))} {
		err := nest.CheckParam(v, 0)
		var pe *nest.ParamError
		if !errors.As(err, &pe) || !errors.Is(err, nest.ErrInvalidParam) {
			t.Errorf("CheckParam(%q) = %v, want a ParamError", v, err)
			continue
		}
		// The same reason as At gives.
		var atErr *nest.ParamError
		if !errors.As(root.User.At(v).Err(), &atErr) || atErr.Reason != pe.Reason {
			t.Errorf("CheckParam(%q) reason %q, At says %v", v, pe.Reason, root.User.At(v).Err())
		}
	}
	if err := nest.CheckParam("abcdef", 5); err == nil {
		t.Error("CheckParam over maxLen = nil")
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	r := nest.MustNew[exportRoot](offlineClient(t), nil)
	for prefix, want := range map[string]string{
		"ex":                              "exportRoot",
		"ex:root":                         "exportRoot.Root",
		"ex:root:user:42":                 "exportRoot.Root.User",
		"ex:root:user:42:message:7":       "exportRoot.Root.User.Messages",
		"ex:root:admin:1:eu":              "exportRoot.Root.Admin",
		"ex:root:app":                     "exportRoot.Root.App",
		"ex:{team:t1}":                    "exportRoot.Team",
		"ex:{team:t1}:member:m2":          "exportRoot.Team.Member",
		"ex:tenant:acme":                  "exportRoot.Tenant",
		"ex:root:admin:1:eu:message:abc":  "exportRoot.Root.Admin.Messages",
		"ex:root:user:42:message:7:x:y:z": "",
		"ex:root:user:4*":                 "",
		"ex:root:user:42:age":             "",
		"ex:team:t1":                      "",
		"ex:tenant:ACME":                  "",
		"other:root":                      "",
		"ex:root:user:":                   "",
	} {
		ns, err := r.Lookup(prefix)
		if want == "" {
			if err == nil || !errors.Is(err, nest.ErrInvalidParam) {
				t.Errorf("Lookup(%q) = %v, %v; want ErrInvalidParam", prefix, ns.Prefix(), err)
			}
			continue
		}
		if err != nil || ns.Prefix() != prefix || ns.Describe().Field != want {
			t.Errorf("Lookup(%q) = %q (%s), %v; want %s", prefix, ns.Prefix(), ns.Describe().Field, err, want)
		}
	}
	// The same instance as At builds.
	ns, _ := r.Lookup("ex:root:user:42")
	if got, want := ns.Describe(), r.Root.User.At(42).Describe(); got.Prefix != want.Prefix || len(got.Params) != 1 || got.Params[0] != want.Params[0] {
		t.Errorf("Lookup describes %+v, At %+v", got.Params, want.Params)
	}
	var pe *nest.ParamError
	if _, err := r.Lookup("ex:tenant:ACME"); !errors.As(err, &pe) || pe.Field != "exportRoot.Tenant" {
		t.Errorf("Lookup of a tenant ValidateParams refuses = %v", err)
	}
}
