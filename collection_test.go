package nest_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
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
