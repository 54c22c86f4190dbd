package testbench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/totpemu/totpemu/clock"
	"github.com/totpemu/totpemu/scanner"
)

// EnrollResult is what the enroll scenario saw and how long each step took.
type EnrollResult struct {
	KeyForms     []string           `json:"key_forms"` // qr, uri, manual key
	URIFindings  []string           `json:"uri_findings"`
	ManualKeyOK  *bool              `json:"manual_key_matches"` // null when the target showed one form only
	BindCodes    int                `json:"bind_codes"`
	BindAccepted bool               `json:"bind_accepted"`
	CodeAccepted bool               `json:"code_accepted"`
	TimingsMS    map[string]float64 `json:"timings_ms"`
}

// runEnroll goes through enrollment as a person with a phone would:
// enroll, scan the QR code, lint its payload, compare the manual key with
// the QR's secret, bind, and log in with a fresh code from the device's
// clock, timing each step.
func runEnroll(ctx context.Context, a *actor) (any, []Check, error) {
	b := a.b
	sw := b.cfg.Stopwatch
	res := &EnrollResult{TimingsMS: map[string]float64{}, BindCodes: b.caps.BindCodes, URIFindings: []string{}}
	lap := func(name string, t0 time.Time) { res.TimingsMS[name] = float64(sw.Now().Sub(t0).Microseconds()) / 1000 }

	// Its enrollment is its own, not the pool's: a test user's account is
	// held for it until the scenario ends.
	name, slot, err := a.claimAccount(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer a.dropSlot(slot)
	t0 := sw.Now()
	b.mu.Lock()
	prm := b.prm
	b.mu.Unlock()
	enr, err := b.tgt.Enroll(b.reqCtx, name)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, fmt.Errorf("%w: enrolling: %w", ErrUnreachable, err)
	}
	lap("enroll", t0)
	if len(enr.QRImage) > 0 {
		res.KeyForms = append(res.KeyForms, "qr")
	}
	if enr.URI != "" {
		res.KeyForms = append(res.KeyForms, "uri")
	}
	if enr.ManualKey != "" {
		res.KeyForms = append(res.KeyForms, "manual key")
	}
	var checks []Check
	t0 = sw.Now()
	km, err := readKey(ctx, enr, true)
	lap("scan", t0)
	if err != nil {
		id := "enroll.key"
		if len(enr.QRImage) > 0 && enr.URI == "" {
			id = "enroll.qr"
		}
		return res, []Check{{ID: id, Status: Fail, Detail: err.Error()}}, nil
	}
	if km.fromQR || km.qrKey != nil {
		checks = append(checks, Check{ID: "enroll.qr", Status: Pass, Detail: "the QR code decodes to an otpauth URI"})
	}
	if km.key != nil {
		for _, f := range km.findings {
			res.URIFindings = append(res.URIFindings, f.String())
		}
		switch {
		case scanner.HasError(km.findings):
			checks = append(checks, Check{ID: "enroll.lint", Status: Fail, Detail: strings.Join(res.URIFindings, "; ")})
		case scanner.HasWarning(km.findings):
			checks = append(checks, Check{ID: "enroll.lint", Status: Warn, Detail: strings.Join(res.URIFindings, "; ")})
		default:
			checks = append(checks, Check{ID: "enroll.lint", Status: Pass, Detail: "the otpauth URI has no lint finding"})
		}
	}
	for _, c := range km.agreement() {
		if c.ID == "enroll.manual-key" {
			res.ManualKeyOK = ptr(c.Status == Pass)
		}
		checks = append(checks, c)
	}
	acct, err := km.account(enr, prm)
	if err != nil {
		return res, append(checks, Check{ID: "enroll.key", Status: Fail, Detail: err.Error()}), nil
	}
	d := &device{enr: enr, acct: acct, used: map[string]usedBy{}, pristine: true, bound: b.caps.BindCodes == 0, busy: true, account: name}
	b.mu.Lock()
	d.n = len(b.devs) + 1
	b.devs = append(b.devs, d)
	b.mu.Unlock()
	defer a.release(d)

	t0 = sw.Now()
	d, err = a.bind(ctx, d, false)
	if err != nil {
		if IsUnreachable(err) || ctx.Err() != nil {
			return nil, nil, err
		}
		return res, append(checks, Check{ID: "enroll.bind", Status: Fail, Detail: err.Error()}), nil
	}
	defer a.release(d)
	lap("bind", t0)
	res.BindAccepted = true
	if b.caps.BindCodes > 0 {
		b.mu.Lock()
		j := *b.firstBind
		b.mu.Unlock()
		if j != 0 {
			checks = append(checks, Check{ID: "enroll.bind", Status: Fail,
				Detail: fmt.Sprintf("binding with the device's current code(s) was refused; codes %+d step(s) off were accepted: the server's clock is probably off", j)})
		} else {
			checks = append(checks, Check{ID: "enroll.bind", Status: Pass,
				Detail: fmt.Sprintf("bound with %d code(s) from the device", b.caps.BindCodes)})
		}
	}

	// Log in with the code the device shows, once it is clean (after the
	// bind's steps), away from the device's step edges as a person reads it.
	dev := b.deviceClock()
	if err := a.untilDeviceStep(ctx, d, dev); err != nil {
		return nil, nil, err
	}
	t0 = sw.Now()
	an, err := a.send(ctx, d, false, func(time.Time) ([]string, int64) {
		s, _ := d.acct.Step(dev.Now())
		return []string{d.code(int64(s))}, int64(s)
	})
	if err != nil {
		return nil, nil, err
	}
	lap("login", t0)
	res.CodeAccepted = an.v.Outcome == Accepted
	if res.CodeAccepted {
		checks = append(checks, Check{ID: "enroll.login", Status: Pass, Detail: "a fresh code from the device was accepted"})
	} else {
		checks = append(checks, Check{ID: "enroll.login", Status: Fail, Detail: "a fresh code from the device was " + an.v.String()})
	}
	return res, checks, nil
}

// deviceClock is the virtual device's clock (its hardware profile) over
// the run's truth.
func (b *bench) deviceClock() clock.Clock {
	if b.cfg.DeviceClock == nil {
		return b.tl.tm
	}
	return b.cfg.DeviceClock(b.tl.tm)
}

// untilDeviceStep waits until the device's clock shows a code clean on d,
// read as a person reads it: in real time at least 2 s from the device's
// step edges, in virtual time in the middle of its step.
func (a *actor) untilDeviceStep(ctx context.Context, d *device, dev clock.Clock) error {
	b := a.b
	P := b.period
	lo, hi := min(2*time.Second, P/4), P-min(2*time.Second, P/4)
	if b.tl.tm.Virtual() {
		lo, hi = P/2, P/2
	}
	for range 3 {
		now := b.tl.now()
		off := dev.Now().Sub(now) // the device's clock minus the truth
		devNow := now.Add(off)
		b.mu.Lock()
		n := b.cleanStepLocked(d, stepOf(devNow, P))
		b.mu.Unlock()
		if n == stepOf(devNow, P) {
			if ph := phaseOf(devNow, P); ph >= lo && ph <= hi {
				return nil
			} else if ph > hi {
				n++
			}
		}
		if err := b.tl.until(ctx, stepStart(n, P).Add(lo-off), a.name, "the device's next code after the bind"); err != nil {
			return err
		}
	}
	return nil
}
