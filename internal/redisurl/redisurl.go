// Package redisurl turns Redis URLs into go-redis options with go-redis's
// own parsers ([redis.ParseURL], [redis.ParseClusterURL]) and keeps the
// URL's user information — user name and password — out of every error.
//
// It is shared by the library's RedisOptionsFromEnv and the nest command's
// --url flag, so that both accept the same URLs and fail the same way.
package redisurl

import (
	"context"
	"errors"
	"net"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Parse parses a redis://, rediss:// (TLS) or unix:// URL into options
// for [redis.NewUniversalClient]:
//
//   - a single server, with [redis.ParseURL], unless
//   - the URL has addr= query parameters (more seed nodes), or cluster is
//     set: then a Redis Cluster, with [redis.ParseClusterURL], and
//     IsClusterMode set so that even one seed makes a cluster client.
//
// Errors quote no part of the URL's user information. A URL that url.Parse
// rejects is reported by kind only; one that parses but has an '@', a '#'
// after the host — a password with an unescaped '/', '?' or '#' spills
// into the path, query or fragment — is refused before go-redis sees it, so
// the go-redis errors passed on (bad database number, unknown option, bad
// duration) can only quote the path and query, which then hold no user
// information.
func Parse(raw string, cluster bool) (*redis.UniversalOptions, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, syntaxError(raw, err)
	}
	if err := check(raw, u); err != nil {
		return nil, err
	}
	if u.Query().Has("addr") {
		cluster = true
	}
	if !cluster {
		opt, err := redis.ParseURL(raw)
		if err != nil {
			return nil, errors.New(err.Error())
		}
		return fromSimple(opt), nil
	}
	if u.Scheme == "unix" {
		return nil, errors.New("a unix:// URL names one server, not a Redis Cluster")
	}
	if p := strings.Trim(u.Path, "/"); p != "" && p != "0" {
		return nil, errors.New("a Redis Cluster has only database 0; remove the database from the URL path")
	}
	copt, err := redis.ParseClusterURL(raw)
	if err != nil {
		return nil, errors.New(err.Error())
	}
	opt := &redis.UniversalOptions{}
	copyFields(opt, copt)
	opt.IsClusterMode = true
	return opt, nil
}

// encodeHint says how to write a password that URL syntax would split.
const encodeHint = "percent-encode '%', '#', '/', '?' and '@' in the user name and password (%25, %23, %2F, %3F, %40)"

// check refuses what url.Parse accepts but go-redis would misread, or
// would report by quoting a piece of a password.
func check(raw string, u *url.URL) error {
	switch u.Scheme {
	case "redis", "rediss", "unix":
	default:
		return errors.New("the URL must start with redis://, rediss:// (TLS) or unix://")
	}
	if u.Opaque != "" {
		return errors.New("the URL must start with redis://, rediss:// (TLS) or unix://")
	}
	if strings.Contains(raw, "#") {
		return errors.New("a '#' ends the URL; " + encodeHint)
	}
	if strings.Contains(u.EscapedPath(), "@") || strings.Contains(u.RawQuery, "@") {
		return errors.New("an '@' after the host; " + encodeHint)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n <= 0 || n > 65535 {
			return errors.New("the port is not a number from 1 to 65535")
		}
	}
	return nil
}

// syntaxError reports a url.Parse failure by kind. The url.Error, and the
// message of its cause, quote the URL or a piece of it ("invalid port
// \":S3cr3t\" after host" for a password holding a '#'), so neither is
// kept.
func syntaxError(raw string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var (
		escErr  url.EscapeError
		hostErr url.InvalidHostError
		kind    string
	)
	switch msg := err.Error(); {
	case errors.As(err, &escErr):
		kind = "a '%' not followed by two hexadecimal digits"
	case errors.As(err, &hostErr):
		kind = "an invalid character in the host"
	case strings.HasPrefix(msg, "invalid port") && strings.Contains(raw, "@"):
		kind = "an invalid port, or a '/', '?' or '#' in the password that ends the host early"
	case strings.HasPrefix(msg, "invalid port"):
		kind = "an invalid port after the host"
	case strings.Contains(msg, "userinfo"):
		kind = "an invalid character in the user name or password"
	case strings.Contains(msg, "control character"):
		kind = "a control character"
	case strings.Contains(msg, "missing protocol scheme"):
		kind = "no scheme; it must start with redis://, rediss:// (TLS) or unix://"
	default:
		kind = "malformed"
	}
	msg := "not a valid URL: " + kind
	if strings.Contains(raw, "@") {
		msg += "; " + encodeHint
	}
	return errors.New(msg)
}

// fromSimple converts single-server options. A unix socket, which
// UniversalOptions cannot name (it has no Network field), is reached
// through a Dialer; the pool still bounds each dial by DialTimeout through
// the context.
func fromSimple(o *redis.Options) *redis.UniversalOptions {
	opt := &redis.UniversalOptions{Addrs: []string{o.Addr}}
	copyFields(opt, o)
	if o.Network == "unix" {
		opt.Dialer = func(ctx context.Context, _, addr string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", addr)
		}
	}
	return opt
}

// copyFields copies every exported field of *src into the field of *dst
// with the same name and type. Copying by name rather than one assignment
// per field means that a URL parameter a later go-redis version parses is
// carried over too, instead of being accepted and then silently dropped.
func copyFields(dst, src any) {
	d, s := reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem()
	for i := range s.NumField() {
		f := s.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		if df := d.FieldByName(f.Name); df.IsValid() && df.CanSet() && df.Type() == f.Type {
			df.Set(s.Field(i))
		}
	}
}
