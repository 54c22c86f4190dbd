package target

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// configError is a problem of a config at a key ("login[1].capture.csrf"),
// which LoadTargetConfig turns into the file's line.
type configError struct{ key, msg string }

func (e *configError) Error() string {
	if e.key == "" {
		return e.msg
	}
	return e.key + ": " + e.msg
}

func cerr(key, format string, args ...any) error {
	return &configError{key: key, msg: fmt.Sprintf(format, args...)}
}

// keyLine is the line of key (dotted, [N] for list items) in a YAML
// document, or of the deepest part of it found; 0 when none is.
func keyLine(root *yaml.Node, key string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, part := range strings.Split(key, ".") {
		name, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 && strings.HasSuffix(part, "]") {
			name = part[:i]
			idx, _ = strconv.Atoi(part[i+1 : len(part)-1])
		}
		found := false
		if n.Kind == yaml.MappingNode {
			for k := 0; k+1 < len(n.Content); k += 2 {
				if n.Content[k].Value == name {
					line, n, found = n.Content[k].Line, n.Content[k+1], true
					break
				}
			}
		}
		if !found {
			return line
		}
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return line
			}
			n = n.Content[idx]
			line = n.Line
		}
	}
	return line
}

// maxUsers bounds a config's test users.
const maxUsers = 1000

// check validates the config; each error names its key.
func (c *TargetConfig) check() error {
	if !strings.HasPrefix(c.BaseURL, "http://") && !strings.HasPrefix(c.BaseURL, "https://") {
		return cerr("base_url", "%q: want an http:// or https:// URL", c.BaseURL)
	}
	if c.Enroll.Path == "" {
		return cerr("enroll", "enroll.path is required")
	}
	if c.Verify.Path == "" && len(c.Login) == 0 {
		return cerr("verify", "verify.path (or login steps) is required")
	}
	if c.Enroll.QRImage == "" && c.Enroll.URI == "" && c.Enroll.ManualKey == "" {
		return cerr("enroll", "needs at least one of qr_image, uri, manual_key: where the answer carries the key")
	}
	if c.Bind != nil && (c.Bind.Codes < 1 || c.Bind.Codes > 2) {
		return cerr("bind.codes", "%d: want 1 or 2", c.Bind.Codes)
	}
	if c.Bind != nil && c.Bind.Path == "" {
		return cerr("bind", "bind.path is required when bind is given")
	}
	if len(c.Verdicts.Accepted) == 0 {
		return cerr("verdicts", "verdicts.accepted is required")
	}
	if err := checkVerdicts("verdicts", c.Verdicts); err != nil {
		return err
	}
	paths := map[string]string{"qr_image": c.Enroll.QRImage, "uri": c.Enroll.URI, "manual_key": c.Enroll.ManualKey, "account": c.Enroll.Account, "issuer": c.Enroll.Issuer}
	for k, p := range c.Enroll.Vars {
		paths["vars."+k] = p
	}
	for k, p := range paths {
		if err := checkPath(p); err != nil {
			return cerr("enroll."+k, "%v", err)
		}
	}
	for name, h := range c.Headers {
		if strings.ContainsAny(name+h, "\r\n") {
			return cerr("headers", "header %q: line breaks are not allowed", name)
		}
	}
	seen := map[string]bool{}
	for i, u := range c.Users {
		key := fmt.Sprintf("users[%d]", i)
		switch {
		case u.Name == "" || strings.ContainsAny(u.Name, "\r\n"):
			return cerr(key+".name", "a user needs a name on one line")
		case seen[u.Name]:
			return cerr(key+".name", "%q is listed twice", u.Name)
		case u.Password == "":
			return cerr(key+".password", "user %q has no password (write password: ${ENV_VAR} to take it from the environment)", u.Name)
		}
		seen[u.Name] = true
	}
	if len(c.Users) > maxUsers {
		return cerr("users", "%d users: at most %d", len(c.Users), maxUsers)
	}
	if len(c.Reset) > 0 && len(c.Users) == 0 {
		return cerr("reset", "reset steps re-enroll test users: give users too")
	}
	// The {{names}} each request may use: what is known by then.
	known := map[string]bool{"account": true, "user": true, "password": true}
	for i, st := range c.Reset {
		if err := checkStep(fmt.Sprintf("reset[%d]", i), st, known, false); err != nil {
			return err
		}
	}
	for i, st := range c.Setup {
		if err := checkStep(fmt.Sprintf("setup[%d]", i), st, known, false); err != nil {
			return err
		}
	}
	for i, st := range c.SignIn {
		if err := checkStep(fmt.Sprintf("signin[%d]", i), st, known, false); err != nil {
			return err
		}
	}
	if err := checkRequest("enroll", c.Enroll.Request, known, false); err != nil {
		return err
	}
	for k := range c.Enroll.Vars {
		known[k] = true
	}
	if c.Bind != nil {
		codes := map[string]bool{"code": true, "code1": true, "code2": true}
		if err := checkRequest("bind", c.Bind.Request, union(known, codes), false); err != nil {
			return err
		}
		if c.Bind.Verdicts != nil {
			if err := checkVerdicts("bind.verdicts", *c.Bind.Verdicts); err != nil {
				return err
			}
		}
	}
	if len(c.Login) > 0 {
		for i, st := range c.Login {
			last := i == len(c.Login)-1
			key := fmt.Sprintf("login[%d]", i)
			ks := known
			if last {
				ks = union(known, map[string]bool{"code": true})
			}
			if !last && usesName(st.Request, "code") {
				return cerr(key, "{{code}} goes in the last login step only (its answer is the one judged)")
			}
			if err := checkStep(key, st, ks, last); err != nil {
				return err
			}
		}
		return nil
	}
	return checkRequest("verify", c.Verify, union(known, map[string]bool{"code": true}), true)
}

