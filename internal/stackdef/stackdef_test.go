package stackdef

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoStackLiterals fails when a file other than this package spells a
// stack name as a string literal where it means a stack: compared with,
// assigned to, or switched on something called stack, or given as a
// Stack field. Those must use the constants here, so that the list of
// stacks lives in one place. (A Python module named "uvicorn" on a command
// line, or a flag called "static", is not a stack and is not flagged.)
func TestNoStackLiterals(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Skipf("not inside the devport module: %v", err)
	}
	names := map[string]bool{}
	for _, d := range All() {
		names[d.Name] = true
	}
	self, _ := filepath.Abs(".")
	fset := token.NewFileSet()
	var bad []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path == self || (path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		for _, pos := range stackLiterals(f, names) {
			p := fset.Position(pos)
			rel, _ := filepath.Rel(root, p.Filename)
			bad = append(bad, rel+":"+strconv.Itoa(p.Line))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		t.Errorf("%s spells a stack name as a string: use the constant from internal/stackdef", b)
	}
}

// stackLiterals finds the string literals of f that are stack names used
// as stacks.
func stackLiterals(f *ast.File, names map[string]bool) []token.Pos {
	var out []token.Pos
	lit := func(e ast.Expr) bool {
		bl, ok := e.(*ast.BasicLit)
		if !ok || bl.Kind != token.STRING {
			return false
		}
		s, err := strconv.Unquote(bl.Value)
		return err == nil && names[s]
	}
	stacky := func(e ast.Expr) bool {
		var s string
		switch x := e.(type) {
		case *ast.Ident:
			s = x.Name
		case *ast.SelectorExpr:
			s = x.Sel.Name
		case *ast.CallExpr: // d.Stack(), stackOf(s)
			switch fn := x.Fun.(type) {
			case *ast.Ident:
				s = fn.Name
			case *ast.SelectorExpr:
				s = fn.Sel.Name
			}
		}
		return strings.Contains(strings.ToLower(s), "stack")
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.BinaryExpr:
			if (x.Op == token.EQL || x.Op == token.NEQ) && (lit(x.X) && stacky(x.Y) || lit(x.Y) && stacky(x.X)) {
				out = append(out, x.Pos())
			}
		case *ast.SwitchStmt:
			if x.Tag != nil && stacky(x.Tag) {
				for _, st := range x.Body.List {
					for _, e := range st.(*ast.CaseClause).List {
						if lit(e) {
							out = append(out, e.Pos())
						}
					}
				}
			}
		case *ast.KeyValueExpr:
			if k, ok := x.Key.(*ast.Ident); ok && strings.Contains(strings.ToLower(k.Name), "stack") && lit(x.Value) {
				out = append(out, x.Value.Pos())
			}
		case *ast.AssignStmt:
			for i, l := range x.Lhs {
				if i < len(x.Rhs) && stacky(l) && lit(x.Rhs[i]) {
					out = append(out, x.Rhs[i].Pos())
				}
			}
		case *ast.ValueSpec:
			for i, n := range x.Names {
				if i >= len(x.Values) || !strings.Contains(strings.ToLower(n.Name), "stack") {
					continue
				}
				if lit(x.Values[i]) {
					out = append(out, x.Values[i].Pos())
				}
				if cl, ok := x.Values[i].(*ast.CompositeLit); ok { // var stacks = []string{"php", …}
					for _, e := range cl.Elts {
						if kv, ok := e.(*ast.KeyValueExpr); ok {
							e = kv.Key
						}
						if lit(e) {
							out = append(out, e.Pos())
						}
					}
				}
			}
		case *ast.CompositeLit: // a set of stacks: map[string]bool{"php": true}
			m, ok := x.Type.(*ast.MapType)
			if !ok || !isIdent(m.Key, "string") || !isIdent(m.Value, "bool") {
				break
			}
			for _, e := range x.Elts {
				if kv, ok := e.(*ast.KeyValueExpr); ok && lit(kv.Key) {
					out = append(out, kv.Key.Pos())
				}
			}
		}
		return true
	})
	return out
}

func isIdent(e ast.Expr, name string) bool { id, ok := e.(*ast.Ident); return ok && id.Name == name }

func TestLookup(t *testing.T) {
	tests := []struct {
		name                 string
		python, php, nothing bool
		family, image        string
	}{
		{PHP, false, true, false, PHP, DefaultPHPImage},
		{Uvicorn, true, false, false, FamilyASGI, DefaultPythonImage},
		{Gunicorn, true, false, false, FamilyASGI, DefaultPythonImage},
		{WSGI, true, false, false, FamilyWSGI, DefaultPythonImage},
		{UWSGI, true, false, false, FamilyWSGI, DefaultPythonImage},
		{Static, false, false, true, Static, ""},
		{Proxy, false, false, true, Proxy, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := Lookup(tc.name); !ok {
				t.Fatalf("Lookup(%q) found nothing", tc.name)
			}
			if IsPython(tc.name) != tc.python || IsPHP(tc.name) != tc.php || RunsNothing(tc.name) != tc.nothing {
				t.Errorf("python %v php %v nothing %v, want %v %v %v", IsPython(tc.name), IsPHP(tc.name), RunsNothing(tc.name), tc.python, tc.php, tc.nothing)
			}
			if Family(tc.name) != tc.family || DefaultImage(tc.name) != tc.image {
				t.Errorf("family %q image %q, want %q %q", Family(tc.name), DefaultImage(tc.name), tc.family, tc.image)
			}
		})
	}
	t.Run("unknown", func(t *testing.T) {
		if _, ok := Lookup("perl"); ok || RunsNothing("perl") || IsPython("perl") {
			t.Error("an unknown stack is known")
		}
	})
}

func TestList(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want string
	}{
		{"none", nil, ""},
		{"one", []string{"php"}, "php"},
		{"three", []string{"php", "uvicorn", "static"}, "php, uvicorn or static"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := List(tc.in, "or"); got != tc.want {
				t.Errorf("List = %q, want %q", got, tc.want)
			}
		})
	}
}
