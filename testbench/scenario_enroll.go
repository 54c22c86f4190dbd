package testbench

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/totpemu/totpemu/scanner"
)

// enroll goes through enrollment as a person with a phone would: enroll,
// scan the QR code, lint its payload, compare the manual key with the QR's
// secret, bind, and log in with a fresh code from the device's clock,
// timing each step.
func (r *runner) enroll(ctx context.Context) (*EnrollResult, []Check, error) {
	p := r.p
	sw := r.cfg.Stopwatch
	res := &EnrollResult{TimingsMS: map[string]float64{}, BindCodes: p.caps.BindCodes, URIFindings: []string{}}
	lap := func(name string, t0 time.Time) { res.TimingsMS[name] = float64(sw.Now().Sub(t0).Microseconds()) / 1000 }

	t0 := sw.Now()
	p.nEnroll++
	enr, err := p.target.Enroll(ctx, fmt.Sprintf("%s-%d", p.account, p.nEnroll))
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
	if km.fromQR {
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
	if km.key != nil && km.manual != nil {
		ok := bytes.Equal(km.key.Secret, km.manual)
		res.ManualKeyOK = ptr(ok)
		src := "the otpauth URI's"
		if km.fromQR {
			src = "the QR code's"
		}
		if ok {
			checks = append(checks, Check{ID: "enroll.manual-key", Status: Pass, Detail: "the manual-entry key equals " + src + " secret"})
		} else {
			checks = append(checks, Check{ID: "enroll.manual-key", Status: Fail,
				Detail: "the manual-entry key differs from " + src + " secret: a person typing it gets codes the server refuses"})
		}
	}
	prm := params{digits: 6, period: 30}
	if kp, ok := km.params(); ok {
		prm = kp
		if p.prm == nil {
			p.prm = &kp
		}
	}
	acct, err := km.account(enr, prm)
	if err != nil {
		return res, append(checks, Check{ID: "enroll.key", Status: Fail, Detail: err.Error()}), nil
	}
	if p.period == 0 {
		p.period = time.Duration(acct.Period) * time.Second
	}
	d := &device{enr: enr, acct: acct, used: map[string]usedBy{}}

	t0 = sw.Now()
	if err := p.bind(ctx, d); err != nil {
		if IsUnreachable(err) || ctx.Err() != nil {
			return nil, nil, err
		}
		return res, append(checks, Check{ID: "enroll.bind", Status: Fail, Detail: err.Error()}), nil
	}
	lap("bind", t0)
	res.BindAccepted = true
	if p.caps.BindCodes > 0 {
		if j := *p.anchor; j != 0 {
			checks = append(checks, Check{ID: "enroll.bind", Status: Fail,
				Detail: fmt.Sprintf("binding with the device's current code(s) was refused; codes %+d step(s) off were accepted: the server's clock is probably off", j)})
		} else {
			checks = append(checks, Check{ID: "enroll.bind", Status: Pass,
				Detail: fmt.Sprintf("bound with %d code(s) from the device", p.caps.BindCodes)})
		}
	}

	// Log in with the code the device shows, once the bind's steps are past.
	dev := r.deviceClock()
	step := int64(-1)
	var code string
	for try := 0; try < maxProbeTries; try++ {
		if err := p.align(ctx); err != nil {
			return nil, nil, err
		}
		code, err = acct.Code(dev.Now())
		if err != nil {
			return nil, nil, err
		}
		s, _ := acct.Step(dev.Now())
		step = int64(s)
		if p.clean(d, code, step) {
			break
		}
		if err := p.waitSteps(ctx, p.stepsUntilClean(d, step), "the next code after the bind"); err != nil {
			return nil, nil, err
		}
	}
	t0 = sw.Now()
	v, err := p.verifyWith(ctx, d, func() (string, int64, error) {
		// Computed again should a "slow down" have made the bench wait.
		if err := p.align(ctx); err != nil {
			return "", 0, err
		}
		c, err := acct.Code(dev.Now())
		s, _ := acct.Step(dev.Now())
		return c, int64(s), err
	})
	if err != nil {
		return nil, nil, err
	}
	lap("login", t0)
	res.CodeAccepted = v.Outcome == Accepted
	if res.CodeAccepted {
		checks = append(checks, Check{ID: "enroll.login", Status: Pass, Detail: "a fresh code from the device was accepted"})
	} else {
		checks = append(checks, Check{ID: "enroll.login", Status: Fail, Detail: "a fresh code from the device was " + v.String()})
	}
	return res, checks, nil
}
