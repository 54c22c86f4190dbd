package scanner

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSavedPage is the regression test for a page saved with its images
// (page_files/qr.png) scanned as holding no code: a relative <img src> is
// read from the page's folder (escapes decoded, query dropped), never from
// outside it; a remote one is named, not fetched.
func TestSavedPage(t *testing.T) {
	dir := t.TempDir()
	png, err := os.ReadFile("testdata/inputs/qrencode.png")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "page", "page_files"), 0o700); err != nil {
		t.Fatal(err)
	}
	for p, b := range map[string][]byte{"page/page_files/qr 1.png": png, "outside.png": png} {
		if err := os.WriteFile(filepath.Join(dir, p), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, html string
		codes      int
		msg        string // in the no-code finding
	}{
		{"relative", `<img src="page_files/qr%201.png?v=2">`, 1, ""},
		{"file-url", `<img src="file:page_files/qr%201.png">`, 1, ""},
		{"remote", `<img src="https://cdn.example.com/qr.png">`, 0, "remote images are not fetched: https://cdn.example.com/qr.png"},
		{"protocol-relative", `<img src="//cdn.example.com/qr.png">`, 0, "remote images are not fetched"},
		{"outside", `<img src="../outside.png">`, 0, "outside the page's folder"},
		{"absolute", `<img src="/etc/passwd">`, 0, "outside the page's folder"},
		{"missing", `<img src="page_files/none.png">`, 0, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page := filepath.Join(dir, "page", tc.name+".html")
			if err := os.WriteFile(page, []byte("<html><body>"+tc.html+"</body></html>"), 0o600); err != nil {
				t.Fatal(err)
			}
			res, err := ScanPath(context.Background(), page, nil, Options{})
			if err != nil {
				t.Fatalf("%s: %v", tc.html, err)
			}
			if len(res.Codes) != tc.codes {
				t.Errorf("%s: %d codes, want %d: %+v", tc.html, len(res.Codes), tc.codes, res.Findings)
			}
			if tc.msg != "" && (len(res.Findings) == 0 || !strings.Contains(res.Findings[0].Message, tc.msg)) {
				t.Errorf("%s: findings %v; want one saying %q", tc.html, res.Findings, tc.msg)
			}
		})
	}
	// Read from stdin, a page has no folder: its linked images are named.
	res, err := ScanInput(context.Background(), "stdin", []byte(`<img src="page_files/qr.png">`), Options{})
	if err != nil || res.Status != StatusNoCode || !strings.Contains(res.Findings[0].Message, "scan the saved page as a file") {
		t.Errorf("a linked image from stdin: %v, %+v", err, res)
	}
}

// TestCurlHeaders is the regression test for a JSON answer saved with its
// HTTP headers (curl -i) refused as not JSON: the headers (a 100 Continue
// before the final answer too) are skipped.
func TestCurlHeaders(t *testing.T) {
	body, err := os.ReadFile("testdata/inputs/alibaba-create-virtual-mfa-device.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, head := range []string{
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n",
		"HTTP/2 200\ncontent-type: application/json\n\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n",
	} {
		res, err := ScanInput(context.Background(), "curl-i", append([]byte(head), body...), Options{})
		if err != nil || res.Form != FormJSON || len(res.Codes) != 1 {
			t.Errorf("%q + JSON: %v, %+v", head, err, res)
		}
	}
	for _, in := range []string{
		"HTTP/1.1 200 OK\r\nContent-Type: application/json",
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n",
		"HTTP/1.1 204 No Content\n\n\n",
	} {
		if _, err := ScanInput(context.Background(), "curl-i", []byte(in), Options{}); err == nil || !strings.Contains(err.Error(), "HTTP headers without a body") {
			t.Errorf("headers alone %q: %v", in, err)
		}
	}
}
