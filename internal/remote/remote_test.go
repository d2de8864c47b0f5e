package remote

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestMaxAge(t *testing.T) {
	const def, lo, hi = time.Hour, 5 * time.Minute, 24 * time.Hour
	tests := []struct {
		header []string
		want   time.Duration
	}{
		{nil, def},
		{[]string{"max-age=0"}, def},
		{[]string{"max-age=-5"}, def},
		{[]string{"max-age=1"}, lo},
		{[]string{"MAX-AGE=600"}, 10 * time.Minute},
		{[]string{`max-age="600"`}, 10 * time.Minute},
		{[]string{"public", "max-age=3600"}, time.Hour},
		{[]string{"max-age=600, no-store"}, def},
		{[]string{"max-age=999999999"}, hi},
		{[]string{"max-age=18446744073709551616"}, hi},
	}
	for _, tc := range tests {
		h := http.Header{"Cache-Control": tc.header}
		if got := MaxAge(h, def, lo, hi); got != tc.want {
			t.Errorf("MaxAge(%q) = %v, want %v", tc.header, got, tc.want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://a.example/x": true, "http://127.0.0.1/x": true, "http://127.200.0.1:9/x": true,
		"http://[::1]/x": true, "http://LOCALHOST:8080": true,
		"http://a.example/x": false, "http://10.0.0.1/": false, "http://[::2]/": false, "ftp://a.example/": false,
		"https://user@a.example/": false, "https://a.example/#f": false, "https:///x": false, "//a.example/": false,
		"http://localhost.evil.example/": false,
	} {
		if _, err := CheckURL(raw); (err == nil) != ok {
			t.Errorf("CheckURL(%q) = %v, want ok %v", raw, err, ok)
		}
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute, time.Minute}
	for i, w := range want {
		if got := backoff(i + 1); got != w {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
}

func TestCachePanicFailsClosed(t *testing.T) {
	c := New(func(context.Context) (int, time.Duration, error) { panic("parser bug") }, Options{})
	if _, err := c.Get(context.Background()); err == nil {
		t.Fatal("Get after a panicking fetch = nil error")
	}
	if _, err := c.Get(context.Background()); !errors.Is(err, ErrBackoff) {
		t.Fatalf("second Get = %v, want ErrBackoff", err)
	}
}
