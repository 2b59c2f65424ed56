package engine

import "fmt"

// PortHolder is a process listening on a TCP port.
type PortHolder struct {
	PID  int    `json:"pid"`
	Name string `json:"name"` // the command name, as ps shows it
}

func (h PortHolder) String() string { return fmt.Sprintf("%s (pid %d)", h.Name, h.PID) }

// describeHolder says who holds a port, for error messages: "nginx (pid
// 812)", or a command that finds out when this process cannot tell.
func describeHolder(port int) string {
	if hs := portHolders(port); len(hs) > 0 {
		return hs[0].String()
	}
	return fmt.Sprintf("another program (sudo ss -ltnp 'sport = :%d' shows which)", port)
}
