"""The whole stack on this machine: the emulator, the deployed template, the real handlers
behind a local HTTP API. No Docker, no AWS account."""
