package nest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redisimnest/nest"
)

// ttlCase is a key handle with the TTL that drilling must give it
// (0 means no expiry).
type ttlCase struct {
	name string
	key  nest.Key[string]
	want time.Duration
}

func ttlCases(r *ttlRoot, root *Root) []ttlCase {
	return []ttlCase{
		{"root TTL drills to a root key", r.Plain, 100 * time.Second},
		{"key TTL beats the root's", r.Own, 5 * time.Second},
		{"key none beats the root's", r.Never, 0},
		{"child namespace TTL beats the parent's", r.Short.K, 50 * time.Second},
		{"key none inside a TTL namespace", r.Short.Never, 0},
		{"key TTL beats the child namespace's", r.Short.Own, 7 * time.Second},
		{"ParamKey inherits its namespace's TTL", r.Short.Item.At("x"), 50 * time.Second},
		{"grandchild without tag inherits the nearest", r.Short.Deeper.K, 50 * time.Second},
		{"Sub without tag inherits the nearest", r.Short.Group.At(1).K, 50 * time.Second},
		{"key TTL in a Sub", r.Short.Group.At(1).Own, 3 * time.Second},
		{"sibling's TTL does not leak", r.Sibling.K, 100 * time.Second},
		{"namespace none beats the root's", r.Frozen.K, 0},
		{"key TTL inside a none namespace", r.Frozen.Own, 9 * time.Second},
		{"none drills down", r.Frozen.Inner.K, 0},
		{"bare number is seconds", r.Forms.Secs, 80 * time.Second},
		{"duration", r.Forms.Dur, 80 * time.Second},
		{"hours and minutes", r.Forms.HM, 90 * time.Minute},
		{"milliseconds", r.Forms.MS, 2500 * time.Millisecond},
		{"sliding bare number", r.Forms.SlidingSecs, 90 * time.Second},
		// The example schema.
		{"TTL-less root key has no expiry", root.ProjectName, 0},
		{"User TTL", root.User.At(1).Name, 120 * time.Second},
		{"Message under User inherits User's", root.User.At(1).Messages.At(2).Text, 120 * time.Second},
		{"Message under Admin has none", root.Admin.At(1, "eu").Messages.At(2).Text, 0},
	}
}

func TestTTLEffectiveWithoutRedis(t *testing.T) {
	t.Parallel()
	rdb := offlineClient(t)
	r := nest.MustNew[ttlRoot](rdb, nil)
	root := nest.MustNew[Root](rdb, nil)
	for _, tc := range ttlCases(r, root) {
		d, ok := tc.key.EffectiveTTL()
		if ok != (tc.want > 0) || d != tc.want {
			t.Errorf("%s: %s.EffectiveTTL() = %v, %v; want %v", tc.name, tc.key.Name(), d, ok, tc.want)
		}
	}
	// Keys of other types of the example schema.
	if d, ok := root.User.At(1).Messages.At(2).Seen.EffectiveTTL(); !ok || d != 30*time.Second {
		t.Errorf("Seen.EffectiveTTL() = %v, %v; want 30s", d, ok)
	}
	if _, ok := root.Admin.At(1, "eu").Level.EffectiveTTL(); ok {
		t.Error("Admin.Level has a TTL, want none")
	}
	if d, ok := root.App.Tokens.EffectiveTTL(); !ok || d != 80*time.Second {
		t.Errorf("App.Tokens.EffectiveTTL() = %v, %v; want 80s", d, ok)
	}
	// Namespaces.
	nss := []struct {
		name string
		ns   nest.Namespace
		want time.Duration
	}{
		{"Root", root.Namespace, 0},
		{"App", root.App.Namespace, 80 * time.Second},
		{"User", root.User.At(1).Namespace, 120 * time.Second},
		{"User Messages", root.User.At(1).Messages.At(1).Namespace, 120 * time.Second},
		{"Admin", root.Admin.At(1, "x").Namespace, 0},
		{"t", r.Namespace, 100 * time.Second},
		{"t:short", r.Short.Namespace, 50 * time.Second},
		{"t:short:deeper", r.Short.Deeper.Namespace, 50 * time.Second},
		{"t:short:grp", r.Short.Group.At("a").Namespace, 50 * time.Second},
		{"t:sibling", r.Sibling.Namespace, 100 * time.Second},
		{"t:frozen", r.Frozen.Namespace, 0},
		{"t:frozen:inner", r.Frozen.Inner.Namespace, 0},
		{"t:slide", r.Slide.Namespace, 1500 * time.Millisecond},
		{"t:forms", r.Forms.Namespace, 100 * time.Second},
	}
	for _, n := range nss {
		d, ok := n.ns.EffectiveTTL()
		if ok != (n.want > 0) || d != n.want {
			t.Errorf("%s.EffectiveTTL() = %v, %v; want %v", n.name, d, ok, n.want)
		}
	}
	// An unusable handle still knows its declared TTL; a zero one none.
	if d, ok := root.User.At("").Age.EffectiveTTL(); !ok || d != 120*time.Second {
		t.Errorf("unusable Age.EffectiveTTL() = %v, %v", d, ok)
	}
	var zero nest.Key[int]
	if d, ok := zero.EffectiveTTL(); ok || d != 0 {
		t.Errorf("zero Key EffectiveTTL() = %v, %v", d, ok)
	}
}

