package webapp

import (
	"bytes"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"

	"github.com/totpemu/totpemu/testbench/internal/qrpng"

	"github.com/totpemu/totpemu/clock"
)

// jsonReply answers v as JSON.
func jsonReply(status int, v any) reply {
	b, err := json.Marshal(v)
	if err != nil {
		return text(http.StatusInternalServerError, "encoding the answer: "+err.Error())
	}
	return reply{status: status, ctype: "application/json", body: append(b, '\n')}
}

func jsonError(status int, msg string) reply {
	return jsonReply(status, map[string]string{"error": msg})
}

var okReply = map[string]bool{"ok": true}

// apiUser is the signed-in user of an API call whose CSRF header echoes
// the csrftoken cookie; else the answer to give.
func (c *call) apiUser() (*user, *reply) {
	s := c.s
	if s == nil || s.state != signedIn || c.a.users[s.user] == nil {
		rep := jsonError(http.StatusUnauthorized, "not signed in")
		return nil, &rep
	}
	h := c.r.Header.Get(csrfHeader)
	ck, err := c.r.Cookie(csrfCookie)
	if err != nil || !same(h, s.apiToken) || !same(ck.Value, h) {
		rep := jsonError(http.StatusForbidden, "csrf")
		return nil, &rep
	}
	return c.a.users[s.user], nil
}

// decodeJSON reads the call's body into v; an empty body is {}.
func (c *call) decodeJSON(v any) *reply {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		rep := jsonError(http.StatusBadRequest, "bad request: "+err.Error())
		return &rep
	}
	return nil
}

// codeReply answers a check's verdict.
func codeReply(v verdict) reply {
	switch v.outcome {
	case accepted:
		return jsonReply(http.StatusOK, okReply)
	case locked:
		rep := jsonError(http.StatusTooManyRequests, "locked")
		rep.retryAfter = v.retryAfter
		return rep
	}
	return jsonError(http.StatusForbidden, "invalid code")
}

func (c *call) apiSetup() reply {
	u, rep := c.apiUser()
	if rep != nil {
		return *rep
	}
	if u.mfa {
		return jsonError(http.StatusConflict, "mfa already enabled")
	}
	u.pending = newSecret()
	u.gen++
	u.hasLast = false
	uri := otpauthURI(u.name, u.pending)
	img, err := qrpng.Encode(uri)
	if err != nil {
		return jsonError(http.StatusInternalServerError, "drawing the qr code: "+err.Error())
	}
	return jsonReply(http.StatusOK, struct {
		URI    string `json:"otpauth_uri"`
		Secret string `json:"secret"`
		QR     string `json:"qr_png"`
	}{uri, u.pending, base64.StdEncoding.EncodeToString(img)})
}

func (c *call) apiEnable() reply {
	u, rep := c.apiUser()
	if rep != nil {
		return *rep
	}
	var req struct {
		Code  *string `json:"code"`
		Code1 *string `json:"code1"`
		Code2 *string `json:"code2"`
	}
	if rep := c.decodeJSON(&req); rep != nil {
		return *rep
	}
	if u.mfa {
		return jsonError(http.StatusConflict, "mfa already enabled")
	}
	if u.pending == "" {
		return jsonError(http.StatusConflict, "no mfa setup in progress")
	}
	var codes []string
	switch {
	case c.a.opts.BindCodes == 1 && req.Code != nil:
		codes = []string{*req.Code}
	case c.a.opts.BindCodes == 2 && req.Code1 != nil && req.Code2 != nil:
		codes = []string{*req.Code1, *req.Code2}
	case c.a.opts.BindCodes == 1:
		return jsonError(http.StatusBadRequest, "bad request: send code")
	default:
		return jsonError(http.StatusBadRequest, "bad request: send code1 and code2")
	}
	v := c.check(u, u.pending, codes...)
	if v.outcome == accepted {
		u.mfa, u.secret, u.pending = true, u.pending, ""
	}
	return codeReply(v)
}

func (c *call) apiDisable() reply {
	u, rep := c.apiUser()
	if rep != nil {
		return *rep
	}
	c.mfaOff(u)
	return jsonReply(http.StatusOK, okReply)
}

// adminReset takes a user's MFA off for an administrator
// (Options.AdminToken).
func (c *call) adminReset() reply {
	if c.a.opts.AdminToken == "" || !hmac.Equal([]byte(c.r.Header.Get("X-Admin-Token")), []byte(c.a.opts.AdminToken)) {
		return jsonReply(http.StatusForbidden, map[string]string{"error": "admin token"})
	}
	var req struct {
		User string `json:"user"`
	}
	if rep := c.decodeJSON(&req); rep != nil {
		return *rep
	}
	u := c.a.users[req.User]
	if u == nil {
		return jsonReply(http.StatusNotFound, map[string]string{"error": "no such user"})
	}
	c.mfaOff(u)
	return jsonReply(http.StatusOK, okReply)
}

// mfaOff clears u's MFA: secret, replay record, failures, lock, throttle.
func (c *call) mfaOff(u *user) {
	u.mfa, u.secret, u.pending = false, "", ""
	u.gen++
	u.hasLast, u.last = false, 0
	u.failures, u.lockedUntil = 0, time.Time{}
	u.throttleFails, u.throttleUntil = 0, time.Time{}
	if c.s != nil {
		delete(c.s.used, u.name)
	}
}

func (c *call) apiVerify() reply {
	u, rep := c.apiUser()
	if rep != nil {
		return *rep
	}
	var req struct {
		Code *string `json:"code"`
	}
	if rep := c.decodeJSON(&req); rep != nil {
		return *rep
	}
	if req.Code == nil {
		return jsonError(http.StatusBadRequest, "bad request: send code")
	}
	if !u.mfa {
		return jsonError(http.StatusConflict, "mfa not enabled")
	}
	return codeReply(c.check(u, u.secret, *req.Code))
}

// labClock answers GET and POST /lab/clock when the clock is a
// *clock.Manual, as the reference console's lab clock does: GET reads it,
// POST {"set": RFC3339Nano} sets it; both answer {"now": RFC3339Nano}.
func (c *call) labClock() reply {
	m, ok := c.a.opts.Clock.(*clock.Manual)
	if !ok {
		return text(http.StatusNotFound, "not found")
	}
	if c.r.Method == http.MethodPost {
		var req struct {
			Set *string `json:"set"`
		}
		if err := json.Unmarshal(c.body, &req); err != nil {
			return jsonError(http.StatusBadRequest, "lab clock: "+err.Error())
		}
		if req.Set == nil {
			return jsonError(http.StatusBadRequest, "lab clock: send set")
		}
		t, err := time.Parse(time.RFC3339Nano, *req.Set)
		if err != nil {
			return jsonError(http.StatusBadRequest, "lab clock: set: "+err.Error())
		}
		m.Set(t)
	}
	now := m.Now()
	rep := jsonReply(http.StatusOK, map[string]string{"now": now.UTC().Format(time.RFC3339Nano)})
	rep.date = now
	return rep
}
