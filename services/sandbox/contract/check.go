package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ViolationError lists every way a value failed its message, each as
// "<path>: <what is wrong>".
type ViolationError struct {
	Message    string
	Violations []string
}

func (e *ViolationError) Error() string {
	return fmt.Sprintf("%s: %d violation(s):\n  %s", e.Message, len(e.Violations), strings.Join(e.Violations, "\n  "))
}

// Unwrap makes errors.Is(err, ErrViolation) hold.
func (e *ViolationError) Unwrap() error { return ErrViolation }

// Validate checks the JSON document doc against the message msg.
func (s *Schema) Validate(msg string, doc []byte) error {
	if !s.Has(msg) {
		return fmt.Errorf("validate: %w: %s", ErrUnknownMessage, msg)
	}
	v, err := decode(doc)
	if err != nil {
		return &ViolationError{Message: msg, Violations: []string{"(document): not JSON: " + err.Error()}}
	}
	var c checker
	c.s = s
	c.message("", msg, v)
	if len(c.violations) > 0 {
		return &ViolationError{Message: msg, Violations: c.violations}
	}
	return nil
}

// decode reads one JSON value keeping numbers as written.
func decode(doc []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data after the value")
	}
	return v, nil
}

// checker walks one value and collects violations.
type checker struct {
	s          *Schema
	violations []string
}

func (c *checker) fail(path, format string, args ...any) {
	if path == "" {
		path = "(document)"
	}
	c.violations = append(c.violations, path+": "+fmt.Sprintf(format, args...))
}

// field is a member as it appears in JSON, with the oneOf group it belongs
// to ("" when none).
type field struct {
	member
	group string
}

// fields lists a message's JSON fields, with the members of oneOf messages
// lifted into their parent as protobuf's JSON mapping does.
func (c *checker) fields(m *message) map[string]field {
	out := map[string]field{}
	var walk func(m *message, group string)
	walk = func(m *message, group string) {
		for _, mb := range m.members {
			if sub, ok := c.s.messages[mb.typ.name]; ok && sub.oneOf && !mb.typ.array {
				g := group
				if g == "" {
					g = m.name + "." + mb.name
				}
				walk(sub, g)
				continue
			}
			out[mb.name] = field{member: mb, group: group}
		}
	}
	walk(m, "")
	return out
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// message checks v against the message named msg.
func (c *checker) message(path, msg string, v any) {
	m, ok := c.s.messages[msg]
	if !ok {
		c.fail(path, "type %s is not described in %s", msg, c.s.service)
		return
	}
	if m.enum != nil {
		str, ok := v.(string)
		if !ok || !slices.Contains(m.enum, str) {
			c.fail(path, "want one of %v, got %s", m.enum, show(v))
		}
		return
	}
	obj, ok := v.(map[string]any)
	if !ok {
		c.fail(path, "want an object (%s), got %s", msg, show(v))
		return
	}
	fields := c.fields(m)
	set := map[string][]string{}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		val := obj[k]
		p := join(path, k)
		f, ok := fields[k]
		if !ok {
			f, ok = c.asJSON(k, fields)
			if ok && val != nil {
				val = c.unwrapJSONString(p, val)
			}
		}
		if !ok {
			c.fail(p, "unknown field (not in %s)", msg)
			continue
		}
		if val == nil {
			continue
		}
		if f.group != "" {
			set[f.group] = append(set[f.group], k)
		}
		c.value(p, f.typ, val)
	}
	for g, ks := range set {
		if len(ks) > 1 {
			c.fail(path, "only one of the oneOf %s may be set, got %v", g, ks)
		}
	}
	for _, f := range fields {
		if f.required && f.group == "" && obj[f.name] == nil {
			c.fail(join(path, f.name), "required field missing")
		}
	}
}

// asJSON resolves "<m>AsJson" to member m when m's type is a message.
func (c *checker) asJSON(key string, fields map[string]field) (field, bool) {
	base, ok := strings.CutSuffix(key, "AsJson")
	if !ok {
		return field{}, false
	}
	f, ok := fields[base]
	if !ok || f.typ.array {
		return field{}, false
	}
	if _, isMsg := c.s.messages[f.typ.name]; !isMsg {
		return field{}, false
	}
	return f, true
}

// unwrapJSONString parses an *AsJson value sent as a JSON string.
func (c *checker) unwrapJSONString(path string, val any) any {
	str, ok := val.(string)
	if !ok {
		return val
	}
	inner, err := decode([]byte(str))
	if err != nil {
		c.fail(path, "a string that is not JSON: %v", err)
		return nil
	}
	return inner
}

// value checks v against a member type.
func (c *checker) value(path string, t typeRef, v any) {
	if t.array {
		arr, ok := v.([]any)
		if !ok {
			c.fail(path, "want an array of %s, got %s", t.name, show(v))
			return
		}
		for i, e := range arr {
			p := fmt.Sprintf("%s[%d]", path, i)
			if e == nil {
				c.fail(p, "null in an array")
				continue
			}
			c.value(p, typeRef{name: t.name}, e)
		}
		return
	}
	switch t.name {
	case typeString:
		if _, ok := v.(string); !ok {
			c.fail(path, "want a string, got %s", show(v))
		}
	case typeInteger:
		if !isInteger(v) {
			c.fail(path, "want an integer (or a decimal string), got %s", show(v))
		}
	case typeNumber:
		if !isNumber(v) {
			c.fail(path, "want a number, got %s", show(v))
		}
	case typeBoolean:
		if _, ok := v.(bool); !ok {
			c.fail(path, "want true or false, got %s", show(v))
		}
	case typeStruct:
		if _, ok := v.(map[string]any); !ok {
			c.fail(path, "want an object (struct), got %s", show(v))
		}
	default:
		c.message(path, t.name, v)
	}
}

func isInteger(v any) bool {
	switch n := v.(type) {
	case json.Number:
		_, err := strconv.ParseInt(n.String(), 10, 64)
		return err == nil
	case string:
		_, err := strconv.ParseInt(n, 10, 64)
		return err == nil
	}
	return false
}

func isNumber(v any) bool {
	switch n := v.(type) {
	case json.Number:
		return true
	case string:
		return n == "NaN" || n == "Infinity" || n == "-Infinity"
	}
	return false
}

// show describes a JSON value briefly for a violation.
func show(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		if len(x) > 40 {
			x = x[:40] + "..."
		}
		return strconv.Quote(x)
	case json.Number:
		return "number " + x.String()
	case bool:
		return strconv.FormatBool(x)
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
