# go-native.sh: sourced by the benchmarks. When GOTOOLCHAIN names a Go
# (the Makefile's go1.27.3), put that Go's own bin first on PATH and use it
# as is: through an older go command every go invocation is re-executed
# (40-70 ms each), which a peer that runs go per cell (GoNB, ko) would pay
# and fair, which runs the compiler itself, would not.
case "${GOTOOLCHAIN:-}" in
go1.*)
	if root=$(go env GOROOT 2>/dev/null) && [ -x "$root/bin/go" ]; then
		export PATH="$root/bin:$PATH" GOTOOLCHAIN=local
	fi
	;;
esac
