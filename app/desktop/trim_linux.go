//go:build linux && cgo

package desktop

/*
#include <malloc.h>
*/
import "C"

// The C heap is glibc's here: what the GL driver frees when a window
// closes stays in the process until malloc_trim hands it back.
func init() { trimCHeap = func() { C.malloc_trim(0) } }
