package kernel

import "testing"

func TestEnvArgs(t *testing.T) {
	for in, want := range map[string][3]string{
		"":                {"", "", ""},
		"HOME":            {"HOME", "", ""},
		"A hello world":   {"A", "hello world", "set"},
		"A=x=y":           {"A", "x=y", "set"},
		"A=":              {"A", "", "set"},
		"  B   spaced  ":  {"B", "spaced", "set"},
		"C value=with eq": {"C", "value=with eq", "set"},
	} {
		name, value, set := envArgs(in)
		got := [3]string{name, value, ""}
		if set {
			got[2] = "set"
		}
		if got != want {
			t.Errorf("envArgs(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"GITHUB_TOKEN": true, "AWS_SECRET_ACCESS_KEY": true, "PGPASSWORD": true, "api_key": true,
		"GOOGLE_APPLICATION_CREDENTIALS": true, "HOME": false, "PATH": false, "FAIR_REGISTRY": false,
	} {
		if got := secretName(name); got != want {
			t.Errorf("secretName(%q) = %v, want %v", name, got, want)
		}
	}
}
