package stacks

import (
	"os"
	"slices"
	"strconv"
	"time"
)

// SuperviseCommand is the hidden subcommand of the devport binary that
// runs Supervise: the engine sets Spec.Supervisor to
// []string{os.Executable(), SuperviseCommand}, and devport's main hands
// `devport __supervise ARGS...` to Supervise(ARGS) before anything else.
const SuperviseCommand = "__supervise"

// supervisorMargin is how much longer than a supervisor's grace the engine
// waits before it kills the group itself: the supervisor escalates first,
// and reaches the processes that left the group.
const supervisorMargin = time.Second

// supervisorArgv is the argv that runs argv under supervisor (the argv
// prefix of Spec.Supervisor) with grace as its stop grace period, for this
// process as the engine.
func supervisorArgv(supervisor []string, grace time.Duration, argv []string) []string {
	out := slices.Clone(supervisor)
	out = append(out, "-grace", grace.String(), "-parent", strconv.Itoa(os.Getpid()), "--")
	return append(out, argv...)
}
