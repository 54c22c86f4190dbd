package target

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/totpemu/totpemu/testbench"
)

// errNoH2 says the server does not speak HTTP/2 on this connection (or
// allows fewer concurrent streams than the burst): use last-byte sync.
var errNoH2 = errors.New("no HTTP/2")

// h2Burst is the single-packet attack (Kettle, 2023) over one TLS
// connection that negotiated HTTP/2: every request's headers and all of
// its body but the last byte go out first, each on its own stream; then
// the final DATA frames of all the streams, END_STREAM set, in one write
// (one TCP packet for a burst of this size). The spread is that write.
func (t *HTTPTarget) h2Burst(ctx context.Context, reqs []*http.Request, bodies [][]byte, vs Verdicts) (testbench.BurstResult, error) {
	n := len(reqs)
	res := testbench.BurstResult{Verdicts: make([]testbench.Verdict, n),
		Method: fmt.Sprintf("HTTP/2 single packet on one connection, %d streams", n)}
	c, err := t.dialH2(ctx, reqs[0])
	if err != nil {
		return res, err
	}
	defer c.Close()
	if d, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(d)
	}
	bw := bufio.NewWriterSize(c, 64<<10)
	fr := http2.NewFramer(bw, bufio.NewReader(c))
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	fr.MaxHeaderListSize = 1 << 20
	if _, err := io.WriteString(bw, http2.ClientPreface); err != nil {
		return res, err
	}
	if err := fr.WriteSettings(http2.Setting{ID: http2.SettingEnablePush, Val: 0}); err != nil {
		return res, err
	}
	if err := bw.Flush(); err != nil {
		return res, err
	}
	// The server's SETTINGS come first: how many streams it takes.
	for settled := false; !settled; {
		f, err := fr.ReadFrame()
		if err != nil {
			return res, fmt.Errorf("reading the server's HTTP/2 settings: %w", err)
		}
		if sf, ok := f.(*http2.SettingsFrame); ok && !sf.IsAck() {
			if v, ok := sf.Value(http2.SettingMaxConcurrentStreams); ok && int(v) < n {
				return res, fmt.Errorf("%w: the server takes %d concurrent streams, the burst is %d", errNoH2, v, n)
			}
			if err := fr.WriteSettingsAck(); err != nil {
				return res, err
			}
			settled = true
		}
	}
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for i, r := range reqs {
		hb.Reset()
		path := r.URL.RequestURI()
		for _, kv := range [][2]string{{":method", r.Method}, {":scheme", "https"}, {":authority", r.URL.Host}, {":path", path},
			{"content-length", strconv.Itoa(len(bodies[i]))}} {
			_ = enc.WriteField(hpack.HeaderField{Name: kv[0], Value: kv[1]})
		}
		for k, vs := range r.Header {
			for _, v := range vs {
				_ = enc.WriteField(hpack.HeaderField{Name: strings.ToLower(k), Value: v})
			}
		}
		id := uint32(2*i + 1)
		if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: hb.Bytes(), EndHeaders: true}); err != nil {
			return res, err
		}
		if len(bodies[i]) > 1 {
			if err := fr.WriteData(id, false, bodies[i][:len(bodies[i])-1]); err != nil {
				return res, err
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return res, err
	}
	for i := range reqs {
		last := bodies[i]
		if len(last) > 0 {
			last = last[len(last)-1:]
		}
		if err := fr.WriteData(uint32(2*i+1), true, last); err != nil {
			return res, err
		}
	}
	start := realClock.Now()
	if err := bw.Flush(); err != nil {
		return res, err
	}
	res.Spread, res.Measured = realClock.Now().Sub(start), true
	return res, t.h2Answers(fr, bw, reqs, res.Verdicts, vs)
}

