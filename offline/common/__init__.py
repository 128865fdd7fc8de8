"""What every room of the emulator shares: the emulator as a client sees it (its account,
URL and administrator credentials: endpoint), moto patched in place once per process
(patching), progress lines (console) and ports on loopback (ports)."""
