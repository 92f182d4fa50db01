package inspect

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/redis/go-redis/v9"
)

// DefaultScanCount is the COUNT of the SCANs of tree and audit: redis-cli
// --scan sends 10, which makes a walk of a large keyspace take a hundred
// times more round trips.
const DefaultScanCount = 1000

// Node is one server a walk visits: a master of a Redis Cluster, a shard
// of a Ring, or the one server.
type Node struct {
	Addr   string
	Client *redis.Client
}

// Nodes returns the servers whose keyspaces together hold every key of
// rdb: every master of a Redis Cluster (SCAN through a cluster client
// would reach one node), every shard of a Ring, or the one server.
func Nodes(ctx context.Context, rdb redis.UniversalClient) ([]Node, error) {
	var (
		mu    sync.Mutex
		nodes []Node
	)
	collect := func(_ context.Context, c *redis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		nodes = append(nodes, Node{Addr: c.Options().Addr, Client: c})
		return nil
	}
	switch c := rdb.(type) {
	case *redis.Client:
		return []Node{{Addr: c.Options().Addr, Client: c}}, nil
	case *redis.ClusterClient:
		if err := c.ForEachMaster(ctx, collect); err != nil {
			return nil, fmt.Errorf("listing the cluster's masters: %w", err)
		}
	case *redis.Ring:
		if err := c.ForEachShard(ctx, collect); err != nil {
			return nil, fmt.Errorf("listing the ring's shards: %w", err)
		}
	default:
		return nil, fmt.Errorf("cannot list the servers of a %T", rdb)
	}
	if len(nodes) == 0 {
		return nil, errors.New("no server to scan")
	}
	return nodes, nil
}

// Batch is one SCAN reply of one node.
type Batch struct {
	Node  Node
	Names []string
}

// Walk SCANs every node with MATCH match (every name when "") and COUNT
// count, calling fn with each non-empty batch; nodes are walked
// concurrently, each batch handled before the node's next SCAN, so the
// walk holds one batch per node. fn may be called from several goroutines
// at once. The first error (of a SCAN, or returned by fn) stops the walk
// and is returned, naming the node.
func Walk(ctx context.Context, nodes []Node, match string, count int, fn func(ctx context.Context, b Batch) error) error {
	if count <= 0 {
		count = DefaultScanCount
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for _, nd := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := walkNode(ctx, nd, match, count, fn); err != nil {
				cancel(fmt.Errorf("%s: %w", nd.Addr, err))
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

func walkNode(ctx context.Context, nd Node, match string, count int, fn func(context.Context, Batch) error) error {
	var cursor uint64
	for {
		var args []any
		if match != "" {
			args = []any{"scan", cursor, "match", match, "count", count}
		} else {
			args = []any{"scan", cursor, "count", count}
		}
		cmd := redis.NewScanCmd(ctx, nil, args...)
		_ = nd.Client.Process(ctx, cmd)
		names, next, err := cmd.Result()
		if err != nil {
			return err
		}
		if len(names) > 0 {
			if err := fn(ctx, Batch{Node: nd, Names: names}); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}
