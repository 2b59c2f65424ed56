package stacks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"
)

// ensureImage pulls the image when it is not present, reporting progress,
// and says whether it pulled. The pull ignores ctx's deadline (a big image
// on a slow line takes minutes) but not its cancellation (Stop, or a client
// that went away).
func (r *containerRunner) ensureImage(ctx context.Context, ref string) (bool, error) {
	_, err := r.cli.ImageInspect(ctx, ref)
	if err == nil {
		return false, nil
	}
	if !cerrdefs.IsNotFound(err) {
		return false, fmt.Errorf("inspect image %s: %w", ref, r.wrap(err))
	}
	pctx, cancel := keepOnDeadline(ctx, 0)
	defer cancel()
	if err := PullImage(pctx, r.cli, ref, r.spec.Progress); err != nil {
		if client.IsErrConnectionFailed(err) {
			return false, r.wrap(err)
		}
		if pctx.Err() != nil {
			return false, fmt.Errorf("pull %s: %w", ref, pctx.Err())
		}
		return false, &ImageError{Image: ref, Err: err}
	}
	return true, nil
}

// keepOnDeadline returns a context that outlives ctx's deadline but ends
// when ctx is canceled, with a timeout of its own when timeout > 0.
func keepOnDeadline(ctx context.Context, timeout time.Duration) (context.Context, func()) {
	out, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if timeout > 0 {
		var cancelT func()
		out, cancelT = context.WithTimeout(out, timeout)
		prev := cancel
		cancel = func() { cancelT(); prev() }
	}
	stop := context.AfterFunc(ctx, func() {
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			cancel()
		}
	})
	return out, func() { stop(); cancel() }
}

// PullImage pulls ref, calling progress (when set) for every layer update.
func PullImage(ctx context.Context, cli *client.Client, ref string, progress func(layer string, current, total int64)) error {
	rc, err := cli.ImagePull(ctx, ref, image.PullOptions{})
	if err != nil {
		return err
	}
	defer rc.Close()
	dec := json.NewDecoder(rc)
	for {
		var m jsonmessage.JSONMessage
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read pull progress: %w", err)
		}
		if m.Error != nil {
			return errors.New(m.Error.Message)
		}
		// "Pull complete" and friends carry an empty progress: skip them.
		if progress != nil && m.ID != "" && m.Progress != nil && (m.Progress.Current > 0 || m.Progress.Total > 0) {
			progress(m.ID, m.Progress.Current, m.Progress.Total)
		}
	}
}
