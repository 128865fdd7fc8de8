"""S3's own checks that moto lacks: a browser's POST Object form read as S3 reads it, checked
against its signed POST policy, bucket policies evaluated as S3 evaluates them, and a bucket's
CORS rules as S3 applies them to a browser's requests (the S3 API and user guide pages each
module cites)."""
