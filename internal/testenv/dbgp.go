package testenv

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// DBGpInit is what a debugger client does first with a connection Xdebug
// opened: it reads the init packet (LENGTH NUL XML NUL), lets the request
// go on (detach) and returns the packet's XML, or "error: …". It closes c.
func DBGpInit(c net.Conn) string {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	n, err := br.ReadString(0)
	if err != nil {
		return "error: " + err.Error()
	}
	size, err := strconv.Atoi(strings.TrimSuffix(n, "\x00"))
	if err != nil {
		return "error: length " + n
	}
	buf := make([]byte, size+1)
	if _, err := io.ReadFull(br, buf); err != nil {
		return "error: " + err.Error()
	}
	_, _ = c.Write([]byte("detach -i 1\x00"))
	return string(buf)
}
