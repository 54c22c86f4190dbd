package testbench

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// JUnit XML, as CI systems read it: one testsuite, a testcase per check.
// A failed check is a <failure>, a skipped one <skipped>; a warning
// passes with its detail in <system-out>.
type junitSuite struct {
	XMLName  xml.Name    `xml:"testsuite"`
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Stamp    string      `xml:"timestamp,attr,omitempty"`
	Props    *junitProps `xml:"properties,omitempty"`
	Cases    []junitCase `xml:"testcase"`
}

type junitProps struct {
	Props []junitProp `xml:"property"`
}

type junitProp struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Error     *junitFailure `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// WriteJUnit writes the report as JUnit XML.
func WriteJUnit(w io.Writer, r *Report) error {
	s := junitSuite{Name: "totpemu bench: " + r.Target, Time: "0", Cases: []junitCase{}}
	if !r.Started.IsZero() {
		s.Stamp = r.Started.UTC().Format("2006-01-02T15:04:05")
	}
	s.Props = &junitProps{Props: []junitProp{{Name: "time_source", Value: string(r.TimeSource.Kind)}, {Name: "scenarios", Value: strings.Join(r.Scenarios, ",")}}}
	for _, c := range r.Checks {
		class, _, _ := strings.Cut(c.ID, ".")
		jc := junitCase{Name: c.ID, Classname: "totpemu.bench." + class, Time: "0"}
		switch c.Status {
		case Fail:
			s.Failures++
			jc.Failure = &junitFailure{Message: c.Detail, Type: "fail", Text: fmt.Sprintf("%s: %s", c.ID, c.Detail)}
		case Incomplete:
			s.Errors++
			jc.Error = &junitFailure{Message: c.Detail, Type: "incomplete", Text: fmt.Sprintf("%s: %s", c.ID, c.Detail)}
		case Skip:
			s.Skipped++
			jc.Skipped = &junitSkipped{Message: c.Detail}
		default:
			jc.SystemOut = strings.ToUpper(string(c.Status)) + ": " + c.Detail
		}
		s.Cases = append(s.Cases, jc)
	}
	s.Tests = len(s.Cases)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(s); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
