package builder

import (
	"os/exec"
	"strings"
)

// gitAnnotations reads the source URL and commit of the checkout holding
// dir, when there is one. Credentials in a remote URL are never recorded.
func gitAnnotations(dir string) map[string]string {
	out := map[string]string{}
	rev, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return out
	}
	out["org.opencontainers.image.revision"] = strings.TrimSpace(string(rev))
	if url, err := exec.Command("git", "-C", dir, "config", "--get", "remote.origin.url").Output(); err == nil {
		if u := stripUserinfo(strings.TrimSpace(string(url))); u != "" {
			out["org.opencontainers.image.source"] = u
		}
	}
	return out
}

func stripUserinfo(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		if slash := strings.Index(rest, "/"); slash < 0 || at < slash {
			rest = rest[at+1:]
		}
	}
	return scheme + "://" + rest
}
