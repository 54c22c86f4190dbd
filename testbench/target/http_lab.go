package target

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/totpemu/totpemu/testbench"
)

// labAnswer is the lab clock's JSON; running is the reference console's
// (absent elsewhere).
type labAnswer struct {
	Now     string `json:"now"`
	Running *bool  `json:"running"`
}

// Lab returns the target's lab clock, or nil when the config names none or
// the server does not offer it (404): then the bench runs in real time. An
// unreachable server is an error.
func (t *HTTPTarget) Lab(ctx context.Context) (testbench.LabClock, error) {
	if t.cfg.LabClock == "" {
		return nil, nil
	}
	a, err := t.do(ctx, Request{Method: http.MethodGet, Path: t.cfg.LabClock}, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", testbench.ErrUnreachable, err)
	}
	if a.status == http.StatusNotFound {
		return nil, nil
	}
	if _, err := parseLab(a); err != nil {
		return nil, err
	}
	return httpLab{t}, nil
}

func parseLab(a *answer) (time.Time, error) {
	now, _, err := parseLabState(a)
	return now, err
}

// parseLabState reads the lab clock's time and, when it says, whether it
// runs with the server's real clock.
func parseLabState(a *answer) (now time.Time, running *bool, err error) {
	if a.status != http.StatusOK {
		return time.Time{}, nil, fmt.Errorf("lab clock answered %s", brief(a))
	}
	var la labAnswer
	if err := json.Unmarshal(a.body, &la); err != nil {
		return time.Time{}, nil, fmt.Errorf("lab clock answer: %w", err)
	}
	if now, err = time.Parse(time.RFC3339Nano, la.Now); err != nil {
		return time.Time{}, nil, fmt.Errorf("lab clock answer: %w", err)
	}
	return now, la.Running, nil
}

type httpLab struct{ t *HTTPTarget }

func (l httpLab) LabNow(ctx context.Context) (time.Time, error) {
	a, err := l.t.do(ctx, Request{Method: http.MethodGet, Path: l.t.cfg.LabClock}, nil)
	if err != nil {
		return time.Time{}, err
	}
	return parseLab(a)
}

func (l httpLab) SetLabClock(ctx context.Context, t time.Time) error {
	body := `{"set": "` + t.UTC().Format(time.RFC3339Nano) + `"}`
	a, err := l.t.do(ctx, Request{Method: http.MethodPost, Path: l.t.cfg.LabClock, Body: body}, nil)
	if err != nil {
		return err
	}
	_, err = parseLab(a)
	return err
}

// SaveLabClock reads the lab clock's state; what it returns puts it back:
// running again with the server's clock ({"run": true}) when it ran, else
// stopped at the time it showed.
func (l httpLab) SaveLabClock(ctx context.Context) (func(context.Context) error, error) {
	a, err := l.t.do(ctx, Request{Method: http.MethodGet, Path: l.t.cfg.LabClock}, nil)
	if err != nil {
		return nil, err
	}
	now, running, err := parseLabState(a)
	if err != nil {
		return nil, err
	}
	if running == nil || !*running {
		return func(ctx context.Context) error { return l.SetLabClock(ctx, now) }, nil
	}
	return func(ctx context.Context) error {
		a, err := l.t.do(ctx, Request{Method: http.MethodPost, Path: l.t.cfg.LabClock, Body: `{"run": true}`}, nil)
		if err != nil {
			return err
		}
		_, err = parseLab(a)
		return err
	}, nil
}
