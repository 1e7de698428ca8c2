"""The operator's shell: metrics, logs, backup and restore, retention, private file modes."""
