package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

// TestParked walks parked folders through their life: parked, given
// projects, a project removed by itself, a clash refused with nothing
// written, and unparked.
func TestParked(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	root := t.TempDir()
	a, b := root+"/a", root+"/b"
	project := func(name, dir string) Project {
		return Project{Name: name, Root: dir + "/" + name, Domains: []string{name + ".test"},
			Services: []Service{{Name: "web", Stack: "php"}}}
	}
	type want struct {
		dirs    []ParkedDir       // Projects and Path only
		parked  map[string]string // ParkedProjects
		project []string          // every project's name
	}
	steps := []struct {
		name string
		do   func() error
		// err is what do must fail with: a *ValidationError of this field,
		// or "not found"; "" for success.
		err  string
		want want
	}{
		{"empty", func() error { return nil }, "", want{}},
		{"park a", func() error {
			added, err := db.Park(ctx, a)
			if err == nil && !added {
				return errors.New("Park said a was parked already")
			}
			return err
		}, "", want{dirs: []ParkedDir{{Path: a}}, parked: map[string]string{}}},
		{"park a again: nothing new", func() error {
			added, err := db.Park(ctx, a)
			if err == nil && added {
				return errors.New("Park said a was new")
			}
			return err
		}, "", want{dirs: []ParkedDir{{Path: a}}, parked: map[string]string{}}},
		{"a relative folder is refused", func() error { _, err := db.Park(ctx, "a"); return err }, "folder",
			want{dirs: []ParkedDir{{Path: a}}, parked: map[string]string{}}},
		{"a folder Apache cannot carry is refused", func() error { _, err := db.Park(ctx, root+"/$x"); return err }, "folder",
			want{dirs: []ParkedDir{{Path: a}}, parked: map[string]string{}}},
		{"two projects of a, one of b", func() error {
			if _, err := db.Park(ctx, b); err != nil {
				return err
			}
			for _, p := range []struct{ name, dir string }{{"shop", a}, {"blog", a}, {"wiki", b}} {
				if _, err := db.AddParkedProject(ctx, project(p.name, p.dir), p.dir); err != nil {
					return err
				}
			}
			return nil
		}, "", want{dirs: []ParkedDir{{Path: a, Projects: []string{"blog", "shop"}}, {Path: b, Projects: []string{"wiki"}}},
			parked: map[string]string{"blog": a, "shop": a, "wiki": b}, project: []string{"blog", "shop", "wiki"}}},
		{"a name b's project has is refused", func() error {
			_, err := db.AddParkedProject(ctx, project("shop", b), b)
			return err
		}, "name", want{dirs: []ParkedDir{{Path: a, Projects: []string{"blog", "shop"}}, {Path: b, Projects: []string{"wiki"}}},
			parked: map[string]string{"blog": a, "shop": a, "wiki": b}, project: []string{"blog", "shop", "wiki"}}},
		{"a folder that is not parked is refused", func() error {
			_, err := db.AddParkedProject(ctx, project("docs", root+"/c"), root+"/c")
			return err
		}, "not found", want{dirs: []ParkedDir{{Path: a, Projects: []string{"blog", "shop"}}, {Path: b, Projects: []string{"wiki"}}},
			parked: map[string]string{"blog": a, "shop": a, "wiki": b}, project: []string{"blog", "shop", "wiki"}}},
		{"removing a project forgets it", func() error { return db.RemoveProject(ctx, "blog") }, "",
			want{dirs: []ParkedDir{{Path: a, Projects: []string{"shop"}}, {Path: b, Projects: []string{"wiki"}}},
				parked: map[string]string{"shop": a, "wiki": b}, project: []string{"shop", "wiki"}}},
		{"unpark b after its project went", func() error {
			if err := db.RemoveProject(ctx, "wiki"); err != nil {
				return err
			}
			return db.Unpark(ctx, b)
		}, "", want{dirs: []ParkedDir{{Path: a, Projects: []string{"shop"}}},
			parked: map[string]string{"shop": a}, project: []string{"shop"}}},
		{"unpark b again", func() error { return db.Unpark(ctx, b) }, "not found",
			want{dirs: []ParkedDir{{Path: a, Projects: []string{"shop"}}}, parked: map[string]string{"shop": a}, project: []string{"shop"}}},
		{"unpark a with its project: the project stays, unparked", func() error { return db.Unpark(ctx, a) }, "",
			want{parked: map[string]string{}, project: []string{"shop"}}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := dump(t, db)
			err := st.do()
			var ve *ValidationError
			switch {
			case st.err == "" && err != nil:
				t.Fatal(err)
			case st.err == "not found" && !errors.Is(err, ErrNotFound):
				t.Fatalf("err = %v, want not found", err)
			case st.err != "" && st.err != "not found" && (!errors.As(err, &ve) || ve.Field != st.err):
				t.Fatalf("err = %v, want a validation error of field %q", err, st.err)
			case st.err != "" && dump(t, db) != before:
				t.Errorf("a refused change changed the database")
			}
			dirs, err := db.ParkedDirs(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for i := range dirs {
				if dirs[i].CreatedAt.IsZero() {
					t.Errorf("%s has no time", dirs[i].Path)
				}
				dirs[i].CreatedAt = time.Time{}
			}
			if !reflect.DeepEqual(dirs, st.want.dirs) {
				t.Errorf("ParkedDirs = %+v, want %+v", dirs, st.want.dirs)
			}
			parked, err := db.ParkedProjects(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st.want.parked == nil {
				st.want.parked = map[string]string{}
			}
			if !reflect.DeepEqual(parked, st.want.parked) {
				t.Errorf("ParkedProjects = %v, want %v", parked, st.want.parked)
			}
			ps, err := db.Projects(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, p := range ps {
				names = append(names, p.Name)
			}
			if !reflect.DeepEqual(names, st.want.project) {
				t.Errorf("projects = %v, want %v", names, st.want.project)
			}
		})
	}
}
