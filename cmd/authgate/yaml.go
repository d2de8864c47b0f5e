package main

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// FieldError is one configuration error: the file, the line of the
// offending value (0 when the file has no line for it), the field's path
// ("providers[2].leeway") and the reason.
type FieldError struct {
	File   string
	Line   int
	Path   string
	Reason string
}

// Error returns "file:line: path: reason".
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// ConfigError lists every error found in a configuration file, in the
// order of the file. Its message has one error per line.
type ConfigError struct {
	Errors []*FieldError
}

// Error returns one error per line.
func (e *ConfigError) Error() string {
	msgs := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		msgs[i] = fe.Error()
	}
	return strings.Join(msgs, "\n")
}

// maxConfigErrors bounds the errors reported for one file.
const maxConfigErrors = 50

// decoder walks a YAML node tree, collecting errors with their lines.
type decoder struct {
	file string
	// dir anchors relative paths; getenv supplies the environment variables
	// the file names.
	dir    string
	getenv func(string) string
	errs   []*FieldError
	// count is the number of errors found, including those past
	// maxConfigErrors: a step compares it before and after to learn
	// whether it found any.
	count int
}

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.errorAt(line, path, format, args...)
}

func (d *decoder) errorAt(line int, path, format string, args ...any) {
	d.add(&FieldError{File: d.file, Line: line, Path: path, Reason: fmt.Sprintf(format, args...)})
}

func (d *decoder) add(e *FieldError) {
	d.count++
	if len(d.errs) < maxConfigErrors {
		d.errs = append(d.errs, e)
	}
}

// err returns the errors found, in the order of their lines (an error
// without a line last), or nil.
func (d *decoder) err() error {
	if len(d.errs) == 0 {
		return nil
	}
	slices.SortStableFunc(d.errs, func(a, b *FieldError) int {
		return cmp.Compare(sortLine(a.Line), sortLine(b.Line))
	})
	return &ConfigError{Errors: d.errs}
}

func sortLine(line int) int {
	if line <= 0 {
		return math.MaxInt
	}
	return line
}

// resolve follows aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	return n
}

// field is one key of a mapping.
type field struct {
	name       string
	key, value *yaml.Node
}

// fields returns the members of a mapping node, reporting a node of another
// kind and duplicate keys. ok is false when n is not a mapping.
func (d *decoder) fields(n *yaml.Node, path string) (out []field, ok bool) {
	n = resolve(n)
	if n == nil || isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "expected a mapping, found %s", describe(n))
		return nil, false
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
			d.errorf(k, path, "keys must be plain names")
			continue
		}
		if seen[k.Value] {
			d.errorf(k, join(path, k.Value), "duplicate key")
			continue
		}
		seen[k.Value] = true
		out = append(out, field{name: k.Value, key: k, value: resolve(v)})
	}
	return out, true
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// describe names a node's kind for messages, never its value (which could
// be a secret pasted into the wrong field).
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "null"
		case "!!bool":
			return "a boolean"
		case "!!int", "!!float":
			return "a number"
		}
		return "a string"
	}
	return "an unsupported node"
}

// str decodes a string. Numbers are taken as written ("9000"); booleans,
// null, lists and mappings are errors.
func (d *decoder) str(n *yaml.Node, path string) string {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!str" && n.Tag != "!!int" && n.Tag != "!!float") {
		d.errorf(n, path, "expected a string, found %s", describe(n))
		return ""
	}
	return n.Value
}

// nonEmpty decodes a string that must not be empty.
func (d *decoder) nonEmpty(n *yaml.Node, path string) string {
	s := d.str(n, path)
	if s == "" && n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		d.errorf(n, path, "must not be empty")
	}
	return s
}

// strings decodes a list of non-empty strings; a single string is a list of
// one.
func (d *decoder) strings(n *yaml.Node, path string) []string {
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		return []string{d.nonEmpty(n, path)}
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "expected a list of strings, found %s", describe(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for i, e := range n.Content {
		out = append(out, d.nonEmpty(resolve(e), fmt.Sprintf("%s[%d]", path, i)))
	}
	if len(out) == 0 {
		d.errorf(n, path, "must not be empty")
	}
	return out
}

func (d *decoder) boolean(n *yaml.Node, path string) bool {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		d.errorf(n, path, "expected true or false, found %s", describe(n))
		return false
	}
	v, err := strconv.ParseBool(strings.ToLower(n.Value))
	if err != nil {
		d.errorf(n, path, "expected true or false")
	}
	return v
}

// integer decodes an integer within [min, max].
func (d *decoder) integer(n *yaml.Node, path string, min, max int) int {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		d.errorf(n, path, "expected an integer, found %s", describe(n))
		return 0
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil || v < min || v > max {
		d.errorf(n, path, "%s is not an integer between %d and %d", n.Value, min, max)
		return 0
	}
	return v
}

// duration decodes a Go duration string ("30s", "1m30s").
func (d *decoder) duration(n *yaml.Node, path string) time.Duration {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		if n.Kind == yaml.ScalarNode && (n.Tag == "!!int" || n.Tag == "!!float") {
			d.errorf(n, path, "invalid duration %q: add a unit (%ss)", n.Value, n.Value)
			return 0
		}
		d.errorf(n, path, "expected a duration such as \"30s\", found %s", describe(n))
		return 0
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		d.errorf(n, path, "invalid duration %q", n.Value)
		return 0
	}
	if v < 0 {
		d.errorf(n, path, "duration %q is negative", n.Value)
		return 0
	}
	return v
}

// scalar decodes a claim value: a string, a boolean or a number, typed as
// the JSON decoder types claims (float64 for numbers).
func (d *decoder) scalar(n *yaml.Node, path string) any {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, path, "expected a string, boolean or number, found %s", describe(n))
		return nil
	}
	switch n.Tag {
	case "!!str":
		return n.Value
	case "!!bool":
		return d.boolean(n, path)
	case "!!int", "!!float":
		var v float64
		if err := n.Decode(&v); err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
			d.errorf(n, path, "invalid number %q", n.Value)
			return nil
		}
		return v
	}
	d.errorf(n, path, "expected a string, boolean or number, found %s", describe(n))
	return nil
}

// parseYAML parses one YAML document into its root mapping node.
func parseYAML(file string, data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &ConfigError{Errors: []*FieldError{yamlError(file, err)}}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, &ConfigError{Errors: []*FieldError{{File: file, Reason: "the file is empty"}}}
	}
	return doc.Content[0], nil
}

// yamlError turns a syntax error of the YAML library ("yaml: line 3: …")
// into a FieldError with its line.
func yamlError(file string, err error) *FieldError {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, tail, ok := strings.Cut(rest, ":"); ok {
			if l, err := strconv.Atoi(num); err == nil {
				line, msg = l, strings.TrimSpace(tail)
			}
		}
	}
	return &FieldError{File: file, Line: line, Reason: "invalid YAML: " + msg}
}
