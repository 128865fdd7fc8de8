"""Operations against AWS (or the emulator, through AWS_ENDPOINT_URL): parameters, deploys."""
