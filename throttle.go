package nest

import (
	"context"
	"sync"
	"time"
)

// pacer spaces out the commands of one Keys, Count or Clear call so that
// they stay under a rate: each batch reserves its cost on a schedule and
// waits for its start time. Batches from several goroutines (one per
// Redis Cluster master) share one schedule. A nil pacer never waits.
type pacer struct {
	mu   sync.Mutex
	keys float64 // keys examined or deleted per second; 0: no limit
	cmds float64 // commands per second; 0: no limit
	next time.Time
}

// newPacer returns a pacer for the rates, or nil when neither is set.
func newPacer(keysPerSec, cmdsPerSec float64) *pacer {
	if keysPerSec <= 0 && cmdsPerSec <= 0 {
		return nil
	}
	return &pacer{keys: keysPerSec, cmds: cmdsPerSec}
}

// wait reserves a batch of keys keys and cmds commands and blocks until
// it may be sent, or until ctx ends.
func (p *pacer) wait(ctx context.Context, keys, cmds int) error {
	if p == nil {
		return ctx.Err()
	}
	var cost time.Duration
	if p.keys > 0 {
		cost = max(cost, time.Duration(float64(keys)/p.keys*float64(time.Second)))
	}
	if p.cmds > 0 {
		cost = max(cost, time.Duration(float64(cmds)/p.cmds*float64(time.Second)))
	}
	p.mu.Lock()
	now := time.Now()
	start := p.next
	if start.Before(now) {
		start = now
	}
	p.next = start.Add(cost)
	p.mu.Unlock()
	if d := start.Sub(now); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return ctx.Err()
}
