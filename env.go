package nest

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// ClientFromEnv builds a go-redis client from the environment, as the
// original package does:
//
//   - REDIS_URL, a redis:// or rediss:// (TLS) URL as understood by
//     [redis.ParseURL], including user name, password and database;
//   - otherwise REDIS_HOST (default localhost), REDIS_PORT (default 6379),
//     REDIS_USERNAME, REDIS_PASSWORD and REDIS_DB (default 0).
//
// The caller closes the client.
func ClientFromEnv() (redis.UniversalClient, error) {
	opt, err := OptionsFromEnv()
	if err != nil {
		return nil, err
	}
	return redis.NewClient(opt), nil
}

// OptionsFromEnv returns the go-redis options [ClientFromEnv] uses, for
// callers that want to adjust them (pool size, timeouts) first.
func OptionsFromEnv() (*redis.Options, error) {
	if u := os.Getenv("REDIS_URL"); u != "" {
		opt, err := redis.ParseURL(u)
		if err != nil {
			return nil, fmt.Errorf("nest: REDIS_URL: %w", urlError(err))
		}
		return opt, nil
	}
	host := os.Getenv("REDIS_HOST")
	if host == "" {
		host = "localhost"
	}
	port := os.Getenv("REDIS_PORT")
	if port == "" {
		port = "6379"
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return nil, fmt.Errorf("nest: REDIS_PORT=%q is not a port number", port)
	}
	db := 0
	if s := os.Getenv("REDIS_DB"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("nest: REDIS_DB=%q is not a database number", s)
		}
		db = n
	}
	return &redis.Options{
		Addr:     net.JoinHostPort(host, port),
		Username: os.Getenv("REDIS_USERNAME"),
		Password: os.Getenv("REDIS_PASSWORD"),
		DB:       db,
	}, nil
}

// urlError strips the URL from a parse error: it may hold a password.
func urlError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s URL: %w", ue.Op, ue.Err)
	}
	return err
}

func envBool(name string) bool {
	b, _ := strconv.ParseBool(os.Getenv(name))
	return b
}

// keysFromEnv reads the keyring from the environment; src describes where
// it came from, for errors.
func keysFromEnv() (keys []SecretKey, src string, err error) {
	file, env := os.Getenv("NEST_SECRET_KEYS_FILE"), os.Getenv("NEST_SECRET_KEYS")
	switch {
	case file != "" && env != "":
		return nil, "", errors.New("both NEST_SECRET_KEYS_FILE and NEST_SECRET_KEYS are set; keep one (the file is recommended)")
	case file != "":
		src = " in NEST_SECRET_KEYS_FILE " + file
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, src, err
		}
		keys, err = parseSecretKeys(string(b))
		return keys, src, err
	case env != "":
		keys, err = parseSecretKeys(env)
		return keys, " in NEST_SECRET_KEYS", err
	}
	return nil, "", errors.New("the schema declares Secret keys but no keys are configured: set Options.SecretKeys, NEST_SECRET_KEYS_FILE (recommended) or NEST_SECRET_KEYS")
}
