package webapp

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/totpemu/totpemu/clock"
)

const (
	period     = 30 // seconds a step
	maxBody    = 64 << 10
	issuer     = "WebApp"
	sidCookie  = "sid"
	csrfCookie = "csrftoken"
	csrfHeader = "X-CSRF-Token"
	csrfField  = "csrf_token"
)

// Options configure an App. Clock is required; the zero value of every other
// field works.
type Options struct {
	Clock         clock.Clock   // the app's time; a *clock.Manual (the lab clock) in tests
	Back, Forward int           // window in steps (period 30 s, 6 digits, SHA1)
	Lockout       int           // consecutive wrong codes that lock the user; 0: never
	LockFor       time.Duration // how long a lock lasts; 0 means 5 minutes
	BindCodes     int           // codes to enable MFA: 1, or 2 consecutive ones; 0 means 1

	// PerSessionReplay is a flaw: the "code already used" record is kept
	// per session, not per user, so a code used in one session is accepted
	// in another.
	PerSessionReplay bool

	// Throttle is django-otp's silent exponential throttling: after the
	// n-th consecutive failure every code, even a right one, is refused as
	// a plain invalid code for 2^(n-1) seconds of Clock time; a success
	// resets it.
	Throttle bool

	// Users are pre-existing users, name -> password (a staging server's
	// test users); sign-up creates more.
	Users map[string]string

	// AdminToken, when set, enables POST /admin/mfa/reset (JSON {"user":
	// NAME}, header X-Admin-Token): an administrator takes a user's MFA
	// off, as staging servers let test tooling do (a user with MFA on
	// cannot sign in to turn it off without a code).
	AdminToken string
}

// Stats are the app's counters.
type Stats struct {
	Requests     int // every request, 404s included
	CodesChecked int // codes submitted to a check (login, verify, enable), refused unread by a lock or throttle included
}

// App is the web app, an http.Handler safe for concurrent use.
type App struct {
	opts     Options
	vopts    totp.ValidateOpts
	routes   map[string]route
	requests atomic.Int64
	codes    atomic.Int64

	mu       sync.Mutex // guards users and sessions, and everything in them
	users    map[string]*user
	sessions map[string]*session
}

// user is an account. Its MFA state and failure counts are the user's,
// shared by all its sessions.
type user struct {
	name, password string
	mfa            bool   // enabled
	secret         string // the enabled secret
	pending        string // the secret of a setup awaiting enable
	gen            int    // bumped when the secret changes: older per-session records lapse
	hasLast        bool   // the replay record (unless PerSessionReplay): last accepted step
	last           int64
	failures       int // consecutive wrong codes, towards the lockout
	lockedUntil    time.Time
	throttleFails  int // consecutive wrong codes, for the throttle's delay
	throttleUntil  time.Time
}

// state is where a session stands.
type state int

const (
	anonymous    state = iota
	awaitingCode       // password accepted, challenge pending
	signedIn
)

type session struct {
	id        string
	formToken string // csrf_token of the HTML forms
	apiToken  string // the csrftoken cookie the API wants echoed
	state     state
	user      string // the user signed in or awaiting a code
	challenge string // with awaitingCode
	used      map[string]usedStep
}

// usedStep is a per-session replay record (PerSessionReplay): the last step
// accepted in the session for a user's secret of generation gen.
type usedStep struct {
	gen  int
	step int64
}

// route is a path's handlers. page routes are HTML: they make a session
// when the request brings none, and read POST bodies as forms.
type route struct {
	page      bool
	get, post func(*call) reply
}

func (rt route) allow() string {
	var m []string
	if rt.get != nil {
		m = append(m, http.MethodGet, http.MethodHead)
	}
	if rt.post != nil {
		m = append(m, http.MethodPost)
	}
	return strings.Join(m, ", ")
}

