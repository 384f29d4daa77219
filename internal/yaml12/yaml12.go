// Package yaml12 reads fair's own files (fair.yaml, pipeline.yaml) as YAML
// 1.2 into structs with json tags, strictly: unknown keys and duplicate
// keys are errors that name the line.
//
// YAML 1.2 matters because the 1.1 rules that Kubernetes' YAML library
// follows read y, n, yes, no, on and off as booleans, so a step named y
// became "true" and an input named n became "false". In 1.2 only true and
// false are booleans; everything else a user writes unquoted as a name
// stays the name.
package yaml12

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxNodes bounds the values an alias-expanded document may hold, so a
// hostile file of nested aliases cannot exhaust memory.
const maxNodes = 1 << 20

// Unmarshal decodes one YAML document into v, which must be a pointer to
// a struct or map with json tags. An empty document leaves v unchanged.
func Unmarshal(data []byte, v any) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if strings.Contains(msg, "cannot start any token") {
			// Usually a tab; the scanner does not always say the line.
			for i, l := range strings.Split(string(data), "\n") {
				if strings.HasPrefix(strings.TrimLeft(l, " "), "\t") {
					if !strings.HasPrefix(msg, "line ") {
						msg = fmt.Sprintf("line %d: %s", i+1, msg)
					}
					return errors.New(msg + " (a tab: YAML indents with spaces)")
				}
			}
		}
		return errors.New(msg)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	n := 0
	val, err := typed(root, reflect.TypeOf(v), &n)
	if err != nil {
		return err
	}
	b, err := json.Marshal(val)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return explain(err, root)
	}
	return nil
}

// typed is plain, except that a scalar meant for a string field stays the
// text the user wrote (cpu: 2 is "2", name: y is "y"), as it would in
// Kubernetes' YAML library.
func typed(n *yaml.Node, t reflect.Type, count *int) (any, error) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for n.Kind == yaml.AliasNode {
		*count++
		n = n.Alias
	}
	if t == nil {
		return plain(n, count)
	}
	switch {
	case n.Kind == yaml.ScalarNode && t.Kind() == reflect.String && n.ShortTag() != "!!null":
		*count++
		return n.Value, nil
	case n.Kind == yaml.SequenceNode && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := typed(c, t.Elem(), count)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		*count++
		return out, nil
	case n.Kind == yaml.MappingNode && (t.Kind() == reflect.Map || t.Kind() == reflect.Struct):
		m, err := plain(n, count) // checks keys, duplicates and size
		if err != nil {
			return nil, err
		}
		out := m.(map[string]any)
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			var ft reflect.Type
			if t.Kind() == reflect.Map {
				ft = t.Elem()
			} else if f, ok := fieldByJSONName(t, key); ok {
				ft = f.Type
			} else {
				continue // unknown: left for the decoder to report
			}
			if out[key], err = typed(n.Content[i+1], ft, count); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return plain(n, count)
}

func fieldByJSONName(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "-" {
			continue
		}
		if tag == "" {
			tag = f.Name
		}
		if strings.EqualFold(tag, name) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// plain turns a node into the values encoding/json knows.
func plain(n *yaml.Node, count *int) (any, error) {
	*count++
	if *count > maxNodes {
		return nil, fmt.Errorf("line %d: document too large (more than %d values after aliases)", n.Line, maxNodes)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return plain(n.Content[0], count)
	case yaml.AliasNode:
		return plain(n.Alias, count)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := plain(c, count)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, vn := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
				return nil, fmt.Errorf("line %d: merge keys (<<) are not supported", k.Line)
			}
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: a key must be a plain value", k.Line)
			}
			if _, dup := out[k.Value]; dup {
				return nil, fmt.Errorf("line %d: key %q is given twice", k.Line, k.Value)
			}
			v, err := plain(vn, count)
			if err != nil {
				return nil, err
			}
			out[k.Value] = v
		}
		return out, nil
	case yaml.ScalarNode:
		return scalar(n)
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

func scalar(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		return n.Value == "true" || n.Value == "True" || n.Value == "TRUE", nil
	case "!!int":
		s := strings.ReplaceAll(n.Value, "_", "")
		i, ok := new(big.Int).SetString(s, 0)
		if !ok {
			return n.Value, nil
		}
		return json.Number(i.String()), nil
	case "!!float":
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err != nil {
			// .inf and .nan have no JSON form; keep the text.
			return n.Value, nil
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
	}
	// Strings, and timestamps and binaries, which stay their text.
	return n.Value, nil
}

// explain turns a JSON decoding error into one line naming the YAML line.
func explain(err error, root *yaml.Node) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		path := strings.Split(te.Field, ".")
		want := te.Type.String()
		switch te.Type.Kind().String() {
		case "slice":
			want = "a list"
		case "map", "struct":
			want = "a mapping"
		case "int", "int64", "int32":
			want = "a whole number"
		}
		if n := find(root, path); n != nil {
			return fmt.Errorf("line %d: %s: want %s, got %s", n.Line, te.Field, want, describe(n))
		}
		return fmt.Errorf("%s: want %s, got %s", te.Field, want, te.Value)
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if key, ok := strings.CutPrefix(msg, "unknown field "); ok {
		key = strings.Trim(key, `"`)
		if line := findKey(root, key); line > 0 {
			return fmt.Errorf("line %d: unknown key %q", line, key)
		}
		return fmt.Errorf("unknown key %q", key)
	}
	return errors.New(msg)
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	return strconv.Quote(n.Value)
}

// find follows a JSON field path (keys and list indexes) through the nodes.
func find(n *yaml.Node, path []string) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil || len(path) == 0 || path[0] == "" {
		return n
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == path[0] {
				return find(n.Content[i+1], path[1:])
			}
		}
	case yaml.SequenceNode:
		if i, err := strconv.Atoi(path[0]); err == nil && i >= 0 && i < len(n.Content) {
			return find(n.Content[i], path[1:])
		}
		// encoding/json names list elements by the field only: the
		// first element that has the rest of the path.
		for _, c := range n.Content {
			if r := find(c, path); r != nil {
				return r
			}
		}
	}
	return nil
}

// findKey returns the line of the first mapping key named key.
func findKey(n *yaml.Node, key string) int {
	if n == nil {
		return 0
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i].Line
			}
		}
	}
	for _, c := range n.Content {
		if l := findKey(c, key); l > 0 {
			return l
		}
	}
	return 0
}