func TestTTLDrillingAgainstRedis(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root, rdb := newRoot(t)
	r := nest.MustNew[ttlRoot](rdb, nil)
	for _, tc := range ttlCases(r, root) {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.key.Set(ctx, "v"); err != nil {
				t.Fatal(err)
			}
			pttl, err := tc.key.TTL(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ttl, err := tc.key.TTL(ctx)
			if err != nil {
				t.Fatal(err)
			}
			assertPTTL(t, rdb, tc.key.Name(), tc.want, pttl, ttl)
			et, err := tc.key.ExpireTime(ctx)
			switch {
			case err != nil:
				t.Errorf("ExpireTime: %v", err)
			case tc.want == 0 && !et.IsZero():
				t.Errorf("ExpireTime = %v, want zero time", et)
			case tc.want >= time.Second && (et.Before(time.Now().Add(-time.Second)) || et.After(time.Now().Add(tc.want+time.Second))):
				t.Errorf("ExpireTime = %v, want about now+%v", et, tc.want)
			}
		})
	}
	// TTL and PTTL of a missing key are ErrNotFound, not a duration.
	if _, err := root.User.At(999).Age.TTL(ctx); !isNotFound(err) {
		t.Errorf("TTL of missing key: %v, want ErrNotFound", err)
	}
	if _, err := root.User.At(999).Age.TTL(ctx); !isNotFound(err) {
		t.Errorf("PTTL of missing key: %v, want ErrNotFound", err)
	}
}

