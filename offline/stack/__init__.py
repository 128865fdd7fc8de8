"""The whole stack on this machine, put together: the emulator process (emulator_app and
emulator_process), a deploy into it as a user deploys into an account (deploy, deployer),
`make local` wiring the gateway and the sandboxes to it (running_stack), the emulator's state
kept between runs and the check that skips an unneeded deploy (emulator_state, warm_start),
saved code pushed without a restart (watch), its state file,
`make token` (sign_in), and the driver the tests and benchmarks run it through."""
