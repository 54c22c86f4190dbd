package clock

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/totpemu/totpemu/internal/testenv"
)

// lockedBuffer collects a child's output for the failure message.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// freeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// TestChronydSync syncs against a real chronyd serving this machine's own
// clock on loopback, so the offset must be close to zero.
func TestChronydSync(t *testing.T) {
	chronyd := testenv.LookPath(t, "real NTP server test", "chronyd", "/usr/sbin/chronyd")
	if os.Geteuid() != 0 {
		testenv.Missing(t, "real NTP server test: chronyd refuses to start unless run as root")
	}
	dir := t.TempDir()
	port := freeUDPPort(t)
	conf := filepath.Join(dir, "chrony.conf")
	cfg := fmt.Sprintf(`port %d
bindaddress 127.0.0.1
allow 127.0.0.1
local stratum 8
cmdport 0
user root
pidfile %s
`, port, filepath.Join(dir, "chronyd.pid"))
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}

	// -x: never touch the system clock; -d: stay in the foreground.
	cmd := exec.Command(chronyd, "-x", "-d", "-f", conf)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", chronyd, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})

	addr := fmt.Sprintf("127.0.0.1:%d", port)
	n := NewNTP(NTPOptions{Servers: []string{addr}, Timeout: 500 * time.Millisecond})
	var (
		ev  Evidence
		err error
	)
	// Poll (bounded) until chronyd answers: it needs a moment to bind.
	for deadline := time.Now().Add(5 * time.Second); ; {
		ev, err = n.Sync(context.Background())
		if err == nil {
			break
		}
		select {
		case werr := <-exited:
			t.Fatalf("chronyd exited (%v) before answering; its output:\n%s", werr, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("chronyd on %s did not answer within 5s: %v; its output:\n%s", addr, err, out.String())
		}
		time.Sleep(50 * time.Millisecond) // polling a child process, not waiting for time
	}
	s := ev.Sources[0]
	t.Logf("chronyd %s: offset %v, rtt %v, stratum %d, root distance %v, refid %s", addr, s.Offset, s.RTT, s.Stratum, s.RootDistance, s.RefID)
	if !near(ev.Offset, 0, 5*time.Millisecond) {
		t.Errorf("offset against chronyd serving this machine's clock: %v, want |offset| < 5ms", ev.Offset)
	}
	if !s.Used || s.Stratum != 8 {
		t.Errorf("source %+v: want used, stratum 8 (local stratum 8)", s)
	}
}
