package denylist

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/redis/go-redis/v9"
)

// newOffline returns a List whose client is never used: the tests here
// feed it messages themselves.
func newOffline(t *testing.T, cfg Config, now func() time.Time) *List {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { c.Close() })
	cfg.Client = c
	cfg.Now = now
	l, err := New(cfg)
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	return l
}

func TestNewConfig(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	cluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}})
	defer cluster.Close()
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"defaults", Config{Client: c}, true},
		{"no client", Config{}, false},
		{"cluster", Config{Client: cluster}, false},
		{"glob in prefix", Config{Client: c, Prefix: "a*:"}, false},
		{"heartbeat too short", Config{Client: c, Heartbeat: time.Millisecond}, false},
		{"grace below two heartbeats", Config{Client: c, Heartbeat: time.Second, Grace: 1500 * time.Millisecond}, false},
		{"grace too long", Config{Client: c, Grace: time.Hour}, false},
		{"long heartbeat raises the default grace", Config{Client: c, Heartbeat: 10 * time.Second}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := New(tt.cfg)
			if (err == nil) != tt.ok {
				t.Fatalf("New = %v, want ok=%v", err, tt.ok)
			}
			if l != nil && l.grace < 2*int64(l.heartbeat) {
				t.Errorf("grace %v below twice the heartbeat %v", time.Duration(l.grace), l.heartbeat)
			}
		})
	}
}

// TestCheck: what each kind of entry refuses, and the fail-closed rule.
func TestCheck(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ms := func(t time.Time) int64 { return t.UnixMilli() }
	until := ms(now.Add(time.Hour))
	before := now.Add(-10 * time.Minute)
	messages := []string{
		"0:" + itoa(until) + " t:jti-1",
		"0:" + itoa(ms(now.Add(-time.Second))) + " t:jti-ended",
		"0:" + itoa(until) + " k:key-1",
		itoa(ms(before)) + ":" + itoa(until) + " " + subjectName("auth0", "alice"),
		itoa(ms(before)) + ":" + itoa(until) + " " + subjectName("auth", "0:alice"),
		"garbage",
		"x:y t:jti-bad",
	}
	tests := []struct {
		name    string
		p       authgate.Principal
		stale   bool
		open    bool
		wantErr error
	}{
		{"nothing denied", authgate.Principal{Provider: "auth0", Subject: "bob", TokenID: "jti-2", IssuedAt: now}, false, false, nil},
		{"denied jti", authgate.Principal{Provider: "auth0", Subject: "bob", TokenID: "jti-1"}, false, false, authgate.ErrRevoked},
		{"ended entry", authgate.Principal{TokenID: "jti-ended"}, false, false, nil},
		{"malformed message ignored", authgate.Principal{TokenID: "jti-bad"}, false, false, nil},
		{"denied key", authgate.Principal{Provider: "apikey", CredentialID: "key-1"}, false, false, authgate.ErrRevoked},
		{"subject issued before", authgate.Principal{Provider: "auth0", Subject: "alice", IssuedAt: before.Add(-time.Second)}, false, false, authgate.ErrRevoked},
		{"subject issued just before", authgate.Principal{Provider: "auth0", Subject: "alice", IssuedAt: before.Add(-time.Millisecond)}, false, false, authgate.ErrRevoked},
		{"subject issued at the bound", authgate.Principal{Provider: "auth0", Subject: "alice", IssuedAt: before}, false, false, nil},
		{"subject issued after", authgate.Principal{Provider: "auth0", Subject: "alice", IssuedAt: now}, false, false, nil},
		{"subject without iat", authgate.Principal{Provider: "auth0", Subject: "alice"}, false, false, authgate.ErrRevoked},
		{"same subject, other provider", authgate.Principal{Provider: "okta", Subject: "alice"}, false, false, nil},
		{"provider and subject split elsewhere", authgate.Principal{Provider: "auth", Subject: "0:alice"}, false, false, authgate.ErrRevoked},
		{"no split confusion", authgate.Principal{Provider: "auth0", Subject: "0:alice"}, false, false, nil},
		{"stale refuses a valid one", authgate.Principal{Subject: "bob", IssuedAt: now}, true, false, authgate.ErrUnavailable},
		{"stale refuses a denied one", authgate.Principal{TokenID: "jti-1"}, true, false, authgate.ErrUnavailable},
		{"stale fail-open accepts a valid one", authgate.Principal{Subject: "bob"}, true, true, nil},
		{"stale fail-open still refuses a denied one", authgate.Principal{TokenID: "jti-1"}, true, true, authgate.ErrRevoked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := now
			l := newOffline(t, Config{InsecureFailOpen: tt.open}, func() time.Time { return clock })
			for _, m := range messages {
				l.apply(m)
			}
			l.confirm()
			if tt.stale {
				clock = clock.Add(DefaultGrace + time.Millisecond)
			}
			err := l.Check(&tt.p)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Check = %v, want %v", err, tt.wantErr)
			}
			if got := l.Fresh(); got == tt.stale {
				t.Errorf("Fresh = %v, want %v", got, !tt.stale)
			}
		})
	}
}

// TestNeverLoaded: before the first load every check fails closed.
func TestNeverLoaded(t *testing.T) {
	l := newOffline(t, Config{}, time.Now)
	if err := l.Check(&authgate.Principal{Subject: "bob"}); !errors.Is(err, authgate.ErrUnavailable) {
		t.Errorf("Check before any load = %v, want ErrUnavailable", err)
	}
}

// TestEntriesMerge: a second entry for the same name keeps the later
// times, whatever order they come in.
func TestEntriesMerge(t *testing.T) {
	l := newOffline(t, Config{}, time.Now)
	name := subjectName("p", "s")
	l.apply("200:900 " + name)
	l.apply("100:1000 " + name)
	l.apply("0:500 t:j")
	l.apply("0:400 t:j")
	l.apply("0:400 t:gone")
	l.apply("- t:gone")
	if _, ok := l.tokens["gone"]; ok {
		t.Error("a removal message left the entry")
	}
	want := entry{before: 200, until: 1000}
	if got := l.subjects[subjectKey{"p", "s"}]; got != want {
		t.Errorf("subject entry = %+v, want %+v", got, want)
	}
	if got := l.tokens["j"]; got != 500 {
		t.Errorf("token entry until = %d, want 500", got)
	}
}

func TestParseSubject(t *testing.T) {
	tests := []struct {
		in   string
		want subjectKey
		ok   bool
	}{
		{"5:auth0:alice", subjectKey{"auth0", "alice"}, true},
		{"5:auth0:a:b", subjectKey{"auth0", "a:b"}, true},
		{"0::alice", subjectKey{"", "alice"}, true},
		{"9:auth0:alice", subjectKey{}, false},
		{"5:auth0", subjectKey{}, false},
		{"x:auth0:alice", subjectKey{}, false},
		{"-1:auth0:alice", subjectKey{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parseSubject(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("parseSubject(%q) = %+v, %v, want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
