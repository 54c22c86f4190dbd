package refserver

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"strings"
)

//go:embed templates/*.html
var templateFS embed.FS

// console is the web console: server-rendered pages that work without
// JavaScript, in the flow of a cloud console's Account Protection page.
type console struct {
	s     *Server
	ss    *sessions
	pages map[string]*template.Template
}

func newConsole(s *Server) (*console, error) {
	c := &console{s: s, ss: &sessions{byID: map[string]*session{}}, pages: map[string]*template.Template{}}
	for _, p := range []string{"signin", "signin_mfa", "account", "enroll"} {
		t, err := template.New("layout.html").Funcs(template.FuncMap{"group4": group4}).
			ParseFS(templateFS, "templates/layout.html", "templates/"+p+".html")
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", p, err)
		}
		c.pages[p] = t
	}
	return c, nil
}

func (c *console) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/console/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /console/{$}", c.account)
	mux.HandleFunc("GET /console/signin", c.signinPage)
	mux.HandleFunc("POST /console/signin", c.signin)
	mux.HandleFunc("POST /console/signin/mfa", c.signinMFA)
	mux.HandleFunc("POST /console/signout", c.signout)
	mux.HandleFunc("POST /console/mfa/enable", c.enable)
	mux.HandleFunc("GET /console/mfa/enable", c.enrollPage)
	mux.HandleFunc("POST /console/mfa/bind", c.bind)
	mux.HandleFunc("POST /console/mfa/remove", c.remove)
}

// view is what every page template gets.
type view struct {
	Title     string
	Lab       bool
	Flaws     string // "" when none, else Flaws.String()
	ServerNow string
	CSRF      string
	User      string
	Error     string
	Notice    string
	DemoUser  string
	DemoPass  string
	MFASerial string
	Digits    int
	BindCodes int
	Issuer    string
	Account   string
	QR        template.URL
	Key       string
	Policy    string
}

