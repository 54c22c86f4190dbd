package refserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// pipeListener hands out in-memory connections, so a server runs inside
// a synctest bubble with virtual time.
type pipeListener struct {
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error   { l.once.Do(func() { close(l.done) }); return nil }
func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }

// dial returns the client end of a new connection to the server.
func (l *pipeListener) dial() (net.Conn, error) {
	c, s := net.Pipe()
	select {
	case l.conns <- s:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// TestSlowHeadersClosed: a client sending its headers one byte a second is
// cut off by ReadHeaderTimeout (virtual time).
func TestSlowHeadersClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ln := newPipeListener()
		srv := NewHTTPServer("", http.NotFoundHandler(), HTTPOptions{ReadHeaderTimeout: 5 * time.Second})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- Serve(ctx, ln, srv, time.Second) }()
		c, err := ln.dial()
		if err != nil {
			t.Fatal(err)
		}
		closed := make(chan time.Duration, 1)
		start := time.Now()
		go func() { // the server closes the connection: the read ends
			_, _ = io.Copy(io.Discard, c)
			closed <- time.Since(start)
		}()
		req := "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 60) + "\r\n\r\n"
		sent := 0
		for i := 0; i < len(req); i++ {
			if _, err := c.Write([]byte{req[i]}); err != nil {
				break
			}
			sent++
			time.Sleep(time.Second)
		}
		got := <-closed
		if got < 5*time.Second || got > 7*time.Second || sent >= len(req) {
			t.Errorf("headers one byte a second, ReadHeaderTimeout 5s: closed after %v and %d of %d bytes; want about 5 s, before the end", got, sent, len(req))
		}
		c.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
}

// TestShutdownFinishesInFlight: when ctx is cancelled, a request in flight
// finishes with its answer and Serve returns nil only after it.
func TestShutdownFinishesInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		entered, release := make(chan struct{}), make(chan struct{})
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(entered)
			<-release
			fmt.Fprint(w, "finished")
		})
		ln := newPipeListener()
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- Serve(ctx, ln, NewHTTPServer("", h, HTTPOptions{}), 10*time.Second) }()
		c, err := ln.dial()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		answer := make(chan string, 1)
		go func() {
			if _, err := io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
				answer <- err.Error()
				return
			}
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				answer <- err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			answer <- fmt.Sprintf("%d %s", resp.StatusCode, b)
		}()
		<-entered
		cancel() // SIGTERM
		synctest.Wait()
		select {
		case err := <-done:
			t.Fatalf("Serve returned (%v) with a request in flight", err)
		default:
		}
		if _, err := ln.dial(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("a new connection during shutdown: %v, want refused", err)
		}
		close(release)
		if got := <-answer; got != "200 finished" {
			t.Errorf("request in flight during shutdown: %q, want 200 finished", got)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve after graceful shutdown: %v, want nil", err)
		}
	})
}

// TestStartLoopback runs Start on 127.0.0.1:0 over real TCP: healthz
// answers, 1 MB of headers is 431, a 10 MB body is 413, Close shuts down.
func TestStartLoopback(t *testing.T) {
	r, err := Start(t.Context(), "127.0.0.1:0", Options{Lab: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.URL, "http://127.0.0.1:") {
		t.Errorf("URL %q", r.URL)
	}
	resp, err := http.Get(r.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"lab":true`) {
		t.Errorf("healthz: %d %s", resp.StatusCode, b)
	}

	req, _ := http.NewRequest("GET", r.URL+"/healthz", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 1<<20))
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Errorf("1 MB of headers: %v", err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("1 MB of headers: status %d, want 431", resp.StatusCode)
		}
	}

	body := `{"account":"` + strings.Repeat("a", 10<<20) + `"}`
	if resp, err := http.Post(r.URL+"/api/v1/devices", "application/json", strings.NewReader(body)); err != nil {
		// The server may close the connection before reading all 10 MB.
		t.Logf("10 MB body: %v", err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("10 MB body: status %d, want 413", resp.StatusCode)
		}
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close twice: %v", err)
	}
	if _, err := http.Get(r.URL + "/healthz"); err == nil {
		t.Errorf("healthz after Close: answered")
	}
}
