package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRoutes(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	mustAdd(t, db, phpProject("shop", "shop.test"))
	mustAdd(t, db, phpProject("blog", "blog.test"))
	svc := mustAddedService(t, db, "shop")

	want := []Route{
		{Project: "shop", PathPrefix: "/static", Kind: RouteStatic, Target: "/srv/shop/public", CacheControl: "public, max-age=2592000"},
		{Project: "shop", PathPrefix: "/api", Kind: RouteService, Target: svc, StripPrefix: true,
			ConnectTimeout: 2 * time.Second, ReadTimeout: time.Minute, WriteTimeout: 5 * time.Second, MaxBody: 1 << 20},
		{Project: "shop", PathPrefix: "/ext", Kind: RouteURL, Target: "https://example.org/base", MaxBody: -1},
	}
	for _, r := range want {
		if _, err := db.AddRoute(ctx, r); err != nil {
			t.Fatalf("AddRoute(%+v): %v", r, err)
		}
	}
	got, err := db.Routes(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].PathPrefix != "/api" || got[1].PathPrefix != "/ext" || got[2].PathPrefix != "/static" {
		t.Fatalf("Routes = %+v", got)
	}
	api := got[0]
	api.ID = 0
	if api != want[1] {
		t.Errorf("round trip:\n got %+v\nwant %+v", api, want[1])
	}
	if all, _ := db.Routes(ctx, ""); len(all) != 3 {
		t.Errorf("Routes(\"\") = %d routes", len(all))
	}

	bad := []struct {
		name  string
		r     Route
		field string
	}{
		{"duplicate prefix", Route{Project: "shop", PathPrefix: "/static", Kind: RouteStatic, Target: "/x"}, "path prefix"},
		{"bad prefix", Route{Project: "shop", PathPrefix: "static/", Kind: RouteStatic, Target: "/x"}, "path prefix"},
		{"relative folder", Route{Project: "shop", PathPrefix: "/s", Kind: RouteStatic, Target: "public"}, "folder"},
		{"unknown service", Route{Project: "shop", PathPrefix: "/s", Kind: RouteService, Target: "nope"}, "service"},
		{"bad url", Route{Project: "shop", PathPrefix: "/s", Kind: RouteURL, Target: "ftp://x"}, "url"},
		{"bad kind", Route{Project: "shop", PathPrefix: "/s", Kind: "magic", Target: "x"}, "kind"},
		{"negative timeout", Route{Project: "shop", PathPrefix: "/s", Kind: RouteStatic, Target: "/x", ReadTimeout: -1}, "read timeout"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := db.AddRoute(ctx, tc.r)
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field != tc.field {
				t.Fatalf("err = %v, want a ValidationError on %q", err, tc.field)
			}
		})
	}
	t.Run("unknown project", func(t *testing.T) {
		_, err := db.AddRoute(ctx, Route{Project: "nope", PathPrefix: "/s", Kind: RouteStatic, Target: "/x"})
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("remove", func(t *testing.T) {
		if err := db.RemoveRoute(ctx, "shop", "/ext"); err != nil {
			t.Fatal(err)
		}
		if err := db.RemoveRoute(ctx, "shop", "/ext"); !errors.Is(err, ErrNotFound) {
			t.Errorf("second remove: %v", err)
		}
		if err := db.RemoveRoute(ctx, "blog", "/static"); !errors.Is(err, ErrNotFound) {
			t.Errorf("remove of another project's route: %v", err)
		}
	})
	t.Run("removing the project removes its routes", func(t *testing.T) {
		if err := db.RemoveProject(ctx, "shop"); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, `SELECT count(*) FROM routes`); n != 0 {
			t.Errorf("%d routes left", n)
		}
	})
}

func mustAddedService(t *testing.T, db *DB, project string) string {
	t.Helper()
	p, err := db.Project(context.Background(), project)
	if err != nil || len(p.Services) == 0 {
		t.Fatalf("project %s: %v", project, err)
	}
	if strings.TrimSpace(p.Services[0].Name) == "" {
		t.Fatal("service without a name")
	}
	return p.Services[0].Name
}
