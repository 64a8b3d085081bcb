"""`alice-ops security scan`: the guide's Security Operations checks (secrets in logs,
auth failure rate, TLS certificate expiry, file permissions), each an I/O edge that
turns what it finds into `Finding`s."""
