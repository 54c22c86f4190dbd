package testbench

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
)

// DefaultGuessRate is the guesses per second the brute-force odds assume
// where nothing limits an attacker: one client against a modest server.
const DefaultGuessRate = 10.0

// bruteForceBar is the time to a 50 % chance under which the odds fail:
// 30 days.
const bruteForceBar = 30 * 24 * time.Hour

// BruteForceResult is the chance that guessing codes at random gets in,
// computed from what the bench measured (never attempted): the window
// (how many codes are accepted at a given instant), the digits, and what
// limits the guesses (the lockout count and how long a lock lasts).
type BruteForceResult struct {
	CodesAcceptedPerGuess float64  `json:"codes_accepted_per_guess"` // steps accepted at a given instant, on average over a step
	Digits                int      `json:"digits"`
	PerGuess              float64  `json:"p_per_guess"`
	GuessesPerHour        float64  `json:"guesses_per_hour"`
	Limit                 string   `json:"limit"` // what bounds the guesses, in words
	P1h                   float64  `json:"p_1h"`
	P1d                   float64  `json:"p_1d"`
	P30d                  float64  `json:"p_30d"`
	HoursTo50Pct          *float64 `json:"hours_to_50pct"` // null: never (a lock that does not end caps the guesses)
	// NIST SP 800-63B's bound (100 consecutive failures) with the same
	// lock, for reference: the hours to 50 % had the target locked after
	// 100.
	NISTHoursTo50Pct *float64 `json:"nist_hours_to_50pct"`
	GuessRate        float64  `json:"guess_rate"` // assumed guesses per second where nothing limits them
	Computed         bool     `json:"computed"`   // always true: the odds are computed, no guess is sent
}

// runBruteForce computes the odds once the edges and the lockout are
// known. It submits nothing.
func runBruteForce(ctx context.Context, a *actor) (any, []Check, error) {
	b := a.b
	e, err := a.measuredEdges(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("not run: the window was not measured: %w", err)
	}
	lf, err := b.lockout.get(ctx)
	if err != nil {
		return nil, nil, err
	}
	b.mu.Lock()
	digits := b.devs[0].acct.Digits
	throttles, thr := b.throttles, b.throttle
	b.mu.Unlock()
	iv := e.interval()
	k := float64(iv.until-iv.from) / float64(iv.period)
	res := bruteForce(k, digits, b.cfg.GuessRate, lf)
	if thr != nil && lf.limit == 0 {
		res = bruteForceThrottled(k, digits, b.cfg.GuessRate, thr)
	}
	if throttles > 0 {
		res.Limit += fmt.Sprintf(`; the target also answered "slow down" (HTTP 429) %d times: a rate limit these odds leave out, so they are an upper bound`, throttles)
	}
	return res, bruteForceChecks(res, lf), nil
}

// bruteForce is the closed form: each guess is right with p = k / 10^d
// (k codes accepted at the instant of the guess), so n guesses get in
// with 1 - (1-p)^n. With a lockout of L failures lasting D, the attacker
// makes L guesses per D + L/rate; a lock with no end said caps the
// guesses at L per account.
func bruteForce(k float64, digits int, rate float64, lf lockoutFacts) *BruteForceResult {
	res := &BruteForceResult{CodesAcceptedPerGuess: round3(k), Digits: digits, GuessRate: rate, Computed: true}
	p := k / math.Pow(10, float64(digits))
	res.PerGuess = p
	perHour := rate * 3600
	capped := math.Inf(1) // guesses ever, per account
	switch {
	case lf.limit > 0 && lf.lockFor > 0:
		cycle := lf.lockFor.Seconds() + float64(lf.limit)/rate
		perHour = float64(lf.limit) * 3600 / cycle
		res.Limit = fmt.Sprintf("locked for %v after %d failures", lf.lockFor, lf.limit)
	case lf.limit > 0:
		capped = float64(lf.limit)
		res.Limit = fmt.Sprintf("locked after %d failures, with no end said (taken as for good)", lf.limit)
	case lf.none:
		res.Limit = fmt.Sprintf("none seen: no lock, no rate limit; %v guesses per second assumed", rate)
	default:
		res.Limit = fmt.Sprintf("not measured (the lockout scenario did not run); %v guesses per second assumed", rate)
	}
	res.GuessesPerHour = round3(perHour)
	chance := func(h float64) float64 { return 1 - math.Pow(1-p, math.Min(perHour*h, capped)) }
	res.P1h, res.P1d, res.P30d = chance(1), chance(24), chance(24*30)
	if n := math.Log(0.5) / math.Log1p(-p); n <= capped && p > 0 {
		res.HoursTo50Pct = ptr(round3(n / perHour))
	}
	if lf.limit > 0 && lf.lockFor > 0 && p > 0 {
		cycle := lf.lockFor.Seconds() + nistMaxFailures/rate
		res.NISTHoursTo50Pct = ptr(round3(math.Log(0.5) / math.Log1p(-p) / (nistMaxFailures * 3600 / cycle)))
	}
	return res
}

