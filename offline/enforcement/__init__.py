"""The emulator's front door: every request authenticated by its SigV4 signature, read as the
API call it makes, authorized with offline.iam (and S3's POST policies), and refused in the
service's own error shape, before moto serves it; a browser's CORS preflight answered, and
each answer's CORS headers given, as the user pool's endpoint and S3 give them."""
