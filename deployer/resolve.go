package deployer

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// RefScheme marks an image to build in YAML: fair://./path/to/source.
const RefScheme = "fair://"

// Builder builds the source at path and returns an image reference.
type Builder func(ctx context.Context, path string) (string, error)

// Refs lists the distinct fair:// references in objs, sorted.
func Refs(objs []*unstructured.Unstructured) []string {
	set := map[string]bool{}
	for _, u := range objs {
		walkStrings(u.Object, func(s string) string {
			if strings.HasPrefix(s, RefScheme) {
				set[s] = true
			}
			return s
		})
	}
	var out []string
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// SourcePath checks the path of a fair:// reference: relative, and inside
// the folder it is relative to. A manifest from elsewhere must not make
// fair build (and push) a folder outside the project.
func SourcePath(path string) error {
	if path == "" {
		return fmt.Errorf("%s with no path", RefScheme)
	}
	if filepath.IsAbs(path) || strings.HasPrefix(path, "/") {
		return fmt.Errorf("%s%s: the path must be relative to the project", RefScheme, path)
	}
	if c := filepath.Clean(filepath.FromSlash(path)); c == ".." || strings.HasPrefix(c, ".."+string(filepath.Separator)) {
		return fmt.Errorf("%s%s: the path leaves the project", RefScheme, path)
	}
	return nil
}

// Resolve builds every distinct fair:// reference once and puts the
// resulting image reference in its place, in every object.
func Resolve(ctx context.Context, objs []*unstructured.Unstructured, build Builder) error {
	built := map[string]string{}
	refs := Refs(objs)
	for _, ref := range refs {
		if err := SourcePath(strings.TrimPrefix(ref, RefScheme)); err != nil {
			return err
		}
	}
	for _, ref := range refs {
		img, err := build(ctx, strings.TrimPrefix(ref, RefScheme))
		if err != nil {
			return err
		}
		built[ref] = img
	}
	for _, u := range objs {
		walkStrings(u.Object, func(s string) string {
			if img, ok := built[s]; ok {
				return img
			}
			return s
		})
	}
	return nil
}

func walkStrings(v any, f func(string) string) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = walkStrings(e, f)
		}
	case []any:
		for i, e := range t {
			t[i] = walkStrings(e, f)
		}
	case string:
		return f(t)
	}
	return v
}

// EncodeYAML writes objects as a multi-document YAML stream.
func EncodeYAML(objs []*unstructured.Unstructured) ([]byte, error) {
	var buf bytes.Buffer
	for i, u := range objs {
		if i > 0 {
			buf.WriteString("---\n")
		}
		b, err := yaml.Marshal(u.Object)
		if err != nil {
			return nil, err
		}
		buf.Write(b)
	}
	return buf.Bytes(), nil
}