// New returns an app with opts.
func New(opts Options) (*App, error) {
	switch {
	case opts.Clock == nil:
		return nil, errors.New("webapp: options: clock is required")
	case opts.Back < 0 || opts.Forward < 0:
		return nil, fmt.Errorf("webapp: options: window %d back, %d forward: want steps >= 0", opts.Back, opts.Forward)
	case opts.Lockout < 0:
		return nil, fmt.Errorf("webapp: options: lockout %d: want >= 0", opts.Lockout)
	case opts.LockFor < 0:
		return nil, fmt.Errorf("webapp: options: lock for %v: want >= 0", opts.LockFor)
	case opts.BindCodes < 0 || opts.BindCodes > 2:
		return nil, fmt.Errorf("webapp: options: bind codes %d: want 1 or 2", opts.BindCodes)
	}
	if opts.LockFor == 0 {
		opts.LockFor = 5 * time.Minute
	}
	if opts.BindCodes == 0 {
		opts.BindCodes = 1
	}
	a := &App{
		opts:     opts,
		vopts:    totp.ValidateOpts{Period: period, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1},
		users:    map[string]*user{},
		sessions: map[string]*session{},
	}
	for name, pw := range opts.Users {
		if err := checkCredentials(name, pw); err != nil {
			return nil, fmt.Errorf("webapp: options: user %q: %w", name, err)
		}
		a.users[name] = &user{name: name, password: pw}
	}
	a.routes = map[string]route{
		"/":                {get: (*call).home},
		"/lab/clock":       {get: (*call).labClock, post: (*call).labClock},
		"/signup":          {page: true, get: (*call).signupForm, post: (*call).signup},
		"/login":           {page: true, get: (*call).loginForm, post: (*call).login},
		"/login/otp":       {page: true, post: (*call).loginOTP},
		"/account":         {page: true, get: (*call).account},
		"/logout":          {post: (*call).logout},
		"/api/mfa/setup":   {post: (*call).apiSetup},
		"/api/mfa/enable":  {post: (*call).apiEnable},
		"/api/mfa/disable": {post: (*call).apiDisable},
		"/admin/mfa/reset": {post: (*call).adminReset},
		"/api/mfa/verify":  {post: (*call).apiVerify},
	}
	return a, nil
}

// Stats returns the counters.
func (a *App) Stats() Stats {
	return Stats{Requests: int(a.requests.Load()), CodesChecked: int(a.codes.Load())}
}

// call is one request being handled: its parsed input, its session, and
// the cookies its answer must set. Handlers run with a.mu held.
type call struct {
	a       *App
	r       *http.Request
	now     time.Time
	body    []byte
	form    url.Values // page POSTs
	s       *session   // nil: none
	newSID  bool       // send s's sid cookie (made or renewed)
	cleared bool       // expire the cookies (logout)
}

// reply is an answer, computed under the lock and written after it.
type reply struct {
	status     int
	ctype      string
	body       []byte
	location   string
	retryAfter time.Duration // > 0: a Retry-After header, in whole seconds rounded up
	date       time.Time     // non-zero: the Date header instead of the request's time (a lab clock just set)
}

// ServeHTTP routes a request. The Date header is set first, from the
// clock, so that no answer carries the real time.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.requests.Add(1)
	now := a.opts.Clock.Now()
	w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
	rt, ok := a.routes[r.URL.Path]
	if !ok {
		write(w, text(http.StatusNotFound, "not found"))
		return
	}
	var h func(*call) reply
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h = rt.get
	case http.MethodPost:
		h = rt.post
	}
	if h == nil {
		w.Header().Set("Allow", rt.allow())
		write(w, text(http.StatusMethodNotAllowed, "method not allowed"))
		return
	}
	c := &call{a: a, r: r, now: now}
	if r.Method == http.MethodPost {
		// The body is read before the lock: a slow client holds up no one.
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			if _, big := errors.AsType[*http.MaxBytesError](err); big {
				write(w, text(http.StatusRequestEntityTooLarge, "request body over 64 KiB"))
				return
			}
			write(w, text(http.StatusBadRequest, "reading the request body: "+err.Error()))
			return
		}
		c.body = b
		if rt.page {
			if c.form, err = parseForm(r.Header.Get("Content-Type"), b); err != nil {
				write(w, text(http.StatusBadRequest, "bad form: "+err.Error()))
				return
			}
		}
	}

	a.mu.Lock()
	c.s = a.lookup(r)
	if c.s == nil && rt.page {
		c.s = a.newSession()
		c.newSID = true
	}
	rep := h(c)
	cookies := c.cookies(r.TLS != nil)
	a.mu.Unlock()

	for _, ck := range cookies {
		http.SetCookie(w, ck)
	}
	write(w, rep)
}

