package denylist

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// denyScript writes one entry, keeping the later issue bound and end of an
// entry already there, and publishes it, in one atomic step: no replica
// can see the key without the message or the message without the key.
var denyScript = redis.NewScript(`
local before, untilms = tonumber(ARGV[1]), tonumber(ARGV[2])
local cur = redis.call('GET', KEYS[1])
if cur then
  local b, u = string.match(cur, '^(%d+):(%d+)$')
  if b then
    before = math.max(before, tonumber(b))
    untilms = math.max(untilms, tonumber(u))
  end
end
local v = string.format('%.0f:%.0f', before, untilms)
redis.call('SET', KEYS[1], v, 'PXAT', string.format('%.0f', untilms))
redis.call('PUBLISH', ARGV[3], v .. ' ' .. ARGV[4])
return v
`)

// removeScript deletes one entry and publishes its removal, atomically.
var removeScript = redis.NewScript(`
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[1], '- ' .. ARGV[2])
return 1
`)

// ErrInvalidEntry is wrapped by the errors of the Deny methods for an
// entry that cannot be written: an empty or overlong identifier, a zero
// time, or an end further than MaxTTL away.
var ErrInvalidEntry = errors.New("denylist: invalid entry")

// DenyToken denies the token whose jti is jti (authgate.Principal.TokenID),
// whichever provider verified it, until until, its expiry: after it the token is refused by its own exp
// and the entry is dropped. An until already past writes nothing. It
// returns an error wrapping ErrInvalidEntry for a bad jti or until, and
// Redis's error otherwise; on success every replica refuses the token
// within its propagation delay.
func (l *List) DenyToken(ctx context.Context, jti string, until time.Time) error {
	if err := checkID("jti", jti); err != nil {
		return err
	}
	return l.deny(ctx, tokenName(jti), time.Time{}, until)
}

// DenyKey denies the API key whose ID is id (authgate.Principal.
// CredentialID) until until (its expiry, or for how long the store may
// still serve it). Its errors are DenyToken's.
func (l *List) DenyKey(ctx context.Context, id string, until time.Time) error {
	if err := checkID("key ID", id); err != nil {
		return err
	}
	return l.deny(ctx, keyName(id), time.Time{}, until)
}

// DenySubject denies every credential of subject from provider
// (authgate.Principal.Provider and Subject) issued before before, and every
// one without an issue time, until until: the expiry of the longest-lived
// credential issued before before (now plus the token lifetime, when before
// is now). Credentials issued from before on are accepted. A second entry
// for the same subject keeps the later of both times. Its errors are
// DenyToken's.
func (l *List) DenySubject(ctx context.Context, provider, subject string, before, until time.Time) error {
	if err := checkID("provider", provider); err != nil {
		return err
	}
	if err := checkID("subject", subject); err != nil {
		return err
	}
	if before.IsZero() {
		return fmt.Errorf("%w: zero issued-before time", ErrInvalidEntry)
	}
	return l.deny(ctx, subjectName(provider, subject), before, until)
}

func (l *List) deny(ctx context.Context, name string, before, until time.Time) error {
	now := l.now()
	switch {
	case until.IsZero():
		return fmt.Errorf("%w: zero end time", ErrInvalidEntry)
	case !until.After(now):
		return nil // already expired on its own
	case until.Sub(now) > MaxTTL:
		return fmt.Errorf("%w: end further than %v away", ErrInvalidEntry, MaxTTL)
	}
	var b int64
	if !before.IsZero() {
		b = max(before.UnixMilli(), 0)
	}
	u := until.UnixMilli()
	err := denyScript.Run(ctx, l.client, []string{l.prefix + name},
		strconv.FormatInt(b, 10), strconv.FormatInt(u, 10), l.channel, name).Err()
	if err != nil {
		return fmt.Errorf("denylist: write entry: %w", err)
	}
	// This replica need not wait for its own message.
	l.mu.Lock()
	addEntry(l.tokens, l.keys, l.subjects, name, entry{before: b, until: u})
	l.mu.Unlock()
	return nil
}

func checkID(what, id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: empty %s", ErrInvalidEntry, what)
	case len(id) > maxIDLen:
		return fmt.Errorf("%w: %s longer than %d bytes", ErrInvalidEntry, what, maxIDLen)
	}
	return nil
}

// RemoveToken removes the entry of jti, if any, from every replica: a
// mistaken entry need not wait for its end. It returns an error wrapping
// ErrInvalidEntry for a bad jti, and Redis's error otherwise.
func (l *List) RemoveToken(ctx context.Context, jti string) error {
	if err := checkID("jti", jti); err != nil {
		return err
	}
	return l.remove(ctx, tokenName(jti))
}

// RemoveKey removes the entry of the API key id, if any; see RemoveToken.
func (l *List) RemoveKey(ctx context.Context, id string) error {
	if err := checkID("key ID", id); err != nil {
		return err
	}
	return l.remove(ctx, keyName(id))
}

// RemoveSubject removes the entry of subject from provider, if any; see
// RemoveToken.
func (l *List) RemoveSubject(ctx context.Context, provider, subject string) error {
	if err := checkID("provider", provider); err != nil {
		return err
	}
	if err := checkID("subject", subject); err != nil {
		return err
	}
	return l.remove(ctx, subjectName(provider, subject))
}

func (l *List) remove(ctx context.Context, name string) error {
	if err := removeScript.Run(ctx, l.client, []string{l.prefix + name}, l.channel, name).Err(); err != nil {
		return fmt.Errorf("denylist: remove entry: %w", err)
	}
	l.mu.Lock()
	removeEntry(l.tokens, l.keys, l.subjects, name)
	l.mu.Unlock()
	return nil
}
