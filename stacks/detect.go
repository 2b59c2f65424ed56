package stacks

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Detection is what Detect found in a project folder.
type Detection struct {
	Stack   string // StackPHP or StackUvicorn
	App     string // uvicorn "module:attribute", e.g. "main:app"
	DocRoot string // php: absolute path of public/ when the folder has one, else "" (the folder itself)
}

// pyModules are the files Detect reads for an ASGI app, in order.
var pyModules = []string{"main.py", "app.py"}

// asgiAppRe finds `app = FastAPI(` or `api: Starlette = Starlette(` at the
// start of a line (module level, so not inside a function).
var asgiAppRe = regexp.MustCompile(`(?m)^(\w+)\s*(?::\s*\w+\s*)?=\s*(?:fastapi\.)?(FastAPI|Starlette)\(`)

// Detect guesses the stack of the project in dir:
//   - php when it has index.php, public/index.php or composer.json; DocRoot
//     is public/ when that folder exists;
//   - uvicorn when main.py or app.py assigns FastAPI(...) or Starlette(...)
//     to a module-level variable; App is "main:<variable>".
func Detect(dir string) (Detection, error) {
	if !isDir(dir) {
		return Detection{}, folderMissing(dir)
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return Detection{}, err
	}
	for _, f := range []string{"index.php", filepath.Join("public", "index.php"), "composer.json"} {
		if isFile(filepath.Join(dir, f)) {
			d := Detection{Stack: StackPHP}
			if pub := filepath.Join(dir, "public"); isDir(pub) {
				d.DocRoot = pub
			}
			return d, nil
		}
	}
	for _, f := range pyModules {
		src, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			continue
		}
		if m := asgiAppRe.FindSubmatch(src); m != nil {
			return Detection{Stack: StackUvicorn, App: strings.TrimSuffix(f, ".py") + ":" + string(m[1])}, nil
		}
	}
	return Detection{}, fmt.Errorf("%w in %q: looked for index.php, public/index.php and composer.json (php), "+
		"and for `app = FastAPI(` or `Starlette(` in main.py or app.py (uvicorn); choose one with --stack php|uvicorn",
		ErrNotDetected, dir)
}
