package nest_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
)

// collRoot declares one key of each collection kind under a user; the
// kinds' tests share it.
type collRoot struct {
	nest.Namespace `nest:"coll"`
	User           nest.Sub[collUser]
}

type collUser struct {
	nest.Namespace `nest:"user:{id}" ttl:"1h"`
	Tags           nest.Set[string] `nest:"tags"`
	Seen           nest.Set[int]    `nest:"seen" ttl:"1m,fixed"`
	Forever        nest.Set[string] `nest:"forever" ttl:"none"`
}

func newCollRoot(t testing.TB) (*collRoot, redis.UniversalClient) {
	t.Helper()
	rdb := newRedis(t)
	root, err := nest.New[collRoot](rdb, nil)
	if err != nil {
		t.Fatalf("nest.New: %v", err)
	}
	return root, rdb
}

// TestCollectionWriteAppliesTTL: a write that creates a collection gives it
// the declared TTL in the same atomic step; "fixed" never extends it; a
// key declared without TTL gets none; writes too large for one Lua unpack
// go in chunks with the same result.
func TestCollectionWriteAppliesTTL(t *testing.T) {
	ctx := context.Background()
	root, _ := newCollRoot(t)
	u := root.User.At(1)
	n, err := u.Tags.Add(ctx, "a", "b", "a")
	if err != nil || n != 2 {
		t.Fatalf("Add = %d, %v; want 2", n, err)
	}
	if ttl, err := u.Tags.TTL(ctx); err != nil || ttl < 59*time.Minute || ttl > time.Hour {
		t.Fatalf("TTL after Add = %v, %v; want about 1h", ttl, err)
	}
	if _, err := u.Seen.Add(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Seen.Expire(ctx, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Seen.Add(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if ttl, _ := u.Seen.TTL(ctx); ttl > 10*time.Second {
		t.Fatalf("fixed TTL extended by a write: %v", ttl)
	}
	if _, err := u.Forever.Add(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if ttl, _ := u.Forever.TTL(ctx); ttl != nest.NoExpiry {
		t.Fatalf("ttl none: TTL = %v", ttl)
	}
	big := make([]string, 20000)
	for i := range big {
		big[i] = strconv.Itoa(i)
	}
	if n, err := u.Tags.Add(ctx, big...); err != nil || n != 20000 {
		t.Fatalf("Add of 20000 = %d, %v", n, err)
	}
	got, err := u.Tags.Members(ctx)
	if err != nil || len(got) != 20002 {
		t.Fatalf("Members = %d, %v", len(got), err)
	}
}

func TestCollectionWrongType(t *testing.T) {
	ctx := context.Background()
	root, rdb := newCollRoot(t)
	u := root.User.At(2)
	must(t, rdb.RPush(ctx, u.Tags.Name(), "x").Err())
	_, err := u.Tags.Add(ctx, "a")
	var wt *nest.WrongTypeError
	if !errors.Is(err, nest.ErrWrongType) || !errors.As(err, &wt) || wt.Found != "list" || wt.Declared != "set" {
		t.Fatalf("Add on a list = %v; want ErrWrongType declared set found list", err)
	}
	if ttl := rdb.PTTL(ctx, u.Tags.Name()).Val(); ttl != -1 {
		t.Fatalf("failed write changed the TTL: %v", ttl)
	}
}

func TestCollectionPipeline(t *testing.T) {
	ctx := context.Background()
	root, _ := newCollRoot(t)
	u := root.User.At(3)
	for _, tx := range []bool{false, true} {
		p := u.Pipeline()
		if tx {
			p = u.TxPipeline()
		}
		f := u.Tags.In(p).Add(ctx, "a", "b")
		must(t, p.Exec(ctx))
		if n, err := f.Result(); err != nil || (n != 2 && !tx) {
			t.Fatalf("queued Add = %d, %v", n, err)
		}
		if ttl, _ := u.Tags.TTL(ctx); ttl < 59*time.Minute {
			t.Fatalf("queued Add: TTL %v", ttl)
		}
	}
	got, _ := u.Tags.Members(ctx)
	slices.Sort(got)
	if !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("Members = %v", got)
	}
}

// Declarations the collection kinds refuse at New.
type (
	badFixedKey struct {
		nest.Namespace `nest:"bad"`
		Name           nest.Key[string] `nest:"name" ttl:"1m,fixed"`
	}
	badFixedNS struct {
		nest.Namespace `nest:"bad" ttl:"1m,fixed"`
	}
	badSetDefault struct {
		nest.Namespace `nest:"bad"`
		Tags           nest.Set[string] `nest:"tags" default:"x"`
	}
	badSetParam struct {
		nest.Namespace `nest:"bad"`
		Tags           nest.Set[string] `nest:"tags:{id}"`
	}
	badSetElem struct {
		nest.Namespace `nest:"bad"`
		Chans          nest.Set[chan int] `nest:"chans"`
	}
	badFixedNone struct {
		nest.Namespace `nest:"bad"`
		Tags           nest.Set[string] `nest:"tags" ttl:"none,fixed"`
	}
)

func TestCollectionSchemaErrors(t *testing.T) {
	rdb := offlineClient(t)
	assertSchemaErr(t, tryNew[badFixedKey](rdb, nil), "badFixedKey", "Name", `"fixed" is for counters and collections`)
	assertSchemaErr(t, tryNew[badFixedNS](rdb, nil), "badFixedNS", "", `"fixed" belongs on a counter or collection key`)
	assertSchemaErr(t, tryNew[badSetDefault](rdb, nil), "badSetDefault", "Tags", "no default")
	assertSchemaErr(t, tryNew[badSetParam](rdb, nil), "badSetParam", "Tags", "has parameters", "nest.Sub")
	assertSchemaErr(t, tryNew[badSetElem](rdb, nil), "badSetElem", "Chans", "chan int")
	assertSchemaErr(t, tryNew[badFixedNone](rdb, nil), "badFixedNone", "Tags", "cannot be fixed")
}

// TestCollectionDescribe: a collection reports its kind, Redis type, element
// type and TTL mode.
func TestCollectionDescribe(t *testing.T) {
	root, err := nest.New[collRoot](offlineClient(t), nil)
	must(t, err)
	d := root.User.At(7).Seen.Describe()
	if d.Kind != "set" || d.RedisType != "set" || d.Type != "int" || d.Name != "coll:user:7:seen" ||
		d.TTL == nil || !d.TTL.Fixed || d.TTL.TTL != time.Minute {
		t.Fatalf("Describe = %+v (TTL %+v)", d, d.TTL)
	}
}

// TestCollectionDecodeError: a member that does not decode names the key
// and where it is.
func TestCollectionDecodeError(t *testing.T) {
	ctx := context.Background()
	root, rdb := newCollRoot(t)
	u := root.User.At(4)
	must(t, rdb.SAdd(ctx, u.Seen.Name(), "12", "x").Err())
	_, err := u.Seen.Members(ctx)
	var de *nest.DecodeError
	if !errors.As(err, &de) || de.Key != u.Seen.Name() || !strings.HasPrefix(de.Elem, "member ") || string(de.Raw) != "x" ||
		!strings.Contains(err.Error(), u.Seen.Name()) {
		t.Fatalf("Members over a bad member = %v; want a DecodeError naming the key and the member", err)
	}
}

// TestCollectionUnusableHandle: an unbound or badly parameterised handle
// fails without contacting Redis.
func TestCollectionUnusableHandle(t *testing.T) {
	ctx := context.Background()
	var zero nest.Set[string]
	if _, err := zero.Add(ctx, "a"); !errors.Is(err, nest.ErrNotBound) {
		t.Fatalf("zero Set Add = %v; want ErrNotBound", err)
	}
	root, err := nest.New[collRoot](offlineClient(t), nil)
	must(t, err)
	bad := root.User.At("a*b").Tags
	if _, err := bad.Add(ctx, "a"); !errors.Is(err, nest.ErrInvalidParam) {
		t.Fatalf("Add on a bad parameter = %v; want ErrInvalidParam", err)
	}
	if _, err := bad.Members(ctx); !errors.Is(err, nest.ErrInvalidParam) {
		t.Fatalf("Members on a bad parameter = %v; want ErrInvalidParam", err)
	}
}
