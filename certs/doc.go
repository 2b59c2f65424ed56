// Package certs is devport's local certificate authority.
//
// An [Authority] is a per-install ECDSA P-256 root CA kept in Options.Dir
// (root.pem and root-key.pem). Its name constraints (critical) limit it to
// the managed development TLDs, "localhost" and the loopback addresses, so
// even a stolen key cannot mint a certificate a browser would accept for a
// real site such as google.com; an email constraint that permits no real
// mailbox and the serverAuth extended key usage keep it from vouching for
// S/MIME or TLS clients. A root made before those two is used as it is
// ([Authority.Legacy]) until the user agrees to [Authority.Renew], which
// makes a new root and keeps the old one ([Authority.Retired]) until it is
// untrusted everywhere.
//
// [Authority.Issue] signs short-lived leaf certificates, and an [Issuer]
// turns that into a tls.Config.GetCertificate callback that issues only for
// the names its callback says are served (any other name gets one shared
// fallback certificate), and caches (bounded, LRU), renews and deduplicates
// issuance across concurrent handshakes.
//
// [Authority.Trust], [Authority.Untrust] and [Authority.TrustStatus] manage
// the root in the operating system's trust store (via smallstep/truststore)
// and in NSS databases (Chromium's ~/.pki/nssdb and Firefox profiles, via
// certutil). Untrust also removes what truststore leaves behind on Debian:
// dangling links in /etc/ssl/certs and the Java keystore entry.
package certs
