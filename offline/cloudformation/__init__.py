"""CloudFormation: the engine that deploys as AWS's does (the SAM transform, change sets,
resource import, each operation authorized as the stack acts), the resource types moto's
CloudFormation lacks, IAM roles and managed policies made and changed as AWS makes them, and a
deployed stack as a client reads it."""