// h2Answers reads the answers of the burst's streams into vs.
func (t *HTTPTarget) h2Answers(fr *http2.Framer, bw *bufio.Writer, reqs []*http.Request, out []testbench.Verdict, vs Verdicts) error {
	type stream struct {
		status int
		header http.Header
		body   bytes.Buffer
		done   bool
	}
	ss := make([]stream, len(reqs))
	left := len(reqs)
	finish := func(i int, v testbench.Verdict) {
		if !ss[i].done {
			ss[i].done, out[i] = true, v
			left--
		}
	}
	for left > 0 {
		f, err := fr.ReadFrame()
		if err != nil {
			for i := range ss {
				finish(i, testbench.Verdict{Outcome: testbench.Error, Err: fmt.Errorf("HTTP/2 burst: %w", err)})
			}
			return nil
		}
		id := f.Header().StreamID
		i := int(id-1) / 2
		known := id%2 == 1 && i < len(ss)
		switch f := f.(type) {
		case *http2.MetaHeadersFrame:
			if !known {
				continue
			}
			ss[i].header = http.Header{}
			for _, hf := range f.RegularFields() {
				ss[i].header.Add(hf.Name, hf.Value)
			}
			ss[i].status, _ = strconv.Atoi(f.PseudoValue("status"))
		case *http2.DataFrame:
			if !known {
				continue
			}
			if ss[i].body.Len()+len(f.Data()) > maxAnswerBytes {
				finish(i, testbench.Verdict{Outcome: testbench.Error, Err: fmt.Errorf("answer over %d bytes", maxAnswerBytes)})
			} else {
				ss[i].body.Write(f.Data())
			}
			if len(f.Data()) > 0 {
				// Give the window back, so no answer stalls.
				_ = fr.WriteWindowUpdate(0, uint32(len(f.Data())))
				_ = fr.WriteWindowUpdate(id, uint32(len(f.Data())))
				_ = bw.Flush()
			}
		case *http2.RSTStreamFrame:
			if known {
				finish(i, testbench.Verdict{Outcome: testbench.Error, Err: fmt.Errorf("stream reset: %v", f.ErrCode)})
			}
			continue
		case *http2.GoAwayFrame:
			for j := range ss {
				if uint32(2*j+1) > f.LastStreamID {
					finish(j, testbench.Verdict{Outcome: testbench.Error, Err: fmt.Errorf("server went away: %v", f.ErrCode)})
				}
			}
			continue
		case *http2.PingFrame:
			if !f.IsAck() {
				_ = fr.WritePing(true, f.Data)
				_ = bw.Flush()
			}
			continue
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = fr.WriteSettingsAck()
				_ = bw.Flush()
			}
			continue
		default:
			continue
		}
		if known && f.Header().Flags.Has(http2.FlagDataEndStream) && !ss[i].done {
			b := ss[i].body.Bytes()
			finish(i, t.verdictBy(&answer{status: ss[i].status, header: ss[i].header, body: b, json: decodeJSON(b)}, vs))
		}
	}
	return nil
}

// dialH2 opens a TLS connection offering HTTP/2 only; errNoH2 when the
// server does not take it.
func (t *HTTPTarget) dialH2(ctx context.Context, req *http.Request) (net.Conn, error) {
	host := req.URL.Host
	if req.URL.Port() == "" {
		host = net.JoinHostPort(req.URL.Hostname(), "443")
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, err
	}
	tc := tls.Client(c, t.tlsConfig(req, "h2", "http/1.1"))
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = c.Close()
		return nil, err
	}
	if tc.ConnectionState().NegotiatedProtocol != "h2" {
		_ = tc.Close()
		return nil, errNoH2
	}
	return tc, nil
}

// tlsConfig is the client's TLS configuration (its roots, for a test's
// server) with the protocols the burst speaks.
func (t *HTTPTarget) tlsConfig(req *http.Request, protos ...string) *tls.Config {
	cfg := &tls.Config{}
	if tr, ok := t.client.Transport.(*http.Transport); ok && tr.TLSClientConfig != nil {
		cfg = tr.TLSClientConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = req.URL.Hostname()
	}
	cfg.NextProtos = protos
	return cfg
}
