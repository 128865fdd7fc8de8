"""IAM and STS: who holds an access key (the administrator or a role session the emulator's STS
issued), what each API call needs to be allowed (actions, resources and condition keys from the
Service Authorization Reference, cited per call), the request context of one check (the global
condition keys), the resources' policies read from moto, the audit log of every decision, and
the two reports that prove least privilege from it. The evaluation itself is
aws_semantics.policy."""
