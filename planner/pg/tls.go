package pg

import (
	"net"
	"slices"
	"strings"
)

// SSLModes are libpq's sslmode values, from the weakest protection to the
// strongest.
var SSLModes = []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}

// SSLModeRank is the position of mode in SSLModes; ok is false for a mode
// libpq does not know.
func SSLModeRank(mode string) (rank int, ok bool) {
	rank = slices.Index(SSLModes, mode)
	return rank, rank >= 0
}

// IsLocalHost reports whether host is this machine: a socket directory,
// localhost or a loopback address, where an unencrypted session is the norm.
func IsLocalHost(host string) bool {
	if strings.HasPrefix(host, "/") || host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
