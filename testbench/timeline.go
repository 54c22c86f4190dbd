package testbench

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// timeline runs every scenario's probes concurrently on one clock. Each
// participant (a goroutine started with spawn) waits for its own instants
// with until; in real time that sleeps, so the waits overlap instead of
// adding up. In virtual time nothing sleeps: when every participant is
// parked (on an instant or on a future), the timeline advances the Time
// (and with it the target's lab clock) to the earliest instant asked for
// and wakes those waiting for it. One code path serves both.
//
// It also keeps the run's waiting time: the time during which no request
// was in flight.
type timeline struct {
	tm       *Time
	progress io.Writer
	sayMu    sync.Mutex // guards the progress writer and the three below
	waits    map[*realWait]bool
	lastKey  string
	lastSay  time.Time
	cancel   context.CancelCauseFunc
	wg       sync.WaitGroup

	mu        sync.Mutex
	running   int         // participants neither sleeping nor parked
	parked    int         // participants waiting on a future
	sleepers  sleeperHeap // virtual time: participants waiting for an instant
	sleeping  int         // real time: participants sleeping
	advancing bool

	inflight  int
	idleSince time.Time
	waiting   time.Duration
	started   time.Time
}

// errDeadlock means every participant waits on another: a bug.
var errDeadlock = errors.New("bench: every probe waits for another one (an internal error)")

func newTimeline(tm *Time, progress io.Writer, cancel context.CancelCauseFunc) *timeline {
	if progress == nil {
		progress = io.Discard
	}
	now := tm.Now()
	return &timeline{tm: tm, progress: progress, cancel: cancel, idleSince: now, started: now, waits: map[*realWait]bool{}}
}

// spawn runs f as a participant.
func (tl *timeline) spawn(f func()) {
	tl.mu.Lock()
	tl.running++
	tl.mu.Unlock()
	tl.wg.Add(1)
	go func() {
		defer tl.wg.Done()
		defer tl.exit()
		f()
	}()
}

func (tl *timeline) exit() {
	tl.mu.Lock()
	tl.running--
	tl.scheduleLocked()
	tl.mu.Unlock()
}

// wait blocks until every participant has returned.
func (tl *timeline) wait() { tl.wg.Wait() }

// now is the run's true time.
func (tl *timeline) now() time.Time { return tl.tm.Now() }

// until waits for the true instant at. why (with who) is said on the
// progress writer when a real wait is long.
func (tl *timeline) until(ctx context.Context, at time.Time, who, why string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if tl.tm.Virtual() {
		return tl.untilVirtual(ctx, at)
	}
	d := at.Sub(tl.tm.Now())
	if d <= 0 {
		return nil
	}
	tl.mu.Lock()
	tl.running--
	tl.sleeping++
	tl.mu.Unlock()
	defer func() {
		tl.mu.Lock()
		tl.running++
		tl.sleeping--
		tl.mu.Unlock()
	}()
	if d < 2*time.Second || why == "" {
		return tl.tm.Wait(ctx, d)
	}
	w := &realWait{who: who, why: why, at: at}
	tl.sayMu.Lock()
	tl.waits[w] = true
	tl.sayMu.Unlock()
	defer func() {
		tl.sayMu.Lock()
		delete(tl.waits, w)
		tl.sayMu.Unlock()
	}()
	tl.report()
	for left := d; left > 0; left = at.Sub(tl.tm.Now()) {
		chunk := min(left, 10*time.Second)
		if err := tl.tm.Wait(ctx, chunk); err != nil {
			return err
		}
		tl.report()
	}
	return nil
}

// realWait is a participant sleeping for an instant, for the progress
// lines.
type realWait struct {
	who, why string
	at       time.Time
}

