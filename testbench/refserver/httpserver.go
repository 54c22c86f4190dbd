package refserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// HTTPOptions are the limits of the http.Server around the handler. Zero
// fields take the defaults shown.
type HTTPOptions struct {
	ReadHeaderTimeout time.Duration // 5 s: a client sending headers slowly is cut off
	ReadTimeout       time.Duration // 10 s for the whole request
	WriteTimeout      time.Duration // 10 s for the answer
	IdleTimeout       time.Duration // 60 s between keep-alive requests
	MaxHeaderBytes    int           // 64 KiB; larger headers are answered 431
	ShutdownTimeout   time.Duration // 10 s for requests in flight to finish on shutdown
}

func (o HTTPOptions) withDefaults() HTTPOptions {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.ReadHeaderTimeout, 5*time.Second)
	def(&o.ReadTimeout, 10*time.Second)
	def(&o.WriteTimeout, 10*time.Second)
	def(&o.IdleTimeout, 60*time.Second)
	def(&o.ShutdownTimeout, 10*time.Second)
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = 64 << 10
	}
	return o
}

// NewHTTPServer returns an http.Server for h on addr with o's timeouts
// and header limit. Request bodies are capped by the Server handler itself.
func NewHTTPServer(addr string, h http.Handler, o HTTPOptions) *http.Server {
	o = o.withDefaults()
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: o.ReadHeaderTimeout,
		ReadTimeout:       o.ReadTimeout,
		WriteTimeout:      o.WriteTimeout,
		IdleTimeout:       o.IdleTimeout,
		MaxHeaderBytes:    o.MaxHeaderBytes,
		ErrorLog:          nil,
	}
}

// Serve serves srv on ln until ctx is done, then shuts down gracefully:
// the listener closes at once, requests in flight get up to shutdown to
// finish. It returns nil after a clean shutdown, or the error that stopped
// the server.
func Serve(ctx context.Context, ln net.Listener, srv *http.Server, shutdown time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdown)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		srv.Close()
		return fmt.Errorf("shutdown on %s: %w", ln.Addr(), err)
	}
	return nil
}

// ListenAndServe listens on addr and serves h until ctx is done (see
// Serve). ready, if not nil, is called with the bound address once the
// listener is open, before any request is served.
func ListenAndServe(ctx context.Context, addr string, h http.Handler, o HTTPOptions, ready func(net.Addr)) error {
	o = o.withDefaults()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	if ready != nil {
		ready(ln.Addr())
	}
	return Serve(ctx, ln, NewHTTPServer(addr, h, o), o.ShutdownTimeout)
}

// Running is a reference console serving on a loopback address.
type Running struct {
	URL    string  // "http://127.0.0.1:PORT", no trailing slash
	Server *Server // the handler, for its options and lab clock
	cancel context.CancelFunc
	done   chan error
}

// Start runs a new Server with opts on addr (use "127.0.0.1:0" for a free
// port) with the default HTTPOptions, until ctx is done or Close is
// called.
func Start(ctx context.Context, addr string, opts Options) (*Running, error) {
	s, err := New(opts)
	if err != nil {
		return nil, err
	}
	return StartHandler(ctx, addr, s, HTTPOptions{})
}

// StartHandler is Start for a Server already made, with explicit limits.
func StartHandler(ctx context.Context, addr string, s *Server, o HTTPOptions) (*Running, error) {
	o = o.withDefaults()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	r := &Running{URL: "http://" + ln.Addr().String(), Server: s, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- Serve(ctx, ln, NewHTTPServer(addr, s, o), o.ShutdownTimeout) }()
	return r, nil
}

// Close shuts the server down gracefully and waits for it. It may be
// called more than once.
func (r *Running) Close() error {
	r.cancel()
	err, ok := <-r.done
	if ok {
		close(r.done)
	}
	return err
}
