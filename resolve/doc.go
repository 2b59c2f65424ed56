// Package resolve makes development domains such as shop.test resolve to
// the loopback addresses, and checks that they really do.
//
// It offers three methods, and a caller (devport's CLI, doctor and GUI)
// picks one:
//
//   - the ".localhost" TLD, which needs no setup: browsers and curl map
//     every *.localhost name to loopback themselves (RFC 6761, section 6.3).
//     glibc 2.36 on Debian 12 with the default "hosts: files dns" does not:
//     `getent hosts foo.localhost` answers nothing, and neither does Go's
//     resolver, so command-line tools other than curl need another method;
//   - a managed block in the hosts file ([SetHosts], [RemoveHosts]), the
//     fallback that works with every resolver, VPN or not, but needs one
//     line per name and root to write;
//   - a small DNS responder ([Server]) that answers A and AAAA with loopback
//     for every name under the managed TLDs and never forwards anything,
//     wired into the OS resolver as split DNS ([InstallSplit]): a
//     systemd-resolved drop-in on Linux, /etc/resolver/<tld> on macOS.
//
// Whichever method is chosen, [Check] looks the name up through the system
// resolver for real and says whether it answers loopback, and if not, what
// to run to fix it.
//
// The package never elevates itself: when the hosts file is not writable it
// returns a [NeedsElevationError] that carries the pkexec or sudo command a
// caller can run.
package resolve
