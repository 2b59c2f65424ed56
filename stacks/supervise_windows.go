package stacks

import (
	"fmt"
	"os"
)

// Supervise needs Unix process groups and signals; on Windows it says so.
func Supervise([]string) int {
	fmt.Fprintf(os.Stderr, "devport %s: %v\n", SuperviseCommand, errNoProcessGroups)
	return 2
}
