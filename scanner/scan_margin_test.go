package scanner

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

func TestParseMarginLimits(t *testing.T) {
	tests := []struct {
		in   string
		want MarginLimits
	}{
		{"px=2.5", MarginLimits{ModulePx: 2.5}},
		{"px=2,blur=1.2,noise=20,rotate=10,tilt=30,contrast=50%", MarginLimits{ModulePx: 2, BlurSigma: 1.2, Noise: 20, RotateDeg: 10, TiltDeg: 30, Contrast: 0.5}},
		{"contrast=0.3", MarginLimits{Contrast: 0.3}},
		{"contrast=30", MarginLimits{Contrast: 0.3}},
		{" tilt=35 , module_px=1.7", MarginLimits{TiltDeg: 35, ModulePx: 1.7}},
	}
	for _, tt := range tests {
		got, err := ParseMarginLimits(tt.in)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("ParseMarginLimits(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "px", "px=", "px=-1", "px=0", "px=NaN", "blur=50%", "contrast=150%", "zoom=2", "px=1e9"} {
		if got, err := ParseMarginLimits(in); err == nil {
			t.Errorf("ParseMarginLimits(%q) = %+v; want an error", in, got)
		}
	}
}

// TestScanMargin: the margin is measured per image, repeatable with the
// same seed, and its text leaves out the payload.
func TestScanMargin(t *testing.T) {
	skipUnderRace(t, "margin sweeps through ScanInput")
	if testing.Short() {
		t.Skip("margin sweeps decode some hundred times")
	}
	data := qrPNG(t, goodURI)
	var first *InputResult
	for range 2 {
		res, err := ScanInput(context.Background(), "code.png", data, Options{Margin: true, MarginSeed: 7})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Margins) != 1 {
			t.Fatalf("margins %+v; want one", res.Margins)
		}
		m := res.Margins[0]
		if m.MinModulePx <= 0 || m.MinModulePx > m.ModulePx || m.Seed != 7 || !strings.HasPrefix(m.Summary, "decodes down to") {
			t.Errorf("margin %+v", m)
		}
		if strings.Contains(fmt.Sprintf("%+v", m), "otpauth") {
			t.Errorf("margin shows the payload: %+v", m)
		}
		if first == nil {
			first = res
		} else if fmt.Sprint(first.Margins) != fmt.Sprint(res.Margins) {
			t.Errorf("same seed, different margins:\n%+v\n%+v", first.Margins, res.Margins)
		}
	}
}

// TestScanThroughCamera: a camera that sees the code keeps the image's own
// facts for the image rules; one that cannot read it gives no-code.
func TestScanThroughCamera(t *testing.T) {
	data := qrPNG(t, goodURI)
	cam, err := CameraByName("current-phone")
	if err != nil {
		t.Fatal(err)
	}
	res, err := ScanInput(context.Background(), "code.png", data, Options{Decode: DecodeOptions{Camera: &cam}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusOK || len(res.Codes) != 1 || res.Codes[0].QR == nil {
		t.Fatalf("through %s: %+v", cam.Name, res)
	}
	q := res.Codes[0].QR
	if q.ModulePx != 6 || q.QuietZoneModules < 4 || !strings.HasPrefix(q.Strategy, "camera current-phone: ") {
		t.Errorf("through %s: facts %+v; want the image's own (6 px/module, quiet zone 4+)", cam.Name, q)
	}
	blind := Camera{Name: "blind", ModulePx: 0.5, Seed: 1}
	res, err = ScanInput(context.Background(), "code.png", data, Options{Decode: DecodeOptions{Camera: &blind}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusNoCode || !hasRule(res.Findings, RuleInputNoCode) || !strings.Contains(res.Findings[0].Message, "through camera blind") {
		t.Errorf("through a camera at 0.5 px/module: %+v", res)
	}
}
