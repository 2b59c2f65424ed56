# devport. `make run` builds and starts devport; `make test` installs what is
# missing (scripts/install-deps.sh) and runs every test.
GO       ?= go
BIN      ?= devport
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/devport/devport/app/cli.Version=$(VERSION)
# TAGS: no_emoji leaves Fyne's colour emoji font (4 MB) out. Fyne parses it
# again for every text style the window shows (regular, bold, monospace),
# about 4.6 MB of heap each, and devport draws no emoji: a log line's emoji
# falls back to the system's fonts. docs/performance.md, "Window memory".
# e2e/helpers_test.go builds with the same tags (TestBuildTagsMatchMakefile).
TAGS     ?= no_emoji
export CGO_ENABLED := 1

.PHONY: all build run deps deps-run test test-images bench bench-runtimes bench-reload bench-proxy bench-gui vet clean package screenshots

all: build

build:
	$(GO) build -tags "$(TAGS)" -ldflags "$(LDFLAGS)" -o $(BIN) .

deps-run:
	bash scripts/install-deps.sh run

deps:
	bash scripts/install-deps.sh test

# run: the desktop window (which hosts the engine) when there is a display,
# else the engine alone in the foreground. Either falls back to 8443/8080
# when 443/80 cannot be bound.
run: deps-run build
	if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then ./$(BIN) $(ARGS); else ./$(BIN) serve --headless $(ARGS); fi

# vet: go vet here; go.mod and go.sum as go mod tidy leaves them; and go vet
# for macOS and Windows of every package that builds without cgo (all but
# the window's, which need Fyne's GL), so their platform files
# (split_darwin.go, trust_other.go, ...) cannot rot unseen. The process
# runtime and the engine need Unix (on Windows they compile and say so),
# and e2e drives the Linux binary: Windows skips e2e and Unix-only tests.
NOCGO_PKGS = $(shell $(GO) list -f '{{.ImportPath}} {{.Deps}}' ./... | grep -v 'go-gl/\|fyne.io/' | cut -d' ' -f1)
vet:
	$(GO) vet ./...
	$(GO) mod tidy -diff
	CGO_ENABLED=0 GOOS=darwin $(GO) vet $(NOCGO_PKGS)
	CGO_ENABLED=0 GOOS=windows $(GO) vet $(filter-out %/e2e,$(NOCGO_PKGS))

# test-images: a running Docker engine and the local stand-in images the
# container tests use (no registry is reachable there; cached by tag).
test-images:
	bash scripts/start-dockerd.sh
	bash scripts/build-test-images.sh

test: deps build vet test-images
	$(GO) test -count=1 -timeout 25m ./...

# bench-runtimes: start -> first 200 through the proxy for the PHP example
# as a process and as a container (e2e/startlatency_test.go). `make bench`
# runs it with the other benchmarks.
bench-runtimes: build test-images
	DEVPORT_BENCH=1 $(GO) test -count=1 -run TestStartLatency -v ./e2e/

# bench-reload: save -> new response through the proxy for the FastAPI
# example as a process, and as a container when the stand-in image is
# there, with a client polling all along that must see no 502
# (e2e/reload_test.go). The target is under 1.5 s.
bench-reload: build test-images
	DEVPORT_BENCH=1 $(GO) test -count=1 -run TestReloadLatency -v ./e2e/

# bench-proxy: Go benchmarks of the proxy's hot path, then bench/run.sh,
# which puts nginx, Caddy and devport's proxy in front of one origin on
# loopback and drives each with wrk (docs/performance.md).
bench-proxy:
	bash scripts/install-deps.sh bench
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./proxy/
	bash bench/run.sh

# bench-gui: the window's memory under Xvfb. A bare Fyne window with one
# label (bench/fynefloor) is the floor; devport with 10 projects then
# opens and closes every window it reaches 20 times, and its RSS must stay
# within the floor + 40 MB (e2e/guimem_test.go, docs/performance.md).
# DEVPORT_BENCH_CYCLES=N changes the 20.
bench-gui: build
	DEVPORT_BENCH=1 $(GO) test -count=1 -timeout 30m -run TestGUIMemory -v ./e2e/

bench: bench-runtimes bench-reload bench-proxy bench-gui

# package: the desktop bundle (devport.tar.xz with the binary, icon and
# .desktop file) through fyne package, which reads FyneApp.toml.
FYNE ?= $(shell command -v fyne 2>/dev/null || echo $(shell $(GO) env GOPATH)/bin/fyne)
package:
	test -x $(FYNE) || $(GO) install fyne.io/tools/cmd/fyne@latest
	$(FYNE) package -os linux --release --name devport --tags $(TAGS)

# screenshots: the sidebar with running, stopped and failed projects, each
# tab of the pane, the failure view, the wizard's steps and the settings, in
# the light theme and (the main window) the dark one, taken under Xvfb by the
# desktop smoke test, into docs/screenshots/.
screenshots:
	mkdir -p docs/screenshots
	DEVPORT_SCREENSHOTS=$(CURDIR)/docs/screenshots $(GO) test -count=1 -run 'TestDesktopWindow/(no_dbus|dark_theme)' ./e2e/

clean:
	rm -f $(BIN) devport.tar.xz
