package testbench

import "context"

// group is a set of participants one participant waits for: the last to
// exit wakes the waiter in the same step, so virtual time cannot move in
// between.
type group struct {
	tl      *timeline
	n       int
	done    chan struct{}
	waiters int
}

func (tl *timeline) newGroup() *group { return &group{tl: tl, done: make(chan struct{})} }

// spawn runs f as a participant of the group.
func (g *group) spawn(f func()) {
	tl := g.tl
	tl.mu.Lock()
	tl.running++
	g.n++
	tl.mu.Unlock()
	tl.wg.Add(1)
	go func() {
		defer tl.wg.Done()
		defer func() {
			tl.mu.Lock()
			tl.running--
			g.n--
			if g.n == 0 {
				tl.running += g.waiters
				tl.parked -= g.waiters
				g.waiters = 0
				close(g.done)
				g.done = make(chan struct{})
			}
			tl.scheduleLocked()
			tl.mu.Unlock()
		}()
		f()
	}()
}

// wait parks until every participant of the group has returned.
func (g *group) wait(ctx context.Context) error {
	tl := g.tl
	tl.mu.Lock()
	if g.n == 0 {
		tl.mu.Unlock()
		return nil
	}
	done := g.done
	g.waiters++
	tl.running--
	tl.parked++
	tl.scheduleLocked()
	tl.mu.Unlock()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		tl.mu.Lock()
		select {
		case <-done:
		default:
			g.waiters--
			tl.running++
			tl.parked--
		}
		tl.mu.Unlock()
		return ctx.Err()
	}
}

// future is a value some participant will produce; get parks the caller
// (which lets virtual time advance) until it is set.
type future[T any] struct {
	tl      *timeline
	done    chan struct{}
	set     bool
	val     T
	err     error
	waiters int
}

func newFuture[T any](tl *timeline) *future[T] {
	return &future[T]{tl: tl, done: make(chan struct{})}
}

// resolve sets the value once; later calls do nothing.
func (f *future[T]) resolve(v T, err error) {
	tl := f.tl
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if f.set {
		return
	}
	f.set, f.val, f.err = true, v, err
	tl.running += f.waiters
	tl.parked -= f.waiters
	f.waiters = 0
	close(f.done)
}

// ready reports whether the value is set, without waiting.
func (f *future[T]) ready() bool {
	f.tl.mu.Lock()
	defer f.tl.mu.Unlock()
	return f.set
}

// peek returns the value when it is set (without an error), without
// waiting.
func (f *future[T]) peek() (T, bool) {
	f.tl.mu.Lock()
	defer f.tl.mu.Unlock()
	if !f.set || f.err != nil {
		var zero T
		return zero, false
	}
	return f.val, true
}

// get waits for the value.
func (f *future[T]) get(ctx context.Context) (T, error) {
	tl := f.tl
	tl.mu.Lock()
	if f.set {
		tl.mu.Unlock()
		return f.val, f.err
	}
	f.waiters++
	tl.running--
	tl.parked++
	tl.scheduleLocked()
	tl.mu.Unlock()
	select {
	case <-f.done:
		return f.val, f.err
	case <-ctx.Done():
		tl.mu.Lock()
		if !f.set {
			f.waiters--
			tl.running++
			tl.parked--
		}
		tl.mu.Unlock()
		var zero T
		return zero, ctx.Err()
	}
}
