package nest_test

import (
	"context"
	"testing"
	"time"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/internal/redistest"
)

// The original's envelope beside nest's JSON codec: the same value, the
// same server, the two interleaved in one run.

type benchInteropUser struct {
	nest.Namespace `nest:"user:{user_id}" ttl:"120s"`
	ProfileJSON    nest.Key[benchProfile] `nest:"profile_json"`
	ProfileEnv     nest.Key[benchProfile] `nest:"profile_env" codec:"redisimnest"`
	TagsJSON       nest.Key[[]string]     `nest:"tags_json"`
	TagsEnv        nest.Key[[]string]     `nest:"tags_env" codec:"redisimnest"`
	AgeJSON        nest.Key[int]          `nest:"age_json" codec:"json"`
	AgeEnv         nest.Key[int]          `nest:"age_env" codec:"redisimnest"`
	SeenJSON       nest.Key[time.Time]    `nest:"seen_json" codec:"json"`
	SeenEnv        nest.Key[time.Time]    `nest:"seen_env" codec:"redisimnest"`
}

type benchInteropRoot struct {
	nest.Namespace `nest:"bi"`
	User           nest.Sub[benchInteropUser]
}

// BenchmarkEnvelopeCodec runs Set and Get of one value through a key with
// nest's JSON codec and through a key with the original's envelope
// (`codec:"redisimnest"`), back to back in each iteration, alternating
// which goes first, and reports the mean of each and envelope/json.
func BenchmarkEnvelopeCodec(b *testing.B) {
	rdb := redistest.Shared(b)
	root := nest.MustNew[benchInteropRoot](rdb, nil)
	u := root.User.At(1)
	ctx := context.Background()
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	tags := []string{"admin", "beta", "math"}
	seen := time.Date(2025, 5, 7, 10, 21, 44, 798000000, time.UTC)
	must(u.ProfileJSON.Set(ctx, profile))
	must(u.ProfileEnv.Set(ctx, profile))
	must(u.TagsJSON.Set(ctx, tags))
	must(u.TagsEnv.Set(ctx, tags))
	must(u.AgeJSON.Set(ctx, 42))
	must(u.AgeEnv.Set(ctx, 42))
	must(u.SeenJSON.Set(ctx, seen))
	must(u.SeenEnv.Set(ctx, seen))
	for _, c := range []struct {
		name           string
		json, envelope func()
	}{
		{"set-struct", func() { must(u.ProfileJSON.Set(ctx, profile)) }, func() { must(u.ProfileEnv.Set(ctx, profile)) }},
		{"get-struct", func() { _, err := u.ProfileJSON.Get(ctx); must(err) }, func() { _, err := u.ProfileEnv.Get(ctx); must(err) }},
		{"set-list", func() { must(u.TagsJSON.Set(ctx, tags)) }, func() { must(u.TagsEnv.Set(ctx, tags)) }},
		{"get-list", func() { _, err := u.TagsJSON.Get(ctx); must(err) }, func() { _, err := u.TagsEnv.Get(ctx); must(err) }},
		{"set-int", func() { must(u.AgeJSON.Set(ctx, 42)) }, func() { must(u.AgeEnv.Set(ctx, 42)) }},
		{"get-int", func() { _, err := u.AgeJSON.Get(ctx); must(err) }, func() { _, err := u.AgeEnv.Get(ctx); must(err) }},
		{"set-time", func() { must(u.SeenJSON.Set(ctx, seen)) }, func() { must(u.SeenEnv.Set(ctx, seen)) }},
		{"get-time", func() { _, err := u.SeenJSON.Get(ctx); must(err) }, func() { _, err := u.SeenEnv.Get(ctx); must(err) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var jsonT, envT time.Duration
			for i := range b.N {
				first, second, ft, st := c.json, c.envelope, &jsonT, &envT
				if i%2 == 1 {
					first, second, ft, st = c.envelope, c.json, &envT, &jsonT
				}
				t0 := time.Now()
				first()
				t1 := time.Now()
				second()
				*ft += t1.Sub(t0)
				*st += time.Since(t1)
			}
			b.ReportMetric(float64(jsonT.Nanoseconds())/float64(b.N), "json-ns/op")
			b.ReportMetric(float64(envT.Nanoseconds())/float64(b.N), "envelope-ns/op")
			b.ReportMetric(float64(envT)/float64(jsonT), "envelope/json")
		})
	}
}