func (c *console) render(w http.ResponseWriter, status int, page string, se *session, v view) {
	o := c.s.opts
	v.Lab, v.CSRF, v.User = o.Lab, se.csrf, se.user
	v.ServerNow = c.s.Now().UTC().Format("2006-01-02 15:04:05 MST")
	v.DemoUser, v.DemoPass = DemoUser, DemoPassword
	v.Digits, v.BindCodes, v.Issuer, v.MFASerial = o.Digits, o.BindCodes, o.Issuer, c.ss.mfaSerial
	v.Policy = o.Policy()
	if o.Flaws.Any() {
		v.Flaws = o.Flaws.String()
	}
	var buf bytes.Buffer
	if err := c.pages[page].Execute(&buf, v); err != nil {
		http.Error(w, "template "+page+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// begin returns the session with the sessions lock held, or writes the
// answer itself (bad form, bad CSRF token) and returns nil.
func (c *console) begin(w http.ResponseWriter, r *http.Request, post bool) *session {
	se := c.session(w, r)
	c.ss.mu.Lock()
	if post {
		if err := r.ParseForm(); err != nil {
			c.ss.mu.Unlock()
			status := http.StatusBadRequest
			if strings.Contains(err.Error(), "too large") {
				status = http.StatusRequestEntityTooLarge
			}
			http.Error(w, "bad form: "+err.Error(), status)
			return nil
		}
		if !csrfOK(se, r) {
			c.ss.mu.Unlock()
			http.Error(w, "the form's CSRF token does not match this session: reload the page and try again", http.StatusForbidden)
			return nil
		}
	}
	return se
}

func (c *console) account(w http.ResponseWriter, r *http.Request) {
	se := c.begin(w, r, false)
	if se == nil {
		return
	}
	defer c.ss.mu.Unlock()
	if se.user == "" {
		redirect(w, r, "/console/signin")
		return
	}
	v := view{Title: "Account Protection"}
	if r.URL.Query().Get("enabled") == "1" && c.ss.mfaSerial != "" {
		v.Notice = "MFA is enabled. From now on, signing in asks for a code from your authenticator."
	}
	c.render(w, http.StatusOK, "account", se, v)
}

func (c *console) signinPage(w http.ResponseWriter, r *http.Request) {
	se := c.begin(w, r, false)
	if se == nil {
		return
	}
	defer c.ss.mu.Unlock()
	if se.user != "" {
		redirect(w, r, "/console/")
		return
	}
	page := "signin"
	if se.mfaPending {
		page = "signin_mfa"
	}
	c.render(w, http.StatusOK, page, se, view{Title: "Sign in"})
}

func (c *console) signin(w http.ResponseWriter, r *http.Request) {
	se := c.begin(w, r, true)
	if se == nil {
		return
	}
	defer c.ss.mu.Unlock()
	if !credentialsOK(r.PostFormValue("username"), r.PostFormValue("password")) {
		c.render(w, http.StatusForbidden, "signin", se, view{Title: "Sign in", Error: "Wrong user name or password."})
		return
	}
	if _, ok := c.s.store.get(c.ss.mfaSerial); !ok {
		c.ss.mfaSerial = "" // no MFA, or its device was deleted over the API
	}
	if c.ss.mfaSerial == "" {
		se.user = DemoUser
		redirect(w, r, "/console/")
		return
	}
	se.mfaPending = true
	c.render(w, http.StatusOK, "signin_mfa", se, view{Title: "Multi-factor authentication"})
}

func (c *console) signinMFA(w http.ResponseWriter, r *http.Request) {
	se := c.begin(w, r, true)
	if se == nil {
		return
	}
	defer c.ss.mu.Unlock()
	if !se.mfaPending {
		redirect(w, r, "/console/signin")
		return
	}
	d, ok := c.s.store.get(c.ss.mfaSerial)
	if !ok { // MFA removed meanwhile
		se.mfaPending = false
		redirect(w, r, "/console/signin")
		return
	}
	code := r.PostFormValue("code")
	if !wellFormed(code, c.s.opts.Digits) {
		c.render(w, http.StatusBadRequest, "signin_mfa", se, view{Title: "Multi-factor authentication", Error: c.malformedMsg()})
		return
	}
	if msg, status := c.verdictMsg(c.s.check(r.Context(), d, false, code)); msg != "" {
		c.render(w, status, "signin_mfa", se, view{Title: "Multi-factor authentication", Error: msg})
		return
	}
	se.mfaPending, se.user = false, DemoUser
	redirect(w, r, "/console/")
}

func (c *console) signout(w http.ResponseWriter, r *http.Request) {
	se := c.begin(w, r, true)
	if se == nil {
		return
	}
	delete(c.ss.byID, se.id)
	c.ss.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	redirect(w, r, "/console/signin")
}

// enable creates a new virtual MFA device for the user and shows it.
func (c *console) enable(w http.ResponseWriter, r *http.Request) {
	se := c.begin(w, r, true)
	if se == nil {
		return
	}
	defer c.ss.mu.Unlock()
	if se.user == "" {
		redirect(w, r, "/console/signin")
		return
	}
	if c.ss.mfaSerial != "" {
		redirect(w, r, "/console/")
		return
	}
	if se.enroll != nil {
		c.s.store.remove(se.enroll.serial)
	}
	e, err := c.s.enroll(se.user)
	if err != nil {
		http.Error(w, "enable MFA: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	se.enroll = &pendingEnrollment{serial: e.dev.serial, account: e.dev.account, qrBase64: e.qrBase64, secret: e.dev.secret}
	redirect(w, r, "/console/mfa/enable")
}

func (c *console) enrollView(se *session, msg string) view {
	p := se.enroll
	return view{Title: "Enable MFA", Error: msg, Account: p.account, Key: string(p.secret),
		QR: template.URL("data:image/png;base64," + p.qrBase64)}
}

func (c *console) enrollPage(w http.ResponseWriter, r *http.Request) {
	se := c.begin(w, r, false)
	if se == nil {
		return
	}
	defer c.ss.mu.Unlock()
	if se.user == "" {
		redirect(w, r, "/console/signin")
		return
	}
	if se.enroll == nil || c.ss.mfaSerial != "" {
		redirect(w, r, "/console/")
		return
	}
	c.render(w, http.StatusOK, "enroll", se, c.enrollView(se, ""))
}

// bind checks the code(s) typed on the enrollment page: the API's bind.
func (c *console) bind(w http.ResponseWriter, r *http.Request) {
	se := c.begin(w, r, true)
	if se == nil {
		return
	}
	defer c.ss.mu.Unlock()
	if se.user == "" || se.enroll == nil {
		redirect(w, r, "/console/")
		return
	}
	d, ok := c.s.store.get(se.enroll.serial)
	if !ok {
		se.enroll = nil
		redirect(w, r, "/console/")
		return
	}
	codes := []string{r.PostFormValue("code1")}
	if c.s.opts.BindCodes == 2 {
		codes = append(codes, r.PostFormValue("code2"))
	}
	for _, code := range codes {
		if !wellFormed(code, c.s.opts.Digits) {
			c.render(w, http.StatusBadRequest, "enroll", se, c.enrollView(se, c.malformedMsg()))
			return
		}
	}
	if msg, status := c.verdictMsg(c.s.check(r.Context(), d, true, codes...)); msg != "" {
		c.render(w, status, "enroll", se, c.enrollView(se, msg))
		return
	}
	c.ss.mfaSerial, se.enroll = d.serial, nil
	redirect(w, r, "/console/?enabled=1")
}

// remove turns MFA off for the demo user (so the flow can be run again).
func (c *console) remove(w http.ResponseWriter, r *http.Request) {
	se := c.begin(w, r, true)
	if se == nil {
		return
	}
	defer c.ss.mu.Unlock()
	if se.user != "" && c.ss.mfaSerial != "" {
		c.s.store.remove(c.ss.mfaSerial)
		c.ss.mfaSerial = ""
	}
	redirect(w, r, "/console/")
}

func (c *console) malformedMsg() string {
	return fmt.Sprintf("Enter the %d-digit code exactly as your authenticator shows it: digits only, no spaces.", c.s.opts.Digits)
}

// verdictMsg is the refusal text and status for a verdict, "" when accepted.
func (c *console) verdictMsg(v verdict) (string, int) {
	switch v.outcome {
	case accepted:
		return "", http.StatusOK
	case locked:
		return fmt.Sprintf("Too many wrong codes: this device is locked. Try again in %d seconds.", int64(math.Ceil(v.retryAfter.Seconds()))), http.StatusTooManyRequests
	case rejected:
		if c.s.opts.BindCodes == 2 {
			return "The codes were not accepted. Enter two consecutive codes: type the code shown, wait for the next one, then type it.", http.StatusForbidden
		}
		return "The code was not accepted. Check your device's clock and type the code shown now.", http.StatusForbidden
	case alreadyBound:
		return "This MFA device is already enabled.", http.StatusConflict
	default:
		return "This MFA device is not available any more. Start again.", http.StatusConflict
	}
}

// group4 writes a key in groups of four characters, as consoles show it.
func group4(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}
