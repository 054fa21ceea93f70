package devstack

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// listeningPorts are the TCP ports process pid listens on: its open
// sockets (/proc/<pid>/fd links to socket:[inode]) matched against the
// LISTEN rows of /proc/net/tcp and tcp6 (proc(5)). ok is false when /proc
// cannot tell, so the caller can do without.
func listeningPorts(pid int) (ports []int, ok bool) {
	fds, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "fd"))
	if err != nil {
		return nil, false
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "fd", fd.Name()))
		if err != nil {
			continue
		}
		if ino, found := strings.CutPrefix(link, "socket:["); found {
			inodes[strings.TrimSuffix(ino, "]")] = true
		}
	}
	if len(inodes) == 0 {
		return nil, true
	}
	read := false
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		read = true
		for _, p := range listenRows(data, inodes) {
			if !slices.Contains(ports, p) {
				ports = append(ports, p)
			}
		}
	}
	slices.Sort(ports)
	return ports, read
}

// tcpListen is the st column of a listening socket in /proc/net/tcp.
const tcpListen = "0A"

// listenRows parses a /proc/net/tcp or tcp6 table and returns the local
// ports of its LISTEN rows whose inode is in inodes. A row reads
// "sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout
// inode ...", the local address as hex IP:PORT.
func listenRows(table []byte, inodes map[string]bool) []int {
	var ports []int
	sc := bufio.NewScanner(bytes.NewReader(table))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 10 || f[3] != tcpListen || !inodes[f[9]] {
			continue
		}
		_, hexPort, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		if p, err := strconv.ParseUint(hexPort, 16, 16); err == nil {
			ports = append(ports, int(p))
		}
	}
	return ports
}
