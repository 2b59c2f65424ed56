package stacks

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
)

// The labels every devport container and volume carries. LabelHome holds
// devport's data folder: an engine only ever lists, adopts or removes
// containers whose LabelHome is its own.
const (
	LabelProject = "devport.project"
	LabelService = "devport.service"
	LabelHome    = "devport.home"
	// LabelConfig is a hash of everything the container was created from
	// (image, mounts, command, generated config). A running container is
	// adopted only when it matches what Start would create now.
	LabelConfig = "devport.config"
	// LabelData marks the volume of a data service (DataVolume); its value
	// is the stack. Stop keeps that volume: it holds the data.
	LabelData = "devport.data"
)

// homeKey is a short, stable id of a data folder for container and volume
// names (labels carry the full path).
func homeKey(home string) string {
	sum := sha256.Sum256([]byte(filepath.Clean(home)))
	return hex.EncodeToString(sum[:])[:8]
}

// containerName is the name of the one container of a service:
// devport-PROJECT-SERVICE-HOMEKEY. Project and service names are DNS
// labels, which Docker accepts in names.
func containerName(home, project, service string) string {
	n := "devport-"
	if project != "" {
		n += project + "-"
	}
	return n + service + "-" + homeKey(home)
}

// depsVolumeName is the named volume that keeps a uvicorn service's
// installed requirements across starts.
func depsVolumeName(home, project, service string) string {
	return containerName(home, project, service) + "-deps"
}

// serviceLabels are the labels of a service's container and volume.
func serviceLabels(s Spec) map[string]string {
	return map[string]string{
		LabelProject: s.Project,
		LabelService: s.Service,
		LabelHome:    filepath.Clean(s.Home),
	}
}

// networkName is the Docker network of a project's containers:
// devport-PROJECT-HOMEKEY. Each container joins it under its service's
// name, so an Apache container reaches a sibling as http://SERVICE:PORT/.
func networkName(home, project string) string {
	n := "devport-"
	if project != "" {
		n += project + "-"
	}
	return n + homeKey(home)
}

// networkLabels are the labels of a project's network.
func networkLabels(s Spec) map[string]string {
	return map[string]string{
		LabelProject: s.Project,
		LabelHome:    filepath.Clean(s.Home),
	}
}
