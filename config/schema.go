package config

import (
	"encoding/json"
	"reflect"
	"strings"
)

//go:generate go run ./schemagen

// SchemaID is where editors find the JSON Schema of fair.yaml.
const SchemaID = "https://raw.githubusercontent.com/fair-go/fair/main/config/fair.schema.json"

// Schema returns the JSON Schema (draft 2020-12) of fair.yaml, made from
// the Config fields: each key's type, its description (the field's desc
// tag) and its environment variable. config/fair.schema.json is this,
// written by go generate; a test keeps the two equal.
func Schema() ([]byte, error) {
	props := map[string]any{}
	t := reflect.TypeOf(Config{})
	for _, f := range fields() {
		sf := t.Field(f.index)
		p := property(sf, " Environment: "+strings.ReplaceAll(f.env, ",", ", ")+".")
		switch f.key {
		case "kind":
			p["enum"] = []string{"job", "pytorchjob", "tfjob", "xgboostjob", "jaxjob", "trainjob", "kserve", "deployment"}
		case "onInterrupt":
			p["enum"] = []string{"detach", "cancel"}
		}
		props[f.key] = p
	}
	sweep := map[string]any{}
	st := reflect.TypeOf(Sweep{})
	for i := 0; i < st.NumField(); i++ {
		sf := st.Field(i)
		sweep[strings.Split(sf.Tag.Get("json"), ",")[0]] = property(sf, "")
	}
	sweep["goal"].(map[string]any)["enum"] = []string{"minimize", "maximize"}
	props["sweep"] = map[string]any{
		"description":          "What fair sweep searches when its flags do not say (a Katib Experiment's parameters, objective and trial counts).",
		"type":                 "object",
		"additionalProperties": false,
		"properties":           sweep,
	}
	s := map[string]any{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"$id":                  SchemaID,
		"title":                "fair.yaml",
		"description":          "The configuration of fair (CLI, notebook kernel and IDE run configurations). Flags and FAIR_* variables override it.",
		"type":                 "object",
		"additionalProperties": false,
		"properties":           props,
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// property is the schema of one field: its type from the Go type, its
// description from the desc tag plus more.
func property(sf reflect.StructField, more string) map[string]any {
	p := map[string]any{"description": sf.Tag.Get("desc") + more}
	switch sf.Type.Kind() {
	case reflect.String:
		p["type"] = "string"
	case reflect.Int:
		p["type"] = "integer"
		p["minimum"] = 0
	case reflect.Bool:
		p["type"] = "boolean"
	case reflect.Slice:
		p["type"] = "array"
		p["items"] = map[string]any{"type": "string"}
	}
	return p
}

// Description returns a key's description ("" for unknown keys).
func Description(key string) string {
	f, ok := lookup(key)
	if !ok {
		return ""
	}
	return strings.TrimSpace(reflect.TypeOf(Config{}).Field(f.index).Tag.Get("desc"))
}
