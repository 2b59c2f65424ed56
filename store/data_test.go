package store

import (
	"context"
	"errors"
	"testing"
)

func TestDataServices(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	mustAdd(t, db, phpProject("shop", "shop.test"))
	mustAdd(t, db, phpProject("blog", "blog.test"))
	if _, err := db.AddDataService(ctx, "shop", DataService{Name: "db", Stack: "mariadb", Port: 3306, Password: "pw"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		project string
		d       DataService
		wantErr error // nil: success; ErrNotFound; or a *ValidationError
	}{
		{"second of another kind", "shop", DataService{Name: "cache", Stack: "redis", Port: 6379}, nil},
		{"name of a data service", "shop", DataService{Name: "db", Stack: "postgres", Port: 5432}, &ValidationError{}},
		{"name of the web service", "shop", DataService{Name: "web", Stack: "postgres", Port: 5432}, &ValidationError{}},
		{"port of another project's", "blog", DataService{Name: "db", Stack: "postgres", Port: 3306}, &ValidationError{}},
		{"same name in another project", "blog", DataService{Name: "db", Stack: "postgres", Port: 5432, Version: "15"}, nil},
		{"no port", "blog", DataService{Name: "mail", Stack: "mailpit"}, &ValidationError{}},
		{"hostile version", "blog", DataService{Name: "mail", Stack: "mailpit", Port: 1025, Version: "1;rm -rf /"}, &ValidationError{}},
		{"hostile image", "blog", DataService{Name: "mail", Stack: "mailpit", Port: 1025, Image: "x\nRUN"}, &ValidationError{}},
		{"bad name", "blog", DataService{Name: "Mail Box", Stack: "mailpit", Port: 1025}, &ValidationError{}},
		{"no project", "ghost", DataService{Name: "db", Stack: "mariadb", Port: 3307}, ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := dump(t, db)
			got, err := db.AddDataService(ctx, tc.project, tc.d)
			var ve *ValidationError
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatal(err)
			case tc.wantErr == nil:
				if got.ID == 0 || got.Runtime != runtimeProcess {
					t.Fatalf("stored %+v", got)
				}
				return
			case tc.wantErr == ErrNotFound && !errors.Is(err, ErrNotFound):
				t.Fatalf("err = %v, want ErrNotFound", err)
			case tc.wantErr != ErrNotFound && !errors.As(err, &ve):
				t.Fatalf("err = %v, want a *ValidationError", err)
			}
			if after := dump(t, db); after != before {
				t.Fatalf("a refused add changed the store:\n%s\nwas\n%s", after, before)
			}
		})
	}

	p := storedProject(t, db, "shop")
	if len(p.Data) != 2 || p.Data[0].Name != "cache" || p.Data[1].Name != "db" || p.Data[1].Password != "pw" {
		t.Fatalf("shop's data services: %+v", p.Data)
	}
	ports, err := db.DataPorts(ctx)
	if err != nil || ports[3306] != "shop/db" || ports[5432] != "blog/db" {
		t.Fatalf("DataPorts = %v, %v", ports, err)
	}
	t.Run("runtime", func(t *testing.T) {
		if err := db.SetDataServiceRuntime(ctx, "shop", "db", "container", "mariadb:10.11"); err != nil {
			t.Fatal(err)
		}
		if d := storedProject(t, db, "shop").Data[1]; d.Runtime != "container" || d.Image != "mariadb:10.11" {
			t.Fatalf("after set: %+v", d)
		}
		if err := db.SetDataServiceRuntime(ctx, "shop", "nope", "container", ""); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown service: %v", err)
		}
	})
	t.Run("remove", func(t *testing.T) {
		if err := db.RemoveDataService(ctx, "shop", "cache"); err != nil {
			t.Fatal(err)
		}
		if err := db.RemoveDataService(ctx, "shop", "cache"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("second remove: %v", err)
		}
		if err := db.RemoveProject(ctx, "blog"); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM data_services`); n != 1 {
			t.Fatalf("%d data services left, want shop's db alone", n)
		}
	})
	t.Run("with the project", func(t *testing.T) {
		p := phpProject("wiki", "wiki.test")
		p.Data = []DataService{{Name: "db", Stack: "postgres", Port: 5433, Password: "x"}, {Name: "web", Stack: "redis", Port: 6380}}
		if _, err := db.AddProject(ctx, p); !errors.As(err, new(*ValidationError)) {
			t.Fatalf("a data service named like the web service: %v", err)
		}
		p.Data = p.Data[:1]
		got := mustAdd(t, db, p)
		if len(got.Data) != 1 || got.Data[0].ID == 0 || storedProject(t, db, "wiki").Data[0].Port != 5433 {
			t.Fatalf("added %+v", got.Data)
		}
	})
}
