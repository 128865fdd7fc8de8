"""AWS Backup where moto's backup service falls short of the API this stack uses: backup
selections (with a role AWS Backup can assume), UpdateBackupPlan, and the plans' deletion
rules."""
