package denylist

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/authgate/authgate"
	"github.com/redis/go-redis/v9"
)

// Reconnection backoff of the subscription.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = time.Second
	// scanBatch is the COUNT of one SCAN and the size of one MGET.
	scanBatch = 500
	// sweepEvery is how often ended entries are dropped from memory.
	sweepEvery = time.Minute
)

// Start starts following the list in the background: subscribe to its
// channel, load it in full, apply every new entry, and do so again after
// any loss of the connection. It returns at once and does nothing when the
// list is already started. Until the first load, checks fail closed.
func (l *List) Start() {
	l.startOnce.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		l.cancel = cancel
		l.done = make(chan struct{})
		go l.run(ctx)
	})
}

// Ready waits until the list has been loaded once, or ctx is done (its
// error is returned). It starts the list if needed.
func (l *List) Ready(ctx context.Context) error {
	l.Start()
	select {
	case <-l.ready:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("denylist: waiting for the first load: %w", ctx.Err())
	}
}

// Close stops following the list; checks fail closed once the grace has
// passed (or keep the last list, with InsecureFailOpen). It does not close
// the Redis client. It returns nil, also when called again.
func (l *List) Close() error {
	l.startOnce.Do(func() {}) // a list never started stays stopped
	if l.cancel != nil {
		l.cancel()
		<-l.done
	}
	return nil
}

// run keeps a subscription up until ctx is done.
func (l *List) run(ctx context.Context) {
	defer close(l.done)
	backoff := minBackoff
	up, reported := false, false
	for ctx.Err() == nil {
		established, err := l.session(ctx, func(took time.Duration) {
			up, reported = true, true
			l.readyOnce.Do(func() { close(l.ready) })
			l.observe(ctx, authgate.OutcomeOK, took)
			l.log.log(ctx, slog.LevelInfo, "denylist: subscription established", nil, slog.String("provider", l.name))
		})
		if ctx.Err() != nil {
			return
		}
		if up || !reported {
			l.observe(ctx, authgate.OutcomeError, 0)
			up, reported = false, true
		}
		l.log.log(ctx, slog.LevelWarn, "denylist: subscription lost", err, slog.String("provider", l.name))
		if established {
			backoff = minBackoff
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// session subscribes, loads the list, calls established, and applies
// messages until the connection fails; it reports whether it got that
// far and why it ended.
func (l *List) session(ctx context.Context, established func(took time.Duration)) (bool, error) {
	ps := l.client.Subscribe(ctx, l.channel)
	stop := context.AfterFunc(ctx, func() { ps.Close() })
	defer func() {
		stop()
		ps.Close()
	}()
	msg, err := ps.ReceiveTimeout(ctx, 2*l.heartbeat)
	if err != nil {
		return false, fmt.Errorf("denylist: subscribe: %w", err)
	}
	if s, ok := msg.(*redis.Subscription); !ok || s.Kind != "subscribe" {
		return false, errors.New("denylist: subscribe: unexpected first reply")
	}
	// Subscribed first, loaded next: an entry added during the load is
	// both in the load and in a message waiting on the connection, and
	// applying it twice is harmless.
	start := time.Now()
	if err := l.reload(ctx); err != nil {
		return false, err
	}
	l.confirm()
	established(time.Since(start))
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, l.heartbeat)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && !pinged {
				if err := ps.Ping(ctx); err != nil {
					return true, fmt.Errorf("denylist: ping: %w", err)
				}
				pinged = true
				continue
			}
			return true, fmt.Errorf("denylist: receive: %w", err)
		}
		// Whatever arrives proves the connection carried everything
		// published before it.
		pinged = false
		if m, ok := msg.(*redis.Message); ok {
			l.apply(m.Payload)
		}
		l.confirm()
		l.sweep()
	}
}

func (l *List) confirm() { l.confirmed.Store(l.now().UnixNano()) }

// reload replaces the in-memory copy with every entry in Redis.
func (l *List) reload(ctx context.Context) error {
	tokens, keys, subjects := map[string]int64{}, map[string]int64{}, map[subjectKey]entry{}
	var cursor uint64
	for {
		names, next, err := l.client.Scan(ctx, cursor, l.prefix+"[tsk]:*", scanBatch).Result()
		if err != nil {
			return fmt.Errorf("denylist: load: %w", err)
		}
		if len(names) > 0 {
			vals, err := l.client.MGet(ctx, names...).Result()
			if err != nil {
				return fmt.Errorf("denylist: load: %w", err)
			}
			for i, v := range vals {
				s, ok := v.(string)
				if !ok {
					continue // expired since the scan
				}
				e, ok := parseValue(s)
				if !ok {
					continue
				}
				addEntry(tokens, keys, subjects, strings.TrimPrefix(names[i], l.prefix), e)
			}
		}
		if next == 0 {
			break
		}
		cursor = next
	}
	l.mu.Lock()
	l.tokens, l.keys, l.subjects = tokens, keys, subjects
	l.mu.Unlock()
	return nil
}

