package scanner

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const corpusDir = "testdata/corpus"

// corpusEntry mirrors internal/corpusgen's Entry (testdata/corpus/expected.json).
type corpusEntry struct {
	File     string   `json:"file"`
	Texts    []string `json:"texts"`
	Error    string   `json:"error"`
	Version  int      `json:"version"`
	ECLevel  string   `json:"ec_level"`
	ModulePx float64  `json:"module_px"`
	Quiet    float64  `json:"quiet_zone_modules"`
}

func loadCorpus(t testing.TB) []corpusEntry {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(corpusDir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var entries []corpusEntry
	if err := json.Unmarshal(data, &entries); err != nil {
		t.Fatalf("expected.json: %v", err)
	}
	return entries
}

func readCorpusFile(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(corpusDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestCorpusManifestComplete: every file in the corpus has an expectation.
func TestCorpusManifestComplete(t *testing.T) {
	listed := map[string]bool{}
	for _, e := range loadCorpus(t) {
		listed[e.File] = true
	}
	files, err := os.ReadDir(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if n := f.Name(); n != "expected.json" && n != "README.md" && !listed[n] {
			t.Errorf("%s is in the corpus but not in expected.json", n)
		}
	}
}

func TestCorpus(t *testing.T) {
	for _, e := range loadCorpus(t) {
		t.Run(e.File, func(t *testing.T) {
			t.Parallel()
			if strings.Contains(e.File, "3840x2160") || strings.Contains(e.File, "2560x1440") {
				skipUnderRace(t, "a large screenshot")
			}
			data := readCorpusFile(t, e.File)
			// A generous deadline: under -race on a busy machine the 4K
			// images take seconds; the default would turn slowness into failures.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			qrs, err := DecodeImageBytes(ctx, e.File, data, DecodeOptions{})
			if e.Error != "" {
				if err == nil {
					t.Fatalf("%s: decoded %d codes, want error %s", e.File, len(qrs), e.Error)
				}
				if !strings.Contains(err.Error(), e.File) {
					t.Errorf("%s: error %q does not name the input", e.File, err)
				}
				if got := errorKind(err); got != e.Error {
					t.Errorf("%s: error kind %s (%v), want %s", e.File, got, err, e.Error)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: %v", e.File, err)
			}
			var texts []string
			for _, q := range qrs {
				texts = append(texts, q.Text)
			}
			slices.Sort(texts)
			want := slices.Clone(e.Texts)
			slices.Sort(want)
			if !slices.Equal(texts, want) {
				t.Fatalf("%s: texts %q, want %q", e.File, texts, want)
			}
			for _, q := range qrs {
				if e.Version != 0 && q.Version != e.Version {
					t.Errorf("%s: version %d, want %d", e.File, q.Version, e.Version)
				}
				if e.ECLevel != "" && q.ECLevel != e.ECLevel {
					t.Errorf("%s: EC level %s, want %s", e.File, q.ECLevel, e.ECLevel)
				}
				if e.ModulePx != 0 && math.Abs(q.ModulePx-e.ModulePx) > 0.15*e.ModulePx {
					t.Errorf("%s: %.2f px/module, want %.2f", e.File, q.ModulePx, e.ModulePx)
				}
				if e.Quiet != 0 && q.QuietZoneModules != e.Quiet {
					t.Errorf("%s: quiet zone %.1f modules, want %.1f", e.File, q.QuietZoneModules, e.Quiet)
				}
				if q.Bounds.Empty() || q.Strategy == "" {
					t.Errorf("%s: bounds %v strategy %q", e.File, q.Bounds, q.Strategy)
				}
			}
			t.Logf("%s: %d codes, first %+v", e.File, len(qrs), qrs[0])
		})
	}
}

func errorKind(err error) string {
	switch {
	case errors.Is(err, ErrNoCode):
		return "no-code"
	case errors.Is(err, ErrTooLarge):
		return "too-large"
	default:
		return "decode"
	}
}
