// Package redistest gives the tests of this module a real Redis: the
// shared one .ci/run starts (AUTHGATE_TEST_REDIS_ADDR), or a private
// redis-server a test may kill and restart.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// EnvAddr names the variable holding the address of the Redis the tests
// use; without it they skip.
const EnvAddr = "AUTHGATE_TEST_REDIS_ADDR"

// Addr returns the shared Redis's address, or skips t.
func Addr(t testing.TB) string {
	t.Helper()
	addr := os.Getenv(EnvAddr)
	if addr == "" {
		t.Skip("needs a real Redis: set " + EnvAddr + " (host:port, as .ci/run does)")
	}
	return addr
}

// Client returns a client of the shared Redis, closed with t, or skips t.
func Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: Addr(t)})
	t.Cleanup(func() { c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redis at %s: %v", Addr(t), err)
	}
	return c
}

// Prefix returns a key prefix no other test uses, so tests sharing one
// Redis do not see each other's keys.
func Prefix(t testing.TB) string {
	b := make([]byte, 6)
	rand.Read(b)
	return "test:" + hex.EncodeToString(b) + ":"
}

// Counter is a go-redis hook counting the commands a client sends.
type Counter struct{ n atomic.Int64 }

// Commands returns the number of commands sent so far (a pipeline counts
// each of its commands).
func (c *Counter) Commands() int64 { return c.n.Load() }

// DialHook passes dials through.
func (c *Counter) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook counts one command.
func (c *Counter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook counts the commands of a pipeline.
func (c *Counter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// Server is a private redis-server with append-only persistence on a
// loopback port, which a test may kill and restart.
type Server struct {
	t    testing.TB
	Addr string
	dir  string
	cmd  *exec.Cmd
}

// StartServer starts a private redis-server, stopped with t. It skips t
// unless the shared Redis is configured (the sign that redis-server is
// installed) and redis-server is on PATH.
func StartServer(t testing.TB) *Server {
	t.Helper()
	Addr(t)
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("needs redis-server on PATH to kill and restart a private Redis")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s := &Server{t: t, Addr: addr, dir: t.TempDir()}
	s.Start()
	t.Cleanup(s.Kill)
	return s
}

// Start (re)starts the server on its address with its data and waits until
// it answers.
func (s *Server) Start() {
	s.t.Helper()
	_, port, _ := net.SplitHostPort(s.Addr)
	s.cmd = exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "yes", "--appendfsync", "always", "--dir", s.dir, "--daemonize", "no",
		"--logfile", filepath.Join(s.dir, "redis.log"))
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("redis-server: %v", err)
	}
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := c.Ping(context.Background()).Err()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server on %s did not answer: %v", s.Addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill stops the server at once (SIGKILL), by its process id.
func (s *Server) Kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.cmd = nil
}

// Client returns a client of the server, closed with the test.
func (s *Server) Client(opts ...func(*redis.Options)) *redis.Client {
	o := &redis.Options{Addr: s.Addr, DialTimeout: 200 * time.Millisecond, ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond}
	for _, f := range opts {
		f(o)
	}
	c := redis.NewClient(o)
	s.t.Cleanup(func() { c.Close() })
	return c
}

// String names the server for failure messages.
func (s *Server) String() string { return fmt.Sprintf("redis-server on %s", s.Addr) }
