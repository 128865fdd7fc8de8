"""The whole stack on this machine: the emulator, the deployed template, the real handlers
behind a local HTTP API. No Docker, no AWS account.

One subpackage per AWS service the emulator stands in for, each importing only those below it
(tests/unit/test_layering.py): common, then iam, s3, dynamodb, cognito, backup, then
cloudformation, enforcement, lambda_, apigateway, and stack, which puts them together. This
package's own modules are the command line (`python -m offline`) and `make fuzz`."""