func TestTTLWritesAreAtomic(t *testing.T) {
	if onCluster {
		t.Skip("records commands with a client hook, which Redis Cluster transactions (node clients) do not run")
	}
	t.Parallel()
	ctx := context.Background()
	r, root, rdb, cc := newRecordedTTLRoot(t)

	expectOne := func(t *testing.T, what string, mark int, want string) {
		t.Helper()
		got := argStrings(cc.Since(mark))
		n := 0
		for _, g := range got {
			if strings.HasPrefix(g, "set ") {
				n++
				if g != want {
					t.Errorf("%s sent %q, want %q", what, g, want)
				}
			}
			if strings.HasPrefix(g, "expire") || strings.HasPrefix(g, "pexpire") {
				t.Errorf("%s sent a separate %q", what, g)
			}
		}
		if n != 1 {
			t.Errorf("%s sent %d SET commands, want 1: %q", what, n, got)
		}
	}

	mark := cc.Len()
	if err := r.Plain.Set(ctx, "v"); err != nil {
		t.Fatal(err)
	}
	expectOne(t, "Set", mark, "set t:plain v ex 100")
	if got := argStrings(cc.Since(mark)); len(got) != 1 {
		t.Errorf("Set sent %q, want a single command", got)
	}

	mark = cc.Len()
	if err := r.Forms.MS.Set(ctx, "v"); err != nil {
		t.Fatal(err)
	}
	expectOne(t, "Set with ms TTL", mark, "set t:forms:ms v px 2500")

	mark = cc.Len()
	if err := root.ProjectName.Set(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	expectOne(t, "Set without TTL", mark, "set root:project_name p")

	mark = cc.Len()
	if ok, err := r.Short.K.SetNX(ctx, "v"); err != nil || !ok {
		t.Fatalf("SetNX = %v, %v", ok, err)
	}
	expectOne(t, "SetNX", mark, "set t:short:k v ex 50 nx")

	mark = cc.Len()
	if _, _, err := r.Short.Own.GetSet(ctx, "v"); err != nil {
		t.Fatal(err)
	}
	expectOne(t, "GetSet", mark, "set t:short:own v ex 7 get")

	mark = cc.Len()
	if _, err := r.Sibling.K.Update(ctx, func(cur string, _ bool) (string, error) { return cur + "u", nil }); err != nil {
		t.Fatal(err)
	}
	got := argStrings(cc.Since(mark))
	expectOne(t, "Update", mark, "set t:sibling:k u ex 100")
	if !strings.Contains(strings.Join(got, "|"), "multi") {
		t.Errorf("Update did not write in MULTI/EXEC: %q", got)
	}

	// The TTLs really are on the keys.
	for name, want := range map[string]time.Duration{
		"t:plain": 100 * time.Second, "t:short:k": 50 * time.Second,
		"t:short:own": 7 * time.Second, "t:sibling:k": 100 * time.Second,
	} {
		if d := rdb.PTTL(ctx, name).Val(); d <= 0 || d > want {
			t.Errorf("PTTL %s = %v, want (0, %v]", name, d, want)
		}
	}
	if d := rdb.PTTL(ctx, "root:project_name").Val(); d != -1 {
		t.Errorf("PTTL root:project_name = %v, want -1", d)
	}
}

func TestTTLSetOptions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, root, rdb, _ := newRecordedTTLRoot(t)
	k := r.Plain // declared 100s

	// KeepTTL keeps an existing TTL instead of applying the declared one.
	if err := k.Set(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if ok, err := k.Expire(ctx, 1000*time.Second); err != nil || !ok {
		t.Fatalf("Expire = %v, %v", ok, err)
	}
	if err := k.Set(ctx, "b", nest.KeepTTL()); err != nil {
		t.Fatal(err)
	}
	if v, _ := k.Get(ctx); v != "b" {
		t.Errorf("after KeepTTL Set, value %q, want b", v)
	}
	if d, _ := k.TTL(ctx); d <= 900*time.Second || d > 1000*time.Second {
		t.Errorf("after KeepTTL Set, TTL %v, want the kept ~1000s", d)
	}
	// Without the option, Set applies the declared TTL again.
	if err := k.Set(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if d, _ := k.TTL(ctx); d <= 0 || d > 100*time.Second {
		t.Errorf("after plain Set, TTL %v, want <= 100s", d)
	}
	// KeepTTL on a persistent key keeps it persistent.
	if ok, err := k.Persist(ctx); err != nil || !ok {
		t.Fatalf("Persist = %v, %v", ok, err)
	}
	if err := k.Set(ctx, "d", nest.KeepTTL()); err != nil {
		t.Fatal(err)
	}
	if d, _ := k.TTL(ctx); d != nest.NoExpiry {
		t.Errorf("KeepTTL on a persistent key: TTL %v, want NoExpiry", d)
	}
	// KeepTTL on a missing key stores it without expiry.
	fresh := r.Short.K
	if err := fresh.Set(ctx, "x", nest.KeepTTL()); err != nil {
		t.Fatal(err)
	}
	if d, _ := fresh.TTL(ctx); d != nest.NoExpiry {
		t.Errorf("KeepTTL on a missing key: TTL %v, want NoExpiry", d)
	}
	// GetSet honours KeepTTL too.
	if _, err := fresh.Expire(ctx, 500*time.Second); err != nil {
		t.Fatal(err)
	}
	if old, existed, err := fresh.GetSet(ctx, "y", nest.KeepTTL()); err != nil || !existed || old != "x" {
		t.Fatalf("GetSet = %q, %v, %v", old, existed, err)
	}
	if d, _ := fresh.TTL(ctx); d <= 400*time.Second || d > 500*time.Second {
		t.Errorf("GetSet KeepTTL: TTL %v, want the kept ~500s", d)
	}

	// WithTTL overrides the declared TTL, on a TTL key and on a none key.
	if err := k.Set(ctx, "e", nest.WithTTL(3*time.Second)); err != nil {
		t.Fatal(err)
	}
	if d, _ := k.TTL(ctx); d <= 0 || d > 3*time.Second {
		t.Errorf("WithTTL(3s): PTTL %v", d)
	}
	if err := r.Never.Set(ctx, "e", nest.WithTTL(1500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if d, _ := r.Never.TTL(ctx); d <= 0 || d > 1500*time.Millisecond {
		t.Errorf("WithTTL on a none key: PTTL %v, want (0, 1.5s]", d)
	}
	if err := root.ProjectName.Set(ctx, "e", nest.WithTTL(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if d, _ := root.ProjectName.TTL(ctx); d <= 0 || d > time.Minute {
		t.Errorf("WithTTL on a TTL-less root key: TTL %v", d)
	}
	// WithTTL(0) and negative durations store without expiry.
	for _, d := range []time.Duration{0, -time.Second} {
		if err := k.Set(ctx, "f", nest.WithTTL(d)); err != nil {
			t.Fatal(err)
		}
		if got, _ := k.TTL(ctx); got != nest.NoExpiry {
			t.Errorf("WithTTL(%v): TTL %v, want NoExpiry", d, got)
		}
	}
	// SetNX with WithTTL.
	if ok, err := r.Sibling.K.SetNX(ctx, "g", nest.WithTTL(2*time.Second)); err != nil || !ok {
		t.Fatalf("SetNX = %v, %v", ok, err)
	}
	if d, _ := r.Sibling.K.TTL(ctx); d <= 0 || d > 2*time.Second {
		t.Errorf("SetNX WithTTL(2s): PTTL %v", d)
	}
	// The last option wins.
	if err := k.Set(ctx, "h", nest.KeepTTL(), nest.WithTTL(4*time.Second)); err != nil {
		t.Fatal(err)
	}
	if d, _ := k.TTL(ctx); d <= 0 || d > 4*time.Second {
		t.Errorf("KeepTTL then WithTTL(4s): PTTL %v", d)
	}
	_ = rdb
}

func TestTTLRootWithoutTTLIsNotZero(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root, rdb := newRoot(t)
	if err := root.ProjectName.Set(ctx, "RedisimNest"); err != nil {
		t.Fatal(err)
	}
	if d, err := root.ProjectName.TTL(ctx); err != nil || d != nest.NoExpiry {
		t.Errorf("TTL = %v, %v; want NoExpiry", d, err)
	}
	if d, err := root.Admin.At(1, "eu").Level.TTL(ctx); !isNotFound(err) {
		t.Errorf("PTTL of missing key = %v, %v; want ErrNotFound", d, err)
	}
	if err := root.Admin.At(1, "eu").Level.Set(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if d := rdb.TTL(ctx, "root:admin:1:eu:level").Val(); d != -1 {
		t.Errorf("TTL root:admin:1:eu:level = %v, want -1", d)
	}
	// The key is still there after a moment: "no TTL" never became "0".
	time.Sleep(20 * time.Millisecond)
	for _, k := range []string{"root:project_name", "root:admin:1:eu:level"} {
		if n := rdb.Exists(ctx, k).Val(); n != 1 {
			t.Errorf("EXISTS %s = %d, want 1", k, n)
		}
	}
}

func TestTTLSlidingRenewsOnRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, _, _, cc := newRecordedTTLRoot(t)
	const ttl = 1500 * time.Millisecond
	slide, fixed := r.Slide.K, r.Slide.Fixed

	if d, ok := slide.EffectiveTTL(); !ok || d != ttl {
		t.Fatalf("slide EffectiveTTL = %v, %v", d, ok)
	}
	for _, k := range []nest.Key[int]{slide, fixed} {
		if err := k.Set(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(600 * time.Millisecond)
	for _, k := range []nest.Key[int]{slide, fixed} {
		if d, _ := k.TTL(ctx); d <= 0 || d > 950*time.Millisecond {
			t.Fatalf("%s PTTL after 600ms = %v, want <= 900ms", k, d)
		}
	}

	mark := cc.Len()
	if v, err := slide.Get(ctx); err != nil || v != 1 {
		t.Fatalf("slide Get = %v, %v", v, err)
	}
	if got := argStrings(cc.Since(mark)); len(got) != 1 || got[0] != "getex t:slide:k px 1500" {
		t.Errorf("sliding Get sent %q, want one GETEX with PX 1500", got)
	}
	if d, _ := slide.TTL(ctx); d <= 1200*time.Millisecond || d > ttl {
		t.Errorf("slide PTTL after Get = %v, want renewed to ~1.5s", d)
	}

	mark = cc.Len()
	if v, err := fixed.Get(ctx); err != nil || v != 1 {
		t.Fatalf("fixed Get = %v, %v", v, err)
	}
	if got := argStrings(cc.Since(mark)); len(got) != 1 || got[0] != "get t:slide:fixed" {
		t.Errorf("non-sliding Get sent %q, want a plain GET", got)
	}
	if d, _ := fixed.TTL(ctx); d <= 0 || d > 950*time.Millisecond {
		t.Errorf("fixed PTTL after Get = %v, want not renewed", d)
	}

	// Lookup renews too; a missing sliding key reads as missing.
	time.Sleep(300 * time.Millisecond)
	if _, ok, err := slide.Lookup(ctx); err != nil || !ok {
		t.Fatalf("Lookup = %v, %v", ok, err)
	}
	if d, _ := slide.TTL(ctx); d <= 1200*time.Millisecond {
		t.Errorf("slide PTTL after Lookup = %v, want renewed", d)
	}
	// The non-sliding key expires on time while the sliding one, read
	// regularly, outlives it.
	deadline := time.Now().Add(1500 * time.Millisecond)
	for time.Now().Before(deadline) {
		if _, err := slide.Get(ctx); err != nil {
			t.Fatalf("sliding key expired while being read: %v", err)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if ok, _ := fixed.Exists(ctx); ok {
		t.Error("non-sliding key still exists after its TTL")
	}
	if ok, _ := slide.Exists(ctx); !ok {
		t.Error("sliding key expired although it was read every 250ms")
	}
	if _, ok, err := r.Slide.K.Lookup(ctx); err != nil || !ok {
		t.Errorf("Lookup = %v, %v", ok, err)
	}
	if _, err := fixed.Get(ctx); !isNotFound(err) {
		t.Errorf("Get of expired key = %v, want ErrNotFound", err)
	}
}

func TestTTLRestoreAndRenameApplyDeclaredTTL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, _, rdb, _ := newRecordedTTLRoot(t)
	src, dst := r.Frozen.K, r.Short.K // none and 50s
	if err := src.Set(ctx, "v"); err != nil {
		t.Fatal(err)
	}
	dump, err := src.Dump(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := dst.Restore(ctx, dump); err != nil {
		t.Fatal(err)
	}
	if d, _ := dst.TTL(ctx); d <= 0 || d > 50*time.Second {
		t.Errorf("Restore: TTL %v, want the declared 50s", d)
	}
	if err := r.Frozen.Inner.K.RestoreReplace(ctx, dump); err != nil {
		t.Fatal(err)
	}
	if d, _ := r.Frozen.Inner.K.TTL(ctx); d != nest.NoExpiry {
		t.Errorf("RestoreReplace into a none key: TTL %v, want NoExpiry", d)
	}
	// Rename gives the destination its own TTL, or none.
	if onCluster {
		return // these keys are in different hash slots: see TestClusterCrossSlotRename
	}
	if err := dst.Rename(ctx, r.Frozen.Own); err != nil {
		t.Fatal(err)
	}
	if d, _ := r.Frozen.Own.TTL(ctx); d <= 0 || d > 9*time.Second {
		t.Errorf("Rename to a 9s key: TTL %v", d)
	}
	if err := r.Frozen.Own.Rename(ctx, r.Never); err != nil {
		t.Fatal(err)
	}
	if d, _ := r.Never.TTL(ctx); d != nest.NoExpiry {
		t.Errorf("Rename to a none key: TTL %v, want NoExpiry", d)
	}
	if v := rdb.Get(ctx, "t:never").Val(); v != "v" {
		t.Errorf("renamed value = %q", v)
	}
}
