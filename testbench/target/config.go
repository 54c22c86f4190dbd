package target

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// TargetConfig describes an HTTP API to test: how to enroll a device, bind
// it and verify a code, and what counts as accepted, rejected, locked or
// "slow down". It is read from YAML or JSON (LoadTargetConfig); see
// examples/refserver.yaml for a complete one.
//
// Strings may hold ${NAME} (or ${NAME:-default}), replaced by the
// environment variable when the file is loaded: tokens stay out of the
// file. Request paths and bodies are templates where {{name}} is replaced
// when the request is made: {{account}}, {{code}} (verify), {{code1}} and
// {{code2}} (bind with two codes; {{code}} too with one), and every
// variable the enroll step extracted (Enroll.Vars), such as {{serial}}.
// In a JSON body a value is escaped as a JSON string's content; in a path,
// as a path segment.
type TargetConfig struct {
	Name    string            `yaml:"name"`
	BaseURL string            `yaml:"base_url"` // e.g. http://127.0.0.1:8080
	Headers map[string]string `yaml:"headers"`  // sent with every request
	Timeout string            `yaml:"timeout"`  // per request, a Go duration; "" means 10s
	// Password is {{password}} in the steps (from the environment:
	// password: ${APP_PASSWORD}); {{user}} is the account name.
	Password string `yaml:"password"`

	// Setup runs once per enrollment, before it, in the enrollment's own
	// session (cookie jar): sign up, sign in, open the MFA page. SignIn
	// runs at the start of every session, after Setup: the enrollment's
	// and a second one's (the reuse scenario's). Login, when given,
	// replaces Verify: its steps run for every code, the code goes in the
	// last one, and that step's answer is judged (a two-step login:
	// password, then the code with the challenge the first step gave).
	// With any of them each enrollment has its own cookie jar, redirects
	// are not followed (a 303 is an answer), and Capture makes values of
	// one answer {{name}} in the requests after it.
	Setup  []Step `yaml:"setup"`
	SignIn []Step `yaml:"signin"`
	Login  []Step `yaml:"login"`

	// Users are the test users the bench enrolls and enrolls again
	// (a staging server with a few): {{user}} and {{password}} are
	// theirs. Without users every enrollment is a new account. Reset
	// runs first, before setup, for every enrollment of a user: the steps
	// that take MFA off so it can be set up again, typically an
	// administrator's call (a user with MFA on cannot sign in without a
	// code); absent, the enroll step must replace the secret. A reset
	// step's answer is not checked unless it gives status: or
	// expect_body:.
	Users []User `yaml:"users"`
	Reset []Step `yaml:"reset"`

	Enroll EnrollSpec `yaml:"enroll"`
	Bind   *BindSpec  `yaml:"bind"` // absent: codes can be verified right after enrollment
	Verify Request    `yaml:"verify"`

	// Verdicts decides each bind and verify answer: the first list that
	// matches, in the order locked, throttled, accepted, rejected; an
	// answer matching none is an error (no verdict).
	Verdicts Verdicts `yaml:"verdicts"`

	// LabClock is the path of a lab clock endpoint (GET answers
	// {"now": RFC3339Nano}, POST takes {"set": RFC3339Nano}), as the
	// reference console offers with --lab. When it answers, the bench runs
	// in virtual time; when it answers 404, in real time.
	LabClock string `yaml:"lab_clock"`

	// DatePath is the path of a cheap GET whose answer's Date header tells
	// the server's clock (any status will do); "" means "/". The bench
	// brackets the instant its second flips to measure the server's clock
	// without spending a code.
	DatePath string `yaml:"date_path"`
}

// Request is one HTTP request template. The body is Body (a template;
// JSON unless ContentType says otherwise), Form (fields sent
// application/x-www-form-urlencoded) or Multipart (fields sent
// multipart/form-data), one of them; header values are templates too
// (X-CSRF-Token: "{{csrftoken}}").
type Request struct {
	Method      string            `yaml:"method"` // "" means POST
	Path        string            `yaml:"path"`   // appended to base_url
	Body        string            `yaml:"body"`   // template; "" sends no body
	Form        map[string]string `yaml:"form"`
	Multipart   map[string]string `yaml:"multipart"`
	ContentType string            `yaml:"content_type"`
	Headers     map[string]string `yaml:"headers"`
	// Capture takes values from the answer for the requests after it,
	// as {{name}}.
	Capture map[string]Capture `yaml:"capture"`
}

