# devport. `make run` builds and starts devport; `make test` installs what is
# missing (scripts/install-deps.sh) and runs every test.
GO       ?= go
BIN      ?= devport
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/devport/devport/app.Version=$(VERSION)
export CGO_ENABLED := 1

.PHONY: all build run deps deps-run test vet clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) .

deps-run:
	bash scripts/install-deps.sh run

deps:
	bash scripts/install-deps.sh test

# run: the engine in the foreground; it falls back to 8443/8080 when 443/80 cannot be bound.
run: deps-run build
	./$(BIN) serve --headless $(ARGS)

vet:
	$(GO) vet ./...

test: deps build vet
	$(GO) test -count=1 -timeout 25m ./...

clean:
	rm -f $(BIN)
