//go:build unix

package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeSIGTERM sends the process a real SIGTERM while run serves.
func TestServeSIGTERM(t *testing.T) {
	f := newFixture(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	path := f.write("authgate.yaml", strings.Replace(baseConfig, "127.0.0.1:0", addr, 1))
	done := make(chan int, 1)
	var stderr lockedBuffer
	go func() { done <- run([]string{"serve", "--config", path}, io.Discard, &stderr) }()
	// run installs its signal handler before it listens, so once /healthz
	// answers, SIGTERM reaches it and not the default action.
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited early: %d\n%s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("serve did not come up")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("serve = %d after SIGTERM, want 0\n%s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
	if !strings.Contains(stderr.String(), "authgate: shutting down") {
		t.Errorf("no shutdown in the log:\n%s", stderr.String())
	}
}

// TestServeSIGHUP sends the process a real SIGHUP while run serves: the
// re-read configuration (a new realm) answers from then on.
func TestServeSIGHUP(t *testing.T) {
	f := newFixture(t)
	addr := freeAddr(t)
	conf := strings.Replace(baseConfig, "127.0.0.1:0", addr, 1)
	path := f.write("authgate.yaml", conf)
	ctxDone := make(chan int, 1)
	var stderr lockedBuffer
	go func() { ctxDone <- run([]string{"serve", "--config", path}, io.Discard, &stderr) }()
	t.Cleanup(func() {
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
		select {
		case <-ctxDone:
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop on SIGTERM")
		}
	})
	realm := func() string {
		resp, err := http.Get("http://" + addr + "/verify")
		if err != nil {
			return ""
		}
		resp.Body.Close()
		return resp.Header.Get("WWW-Authenticate")
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(realm(), `realm="api"`) {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not come up:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	f.write("authgate.yaml", strings.Replace(conf, "realm: api", "realm: reloaded", 1))
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(realm(), `realm="reloaded"`) {
		if time.Now().After(deadline) {
			t.Fatalf("SIGHUP did not reload:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(stderr.String(), "authgate: configuration reloaded") {
		t.Errorf("no reload in the log:\n%s", stderr.String())
	}
}
