package redisurl

import (
	"reflect"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest/internal/redisurl/urltest"
)

// TestParseHidesUserInfo parses each malformed URL as a single server and
// as a Redis Cluster, and checks that the error, printed with every verb,
// holds no piece of the user name or password.
func TestParseHidesUserInfo(t *testing.T) {
	for _, raw := range urltest.MalformedURLs {
		for _, cluster := range []bool{false, true} {
			_, err := Parse(raw, cluster)
			if err == nil {
				t.Errorf("Parse(%q, cluster %t) succeeded, want an error", raw, cluster)
				continue
			}
			if leak := urltest.Leak(err); leak != "" {
				t.Errorf("Parse(%q, cluster %t): the error shows %q: %s", raw, cluster, leak, err)
			}
		}
	}
}

// A password with URL delimiters works when percent-encoded, as the
// errors above advise.
func TestParseEncodedPassword(t *testing.T) {
	opt, err := Parse("redis://Us3rN4me:S3cr3t%23%2F%3F%40%25P4rt@localhost:6390/2", false)
	if err != nil {
		t.Fatal(err)
	}
	if opt.Username != "Us3rN4me" || opt.Password != "S3cr3t#/?@%P4rt" || opt.DB != 2 ||
		!reflect.DeepEqual(opt.Addrs, []string{"localhost:6390"}) || opt.IsClusterMode {
		t.Fatalf("options: user %q password %q db %d addrs %q cluster %t", opt.Username, opt.Password, opt.DB, opt.Addrs, opt.IsClusterMode)
	}
	// An '@' in the password may stay unencoded: the last '@' ends it.
	if opt, err := Parse("redis://:p@ss@localhost", false); err != nil || opt.Password != "p@ss" {
		t.Fatalf("password with '@': %v", err)
	}
}

// Every field go-redis's parsers set survives the conversion to
// UniversalOptions: converted back by go-redis's own Simple and Cluster,
// the options equal what ParseURL and ParseClusterURL return.
func TestParseKeepsEveryParsedField(t *testing.T) {
	const q = "protocol=3&client_name=app&max_retries=7&min_retry_backoff=3ms&max_retry_backoff=1s" +
		"&dial_timeout=2s&read_timeout=4s&write_timeout=5s&pool_fifo=true&pool_size=11&pool_timeout=6s" +
		"&min_idle_conns=2&max_idle_conns=9&max_active_conns=20&max_concurrent_dials=3" +
		"&pipeline_pool_size=4&pipeline_read_buffer_size=1024&pipeline_write_buffer_size=2048" +
		"&conn_max_idle_time=7s&conn_max_lifetime=8m&conn_max_lifetime_jitter=1s"
	for _, raw := range []string{
		"redis://u:p@db.internal:6390/3?" + q,
		"rediss://u:p@db.internal:6390/3?" + q + "&skip_verify=true",
	} {
		want, err := redis.ParseURL(raw)
		if err != nil {
			t.Fatal(err)
		}
		opt, err := Parse(raw, false)
		if err != nil {
			t.Fatal(err)
		}
		got := opt.Simple()
		got.Network = want.Network
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", raw, got, want)
		}
	}

	cq := q + "&max_redirects=4&read_only=true&route_by_latency=true&route_by_latency_tolerance=2ms" +
		"&route_randomly=true&dialer_retries=2&dialer_retry_timeout=50ms&failing_timeout_seconds=9"
	for _, raw := range []string{
		"redis://u:p@n1:7000?" + cq + "&addr=n2:7001&addr=n3:7002",
		"rediss://u:p@n1:7000/0?" + cq,
	} {
		want, err := redis.ParseClusterURL(raw)
		if err != nil {
			t.Fatal(err)
		}
		opt, err := Parse(raw, true)
		if err != nil {
			t.Fatal(err)
		}
		if !opt.IsClusterMode {
			t.Errorf("%s: IsClusterMode is false", raw)
		}
		if got := opt.Cluster(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", raw, got, want)
		}
	}
}

func TestParseTopology(t *testing.T) {
	for _, tc := range []struct {
		raw     string
		cluster bool
		addrs   []string
		isClust bool
	}{
		{"redis://localhost", false, []string{"localhost:6379"}, false},
		{"redis://[::1]:7000/1", false, []string{"[::1]:7000"}, false},
		{"redis://n1:7000", true, []string{"n1:7000"}, true},
		{"redis://n1:7000?addr=n2:7001", false, []string{"n1:7000", "n2:7001"}, true},
		{"rediss://n1:7000/?addr=n2:7001&addr=n3:7002", false, []string{"n1:7000", "n2:7001", "n3:7002"}, true},
		{"unix:///run/redis.sock?db=2", false, []string{"/run/redis.sock"}, false},
	} {
		opt, err := Parse(tc.raw, tc.cluster)
		if err != nil {
			t.Errorf("Parse(%q, %t): %v", tc.raw, tc.cluster, err)
			continue
		}
		if !reflect.DeepEqual(opt.Addrs, tc.addrs) || opt.IsClusterMode != tc.isClust {
			t.Errorf("Parse(%q, %t): addrs %q cluster %t, want %q %t", tc.raw, tc.cluster, opt.Addrs, opt.IsClusterMode, tc.addrs, tc.isClust)
		}
	}
	opt, err := Parse("unix:///run/redis.sock?db=2&dial_timeout=1", false)
	if err != nil || opt.Dialer == nil || opt.DB != 2 || opt.DialTimeout != time.Second {
		t.Fatalf("unix URL: %+v, %v; want a unix Dialer, db 2", opt, err)
	}
}
