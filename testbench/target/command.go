package target

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/totpemu/totpemu/clock"
	"github.com/totpemu/totpemu/scanner"
	"github.com/totpemu/totpemu/testbench"
)

// CommandTarget runs a command once per verdict: the code is in
// $TOTPEMU_CODE and, where the command has no {code} placeholder, its
// extra last argument. This is how a PAM module, a CLI or a library is
// tested. The verdict (command_verdict.go): exit 0 accepts, 1 (or any
// other status) rejects, LockedExit and ThrottledExit say locked and
// "slow down", and a last stdout line {"verdict": "locked",
// "retry_after_s": 60} overrides the status; 126, 127 and a signal are no
// verdict (the command could not run). Placeholders {code}, {code1},
// {code2}, {secret}, {account}, {uri} and {enrollment} in any word are
// replaced. BindCommand, when set, completes an enrollment with the codes
// its placeholders ask for ({code1} and {code2}: two consecutive codes).
//
// Enrollments come from EnrollCommand when set: its standard output is an
// otpauth URI, a base32 key or the path of a QR image, and it runs once
// per fresh enrollment the bench needs. Without it the bench makes a
// random 160-bit key per enrollment and hands it to the verifier in
// $TOTPEMU_SECRET (base32) and $TOTPEMU_URI.
//
// Every run also gets $TOTPEMU_ENROLLMENT (a number per enrollment) and
// $TOTPEMU_ACCOUNT. Commands are split into arguments by SplitCommand: no
// shell runs unless the command is one (sh -c '...').
type CommandTarget struct {
	Command       []string      // the verifier: argv, the code appended unless a placeholder takes it
	EnrollCommand []string      // optional: prints the key of a fresh enrollment
	BindCommand   []string      // optional: completes an enrollment with one or two codes
	LockedExit    int           // an exit status meaning "locked"; 0: none
	ThrottledExit int           // an exit status meaning "slow down"; 0: none
	Env           []string      // the environment the commands start from (os.Environ() in the CLI)
	Timeout       time.Duration // per run; 0 means 30 s

	// Clock, when set, is exported as $TOTPEMU_NOW_MS (Unix milliseconds)
	// on every run: a verifier built for tests may take its time from it
	// so the bench can run it in virtual time. Real verifiers ignore it.
	Clock clock.Clock

	n atomic.Int64
}

// maxCommandOutput caps what is kept of a command's output.
const maxCommandOutput = 64 << 10

// Describe names the target. Its methods are safe for concurrent use: the
// bench runs up to --parallel commands at once.
func (c *CommandTarget) Describe() string { return "command " + JoinCommand(c.Command) }

// CheckCommand finds a command's program (as exec does, on $PATH when the
// name has no slash), so that one that cannot start is named before the
// bench begins instead of retried.
func CheckCommand(argv []string) error {
	if len(argv) == 0 {
		return errors.New("no command")
	}
	if _, err := exec.LookPath(argv[0]); err != nil {
		return fmt.Errorf("%s cannot be started: %w", argv[0], unwrapExec(err))
	}
	return nil
}

// unwrapExec keeps the reason of an exec.Error (not found, not
// executable) without repeating the name.
func unwrapExec(err error) error {
	var ee *exec.Error
	if errors.As(err, &ee) {
		err = ee.Err
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return err
}

// Capabilities: a bind step only with BindCommand (two codes when it has
// {code2} or no code placeholder at all, else one); enrollments are fresh.
func (c *CommandTarget) Capabilities() testbench.Capabilities {
	return testbench.Capabilities{FreshEnrollments: true, BindCodes: c.bindCodes()}
}

func (c *CommandTarget) run(ctx context.Context, argv []string, extra ...string) (stdout, stderr []byte, err error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(append([]string(nil), c.Env...), extra...)
	if c.Clock != nil {
		cmd.Env = append(cmd.Env, "TOTPEMU_NOW_MS="+strconv.FormatInt(c.Clock.Now().UnixMilli(), 10))
	}
	var out, errb capped
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("%s: no answer within %v", argv[0], timeout)
	}
	return out.Bytes(), errb.Bytes(), err
}

// capped is a buffer that keeps the first maxCommandOutput bytes.
type capped struct{ bytes.Buffer }

func (b *capped) Write(p []byte) (int, error) {
	if room := maxCommandOutput - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// Enroll runs the enroll command, or makes a key.
func (c *CommandTarget) Enroll(ctx context.Context, account string) (*testbench.Enrollment, error) {
	id := strconv.FormatInt(c.n.Add(1), 10)
	e := &testbench.Enrollment{ID: id, Account: account, Vars: map[string]string{"TOTPEMU_ENROLLMENT": id, "TOTPEMU_ACCOUNT": account}}
	if len(c.EnrollCommand) == 0 {
		b := make([]byte, 20)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		key := scanner.EncodeSecret(b)
		e.ManualKey = key
		e.URI = "otpauth://totp/totpemu:" + url.PathEscape(account) + "?secret=" + key + "&issuer=totpemu"
		e.Vars["TOTPEMU_SECRET"] = key
		e.Vars["TOTPEMU_URI"] = e.URI
		return e, nil
	}
	out, errb, err := c.run(ctx, c.expand(c.EnrollCommand, e, nil), envOf(e)...)
	if err != nil {
		return nil, fmt.Errorf("enroll command %s: %w%s", c.EnrollCommand[0], err, lastLine(errb))
	}
	text := strings.TrimSpace(string(out))
	if i := strings.LastIndexByte(text, '\n'); i >= 0 {
		text = strings.TrimSpace(text[i+1:]) // the last line is the answer
	}
	switch {
	case text == "":
		return nil, fmt.Errorf("enroll command %s printed nothing", c.EnrollCommand[0])
	case strings.HasPrefix(strings.ToLower(text), "otpauth://"):
		e.URI = text
		if k, _ := scanner.ParseURI(text); k != nil {
			e.Vars["TOTPEMU_SECRET"] = scanner.EncodeSecret(k.Secret)
			e.Vars["TOTPEMU_URI"] = text
		}
	case fileExists(text):
		b, err := readCapped(text, testbench.MaxQRImageBytes)
		if err != nil {
			return nil, fmt.Errorf("enroll command's QR image: %w", err)
		}
		e.QRImage = b
	default:
		if _, err := scanner.DecodeSecret(text); err != nil {
			return nil, fmt.Errorf("enroll command %s printed neither an otpauth URI, a base32 key nor an image path: %w", c.EnrollCommand[0], err)
		}
		e.ManualKey = text
		e.Vars["TOTPEMU_SECRET"] = text
	}
	return e, nil
}

func envOf(e *testbench.Enrollment) []string {
	var out []string
	for k, v := range e.Vars {
		if strings.HasPrefix(k, "TOTPEMU_") {
			out = append(out, k+"="+v)
		}
	}
	return out
}

func lastLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if s == "" {
		return ""
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return ": " + s
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func readCapped(p string, n int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(io.LimitReader(f, n+1)); err != nil {
		return nil, err
	}
	if int64(b.Len()) > n {
		return nil, fmt.Errorf("%s is over %d bytes", p, n)
	}
	return b.Bytes(), nil
}
