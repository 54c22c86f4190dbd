package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestExampleInputsExist is the regression test for README and help
// examples that named inputs not in the repository (console-screenshot.png):
// every file an example reads, in the README's command lines and in each
// command's usage, exists in a clone. Files an example writes (after
// --out, --trace, --state, or an output redirection) are left out.
func TestExampleInputsExist(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(l, "$ totpemu ") {
			lines = append(lines, "README: "+l)
		}
		// and the commands quoted in text and tables
		for _, part := range strings.Split(l, "`")[1:] {
			if strings.HasPrefix(part, "totpemu ") {
				lines = append(lines, "README: "+part)
			}
		}
	}
	for _, c := range commands {
		for _, l := range strings.Split(c.usage, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "totpemu ") {
				lines = append(lines, c.name+" usage: "+l)
			}
		}
	}
	file := regexp.MustCompile(`(^|\s)(--[a-z-]+[ =])?'?([\w./*-]+\.(png|jpg|gif|webp|json|html|txt|yaml|b64))'?`)
	checked := 0
	for _, l := range lines {
		for _, m := range file.FindAllStringSubmatch(l, -1) {
			flag, path := strings.TrimRight(m[2], " ="), m[3]
			if flag == "--out" || flag == "--trace" || flag == "--state" || strings.Contains(l, "> "+path) {
				continue
			}
			matches, _ := filepath.Glob(filepath.Join("../..", path))
			if len(matches) == 0 {
				t.Errorf("%s: %s is not in the repository", l, path)
			}
			checked++
		}
	}
	if checked < 5 {
		t.Errorf("only %d example inputs found in %d example lines: is the pattern right?", checked, len(lines))
	}
}
