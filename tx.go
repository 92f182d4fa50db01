package nest

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Watchable is a key handle that [Namespace.Watch] can watch: a [Key],
// [Secret], [Password], or a key of any collection kind.
type Watchable interface {
	watchHandle() keyHandle
}

func (h keyHandle) watchHandle() keyHandle { return h }

// Tx is an optimistic transaction in progress, handed to the function
// given to [Namespace.Watch]. Read the watched keys through [Tx.Reads]
// and queue writes on [Tx.Writes]; Watch sends the writes in MULTI/EXEC
// when the function returns. A Tx belongs to one goroutine and to one run
// of the function.
type Tx struct {
	c       *client
	rtx     *redis.Tx
	first   string      // first watched key: every queued key must share its slot
	watched []keyHandle // renewed at EXEC when their TTL slides
	w       *Pipe
	r       *Pipe // the current reads pipe, until its Exec
}

// Reads returns the [Pipe] of reads on the transaction's connection,
// outside MULTI: queue typed reads on it with any key's In method and call
// its Exec, which sends them in one round trip. Every call returns the same
// Pipe until its Exec; after that, a fresh one for a further round of
// reads. Watch fails, writing nothing, if fn returns with reads queued but
// never sent:
//
//	r := tx.Reads()
//	a, b := from.In(r).Get(ctx), to.In(r).Get(ctx)
//	if err := r.Exec(ctx); err != nil { return err }
//
// Its reads renew no sliding TTL: a renewal would change a watched key
// and make EXEC fail every time; Watch renews the watched keys declared
// `,sliding` in the transaction instead. For the same reason, do not
// read a watched key with a sliding TTL through its direct methods
// inside the function.
//
// On Redis Cluster its keys must share the watched keys' slot, like
// those of [Tx.Writes].
func (tx *Tx) Reads() *Pipe {
	if tx.r == nil || tx.r.done {
		tx.r = &Pipe{c: tx.c, pp: tx.rtx.Pipeline(), tx: true, watch: true, first: tx.first}
	}
	return tx.r
}

// Writes returns the transaction's [Pipe]: queue writes (and reads whose
// results should be those at commit) on it with any key's In method;
// Watch sends them in MULTI/EXEC once the function returned nil, and
// resolves their Futures then. Its Exec refuses to send (the error
// matches [ErrInvalidArg]): Watch sends it. On Redis Cluster its keys must
// share the watched keys' slot.
func (tx *Tx) Writes() *Pipe { return tx.w }

// Watch runs fn as an optimistic transaction over keys: it WATCHes them
// on one connection, calls fn, which reads them through tx.Reads and
// queues writes on tx.Writes, and sends the writes in MULTI/EXEC, which
// fails if another client changed a watched key since WATCH. It then
// retries, calling fn again after a short random backoff, up to
// [Options.UpdateRetries] attempts, and finally returns [ErrConflict].
// fn may run several times and must have no side effects besides its
// queued operations; Futures of its last run hold the results.
//
// An error fn returns aborts without writing and is returned as it is; so
// is the first error of a queued operation (a value that does not encode
// fails it before anything is sent; see [Pipe.Exec]). A cancelled ctx
// ends the retries with its error.
//
// Every key, watched or queued, must be bound to the namespace's go-redis
// client and, on Redis Cluster (or a Ring), share one hash slot (shard):
// keys of one pinned namespace (`slot:"pin"`). Watched keys that do not
// fail before anything is sent with an error matching redis.ErrCrossSlot;
// a queued key that does not fails its Future and the transaction.
func (n Namespace) Watch(ctx context.Context, fn func(tx *Tx) error, keys ...Watchable) error {
	if err := n.Err(); err != nil {
		return err
	}
	c := n.ns.plan.c
	if len(keys) == 0 {
		return opError("WATCH", n.ns.prefix, fmt.Errorf("%w: no key to watch", ErrInvalidArg))
	}
	hs := make([]keyHandle, len(keys))
	names := make([]string, len(keys))
	for i, k := range keys {
		if k == nil {
			return opError("WATCH", n.ns.prefix, fmt.Errorf("%w: nil key %d", ErrInvalidArg, i))
		}
		h := k.watchHandle()
		if err := h.Err(); err != nil {
			return err
		}
		if h.p.c.rdb != c.rdb {
			return opError("WATCH", h.name, fmt.Errorf("%w: the key's schema is bound to another go-redis client than the namespace's", ErrConfig))
		}
		hs[i], names[i] = h, h.name
	}
	if err := c.sameSlot(names...); err != nil {
		return opError("WATCH", names[0], err)
	}
	if err := ctx.Err(); err != nil {
		return opError("WATCH", names[0], err)
	}
	return c.watch(ctx, "WATCH", names[0], func(rtx *redis.Tx) error {
		tx := &Tx{c: c, rtx: rtx, first: names[0], watched: hs}
		tx.w = &Pipe{c: c, pp: rtx.TxPipeline(), tx: true, first: names[0], held: true}
		err := fn(tx)
		if err == nil && tx.r != nil && !tx.r.done && tx.r.Len() > 0 {
			err = opError("WATCH", names[0], fmt.Errorf("%w: %d %s queued on tx.Reads() never sent: call its Exec before using the results",
				ErrInvalidArg, tx.r.Len(), plural(tx.r.Len(), "read", "reads")))
		}
		if err != nil {
			tx.w.pp.Discard()
			return err
		}
		tx.w.held = false
		return tx.commit(ctx)
	}, names...)
}

// commit sends the queued writes in MULTI/EXEC, after renewing the
// sliding TTLs of the watched keys (queued last, so that a key the
// transaction deletes stays deleted). A watched key changed meanwhile
// returns redis.TxFailedErr, which makes watch retry.
func (tx *Tx) commit(ctx context.Context) error {
	w := tx.w
	if w.err == nil && !w.done {
		for i := range tx.watched {
			h := &tx.watched[i]
			if t := h.p.ttl; t.sliding && t.d > 0 {
				h.renewCmd(ctx, w.pp)
			}
		}
	}
	err := w.Exec(ctx)
	if errors.Is(err, redis.TxFailedErr) {
		return redis.TxFailedErr
	}
	return err
}
