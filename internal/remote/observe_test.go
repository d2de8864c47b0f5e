package remote

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

type observed struct {
	v     int
	err   error
	took  time.Duration
	value any
}

type ctxKey struct{}

// TestCacheObserve: every fetch is observed once, with its value or error,
// its real duration and the context values of the lookup that started it,
// before that lookup returns; a panicking fetch is observed as a failure.
func TestCacheObserve(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fetch   func(context.Context) (int, time.Duration, error)
		wantV   int
		wantErr bool
	}{{
		name: "ok",
		fetch: func(context.Context) (int, time.Duration, error) {
			time.Sleep(time.Millisecond)
			return 7, time.Hour, nil
		},
		wantV: 7,
	}, {
		name:    "failure",
		fetch:   func(context.Context) (int, time.Duration, error) { return 0, 0, errors.New("connection refused") },
		wantErr: true,
	}, {
		name:    "panic",
		fetch:   func(context.Context) (int, time.Duration, error) { panic("parser bug") },
		wantErr: true,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var got []observed
			c := New(tc.fetch, Options[int]{Observe: func(ctx context.Context, v int, err error, took time.Duration) {
				mu.Lock()
				got = append(got, observed{v, err, took, ctx.Value(ctxKey{})})
				mu.Unlock()
			}})
			ctx, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "lookup"))
			defer cancel()
			_, err := c.Get(ctx)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Get = %v, want error %v", err, tc.wantErr)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) != 1 {
				t.Fatalf("observed %d fetches by the time Get returned, want 1", len(got))
			}
			o := got[0]
			if o.v != tc.wantV || (o.err != nil) != tc.wantErr || o.value != "lookup" || o.took <= 0 {
				t.Errorf("observed %+v, want value %d, error %v, the lookup's context value and a positive duration", o, tc.wantV, tc.wantErr)
			}
		})
	}
}
