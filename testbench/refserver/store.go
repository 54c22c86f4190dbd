package refserver

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"
)

// maxDevices caps the in-memory store: a server left running under a
// scripted client must not grow without bound.
const maxDevices = 100_000

var errStoreFull = errors.New("device store full")

// secretKey is a device's base32 secret (no padding). Its String and
// GoString redact it, so a %v of a device never prints it.
type secretKey string

func (secretKey) String() string   { return "[REDACTED]" }
func (secretKey) GoString() string { return "[REDACTED]" }

// device is one enrolled virtual MFA device. Every field after mu is
// guarded by mu: a check is a compare-and-set on the device's state.
type device struct {
	serial  string
	account string
	secret  secretKey

	mu          sync.Mutex
	bound       bool
	hasLast     bool
	lastStep    int64            // last accepted step (ReplayStep)
	used        map[string]int64 // accepted code -> its step (ReplayCode)
	drift       int64            // the device's offset in steps (Resync)
	syncOffset  int64            // offset of the last success from its current step (ResyncAfter)
	syncRun     int              // successes in a row at syncOffset (ResyncAfter)
	failures    int              // consecutive refused codes
	lockedUntil time.Time        // zero when not locked
	tfailures   int              // consecutive refusals, for the throttle (ThrottleFactor)
	tlastFail   time.Time        // when the last of them came
	deleted     bool
	codes       [codeCacheSize]cachedCode
}

// codeCacheSize is how many (step, code) pairs a device keeps: the code of
// a step never changes, so under a flood of requests the window's codes are
// computed by pquerna/otp once per step, not once per request.
const codeCacheSize = 8

type cachedCode struct {
	step int64
	code string
	ok   bool
}

// store holds the devices by serial. It is safe for concurrent use.
type store struct {
	mu      sync.RWMutex
	devices map[string]*device
}

func newStore() *store { return &store{devices: map[string]*device{}} }

// add stores a new device under a fresh random serial.
func (s *store) add(account string, secret secretKey) (*device, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("new serial: %w", err)
	}
	d := &device{serial: "mfa-" + hex.EncodeToString(b[:]), account: account, secret: secret}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.devices) >= maxDevices {
		return nil, fmt.Errorf("%w: %d devices", errStoreFull, maxDevices)
	}
	s.devices[d.serial] = d
	return d, nil
}

func (s *store) get(serial string) (*device, bool) {
	s.mu.RLock()
	d, ok := s.devices[serial]
	s.mu.RUnlock()
	return d, ok
}

// remove deletes a device; a check already holding it sees deleted.
func (s *store) remove(serial string) bool {
	s.mu.Lock()
	d, ok := s.devices[serial]
	delete(s.devices, serial)
	s.mu.Unlock()
	if ok {
		d.mu.Lock()
		d.deleted = true
		d.mu.Unlock()
	}
	return ok
}
