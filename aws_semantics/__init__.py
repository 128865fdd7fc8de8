"""AWS's rules that both the deploy tooling (ops/) and the emulator (offline/) apply, so
neither depends on the other for them: IAM's policy evaluation logic (policy.py) and
CloudFormation's intrinsic functions (intrinsics.py). Nothing here calls AWS or imports the rest
of the project."""
