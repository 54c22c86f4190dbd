package refserver

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"sync"
	"time"
)

// The console's one user. This is a test server: the password is shown on
// the sign-in page.
const (
	DemoUser     = "demo"
	DemoPassword = "demo-password"
)

const (
	sessionCookie = "totpemu_session"
	sessionTTL    = 12 * time.Hour
	maxSessions   = 10_000
)

// session is one browser's state. Signed-in sessions have user set;
// mfaPending is a session past its password and waiting for its code.
type session struct {
	id, csrf   string
	created    time.Time
	user       string
	mfaPending bool
	enroll     *pendingEnrollment
}

// pendingEnrollment is an MFA device created by "Enable MFA" and not yet
// bound: what the enrollment page shows again after a refused code.
type pendingEnrollment struct {
	serial   string
	account  string
	qrBase64 string
	secret   secretKey
}

// sessions holds the console's sessions and its user's MFA device. It is
// safe for concurrent use.
type sessions struct {
	mu        sync.Mutex
	byID      map[string]*session
	mfaSerial string // the demo user's bound device, "" when MFA is off
}

func randomToken() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error()) // cannot happen on supported systems
	}
	return hex.EncodeToString(b[:])
}

// get returns the request's session, making a new anonymous one (and
// setting its cookie) when there is none or it has expired.
func (c *console) session(w http.ResponseWriter, r *http.Request) *session {
	now := c.s.clk.Now()
	c.ss.mu.Lock()
	defer c.ss.mu.Unlock()
	if ck, err := r.Cookie(sessionCookie); err == nil {
		if se, ok := c.ss.byID[ck.Value]; ok && now.Sub(se.created) < sessionTTL && !now.Before(se.created.Add(-sessionTTL)) {
			return se
		}
		delete(c.ss.byID, ck.Value)
	}
	if len(c.ss.byID) >= maxSessions {
		for id, se := range c.ss.byID {
			if now.Sub(se.created) >= sessionTTL || len(c.ss.byID) >= maxSessions {
				delete(c.ss.byID, id)
			}
		}
	}
	se := &session{id: randomToken(), csrf: randomToken(), created: now}
	c.ss.byID[se.id] = se
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: se.id, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	return se
}

// csrfOK reports whether the form's csrf field matches the session's.
func csrfOK(se *session, r *http.Request) bool {
	return subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(se.csrf)) == 1
}

// credentialsOK compares in constant time.
func credentialsOK(user, password string) bool {
	u := subtle.ConstantTimeCompare([]byte(user), []byte(DemoUser))
	p := subtle.ConstantTimeCompare([]byte(password), []byte(DemoPassword))
	return u&p == 1
}