// checkStep checks a flow step and adds its captures to known.
func checkStep(key string, st Step, known map[string]bool, needCode bool) error {
	if err := checkRequest(key, st.Request, known, needCode); err != nil {
		return err
	}
	if st.Expect != "" {
		if _, err := regexp.Compile(st.Expect); err != nil {
			return cerr(key+".expect_body", "%v", err)
		}
	}
	for _, s := range st.Status {
		if s < 100 || s > 599 {
			return cerr(key+".status", "%d is not an HTTP status", s)
		}
	}
	if st.Verdicts != nil {
		if err := checkVerdicts(key+".verdicts", *st.Verdicts); err != nil {
			return err
		}
	}
	return nil
}

// checkRequest checks a request: its path, method and body, that every
// {{name}} it uses is known by then (code with needCode), and its
// captures, which it adds to known.
func checkRequest(key string, r Request, known map[string]bool, needCode bool) error {
	if r.Path == "" {
		return cerr(key, "path is required")
	}
	if r.Method != "" && !slices.Contains([]string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}, r.Method) {
		return cerr(key+".method", "%q: want GET, POST, PUT, PATCH or DELETE", r.Method)
	}
	bodies := 0
	for _, has := range []bool{r.Body != "", len(r.Form) > 0, len(r.Multipart) > 0} {
		if has {
			bodies++
		}
	}
	if bodies > 1 {
		return cerr(key, "give one of body, form and multipart")
	}
	for name, h := range r.Headers {
		if strings.ContainsAny(name+h, "\r\n") {
			return cerr(key+".headers", "header %q: line breaks are not allowed", name)
		}
	}
	for _, f := range requestTemplates(r) {
		for _, m := range placeholder().FindAllStringSubmatch(f.tmpl, -1) {
			if !known[m[1]] {
				return cerr(key+"."+f.key, "{{%s}} is not known here: no earlier step captures it (known: %s)", m[1], strings.Join(sortedKeys(known), ", "))
			}
		}
	}
	if needCode && !usesName(r, "code") {
		return cerr(key, "the code has nowhere to go: put {{code}} in its path, body, form or headers")
	}
	for name, cp := range r.Capture {
		ck := key + ".capture." + name
		n := 0
		for _, v := range []string{cp.JSON, cp.Header, cp.Cookie, cp.Regex, cp.FormField} {
			if v != "" {
				n++
			}
		}
		if n != 1 {
			return cerr(ck, "give exactly one of json, header, cookie, regex, form_field")
		}
		if cp.Regex != "" {
			if _, err := regexp.Compile(cp.Regex); err != nil {
				return cerr(ck+".regex", "%v", err)
			}
		}
		if err := checkPath(cp.JSON); err != nil {
			return cerr(ck+".json", "%v", err)
		}
		known[name] = true
	}
	return nil
}

func checkVerdicts(key string, v Verdicts) error {
	for name, ms := range map[string][]Match{"accepted": v.Accepted, "rejected": v.Rejected, "locked": v.Locked, "throttled": v.Throttled} {
		for i, m := range ms {
			if m.Body != "" {
				if _, err := regexp.Compile(m.Body); err != nil {
					return cerr(fmt.Sprintf("%s.%s[%d].body", key, name, i), "%v", err)
				}
			}
		}
	}
	return nil
}

// template is a string of a request that is filled in, and its key.
type template struct{ key, tmpl string }

// requestTemplates are the strings of r that are filled in.
func requestTemplates(r Request) []template {
	out := []template{{"path", r.Path}, {"body", r.Body}}
	for name, m := range map[string]map[string]string{"form": r.Form, "multipart": r.Multipart, "headers": r.Headers} {
		for k, v := range m {
			out = append(out, template{name + "." + k, v})
		}
	}
	return out
}

// usesName reports whether r has {{name}} anywhere.
func usesName(r Request, name string) bool {
	for _, f := range requestTemplates(r) {
		if strings.Contains(f.tmpl, "{{"+name+"}}") {
			return true
		}
	}
	return false
}

func union(a, b map[string]bool) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