// report writes one line of what the run waits for and how long is left
// (each scenario's longest wait for each reason), when that changed or
// every 10 s at most.
func (tl *timeline) report() {
	tl.sayMu.Lock()
	defer tl.sayMu.Unlock()
	now := tl.tm.Now()
	longest := map[string]*realWait{}
	for w := range tl.waits {
		k := w.who + ": " + w.why
		if l := longest[k]; l == nil || w.at.After(l.at) {
			longest[k] = w
		}
	}
	keys := make([]string, 0, len(longest))
	for k := range longest {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	key := strings.Join(keys, "|")
	if len(keys) == 0 || (key == tl.lastKey && now.Sub(tl.lastSay) < 10*time.Second) {
		return
	}
	var parts []string
	for _, k := range keys {
		left := longest[k].at.Sub(now).Round(time.Second)
		if left < time.Second {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s for %s", longest[k].who, left, longest[k].why))
	}
	if len(parts) == 0 {
		return
	}
	tl.lastKey, tl.lastSay = key, now
	fmt.Fprintf(tl.progress, "bench: waiting: %s\n", strings.Join(parts, "; "))
}

// sleep waits d from now.
func (tl *timeline) sleep(ctx context.Context, d time.Duration, who, why string) error {
	return tl.until(ctx, tl.tm.Now().Add(d), who, why)
}

type sleeper struct {
	at    time.Time
	ch    chan struct{}
	woken bool
	index int
}

type sleeperHeap []*sleeper

func (h sleeperHeap) Len() int           { return len(h) }
func (h sleeperHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h sleeperHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i]; h[i].index = i; h[j].index = j }
func (h *sleeperHeap) Push(x any)        { s := x.(*sleeper); s.index = len(*h); *h = append(*h, s) }
func (h *sleeperHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	*h = old[:len(old)-1]
	s.index = -1
	return s
}

func (tl *timeline) untilVirtual(ctx context.Context, at time.Time) error {
	tl.mu.Lock()
	if !at.After(tl.tm.Now()) {
		tl.mu.Unlock()
		return nil
	}
	s := &sleeper{at: at, ch: make(chan struct{})}
	heap.Push(&tl.sleepers, s)
	tl.running--
	tl.scheduleLocked()
	tl.mu.Unlock()
	select {
	case <-s.ch:
		return nil
	case <-ctx.Done():
		tl.mu.Lock()
		if !s.woken {
			heap.Remove(&tl.sleepers, s.index)
			tl.running++
		}
		tl.mu.Unlock()
		return ctx.Err()
	}
}

// scheduleLocked starts advancing virtual time when nobody runs, and
// reports a deadlock when nobody runs and nobody waits for an instant.
func (tl *timeline) scheduleLocked() {
	if tl.running > 0 || tl.advancing {
		return
	}
	if len(tl.sleepers) == 0 {
		if tl.parked > 0 && tl.sleeping == 0 {
			tl.cancel(errDeadlock)
		}
		return
	}
	tl.advancing = true
	go tl.advance(tl.sleepers[0].at)
}

// advance moves virtual time to at and wakes who waits for it.
func (tl *timeline) advance(at time.Time) {
	err := tl.tm.Wait(context.Background(), at.Sub(tl.tm.Now()))
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.advancing = false
	if err != nil {
		tl.cancel(err)
	}
	now := tl.tm.Now()
	for len(tl.sleepers) > 0 && (err != nil || !tl.sleepers[0].at.After(now)) {
		s := heap.Pop(&tl.sleepers).(*sleeper)
		s.woken = true
		tl.running++
		close(s.ch)
	}
	tl.scheduleLocked()
}

// begin and end bracket a request to the target, for the waiting time.
func (tl *timeline) begin() {
	tl.mu.Lock()
	if tl.inflight == 0 {
		tl.waiting += tl.tm.Now().Sub(tl.idleSince)
	}
	tl.inflight++
	tl.mu.Unlock()
}

func (tl *timeline) end() {
	tl.mu.Lock()
	tl.inflight--
	if tl.inflight == 0 {
		tl.idleSince = tl.tm.Now()
	}
	tl.mu.Unlock()
}

// waited is the true time so far with no request in flight.
func (tl *timeline) waited() time.Duration {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	w := tl.waiting
	if tl.inflight == 0 {
		w += tl.tm.Now().Sub(tl.idleSince)
	}
	return w
}