// parseForm reads a urlencoded or multipart form; any other content type
// is an empty form, as a framework's request.POST would be.
func parseForm(contentType string, body []byte) (url.Values, error) {
	mt, params, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "application/x-www-form-urlencoded":
		return url.ParseQuery(string(body))
	case "multipart/form-data":
		f, err := multipart.NewReader(bytes.NewReader(body), params["boundary"]).ReadForm(maxBody)
		if err != nil {
			return nil, err
		}
		defer f.RemoveAll()
		return url.Values(f.Value), nil
	}
	return url.Values{}, nil
}

func write(w http.ResponseWriter, rep reply) {
	h := w.Header()
	if !rep.date.IsZero() {
		h.Set("Date", rep.date.UTC().Format(http.TimeFormat))
	}
	if rep.ctype != "" {
		h.Set("Content-Type", rep.ctype)
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
	}
	if rep.location != "" {
		h.Set("Location", rep.location)
	}
	if rep.retryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(int64((rep.retryAfter+time.Second-1)/time.Second), 10))
	}
	if rep.body != nil {
		h.Set("Content-Length", strconv.Itoa(len(rep.body)))
	}
	w.WriteHeader(rep.status)
	_, _ = w.Write(rep.body)
}

func text(status int, msg string) reply {
	return reply{status: status, ctype: "text/plain; charset=utf-8", body: []byte(msg + "\n")}
}

// redirect answers 303 See Other to path.
func redirect(path string) reply {
	return reply{status: http.StatusSeeOther, location: path, ctype: "text/html; charset=utf-8",
		body: []byte(`<!doctype html><a href="` + path + `">See Other</a>` + "\n")}
}

// token is 128 random bits in hex.
func token() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// lookup is the request's session, nil when its sid names none.
func (a *App) lookup(r *http.Request) *session {
	ck, err := r.Cookie(sidCookie)
	if err != nil {
		return nil
	}
	return a.sessions[ck.Value]
}

func (a *App) newSession() *session {
	s := &session{id: token(), formToken: token(), apiToken: token()}
	a.sessions[s.id] = s
	return s
}

// signIn signs c's session in as name under a new sid.
func (c *call) signIn(name string) {
	s := c.s
	delete(c.a.sessions, s.id)
	s.id = token()
	c.a.sessions[s.id] = s
	c.newSID = true
	s.state, s.user, s.challenge = signedIn, name, ""
}

// cookies are the Set-Cookie of c's answer: sid when made or renewed, and
// csrftoken on every answer for a session.
func (c *call) cookies(secure bool) []*http.Cookie {
	if c.cleared {
		return []*http.Cookie{
			{Name: sidCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode},
			{Name: csrfCookie, Value: "", Path: "/", MaxAge: -1, Secure: secure, SameSite: http.SameSiteLaxMode},
		}
	}
	if c.s == nil {
		return nil
	}
	var out []*http.Cookie
	if c.newSID {
		out = append(out, &http.Cookie{Name: sidCookie, Value: c.s.id, Path: "/", HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	}
	return append(out, &http.Cookie{Name: csrfCookie, Value: c.s.apiToken, Path: "/", Secure: secure, SameSite: http.SameSiteLaxMode})
}

// checkCredentials checks a new user's name and password.
func checkCredentials(name, password string) error {
	if name == "" || len(name) > 64 {
		return errors.New("a user name has 1 to 64 characters")
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-@", r)) {
			return errors.New("a user name has letters, digits and . _ - @ only")
		}
	}
	if password == "" {
		return errors.New("the password is empty")
	}
	return nil
}
