package target

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/totpemu/totpemu/testbench"
)

// releaseScript holds a verifier back until its release: it reads the
// pipe on fd 3 until the bench closes it, then becomes the verifier.
const releaseScript = `read _ <&3; exec "$@"`

// VerifyBurst starts one verifier process per code, each held by a
// /bin/sh that waits on one pipe, and releases them all by closing it:
// the processes have been forked and are waiting, so what is left is the
// verifier's own start. The spread is not measured (the processes'
// scheduling is the kernel's).
func (c *CommandTarget) VerifyBurst(ctx context.Context, e *testbench.Enrollment, codes []string) testbench.BurstResult {
	res := testbench.BurstResult{Verdicts: make([]testbench.Verdict, len(codes)),
		Method: fmt.Sprintf("%d processes released by one pipe", len(codes))}
	r, w, err := os.Pipe()
	if err != nil {
		for i := range codes {
			res.Verdicts[i] = testbench.Verdict{Outcome: testbench.Error, Err: fmt.Errorf("a pipe to release a burst: %w", err)}
		}
		return res
	}
	defer r.Close()
	defer w.Close()
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmds := make([]*exec.Cmd, len(codes))
	outs := make([]capped, len(codes))
	errs := make([]capped, len(codes))
	for i, code := range codes {
		argv := c.expand(c.Command, e, []string{code})
		cmd := exec.CommandContext(ctx, "/bin/sh", append([]string{"-c", releaseScript, "sh"}, argv...)...)
		cmd.ExtraFiles = []*os.File{r}
		cmd.Env = append(append(append([]string(nil), c.Env...), envOf(e)...), "TOTPEMU_CODE="+code)
		if c.Clock != nil {
			cmd.Env = append(cmd.Env, "TOTPEMU_NOW_MS="+strconv.FormatInt(c.Clock.Now().UnixMilli(), 10))
		}
		cmd.Stdout, cmd.Stderr = &outs[i], &errs[i]
		cmd.WaitDelay = time.Second
		if err := cmd.Start(); err != nil {
			res.Verdicts[i] = testbench.Verdict{Outcome: testbench.Error, Err: fmt.Errorf("starting %s for a burst: %w", argv[0], err)}
			continue
		}
		cmds[i] = cmd
	}
	_ = w.Close() // the release
	for i, cmd := range cmds {
		if cmd == nil {
			continue
		}
		err := cmd.Wait()
		if ctx.Err() == context.DeadlineExceeded {
			err = fmt.Errorf("%s: no answer within %v", c.Command[0], timeout)
		}
		res.Verdicts[i] = c.verdict(outs[i].Bytes(), errs[i].Bytes(), err)
	}
	return res
}
