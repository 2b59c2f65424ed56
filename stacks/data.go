package stacks

import (
	"context"
	"io"
)

// Database is what the runners of the database stacks (stackdef.Database:
// mariadb, postgres) have beyond Runner, in both runtimes: the engine's
// snapshots, imports, exports and `devport db NAME shell` go through it.
// Each method needs the service started (Start returned without error).
type Database interface {
	Runner
	// Dump writes a consistent plain-SQL dump of Spec.Database to w
	// (mariadb-dump --single-transaction, pg_dump), uncompressed.
	Dump(ctx context.Context, w io.Writer) error
	// Restore replaces the content of Spec.Database with the plain-SQL
	// dump read from r: the database is dropped and created again (owned
	// by Spec.User) and the dump is loaded into it. A dump the server
	// refuses comes back as an error carrying the server's message.
	Restore(ctx context.Context, r io.Reader) error
	// Shell is the command line of an interactive client connected to
	// Spec.Database as Spec.User (mariadb, psql; `docker exec -it` in the
	// container runtime), and the environment entries it needs on top of
	// devport's own (the password, never on the command line).
	Shell() (argv, env []string)
}
