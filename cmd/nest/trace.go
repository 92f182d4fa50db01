package main

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// tracer is a go-redis hook that records the commands sent while it is
// on, in redis-cli form, so that the demo can show what each library call
// sent to Redis.
type tracer struct {
	mu    sync.Mutex
	on    bool
	lines []string
}

var _ redis.Hook = (*tracer)(nil)

// start discards what was recorded and starts recording.
func (t *tracer) start() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.on, t.lines = true, nil
}

// stop stops recording and returns the commands recorded since start: one
// line per command, one line per pipeline.
func (t *tracer) stop() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := t.lines
	t.on, t.lines = false, nil
	return lines
}

func (t *tracer) record(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.on {
		t.lines = append(t.lines, line)
	}
}

func (t *tracer) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		return next(ctx, network, addr)
	}
}

func (t *tracer) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		t.record(formatCmd(cmd.Args()))
		return next(ctx, cmd)
	}
}

func (t *tracer) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		parts := make([]string, len(cmds))
		for i, c := range cmds {
			parts[i] = formatCmd(c.Args())
		}
		t.record("pipeline: " + strings.Join(parts, " | "))
		return next(ctx, cmds)
	}
}

// optionWords are the command options that formatCmd writes in capitals,
// as the Redis documentation does.
var optionWords = map[string]bool{
	"ex": true, "px": true, "exat": true, "pxat": true, "keepttl": true,
	"nx": true, "xx": true, "gt": true, "lt": true, "get": true,
	"match": true, "count": true, "type": true, "persist": true,
}

// formatCmd renders command arguments as one redis-cli line:
// SET root:user:1:age 30 EX 120.
func formatCmd(args []any) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		s := argString(a)
		switch {
		case i == 0:
			s = strings.ToUpper(s)
		case i >= 2 && optionWords[s] && !(i == 2 && strings.EqualFold(argString(args[0]), "set")):
			// the value of SET sits where other commands have options
			s = strings.ToUpper(s)
		default:
			s = quoteArg(s)
		}
		b.WriteString(s)
	}
	return b.String()
}

func argString(a any) string {
	switch v := a.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	default:
		return fmt.Sprint(v)
	}
}

// quoteArg quotes s when a shell would not read it back as one word:
// single quotes when they suffice, Go (and redis-cli) double quotes
// otherwise.
func quoteArg(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return r <= ' ' || r >= 0x7f || strings.ContainsRune(`"'\$`+"`", r)
	}) {
		return s
	}
	if !strings.ContainsFunc(s, func(r rune) bool { return r == '\'' || r < ' ' || r >= 0x7f }) {
		return "'" + s + "'"
	}
	return strconv.Quote(s)
}