// User is a test user.
type User struct {
	Name     string `yaml:"name"`
	Password string `yaml:"password"` // ${ENV} keeps it out of the file
}

// Step is a request of a flow (setup, signin, login) and what answer
// means it worked.
type Step struct {
	Name    string `yaml:"name"` // for errors; "" means its path
	Request `yaml:",inline"`
	Status  []int `yaml:"status"` // statuses meaning it worked; empty means 2xx or 3xx
	// Body, a regular expression the answer's body must match for the
	// step to have worked.
	Expect string `yaml:"expect_body"`
	// Verdicts, on the last login step, judge its answer instead of the
	// config's verdicts.
	Verdicts *Verdicts `yaml:"verdicts"`
}

// Capture says where in an answer a value is: exactly one of a JSON path,
// a header, a cookie (set by the answer or held by the session's jar), a
// regular expression (its first group, or the whole match) on the body,
// or the value of an HTML form field (<input name="...">).
type Capture struct {
	JSON      string `yaml:"json"`
	Header    string `yaml:"header"`
	Cookie    string `yaml:"cookie"`
	Regex     string `yaml:"regex"`
	FormField string `yaml:"form_field"`
}

// EnrollSpec is the enroll request and where its answer carries the key.
// Each field naming a place in the answer is a JSON path: dotted keys with
// [N] for array elements, e.g. "VirtualMFADevice.Base32StringSeed".
type EnrollSpec struct {
	Request `yaml:",inline"`
	Status  []int `yaml:"status"` // statuses meaning success; empty means 200 and 201

	QRImage   string `yaml:"qr_image"`   // base64 image (or data: URL) of the QR code
	URI       string `yaml:"uri"`        // the otpauth URI as text
	ManualKey string `yaml:"manual_key"` // the base32 key for manual entry
	Account   string `yaml:"account"`
	Issuer    string `yaml:"issuer"`
	// Vars are template variables taken from the answer, e.g.
	// serial: serial, for {{serial}} in later paths.
	Vars map[string]string `yaml:"vars"`
}

// BindSpec is the bind request.
type BindSpec struct {
	Request `yaml:",inline"`
	Codes   int `yaml:"codes"` // 1, or 2 consecutive codes
	// Verdicts judge the bind's answer instead of the config's verdicts.
	Verdicts *Verdicts `yaml:"verdicts"`
}

// Verdicts lists, per outcome, the answers that mean it.
type Verdicts struct {
	Accepted  []Match `yaml:"accepted"`
	Rejected  []Match `yaml:"rejected"`
	Locked    []Match `yaml:"locked"`
	Throttled []Match `yaml:"throttled"`
}

// Match is an answer pattern: any of the statuses (empty: any status),
// every JSON path equal to its value (compared as text), every header
// containing its value, and the body matching Body (a regular
// expression), all of those given.
type Match struct {
	Status []int             `yaml:"status"`
	JSON   map[string]string `yaml:"json"`
	Header map[string]string `yaml:"header"`
	Body   string            `yaml:"body"`
}

// maxConfigBytes caps a config file.
const maxConfigBytes = 1 << 20

