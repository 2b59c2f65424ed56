//go:build !linux && !darwin

package resolve

import "context"

func installSplit(context.Context, Split) error { return ErrNotSupported }

func removeSplit(context.Context, Split) error { return nil }

func splitAvailable(context.Context) error { return ErrNotSupported }