// bruteForceThrottled is the odds against a silent doubling throttle:
// the n-th guess in a row waits first * 2^(n-2), so a time T allows about
// log2(T / first) guesses, and 50 % never comes.
func bruteForceThrottled(k float64, digits int, rate float64, t *throttleFacts) *BruteForceResult {
	res := &BruteForceResult{CodesAcceptedPerGuess: round3(k), Digits: digits, GuessRate: rate, Computed: true}
	p := k / math.Pow(10, float64(digits))
	res.PerGuess = p
	res.Limit = fmt.Sprintf("a silent throttle: the n-th failure in a row holds every code %.1f s x 2^(n-1)", t.first.Seconds())
	chance := func(d time.Duration) float64 { return 1 - math.Pow(1-p, float64(throttleGuesses(t, d))) }
	res.GuessesPerHour = float64(throttleGuesses(t, time.Hour))
	res.P1h, res.P1d, res.P30d = chance(time.Hour), chance(24*time.Hour), chance(30*24*time.Hour)
	return res
}

func bruteForceChecks(res *BruteForceResult, lf lockoutFacts) []Check {
	odds := fmt.Sprintf("computed, not attempted: %.2f codes accepted per guess of %d digits, %s (%.0f guesses an hour): %s in 1 h, %s in 1 day, %s in 30 days",
		res.CodesAcceptedPerGuess, res.Digits, res.Limit, res.GuessesPerHour, pct(res.P1h), pct(res.P1d), pct(res.P30d))
	if res.HoursTo50Pct == nil {
		why := "the lock caps the guesses"
		if strings.HasPrefix(res.Limit, "a silent throttle") {
			why = "each wait doubles"
		}
		return []Check{{ID: "bruteforce.odds", Status: Pass, Detail: odds + "; a 50 % chance never comes: " + why}}
	}
	h := *res.HoursTo50Pct
	odds += "; 50 % after " + hoursText(h)
	if res.NISTHoursTo50Pct != nil && lf.limit > nistMaxFailures {
		odds += fmt.Sprintf(" (with NIST SP 800-63B's 100 failures and the same lock: %s)", hoursText(*res.NISTHoursTo50Pct))
	}
	if time.Duration(h*float64(time.Hour)) < bruteForceBar {
		return []Check{{ID: "bruteforce.odds", Status: Fail, Detail: odds +
			": under 30 days; lock sooner or for longer, or limit the rate (NIST SP 800-63B section 5.2.2: at most 100 consecutive failures)"}}
	}
	return []Check{{ID: "bruteforce.odds", Status: Pass, Detail: odds}}
}

// pct formats a probability as a percentage, small ones readable.
func pct(p float64) string {
	switch {
	case p >= 0.9995:
		return "~100 %"
	case p >= 0.01:
		return fmt.Sprintf("%.1f %%", 100*p)
	}
	return fmt.Sprintf("%.2g %%", 100*p)
}

// hoursText formats hours as hours, days or years.
func hoursText(h float64) string {
	switch {
	case h < 48:
		return fmt.Sprintf("%.1f hours", h)
	case h < 24*730:
		return fmt.Sprintf("%.1f days", h/24)
	}
	return fmt.Sprintf("%.0f years", h/24/365)
}
