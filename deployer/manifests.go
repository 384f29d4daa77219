package deployer

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ReadManifests reads the objects of a YAML or JSON file, of every .yaml,
// .yml and .json file in a folder (not its subfolders), or of stdin when
// name is "-". Errors name the file.
func ReadManifests(name string, stdin io.Reader) ([]*unstructured.Unstructured, error) {
	if name == "-" {
		if stdin == nil {
			return nil, errors.New("no standard input")
		}
		data, err := io.ReadAll(stdin)
		if err != nil {
			return nil, err
		}
		return decodeNamed("stdin", data)
	}
	st, err := os.Stat(name)
	if err != nil {
		return nil, fmt.Errorf("-f %s: %v", name, errors.Unwrap(err))
	}
	paths := []string{name}
	if st.IsDir() {
		ents, err := os.ReadDir(name)
		if err != nil {
			return nil, err
		}
		paths = nil
		for _, e := range ents {
			switch filepath.Ext(e.Name()) {
			case ".yaml", ".yml", ".json":
				paths = append(paths, filepath.Join(name, e.Name()))
			}
		}
	}
	var out []*unstructured.Unstructured
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		objs, err := decodeNamed(p, data)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

func decodeNamed(name string, data []byte) ([]*unstructured.Unstructured, error) {
	objs, err := DecodeYAML(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return objs, nil
}
