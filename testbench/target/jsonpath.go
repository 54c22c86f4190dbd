package target

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// lookup finds path (dotted keys, [N] for array elements, e.g.
// "a.b[0].c") in a decoded JSON value and returns it as text: strings as
// they are, numbers and booleans as JSON writes them.
func lookup(doc any, path string) (string, bool) {
	v, ok := walk(doc, path)
	if !ok {
		return "", false
	}
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	case nil:
		return "null", true
	}
	return "", false
}

func walk(v any, path string) (any, bool) {
	for path != "" {
		var key string
		if path[0] == '[' {
			end := strings.IndexByte(path, ']')
			if end < 0 {
				return nil, false
			}
			i, err := strconv.Atoi(path[1:end])
			arr, ok := v.([]any)
			if err != nil || !ok || i < 0 || i >= len(arr) {
				return nil, false
			}
			v, path = arr[i], strings.TrimPrefix(path[end+1:], ".")
			continue
		}
		cut := strings.IndexAny(path, ".[")
		if cut < 0 {
			key, path = path, ""
		} else {
			key, path = path[:cut], path[cut:]
			path = strings.TrimPrefix(path, ".")
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[key]; !ok {
			return nil, false
		}
	}
	return v, true
}

// decodeJSON decodes b keeping numbers exact; nil when b is not JSON.
func decodeJSON(b []byte) any {
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil
	}
	return v
}

// checkPath reports a malformed JSON path.
func checkPath(p string) error {
	if strings.Count(p, "[") != strings.Count(p, "]") {
		return fmt.Errorf("JSON path %q: unbalanced brackets", p)
	}
	return nil
}
