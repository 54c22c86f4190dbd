package testbench

import (
	"context"
	"time"
)

// Drift-tracking probes: how many stages of a device running ahead the
// bench follows at most (each a wait of a few steps in real time).
const (
	trackStagesVirtual = 10
	trackStagesReal    = 3
	trackMaxAfter      = 3 // successes at one offset tried before "it does not move"
)

// DriftTracking is how a server that tracks drift (RFC 6238 section 6)
// follows a device whose clock runs ahead, measured with codes of future
// steps on one enrollment.
type DriftTracking struct {
	// MovesAfterSuccesses is how many successes in a row at an offset past
	// the window's forward edge it takes before the next step's code is
	// accepted: the window moved.
	MovesAfterSuccesses int `json:"moves_after_successes"`
	// TrackedStepsMax is how many steps the window's forward edge moved
	// at most; AtLeast when the bench stopped following before the server
	// did.
	TrackedStepsMax int  `json:"tracked_steps_max"`
	AtLeast         bool `json:"at_least"`
	// FixedDeviceAccepted: after following the device, a code of a device
	// whose clock was then set right (offset 0) is accepted. MovesBack:
	// after that, the window is back (the far offset it had followed is
	// refused); null when the fixed device was refused.
	FixedDeviceAccepted bool  `json:"fixed_device_accepted"`
	MovesBack           *bool `json:"moves_back"`
}

// measureTracking follows a device running ahead on a fresh enrollment:
// a code at the window's forward edge (always accepted), then one step
// past it, which is accepted only once the window moved: after how many
// successes at the edge. Then at the moved window's edge, stage by stage,
// until a code there is refused (the most it follows) or the bench's
// limit. Last, a device whose clock was set right: is it accepted, and
// does the window come back? Offsets are whole steps, each code submitted
// at the most demanding moment (driftSubmit).
func (a *actor) measureTracking(ctx context.Context, e *edges) (*DriftTracking, error) {
	b := a.b
	P := b.period
	d, err := a.freshBound(ctx, false)
	if err != nil {
		return nil, err
	}
	defer a.release(d)
	m := driftMarginReal
	if b.tl.tm.Virtual() {
		m = driftMarginVirtual
	}
	// fx: the most steps ahead a code is accepted at its earliest moment
	// by the edges alone.
	fx := int(floorDiv(int64(m-e.lower.hi), int64(P)))
	if fx < 0 {
		fx = 0
	}
	submit := func(k int) (bool, error) { return a.driftSubmit(ctx, d, time.Duration(k)*P) }
	tr := &DriftTracking{}
	// How many successes at the edge move the window.
	moved := false
	for n := 1; n <= trackMaxAfter && !moved; n++ {
		acc, err := submit(fx)
		if err != nil || !acc {
			return nil, err // the edge itself refused: nothing to follow
		}
		if moved, err = submit(fx + 1); err != nil {
			return nil, err
		}
		tr.MovesAfterSuccesses = n
	}
	if !moved {
		return nil, nil // no tracking after trackMaxAfter successes
	}
	// Stage by stage: with the window's drift at the farthest offset
	// accepted (after its successes there), a code fx further, at the
	// moved window's edge. Refused, the drift stopped: it reached far-fx.
	stages := trackStagesReal
	if b.tl.tm.Virtual() {
		stages = trackStagesVirtual
	}
	far := fx + 1
	tr.TrackedStepsMax, tr.AtLeast = 1, true
	for s := 1; s < stages; s++ {
		for range tr.MovesAfterSuccesses - 1 {
			if _, err := submit(far); err != nil {
				return nil, err
			}
		}
		acc, err := submit(far + fx)
		if err != nil {
			return nil, err
		}
		if !acc {
			// The drift stopped short of far: the farthest offset still
			// accepted tells where (steps of fx are coarse when fx > 1).
			tr.AtLeast = false
			for k := far + fx - 1; k > far; k-- {
				if acc, err = submit(k); err != nil {
					return nil, err
				}
				if acc {
					far = k
					break
				}
			}
			tr.TrackedStepsMax = far - fx
			break
		}
		far += fx
		tr.TrackedStepsMax = far - fx
	}
	// A device whose clock was set right.
	acc, err := submit(0)
	if err != nil {
		return nil, err
	}
	tr.FixedDeviceAccepted = acc
	if acc {
		back, err := submit(far)
		if err != nil {
			return nil, err
		}
		tr.MovesBack = ptr(!back)
	}
	return tr, nil
}
