package scanner

import (
	"context"
	"testing"
)

func BenchmarkParseURI(b *testing.B) {
	uri := "otpauth://totp/ACME%20Co:john.doe@email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30"
	b.ReportAllocs()
	for b.Loop() {
		if k, _ := ParseURI(uri); k == nil {
			b.Fatal("no key")
		}
	}
}

func BenchmarkParseMigration(b *testing.B) {
	lines := testdataLines(b, "testdata/migration/ga-export-3.txt")
	b.ReportAllocs()
	for b.Loop() {
		if m, _ := ParseMigration(lines[0]); m == nil {
			b.Fatal("no export")
		}
	}
}

// BenchmarkScanInputJSON: an API response with a base64 PNG, end to end
// (detection, base64, PNG decode, QR decode, lint, seed check).
func BenchmarkScanInputJSON(b *testing.B) {
	data := jsonResponse(goodURI, rfcSecret)(b)
	b.ReportAllocs()
	for b.Loop() {
		res, err := ScanInput(context.Background(), "bench", data, Options{})
		if err != nil || len(res.Codes) != 1 {
			b.Fatal(err)
		}
	}
}
