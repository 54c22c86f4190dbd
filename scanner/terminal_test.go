package scanner

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/totpemu/totpemu/internal/testenv"
)

// TestTerminalCorpus scans every file of testdata/terminal (qrencode's
// eight text types at two margins, npm qrcode, google-authenticator as a
// terminal shows it, a CI log) and requires the payloads expected.txt
// lists: the regression test for terminal QR text refused as "not an
// image".
func TestTerminalCorpus(t *testing.T) {
	f, err := os.Open("testdata/terminal/expected.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		file, want, ok := strings.Cut(sc.Text(), ": ")
		if !ok {
			t.Fatalf("expected.txt: bad line %q", sc.Text())
		}
		n++
		data, err := os.ReadFile(filepath.Join("testdata/terminal", file))
		if err != nil {
			t.Fatal(err)
		}
		res, err := ScanInput(context.Background(), file, data, Options{})
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		if res.Form != FormTerminal {
			t.Errorf("%s: form %s, want terminal", file, res.Form)
		}
		if want == "no-code" {
			if res.Status != StatusNoCode {
				t.Errorf("%s: status %s, want no-code", file, res.Status)
			}
			continue
		}
		var got []string
		for _, c := range res.Codes {
			got = append(got, c.Text())
		}
		wants := strings.Split(want, " | ")
		slices.Sort(got)
		slices.Sort(wants)
		if !slices.Equal(got, wants) {
			t.Errorf("%s: codes %q, want %q", file, got, wants)
		}
	}
	files, _ := filepath.Glob("testdata/terminal/*.txt")
	if n != len(files)-1 { // expected.txt itself
		t.Errorf("expected.txt lists %d files, testdata/terminal has %d", n, len(files)-1)
	}
}

// FuzzTerminalText: any text is read without a panic, within the limits
// (blocks, lines, cells), and every block renders to a bounded image.
func FuzzTerminalText(f *testing.F) {
	files, _ := filepath.Glob("testdata/terminal/*.txt")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("\x1b[38;5;255;48;2;0;0;0m██▀▄\x1b[7m  \x1b[27m\x1b[")
	f.Fuzz(func(t *testing.T, text string) {
		blocks := terminalBlocks(text)
		if len(blocks) > maxTerminalBlocks {
			t.Fatalf("%d blocks", len(blocks))
		}
		for _, bl := range blocks {
			if len(bl) < minTerminalLines || len(bl) > maxTerminalLines {
				t.Fatalf("a block of %d lines", len(bl))
			}
			for _, row := range bl {
				if len(row) > maxTerminalCells {
					t.Fatalf("a row of %d cells", len(row))
				}
			}
			img := renderTerminal(bl, true, true)
			if b := img.Bounds(); b.Dx() > maxTerminalCells*terminalCellW+2*terminalPad || b.Dy() > maxTerminalLines*terminalCellH+2*terminalPad {
				t.Fatalf("a rendering of %v", b)
			}
		}
	})
}

// TestQrencodeTerminalLive draws codes of several sizes with Debian's
// qrencode in each of its text types and margins at test time and reads
// every one back: the corpus above, for the encoder installed.
func TestQrencodeTerminalLive(t *testing.T) {
	qrencode := testenv.LookPath(t, "terminal QR text from a real encoder", "qrencode")
	payloads := []string{
		"otpauth://totp/A:b?secret=JBSWY3DPEHPK3PXP",
		"otpauth://totp/Example%20Cloud:alice@example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Example%20Cloud",
		"otpauth://totp/Acme:" + strings.Repeat("x", 120) + "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme&algorithm=SHA256&digits=8&period=60",
	}
	n := 0
	for _, typ := range []string{"ASCII", "ASCIIi", "UTF8", "UTF8i", "ANSI", "ANSI256", "ANSIUTF8", "ANSIUTF8i", "ANSI256UTF8"} {
		for _, margin := range []string{"0", "1", "4"} {
			for _, p := range payloads {
				out, err := exec.Command(qrencode, "-t", typ, "-m", margin, p).Output()
				if err != nil {
					t.Fatalf("qrencode -t %s -m %s: %v", typ, margin, err)
				}
				res, err := ScanInput(context.Background(), "qrencode", out, Options{})
				if err != nil || len(res.Codes) != 1 || res.Codes[0].Text() != p {
					t.Errorf("qrencode -t %s -m %s %q: %v, %+v", typ, margin, p[:30], err, res)
				}
				n++
			}
		}
	}
	t.Logf("%d codes drawn and read", n)
}
