package notebook

import "testing"

// FuzzDecodeSelect: any file content gives a notebook or an error, never a
// panic, and so does selecting its program.
func FuzzDecodeSelect(f *testing.F) {
	f.Add([]byte(`{"nbformat": 4, "cells": [{"cell_type": "code", "source": ["x := 1\n", "%%kf train\n"]}]}`))
	f.Add([]byte(`{"nbformat": 4, "cells": [{"cell_type": "code", "metadata": {"tags": ["fair:main"]}, "source": "%%\nfunc main() {}"}]}`))
	f.Add([]byte(`{"nbformat": 3}`))
	f.Add([]byte(`{"nbformat": 4, "metadata": {"kernelspec": {"language": "python"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		nb, err := Decode("f.ipynb", data)
		if err != nil {
			return
		}
		for _, verb := range []string{"", "train", "serve"} {
			_, _ = Select(nb.Codes(), verb, nil)
		}
	})
}
