package stacks

import (
	"testing"

	"github.com/devport/devport/internal/stackdef"
)

// TestContainerOwnFolder serves a php project from its own folder (no
// public/) in a container: its dotfiles stay private.
func TestContainerOwnFolder(t *testing.T) {
	cli := requireDocker(t, testPHPImage)
	spec := containerSpec(t, cli, stackdef.PHP, testPHPImage, ownFolderSite)
	up := startRunner(t, mustContainerRunner(t, spec))
	t.Run("dotfiles", func(t *testing.T) { checkDotfiles(t, up) })
}