// LoadTargetConfig reads a YAML or JSON config from r (name is for
// errors), expands ${ENV} with getenv and checks it.
func LoadTargetConfig(name string, r io.Reader, getenv func(string) string) (*TargetConfig, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(b) > maxConfigBytes {
		return nil, fmt.Errorf("%s: over %d bytes", name, maxConfigBytes)
	}
	// First strictly, to name unknown fields; then again with ${ENV}
	// expanded in the values (not in comments).
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var c TargetConfig
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty", name)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := expandNode(&root, getenv); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c = TargetConfig{}
	if err := root.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := c.check(); err != nil {
		var ce *configError
		if errors.As(err, &ce) && ce.key != "" {
			if line := keyLine(&root, ce.key); line > 0 {
				return nil, fmt.Errorf("%s:%d: %w", name, line, err)
			}
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &c, nil
}

// LoadTargetConfigFile reads a config file.
func LoadTargetConfigFile(path string, getenv func(string) string) (*TargetConfig, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return LoadTargetConfig(path, f, getenv)
}

// envRef matches ${NAME} and ${NAME:-default}; compiled on first use.
var envRef = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}`) })

// expandNode expands ${ENV} in every scalar value under n.
func expandNode(n *yaml.Node, getenv func(string) string) error {
	if n.Kind == yaml.ScalarNode {
		v, err := expandEnv([]byte(n.Value), getenv)
		if err != nil {
			return err
		}
		n.Value = string(v)
	}
	for _, c := range n.Content {
		if err := expandNode(c, getenv); err != nil {
			return err
		}
	}
	return nil
}

// expandEnv replaces ${NAME} and ${NAME:-default}; an unset NAME without a
// default is an error naming it.
func expandEnv(b []byte, getenv func(string) string) ([]byte, error) {
	var missing []string
	re := envRef()
	out := re.ReplaceAllFunc(b, func(m []byte) []byte {
		sub := re.FindSubmatch(m)
		v := getenv(string(sub[1]))
		if v == "" {
			if len(sub[2]) > 0 {
				return sub[2][2:]
			}
			missing = append(missing, string(sub[1]))
		}
		return []byte(v)
	})
	if len(missing) > 0 {
		return nil, fmt.Errorf("environment variable %s is not set", strings.Join(missing, ", "))
	}
	return out, nil
}

// RefConsoleConfig is the config of the reference console's API at
// baseURL (what --target URL means), the same as examples/refserver.yaml.
func RefConsoleConfig(baseURL string, bindCodes int) *TargetConfig {
	bind := &BindSpec{Request: Request{Path: "/api/v1/devices/{{serial}}/bind", Body: `{"code1": "{{code1}}", "code2": "{{code2}}"}`}, Codes: 2}
	if bindCodes == 1 {
		bind = &BindSpec{Request: Request{Path: "/api/v1/devices/{{serial}}/bind", Body: `{"code": "{{code}}"}`}, Codes: 1}
	}
	return &TargetConfig{
		Name:    "reference console at " + baseURL,
		BaseURL: strings.TrimRight(baseURL, "/"),
		Enroll: EnrollSpec{
			Request:   Request{Path: "/api/v1/devices", Body: `{"account": "{{account}}"}`},
			Status:    []int{201},
			QRImage:   "qr_png",
			ManualKey: "secret",
			Account:   "account",
			Issuer:    "issuer",
			Vars:      map[string]string{"serial": "serial"},
		},
		Bind:   bind,
		Verify: Request{Path: "/api/v1/devices/{{serial}}/verify", Body: `{"code": "{{code}}"}`},
		Verdicts: Verdicts{
			Accepted:  []Match{{Status: []int{200}}},
			Rejected:  []Match{{Status: []int{400, 403}}},
			Locked:    []Match{{Status: []int{429}, JSON: map[string]string{"error": "locked"}}},
			Throttled: []Match{{Status: []int{429}}},
		},
		LabClock: "/api/v1/lab/clock",
		DatePath: "/healthz",
	}
}

// maxUsersFileBytes caps a --users file.
const maxUsersFileBytes = 1 << 20

// LoadUsers reads test users from r (name for errors): a line each,
// NAME:PASSWORD, ${ENV} in the password replaced from getenv; blank lines
// and lines starting with # are skipped. Errors name the line.
func LoadUsers(name string, r io.Reader, getenv func(string) string) ([]User, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxUsersFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(b) > maxUsersFileBytes {
		return nil, fmt.Errorf("%s: over %d bytes", name, maxUsersFileBytes)
	}
	var users []User
	seen := map[string]bool{}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		n, pw, ok := strings.Cut(line, ":")
		n = strings.TrimSpace(n)
		switch {
		case !ok || n == "":
			return nil, fmt.Errorf("%s:%d: want NAME:PASSWORD", name, i+1)
		case seen[n]:
			return nil, fmt.Errorf("%s:%d: user %q is listed twice", name, i+1, n)
		}
		exp, err := expandEnv([]byte(pw), getenv)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, i+1, err)
		}
		if len(exp) == 0 {
			return nil, fmt.Errorf("%s:%d: user %q has no password", name, i+1, n)
		}
		seen[n] = true
		users = append(users, User{Name: n, Password: string(exp)})
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("%s: no user (want a line NAME:PASSWORD each)", name)
	}
	if len(users) > maxUsers {
		return nil, fmt.Errorf("%s: %d users: at most %d", name, len(users), maxUsers)
	}
	return users, nil
}