// apply adds the entry of one message ("<before>:<until> <name>"), or
// removes it ("- <name>").
func (l *List) apply(payload string) {
	v, name, ok := strings.Cut(payload, " ")
	if !ok {
		return
	}
	if v == "-" {
		l.mu.Lock()
		removeEntry(l.tokens, l.keys, l.subjects, name)
		l.mu.Unlock()
		return
	}
	e, ok := parseValue(v)
	if !ok {
		return
	}
	l.mu.Lock()
	addEntry(l.tokens, l.keys, l.subjects, name, e)
	l.mu.Unlock()
}

// sweep forgets the entries that ended, at most once per sweepEvery.
func (l *List) sweep() {
	now := l.now()
	if now.Sub(l.swept) < sweepEvery {
		return
	}
	l.swept = now
	ms := now.UnixMilli()
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, until := range l.tokens {
		if until <= ms {
			delete(l.tokens, k)
		}
	}
	for k, until := range l.keys {
		if until <= ms {
			delete(l.keys, k)
		}
	}
	for k, e := range l.subjects {
		if e.until <= ms {
			delete(l.subjects, k)
		}
	}
}

// addEntry adds entry e of the key name (without the prefix) to the maps,
// keeping the later before and until of an entry already there.
func addEntry(tokens, keys map[string]int64, subjects map[subjectKey]entry, name string, e entry) {
	kind, id, ok := strings.Cut(name, ":")
	if !ok || id == "" {
		return
	}
	switch kind {
	case "t":
		tokens[id] = max(tokens[id], e.until)
	case "k":
		keys[id] = max(keys[id], e.until)
	case "s":
		sk, ok := parseSubject(id)
		if !ok {
			return
		}
		old := subjects[sk]
		subjects[sk] = entry{before: max(old.before, e.before), until: max(old.until, e.until)}
	}
}

// removeEntry removes the entry of the key name (without the prefix).
func removeEntry(tokens, keys map[string]int64, subjects map[subjectKey]entry, name string) {
	kind, id, _ := strings.Cut(name, ":")
	switch kind {
	case "t":
		delete(tokens, id)
	case "k":
		delete(keys, id)
	case "s":
		if sk, ok := parseSubject(id); ok {
			delete(subjects, sk)
		}
	}
}

// The names of entries, without the prefix: "t:<jti>", "k:<key ID>" and
// "s:<len(provider)>:<provider>:<subject>".
func tokenName(jti string) string { return "t:" + jti }
func keyName(id string) string    { return "k:" + id }
func subjectName(provider, subject string) string {
	return "s:" + strconv.Itoa(len(provider)) + ":" + provider + ":" + subject
}

func parseSubject(id string) (subjectKey, bool) {
	n, rest, ok := strings.Cut(id, ":")
	if !ok {
		return subjectKey{}, false
	}
	size, err := strconv.Atoi(n)
	if err != nil || size < 0 || size >= len(rest) || rest[size] != ':' {
		return subjectKey{}, false
	}
	return subjectKey{provider: rest[:size], subject: rest[size+1:]}, true
}

// parseValue reads "<before>:<until>" in Unix ms.
func parseValue(v string) (entry, bool) {
	b, u, ok := strings.Cut(v, ":")
	if !ok {
		return entry{}, false
	}
	before, err1 := strconv.ParseInt(b, 10, 64)
	until, err2 := strconv.ParseInt(u, 10, 64)
	if err1 != nil || err2 != nil || before < 0 || until <= 0 {
		return entry{}, false
	}
	return entry{before: before, until: until}, true
}

func (l *List) observe(ctx context.Context, outcome authgate.Outcome, took time.Duration) {
	if l.observer == nil {
		return
	}
	e := authgate.Event{Kind: authgate.EventSubscription, Provider: l.name, Outcome: outcome, Duration: took}
	if outcome == authgate.OutcomeError {
		e.Reason = authgate.Reason(authgate.ErrUnavailable)
	}
	l.observer.Observe(ctx, e)
}
