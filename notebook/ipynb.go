package notebook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// File is a notebook read from an .ipynb file (nbformat 4).
type File struct {
	Path string
	// Language and KernelName come from the notebook's metadata; either may
	// be empty in a notebook that was never run.
	Language   string
	KernelName string
	Cells      []FileCell
}

// FileCell is one cell of a notebook file.
type FileCell struct {
	// Index is the cell's 1-based position among all the notebook's cells,
	// as a reader counts them from the top.
	Index  int
	Type   string // code, markdown or raw
	Source string
	Tags   []string
	// Count is the execution count saved with the cell, 0 if none.
	Count int
}

// Label names the cell in messages: "cell 3".
func (c FileCell) Label() string { return fmt.Sprintf("cell %d", c.Index) }

// ReadFile reads and checks an .ipynb file.
func ReadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Decode(path, data)
}

type rawNotebook struct {
	NBFormat *int `json:"nbformat"`
	Metadata struct {
		Kernelspec struct {
			Name     string `json:"name"`
			Language string `json:"language"`
		} `json:"kernelspec"`
		LanguageInfo struct {
			Name string `json:"name"`
		} `json:"language_info"`
	} `json:"metadata"`
	Cells      []rawCell       `json:"cells"`
	Worksheets json.RawMessage `json:"worksheets"` // nbformat 3
}

type rawCell struct {
	Type     string          `json:"cell_type"`
	Source   json.RawMessage `json:"source"`
	Count    *int            `json:"execution_count"`
	Metadata struct {
		Tags []string `json:"tags"`
	} `json:"metadata"`
}

// Decode parses the content of an .ipynb file; path names it in errors.
// Notebooks in nbformat 3 and notebooks of other languages are refused
// with a message that says what to do.
func Decode(path string, data []byte) (*File, error) {
	name := filepath.Base(path)
	var raw rawNotebook
	if err := json.Unmarshal(data, &raw); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := lineCol(data, se.Offset)
			return nil, fmt.Errorf("%s is not a valid notebook: bad JSON at line %d, column %d: %v", name, line, col, err)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, fmt.Errorf("%s is not a valid notebook: %s has the wrong type (%s)", name, te.Field, te.Value)
		}
		return nil, fmt.Errorf("%s is not a valid notebook: %v", name, err)
	}
	switch {
	case raw.NBFormat == nil:
		return nil, fmt.Errorf("%s is not a Jupyter notebook (no nbformat field)", name)
	case *raw.NBFormat < 4:
		return nil, fmt.Errorf("%s is in nbformat %d; fair reads nbformat 4: convert it with `jupyter nbconvert --to notebook --nbformat 4 %s`", name, *raw.NBFormat, name)
	case *raw.NBFormat > 4:
		return nil, fmt.Errorf("%s is in nbformat %d; fair reads nbformat 4", name, *raw.NBFormat)
	}
	f := &File{Path: path, KernelName: raw.Metadata.Kernelspec.Name, Language: strings.ToLower(raw.Metadata.Kernelspec.Language)}
	if f.Language == "" {
		f.Language = strings.ToLower(raw.Metadata.LanguageInfo.Name)
	}
	if f.Language != "" && f.Language != "go" {
		kernel := f.KernelName
		if kernel == "" {
			kernel = "unnamed"
		}
		return nil, fmt.Errorf("%s is a %s notebook (kernel %s); fair builds Go notebooks: switch its kernel to fair (Go), or build a folder of %s code with --cmd", name, f.Language, kernel, f.Language)
	}
	for i, c := range raw.Cells {
		src, err := cellSource(c.Source)
		if err != nil {
			return nil, fmt.Errorf("%s: cell %d: %v", name, i+1, err)
		}
		fc := FileCell{Index: i + 1, Type: c.Type, Source: src}
		for _, t := range c.Metadata.Tags {
			fc.Tags = append(fc.Tags, strings.TrimSpace(t))
		}
		if c.Count != nil {
			fc.Count = *c.Count
		}
		f.Cells = append(f.Cells, fc)
	}
	return f, nil
}

// cellSource reads a cell's source, which nbformat allows as one string or
// a list of lines.
func cellSource(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var lines []string
	if err := json.Unmarshal(raw, &lines); err != nil {
		return "", errors.New("source is neither a string nor a list of strings")
	}
	return strings.Join(lines, ""), nil
}

func lineCol(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	if col < 1 {
		col = 1
	}
	return line, col
}
